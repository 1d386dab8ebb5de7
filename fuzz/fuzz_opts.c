/*
 * libFuzzer target: the command line (opts_parse) on any words. The input is the words after
 * the program name, each ended by a NUL (the last one need not be). opts_parse must keep its
 * contract whatever it is given: 0, or -EINVAL with a one-line reason. The first word also goes
 * to parse_net alone, as --addr hands it over.
 */
#include <errno.h>
#include <getopt.h>
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
	/*
	 * opts_parse sets optind = 1, which does not reset glibc's getopt: after a parse that
	 * returned inside a cluster of short options ("-.dpor"), the next one goes on from where
	 * the last stopped, in the last argv (here freed). optind = 0 does reset it; until
	 * opts_parse does that, this does, so that fuzzing gets past it. FUZZ_OPTS_KEEP_GETOPT=1
	 * shows it: fuzz_opts fuzz/corpus-opts/getopt-stale-1 fuzz/corpus-opts/getopt-stale-2
	 */
	if (!getenv("FUZZ_OPTS_KEEP_GETOPT")) {
		optind = 0;
		getopt(1, (char *[]){ "reset", NULL }, "");
	}
	ret = opts_parse(&o, argc, argv, err, sizeof(err));
	if (ret != 0 && ret != -EINVAL)
		abort();
	/* The reason quotes the word at fault as it is: a newline of the input's may show there. */
	if (ret && (!err[0] || (strchr(err, '\n') && !memchr(data, '\n', size))))
		abort();
	if (!ret && o.nscript_args < 0)
		abort();
	opts_free(&o);
	free(buf);
	return 0;
}
