/* tcpdrop: trace the TCP packets the kernel drops and hand each drop to Lua. */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lua/bridge.h"
#include "sym/sym.h"
#include "cli/cli.h"
#include "capture/capture.h"
#include "run/run.h"
#include "util/util.h"

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!verbose || (level == LIBBPF_DEBUG && verbose < 2))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void list_scripts(void)
{
	for (const struct embedded *e = embedded_scripts; e->name; e++) {
		/* The first line of a shipped script says what it is for. */
		const char *line = e->data;
		size_t len = strcspn(line, "\n");

		if (!strncmp(line, "-- ", 3)) {
			line += 3;
			len -= 3;
		}
		printf("%-10s %.*s\n", e->name, (int)len, line);
	}
}

int main(int argc, char **argv)
{
	struct options o;
	struct runtime_opts ro = { 0 };
	struct names *nm;
	struct ksyms *ks;
	struct pcapfilter *pf = NULL;
	char err[256];
	int code;

	timing_mark("main");
	if (opts_parse(&o, argc, argv, err, sizeof(err))) {
		msg("%s", err);
		fprintf(stderr, "Try 'tcpdrop -h' for help.\n");
		opts_free(&o);
		return 2;
	}
	verbose = o.verbose;
	if (o.help) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (o.version) {
		printf("tcpdrop %s\n", TCPDROP_VERSION);
		return 0;
	}
	if (o.list_scripts) {
		list_scripts();
		return 0;
	}
	if (o.show_script) {
		const struct embedded *e = embedded_script(o.show_script);

		if (!e) {
			msg("no shipped script named '%s' (see --list-scripts)", o.show_script);
			return 2;
		}
		fwrite(e->data, 1, e->len, stdout);
		return 0;
	}
	libbpf_set_print(libbpf_log);

	if (runtime_opts__from(&ro, &o)) {
		opts_free(&o);
		return 2;
	}
	if (o.pcap_expr && pcapfilter__new(o.pcap_expr, &pf)) {
		runtime_opts__free(&ro);
		opts_free(&o);
		return 2;
	}

	timing_mark("options");
	nm = names__new();
	ks = ksyms__new();
	ksyms__set_lazy(ks, "/proc/kallsyms");
	if (o.read_path) {
		code = replay__run(&o, &ro, nm, pf);
	} else {
		code = trace__run(&o, &ro, nm, ks, pf);
	}
	pcapfilter__free(pf);
	ksyms__free(ks);
	names__free(nm);
	runtime_opts__free(&ro);
	opts_free(&o);
	return code;
}
