/*
 * The plan: which of the probe's programs this kernel can take, and why not when it cannot.
 * Read from the kernel's BTF, kallsyms and tracefs, before anything is loaded; probe.c loads.
 */
#include "kernel/internal.h"
#include "sym/sym.h"
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

static const char *const mode_names[] = {
	[PROBE_AUTO] = "auto",	   [PROBE_TP_BTF] = "tp_btf",
	[PROBE_RAW_TP] = "raw_tp", [PROBE_TRACEPOINT] = "tracepoint",
	[PROBE_KPROBE] = "kprobe", [PROBE_FENTRY] = "fentry",
};

const char *probe_mode_name(enum probe_mode m)
{
	return (unsigned int)m < ARRAY_SIZE(mode_names) ? mode_names[m] : "?";
}

int probe_mode_parse(const char *s, enum probe_mode *m)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(mode_names); i++)
		if (!strcmp(s, mode_names[i])) {
			*m = (enum probe_mode)i;
			return 0;
		}
	return -EINVAL;
}

#define CAP_SYS_ADMIN 21
#define CAP_PERFMON 38
#define CAP_BPF 39

int probe__check_privileges(char *why, size_t len)
{
	char *status = read_file("/proc/self/status", 1 << 16, NULL);
	unsigned long long eff = 0;
	char *p;

	if (status && (p = strstr(status, "\nCapEff:")))
		eff = strtoull(p + 8, NULL, 16);
	free(status);
	if ((eff >> CAP_SYS_ADMIN) & 1)
		return 0;
	if (((eff >> CAP_BPF) & 1) && ((eff >> CAP_PERFMON) & 1))
		return 0;
	snprintf(why, len,
		 "tracing needs root, or CAP_BPF and CAP_PERFMON (try sudo; replaying a file "
		 "with -r does not)");
	return -EPERM;
}

int probe__tp_nargs(const struct kbtf *btf)
{
	uint32_t id;
	int kind;

	if (!btf)
		return 0;
	id = kbtf__find(btf, "btf_trace_kfree_skb", KBTF_TYPEDEF);
	while (id && ((kind = kbtf__kind(btf, id)) == KBTF_TYPEDEF || kind == KBTF_PTR))
		id = kbtf__ref(btf, id);
	if (!id || kbtf__kind(btf, id) != KBTF_FUNC_PROTO || kbtf__vlen(btf, id) < 1)
		return 0;
	return kbtf__vlen(btf, id) - 1; /* the first argument is the tracepoint's own data */
}

/* Through typedefs and qualifiers (const, volatile, restrict) to the type itself. */
static uint32_t resolve(const struct kbtf *btf, uint32_t id)
{
	int kind;

	while (id && ((kind = kbtf__kind(btf, id)) == KBTF_TYPEDEF || (kind >= 9 && kind <= 11)))
		id = kbtf__ref(btf, id);
	return id;
}

/*
 * The pair reads tcp_validate_incoming(sk, skb, th, syn_inerr)'s arguments and
 * takes its bool result for "dropped": only that exact shape will do.
 */
static int validate_incoming_fits(const struct kbtf *btf)
{
	uint32_t fn = kbtf__find(btf, "tcp_validate_incoming", KBTF_FUNC), proto, ret;

	if (!fn)
		return 0;
	proto = kbtf__ref(btf, fn);
	if (kbtf__kind(btf, proto) != KBTF_FUNC_PROTO || kbtf__vlen(btf, proto) != 4)
		return 0;
	ret = resolve(btf, kbtf__ref(btf, proto));
	return ret && kbtf__kind(btf, ret) == KBTF_INT && !strcmp(kbtf__name(btf, ret), "_Bool");
}

void probe__facts(const struct kbtf *btf, struct kernel_facts *kf)
{
	kf->has_btf = btf != NULL;
	kf->tp_nargs = probe__tp_nargs(btf);
	kf->has_tcp_drop = btf && kbtf__find(btf, "tcp_drop", KBTF_FUNC);
	kf->has_rdonly_cast = btf && kbtf__find(btf, "bpf_rdonly_cast", KBTF_FUNC);
	kf->has_validate_incoming = btf && validate_incoming_fits(btf);
	kf->has_sock_length = btf && kbtf__find(btf, "btf_trace_sock_send_length", KBTF_TYPEDEF) &&
			      kbtf__find(btf, "btf_trace_sock_recv_length", KBTF_TYPEDEF);
	listen__facts(btf, &kf->listen);
}

int tracefs_ensure(void)
{
	struct stat st;

	if (!stat("/sys/kernel/tracing/events", &st) ||
	    !stat("/sys/kernel/debug/tracing/events", &st))
		return 0;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) && errno != EBUSY)
		return -errno;
	return stat("/sys/kernel/tracing/events", &st) ? -ENOENT : 0;
}

