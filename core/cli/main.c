/* tcpdrop: trace the TCP packets the kernel drops and hand each drop to Lua. */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <luajit.h>
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
#include "version.h"

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

/* A word of the user's for a message: escaped as the printers escape names (dst: 4 * n + 1). */
static const char *safe_word(char *dst, size_t cap, const char *w)
{
	return vis__text(dst, cap, w, strlen(w), 0) < 0 ? "?" : dst;
}

/* A name tcpdrop gives (its listen overflows'), not the kernel: "NAME (tcpdrop)". */
static int ours(const char *name)
{
	size_t n = strlen(name);

	return n > 10 && !strcmp(name + n - 10, " (tcpdrop)");
}

/*
 * --list-reasons: the kernel's names (or with -r the file's), each in a few words; where it names
 * none (before 5.17), said, and tcpdrop's own listed as such.
 */
static int list_reasons(const struct options *o, struct names *nm, const char *file)
{
	int64_t first = names__next_reason(nm, -1), c = first;

	while (c >= 0 && ours(names__reason(nm, (uint32_t)c)))
		c = names__next_reason(nm, c);
	if (c < 0 && !o->read_path)
		msg("this kernel names no drop reasons (they came with Linux 5.17): its drops show "
		    "the reason UNKNOWN%s",
		    first < 0 ? "" : "; these are tcpdrop's own");
	else if (c < 0 && first < 0)
		msg("%s carries no drop reason names (it was not recorded by tcpdrop)", file);
	else if (c < 0)
		msg("%s carries no drop reason names of its kernel: these are tcpdrop's own", file);
	if (first < 0)
		return o->read_path ? 0 : 1;
	/* Name and code as names__print_reasons() spells them: the completion reads the first. */
	for (c = names__next_reason(nm, -1); c >= 0; c = names__next_reason(nm, c)) {
		const char *name = names__reason(nm, (uint32_t)c);
		const struct reason_help *h = reason_help__find(name);

		printf("%-32s %-6lld %s\n", name, (long long)c, h ? h->what : "no description yet");
	}
	return 0;
}

/*
 * --reason and --explain take names: a number (codes move between kernels) or a word that
 * cannot be a name is answered here, with the word escaped. 0, or -EINVAL after one line.
 */
static int check_reason_word(struct names *nm, const char *opt, const char *w, const char *where)
{
	char safe[4 * 64 + 1];
	const char *p = w;

	while (*p && isdigit((unsigned char)*p))
		p++;
	if (*w && !*p) {
		const char *name = strlen(w) < 10 ? names__reason(nm, (uint32_t)atoi(w)) : NULL;

		if (name)
			msg("%s: give the name, not the number (%s is %s %s)", opt, w, name, where);
		else
			msg("%s: give the name, not the number (%s names no reason %s)", opt,
			    strlen(w) < 64 ? w : "it", where);
		return -EINVAL;
	}
	if (strlen(w) >= 64 || !vis__plain(w, strlen(w))) {
		msg("%s: '%s' is not a drop reason name", opt,
		    strlen(w) < 64 ? safe_word(safe, sizeof(safe), w) : "(a long word)");
		return -EINVAL;
	}
	return 0;
}

static int check_reason_list(struct names *nm, const char *list, const char *where)
{
	char *copy, *save = NULL, *tok;
	int ret = 0;

	if (!list)
		return 0;
	copy = xstrdup(list);
	for (tok = strtok_r(copy, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save))
		ret = check_reason_word(nm, "--reason", tok, where);
	free(copy);
	return ret;
}

