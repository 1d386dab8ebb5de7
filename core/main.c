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

#include "embed.h"
#include "ksyms.h"
#include "names.h"
#include "opts.h"
#include "replay.h"
#include "runtime.h"
#include "trace.h"
#include "util.h"

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

/* A script path, or the name of a shipped script; the source and the chunk name for errors. */
static int load_script(const char *spec, char **src, char **chunk)
{
	const struct embedded *e;
	struct stat st;

	if (!stat(spec, &st) && S_ISREG(st.st_mode)) {
		*src = read_file(spec, 16 << 20, NULL);
		if (!*src) {
			msg("cannot read script %s: %s", spec, strerror(errno));
			return -errno;
		}
		*chunk = xmalloc(strlen(spec) + 2);
		sprintf(*chunk, "@%s", spec);
		return 0;
	}
	e = embedded_script(spec);
	if (!e) {
		msg("script not found: %s (no such file, and no shipped script of that name; "
		    "see --list-scripts)",
		    spec);
		return -ENOENT;
	}
	*src = xstrdup(e->data);
	*chunk = xmalloc(strlen(spec) + 6);
	sprintf(*chunk, "@%s.lua", spec);
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct runtime_opts ro = { 0 };
	struct names *nm;
	struct ksyms *ks;
	char err[256], *src = NULL, *chunk = NULL;
	int code;

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

	if (o.script && load_script(o.script, &src, &chunk)) {
		opts_free(&o);
		return 2;
	}
	ro.script_src = src;
	ro.script_chunk = chunk;
	ro.filter_expr = o.filter_expr;
	ro.exec_code = o.exec_code;
	ro.args = o.script_args;
	ro.nargs = o.nscript_args;
	ro.count = o.count;
	ro.keep_going = o.keep_going;

	nm = names__new();
	ks = ksyms__new();
	ksyms__set_lazy(ks, "/proc/kallsyms");
	if (o.pcap_expr) {
		/* pcap-filter expressions land with their issue. */
		msg("a pcap-filter expression is not supported yet");
		code = 2;
	} else if (o.read_path) {
		code = replay__run(&o, &ro, nm);
	} else {
		code = trace__run(&o, &ro, nm, ks);
	}
	ksyms__free(ks);
	names__free(nm);
	free(src);
	free(chunk);
	opts_free(&o);
	return code;
}