/*
 * The addresses of the two functions the kprobe and fentry modes watch, from
 * /proc/kallsyms: 0 if a function is not there, 1 if it is but its address is
 * hidden from us (kptr_restrict). Read once: the file is large.
 */
static struct {
	int read;
	unsigned long long tcp_drop;
	unsigned long long validate_incoming;
} fns;

static int sym_is(const char *sym, const char *name)
{
	size_t len = strlen(name);

	return !strncmp(sym, name, len) && (sym[len] == '\n' || sym[len] == '\t');
}

static void read_fns(void)
{
	char line[512];
	FILE *f;

	if (fns.read)
		return;
	fns.read = 1;
	f = fopen("/proc/kallsyms", "re");
	if (!f)
		return;
	while ((!fns.tcp_drop || !fns.validate_incoming) && fgets(line, sizeof(line), f)) {
		char *sym = strchr(line, ' ');
		unsigned long long addr;

		if (!sym || !sym[1] || sym[2] != ' ')
			continue;
		addr = strtoull(line, NULL, 16);
		if (sym_is(sym + 3, "tcp_drop"))
			fns.tcp_drop = addr ? addr : 1;
		else if (sym_is(sym + 3, "tcp_validate_incoming"))
			fns.validate_incoming = addr ? addr : 1;
	}
	fclose(f);
}

static int has_kprobes(void)
{
	struct stat st;

	tracefs_ensure();
	return !stat("/sys/bus/event_source/devices/kprobe", &st) ||
	       !stat("/sys/kernel/tracing/kprobe_events", &st) ||
	       !stat("/sys/kernel/debug/tracing/kprobe_events", &st);
}

int plan__has_kprobes(void)
{
	return has_kprobes();
}

int plan__precheck(enum probe_mode m, const struct kernel_facts *kf, int tp_nargs, char *why,
		   size_t len)
{
	struct stat st;

	switch (m) {
	case PROBE_TP_BTF:
		if (!kf->has_btf) {
			snprintf(why, len, "the kernel has no BTF");
			return -ENOENT;
		}
		if (!tp_nargs) {
			snprintf(why, len, "no kfree_skb tracepoint in the kernel's BTF");
			return -ENOENT;
		}
		return 0;
	case PROBE_RAW_TP:
		return 0;
	case PROBE_TRACEPOINT:
		if (tracefs_ensure()) {
			snprintf(why, len, "tracefs is not mounted and cannot be");
			return -ENOENT;
		}
		if (stat("/sys/kernel/tracing/events/skb/kfree_skb", &st) &&
		    stat("/sys/kernel/debug/tracing/events/skb/kfree_skb", &st)) {
			snprintf(why, len, "no skb:kfree_skb tracepoint");
			return -ENOENT;
		}
		return 0;
	case PROBE_KPROBE:
		if (!has_kprobes()) {
			snprintf(why, len, "this kernel has no kprobes (CONFIG_KPROBES is off)");
			return -EOPNOTSUPP;
		}
		read_fns();
		if (!fns.tcp_drop && !fns.validate_incoming) {
			snprintf(why, len,
				 "neither tcp_drop() nor tcp_validate_incoming() is in this "
				 "kernel's "
				 "symbols (inlined)");
			return -ENOENT;
		}
		return 0;
	case PROBE_FENTRY:
		if (!kf->has_tcp_drop && !kf->has_validate_incoming) {
			snprintf(why, len,
				 "neither tcp_drop() nor tcp_validate_incoming(sk, skb, th, "
				 "syn_inerr) "
				 "returning bool is in this kernel's BTF");
			return -ENOENT;
		}
		return 0;
	default:
		snprintf(why, len, "unknown mode");
		return -EINVAL;
	}
}

const char *plan__pair_name(enum pair_kind k)
{
	return k == PAIR_FENTRY ? "fentry/fexit" : "kprobe/kretprobe";
}

int plan__pair_possible(enum pair_kind k, const struct kernel_facts *kf, unsigned long long *loc,
			char *why, size_t len)
{
	unsigned long long addr;

	read_fns();
	addr = fns.validate_incoming;
	if (k == PAIR_FENTRY && !kf->has_validate_incoming) {
		snprintf(why, len,
			 "no tcp_validate_incoming(sk, skb, th, syn_inerr) returning bool in this "
			 "kernel's BTF");
		return 0;
	}
	if (k == PAIR_KPROBE) {
		if (!has_kprobes()) {
			snprintf(why, len, "this kernel has no kprobes (CONFIG_KPROBES is off)");
			return 0;
		}
		/* Without BTF the name is all there is to go by; with it, the shape must fit. */
		if (!addr || (kf->has_btf && !kf->has_validate_incoming)) {
			snprintf(why, len, "no tcp_validate_incoming() to probe in this kernel");
			return 0;
		}
	}
	*loc = addr > 1 ? addr : 0;
	return 1;
}

unsigned long long plan__tcp_drop(void)
{
	read_fns();
	return fns.tcp_drop;
}
