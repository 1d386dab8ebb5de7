/* tcpdrop: trace the TCP packets the kernel drops and hand each drop to Lua. */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
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

/* --list-reasons: the names of the kernel, or with -r those the file carries. */
static int list_reasons(const struct options *o, struct names *nm, const char *file)
{
	if (names__next_reason(nm, -1) < 0) {
		if (!o->read_path) {
			msg("this kernel names no drop reasons (they came with Linux 5.17): drops "
			    "show the reason UNKNOWN");
			return 1;
		}
		msg("%s carries no drop reason names (it was not recorded by tcpdrop)", file);
	}
	names__print_reasons(nm, stdout);
	return 0;
}

/* Options that only mean something when tracing: refused with -r rather than ignored. */
static int check_replay(const struct options *o)
{
	if (o->write_path) {
		msg("-r and -w exclude each other: replay a file, or record one");
		return -EINVAL;
	}
	if (o->probe != PROBE_AUTO || o->no_stack || o->pid_netns) {
		msg("%s has no meaning with -r: a replay traces nothing%s",
		    o->probe != PROBE_AUTO ? "--probe"
		    : o->no_stack	   ? "--no-stack"
					   : "--pid-netns",
		    o->pid_netns ? " (--netns-id selects a namespace)" : "");
		return -EINVAL;
	}
	return 0;
}

static int netns_of_pid(int pid, uint32_t *ino)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	if (stat(path, &st)) {
		msg("--pid-netns %d: %s", pid, strerror(errno));
		return -errno;
	}
	*ino = (uint32_t)st.st_ino;
	return 0;
}

/*
 * The source the options ask for, opened: its names in nm. Then --list-reasons, or the
 * settings of the run: --reason in the source's names, the namespace, -w. 0 with *src set
 * and the run to go; else the exit code (*src NULL).
 */
static int set_up(struct options *o, const struct env_knobs *env, struct run_settings *set,
		  struct recorder_opts *rec, struct names *nm, struct ksyms *ks,
		  struct run_source **src)
{
	struct live_source_opts lo = { .probe = o->probe,
				       .no_stack = o->no_stack,
				       .stack_rate = o->stack_rate,
				       .ring_kb = o->ring_kb,
				       .ring_shared = env->ring_shared,
				       .want_pkt = o->write_path != NULL,
				       .snaplen = o->snaplen };
	char source[600];
	int code;

	*src = NULL;
	if (o->read_path) {
		if (check_replay(o))
			return 2;
		code = file_source__open(o->read_path, nm, ks, src);
	} else {
		code = live_source__open(&lo, nm, ks, src);
	}
	if (code)
		return code;
	if (o->list_reasons) {
		code = list_reasons(o, nm, (*src)->name);
		goto fail;
	}
	set->filter = o->filter;
	set->duration = o->duration;
	if (o->read_path)
		snprintf(source, sizeof(source), "%s names", (*src)->name);
	else
		snprintf(source, sizeof(source), "this kernel has");
	code = 2;
	if (names__resolve_list(nm, o->reasons, source, set->filter.reasons, &set->filter.nreasons,
				TCPDROP_MAX_REASONS))
		goto fail;
	set->filter.netns = o->netns_id;
	if (o->pid_netns && netns_of_pid(o->pid_netns, &set->filter.netns))
		goto fail;
	if (o->write_path) {
		*rec = (struct recorder_opts){ .path = o->write_path,
					       .force = o->force,
					       .snaplen = o->snaplen };
		/* With no filter, -c N means N drops: the file holds exactly those. */
		if (!o->script && !o->filter_expr)
			rec->max_events = o->count;
		set->rec = rec;
	}
	return 0;
fail:
	(*src)->free(*src);
	*src = NULL;
	return code;
}

/*
 * A closed 0, 1 or 2 would be the next file opened, the -w file, and our own text would land in
 * it. Each closed one gets /dev/null read-only: reads see the end, and writes fail (EBADF) as
 * they did, so that a closed stdout is still a write error the run reports.
 */
static void hold_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		/* The lowest free descriptor: fd itself, those below it are open. */
		if (open("/dev/null", O_RDONLY) < 0)
			abort();
	}
}

int main(int argc, char **argv)
{
	struct options o;
	struct runtime_opts ro = { 0 };
	struct run_settings set = { .ro = &ro };
	struct recorder_opts rec;
	struct env_knobs env;
	char env_err[256];
	int env_bad;
	struct run_source *src;
	struct names *nm;
	struct ksyms *ks;
	char err[256];
	int code;

	hold_std_fds();
	env_bad = env_read(&env, env_err, sizeof(env_err));
	timing_start(env.timing);
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
	/* The poll period is the live loop's: a replay has no use for it. */
	if (env_bad && !o.read_path) {
		msg("%s", env_err);
		opts_free(&o);
		return 2;
	}
	set.poll_ms = env.poll_ms;
	libbpf_set_print(libbpf_log);

	if (runtime_opts__from(&ro, &o)) {
		opts_free(&o);
		return 2;
	}
	/* -w -: stdout is the file; drops are printed (to stderr) only when asked for. */
	if (o.write_path && !strcmp(o.write_path, "-") && !ro.script_src && !ro.exec_code &&
	    !ro.filter_expr)
		ro.exec_code = "";
	if (o.pcap_expr && pcapfilter__new(o.pcap_expr, &set.pf)) {
		runtime_opts__free(&ro);
		opts_free(&o);
		return 2;
	}

	timing_mark("options");
	nm = names__new();
	/* A replay's frames come from the file, never from this machine's kallsyms. */
	ks = ksyms__new();
	if (!o.read_path)
		ksyms__set_lazy(ks, "/proc/kallsyms");
	code = set_up(&o, &env, &set, &rec, nm, ks, &src);
	if (src)
		code = run__main(&set, src, nm, ks);
	pcapfilter__free(set.pf);
	ksyms__free(ks);
	names__free(nm);
	runtime_opts__free(&ro);
	opts_free(&o);
	return code;
}