/* --explain REASON: what the kernel saw, its MIB counter, what to check. The exit code. */
static int explain_reason(const struct options *o, struct names *nm, const char *source,
			  const char *where)
{
	const char *word = o->explain, *name;
	const struct reason_help *h;
	uint32_t code;
	uint8_t n = 0;
	int64_t c;

	if (check_reason_word(nm, "--explain", word, where))
		return 2;
	c = names__reason_code(nm, word);
	if (c < 0) {
		/* A reason of other kernels still has its description; else the nearest name. */
		if (!strncasecmp(word, "SKB_DROP_REASON_", 16))
			word += 16;
		h = reason_help__find(word);
		if (!h)
			return names__resolve_list(nm, "--explain", word, source, &code, &n, 1) ? 2
												: 0;
		printf("%s (no such reason %s)\n", h->name, where);
	} else {
		name = names__reason(nm, (uint32_t)c);
		h = reason_help__find(name);
		printf("%s (code %lld %s)%s\n", name, (long long)c, where,
		       h ? "" : ": no description yet");
		if (!h)
			return 0;
	}
	printf("  what:  %s\n", h->what);
	printf("  MIB:   %s\n", h->mib ? h->mib : "none known");
	printf("  check: %s\n", h->check);
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
		int err = errno;

		msg("--pid-netns %d: %s", pid, err == ENOENT ? "no such process" : strerror(err));
		return -err;
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
				       .no_owners = env->no_owners,
				       .want_pkt = o->write_path != NULL,
				       .snaplen = o->snaplen,
				       .metrics = o->metrics.listen ? &o->metrics : NULL,
				       .metrics_only = o->metrics.listen && !o->script &&
						       !o->exec_code && !o->filter_expr &&
						       !o->write_path && !o->pcap_expr && !o->count,
				       .container = o->container,
				       .pod = o->pod,
				       .coverage = o->coverage };
	char source[600], where[600];
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
	/* A replay has no kernel side: nothing more needs root once the file is open. */
	if (o->read_path && privs__drop()) {
		code = 1;
		goto fail;
	}
	if (o->list_reasons) {
		code = list_reasons(o, nm, (*src)->name);
		goto fail;
	}
	if (o->read_path) {
		snprintf(source, sizeof(source), "%s names", (*src)->name);
		snprintf(where, sizeof(where), "in %s", (*src)->name);
	} else {
		snprintf(source, sizeof(source), "this kernel has");
		snprintf(where, sizeof(where), "on this kernel");
	}
	if (o->explain) {
		code = explain_reason(o, nm, source, where);
		goto fail;
	}
	set->filter = o->filter;
	set->duration = o->duration;
	set->no_kernel_count = o->no_kernel_count;
	code = 2;
	if (check_reason_list(nm, o->reasons, where) ||
	    names__resolve_list(nm, "--reason", o->reasons, source, set->filter.reasons,
				&set->filter.nreasons, TCPDROP_MAX_REASONS))
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
		printf("tcpdrop %s (commit %s)\nlibbpf %u.%u\n%s\n", TCPDROP_VERSION,
		       TCPDROP_COMMIT, libbpf_major_version(), libbpf_minor_version(),
		       LUAJIT_VERSION);
		return 0;
	}
	if (o.list_scripts) {
		list_scripts();
		return 0;
	}
	if (o.show_script) {
		const struct embedded *e = embedded_script(o.show_script);
		char safe[4 * 64 + 1];

		if (!e) {
			msg("no shipped script named '%s' (see --list-scripts)",
			    strlen(o.show_script) < 64
				    ? safe_word(safe, sizeof(safe), o.show_script)
				    : "(a long word)");
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

	if (o.user && privs__prepare(o.user)) {
		opts_free(&o);
		return 2;
	}
	if (runtime_opts__from(&ro, &o)) {
		opts_free(&o);
		return 2;
	}
	ro.max_keys = o.max_keys;
	o.metrics.version = TCPDROP_VERSION;
	o.metrics.commit = TCPDROP_COMMIT;
	/* --metrics alone: the drops are counted in the kernel, and nothing is printed. */
	if (o.metrics.listen && !ro.script_src && !ro.exec_code && !ro.filter_expr &&
	    !o.write_path && !o.pcap_expr)
		ro.exec_code = "";
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
	/*
	 * --user: the symbols now, as root, for /proc/kallsyms shows a user only zeros (and the
	 * drop takes CAP_SYSLOG too). A lookup is what loads the lazy table.
	 */
	if (o.user && !o.read_path && !o.no_stack && !o.list_reasons && !o.explain) {
		char sym[64];

		ksyms__format(ks, 0, 0, sym, sizeof(sym));
	}
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
