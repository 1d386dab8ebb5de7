/*
 * libFuzzer target: the command line (opts_parse) on any words. The input is the words after
 * the program name, each ended by a NUL (the last one need not be). opts_parse must keep its
 * contract whatever it is given: 0, or -EINVAL with a one-line reason. The first word also goes
 * to parse_net alone, as --addr hands it over.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define MAX_WORDS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[MAX_WORDS + 2], *buf, err[256];
	struct options o;
	struct tcpdrop_net net;
	int argc = 0, ret;
	size_t i = 0;

	/* A copy of its own, ended by a NUL: ASan then sees any read past the last word. */
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[argc++] = "tcpdrop";
	while (i < size && argc <= MAX_WORDS) {
		argv[argc++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	argv[argc] = NULL;

	if (argc > 1 && (ret = parse_net(argv[1], &net)) != 0 && ret != -EINVAL)
		abort();
	/* No getopt reset here: opts_parse must do it in full itself
	 * (fuzz/corpus-opts/getopt-stale-*, one after the other, read the last argv once it is
	 * freed when it does not). */
	ret = opts_parse(&o, argc, argv, err, sizeof(err));
	if (ret != 0 && ret != -EINVAL)
		abort();
	/* One line, whatever the words: the ones it quotes are escaped. */
	if (ret && (!err[0] || strchr(err, '\n') || strchr(err, '\033')))
		abort();
	if (!ret && o.nscript_args < 0)
		abort();
	opts_free(&o);
	free(buf);
	return 0;
}
