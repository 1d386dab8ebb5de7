/* Command-line parsing: every value is checked here, with one line saying what is wrong. */
#include "cli/cli.h"
#include "lua/bridge.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <bsd/stdlib.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char usage_text[] =
	"Usage: tcpdrop [OPTIONS] [PCAP-FILTER] [-- SCRIPT-ARGS...]\n"
	"\n"
	"Trace TCP packets the kernel drops, and hand each drop to Lua.\n"
	"\n"
	"Output and scripts:\n"
	"  -s, --script FILE|NAME  run a Lua script (a file, or a shipped one: -s classic)\n"
	"  -f, --filter EXPR       only drops for which the Lua expression is true (e.g. 'e.dport "
	"== 443')\n"
	"  -e, --exec CODE         Lua code run for each drop, as the body of drop(e)\n"
	"  -i, --interval SEC      call tick() and print aggregations every SEC seconds\n"
	"      --keep-going        on a script error, skip the event, count it and go on\n"
	"      --no-stack          do not capture kernel stacks (cheaper)\n"
	"      --stack-rate N      at most N stacks per second per CPU, the storm guard\n"
	"                          (0: no limit; default 1000)\n"
	"      --max-keys N        keys each aggregation keeps (wins over tcpdrop.max_keys();\n"
	"                          1-100000000, default 10000)\n"
	"      --no-kernel-count   count -e's aggregations from the events, never in the kernel\n"
	"      --list-scripts      list the shipped scripts\n"
	"      --show-script NAME  print a shipped script, to copy and adapt\n"
	"\n"
	"Which drops (filtered in the kernel):\n"
	"  -4, --ipv4              IPv4 only\n"
	"  -6, --ipv6              IPv6 only\n"
	"      --netns-id ID       drops in the network namespace with this inode number\n"
	"      --pid-netns PID     drops in the network namespace of process PID\n"
	"      --cgroup PATH       drops of sockets (or, without one, of tasks) in this cgroup v2\n"
	"                          or below it: its directory, or its path as /proc/PID/cgroup\n"
	"                          shows it (a replay matches the recorded cgroup exactly)\n"
	"      --container NAME    drops of a running container (NAME: its name or id): its\n"
	"                          sockets' cgroups and its network namespace, found again\n"
	"                          as it restarts\n"
	"      --pod [NS/]NAME     drops of a running Kubernetes pod, the same way\n"
	"      --port P[,P...]     source or destination port (repeatable)\n"
	"      --sport P[,P...]    source port of the dropped packet\n"
	"      --dport P[,P...]    destination port of the dropped packet\n"
	"      --saddr NET         source address or CIDR (repeatable)\n"
	"      --daddr NET         destination address or CIDR\n"
	"      --addr NET          source or destination address or CIDR\n"
	"      --reason NAME[,..]  drop reasons, as the kernel names them (see --list-reasons)\n"
	"      --list-reasons      list the drop reasons of the running kernel, each in a few "
	"words\n"
	"      --explain REASON    what a drop reason means, its MIB counter and what to check\n"
	"      --coverage          trace without printing drops; at the end, the kernel's own "
	"drop\n"
	"                          counters (the MIB) per namespace beside the drops traced, and\n"
	"                          each counter the tracer could not match (-d, or Ctrl-C)\n"
	"\n"
	"Record and replay:\n"
	"  -w, --write FILE        record drops to a pcapng file that Wireshark opens ('-':\n"
	"                          standard output); drops are still printed. With -w -,\n"
	"                          nothing is printed unless -s, -e or -f asks, and then to\n"
	"                          standard error. An existing file needs --force\n"
	"  -r, --read FILE         replay a pcapng/pcap file instead of tracing (no root needed);\n"
	"                          a tcpdump or Wireshark capture works too: each TCP packet is\n"
	"                          a drop with reason UNKNOWN. -d and -i count recorded time\n"
	"      --snaplen N         with -w, payload bytes kept after the headers (0-136, default "
	"0)\n"
	"      --force             let -w replace an existing file\n"
	"\n"
	"Run:\n"
	"  -d, --duration SEC      stop after SEC seconds\n"
	"  -c, --count N           stop after N drops (that passed the filters)\n"
	"      --probe MODE        auto, tp_btf, raw_tp, tracepoint, kprobe or fentry; kprobe and\n"
	"                          fentry hook tcp_drop(), else tcp_validate_incoming() (only\n"
	"                          the drops TCP makes there). auto takes the first of tp_btf,\n"
	"                          raw_tp, tracepoint that works, and on kernels without drop\n"
	"                          reasons (before 5.17) adds the tcp_validate_incoming pair\n"
	"      --ring-kb N         each CPU's ring buffer, in KiB (4-1048576, default 2048; with\n"
	"                          -w 16384, less beyond 8 CPUs, 131072 in all, at least 2048)\n"
	"      --user USER         once the probe is attached and files are open, run as USER\n"
	"                          (a name or a uid; its group, no others) with no capability\n"
	"                          left: scripts and what they start run as USER, and files\n"
	"                          they open are opened as USER. Needs root\n"
	"      --metrics [ADDR:]PORT  serve Prometheus metrics at http://ADDR:PORT/metrics,\n"
	"                          counted in the kernel. PORT alone listens on every address,\n"
	"                          IPv6 and IPv4 (as node_exporter's :9100); ADDR is an IPv4\n"
	"                          address or [IPv6]. Alone (no -s, -e, -f, -w) nothing is\n"
	"                          printed, and (without -c) the drops are only counted\n"
	"      --metrics-labels LABEL[,...]  labels of tcpdrop_drops_total (default reason):\n"
	"                          reason, state, flags, family, saddr, daddr, sport, dport,\n"
	"                          netns, ifindex, cpu, cgroup. Label sets kept: --max-keys\n"
	"                          (10000); the drops of further ones are counted in\n"
	"                          tcpdrop_map_overflow_total\n"
	"  -v, --verbose           say which probe attached; show libbpf's messages\n"
	"  -h, --help              this help\n"
	"  -V, --version           print the version, git commit, libbpf and LuaJIT versions\n"
	"\n"
	"Output: one line per drop in today's bcc format, TIME PID IP SADDR:SPORT > DADDR:DPORT\n"
	"STATE (FLAGS) REASON (CODE), then the kernel stack from the dropping function.\n"
	"SADDR is the dropped packet's source; STATE is '-' when the drop had no socket.\n"
	"Reason names come from the running kernel; a kernel whose probe point carries no\n"
	"reason prints UNKNOWN.\n"
	"\n"
	"Examples:\n"
	"  tcpdrop                              # trace TCP drops, bcc format with reasons\n"
	"  tcpdrop -s classic                   # the original 2018 bcc format\n"
	"  tcpdrop -4 --dport 443               # IPv4 drops to port 443\n"
	"  tcpdrop --no-stack -f 'e.reason ~= \"NO_SOCKET\"'\n"
	"  tcpdrop -e 'count(e.reason, e.dport)' -d 10   # a table of drops by reason and port\n"
	"  tcpdrop --pid-netns 1234             # drops in the network namespace of pid 1234\n"
	"  tcpdrop -s myscript.lua -- arg1 arg2 # a script, with arguments for init(args)\n"
	"  tcpdrop 'tcp port 443 and net 10.0.0.0/8'  # a tcpdump filter expression\n"
	"  tcpdrop -w drops.pcapng              # record (and print); open the file in Wireshark\n"
	"  tcpdrop -r drops.pcapng -s top -i 1  # replay it anywhere with any script, no root\n"
	"  tcpdrop -w - | tshark -r -           # drops straight into tshark\n"
	"\n"
	"Exit status: 0 the run ended as asked; 1 it failed while running (no probe, a failed\n"
	"write, a script error); 2 a usage error, nothing traced; tcpdrop.exit(N) in a script: N.\n"
	"\n"
	"Scripting (hooks, fields, helpers, one-liners): docs/scripting.md\n";

enum {
	OPT_NETNS_ID = 256,
	OPT_PID_NETNS,
	OPT_CGROUP,
	OPT_PROBE,
	OPT_NO_STACK,
	OPT_STACK_RATE,
	OPT_KEEP_GOING,
	OPT_LIST_SCRIPTS,
	OPT_SHOW_SCRIPT,
	OPT_LIST_REASONS,
	OPT_PORT,
	OPT_SPORT,
	OPT_DPORT,
	OPT_SADDR,
	OPT_DADDR,
	OPT_ADDR,
	OPT_REASON,
	OPT_SNAPLEN,
	OPT_FORCE,
	OPT_RING_KB,
	OPT_MAX_KEYS,
	OPT_USER,
	OPT_EXPLAIN,
	OPT_NO_KERNEL_COUNT,
	OPT_METRICS,
	OPT_METRICS_LABELS,
	OPT_CONTAINER,
	OPT_POD,
	OPT_COVERAGE,
};

static const char short_opts[] = "hvVs:f:e:d:c:i:46w:r:";

static const struct option long_opts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	{ "script", required_argument, NULL, 's' },
	{ "filter", required_argument, NULL, 'f' },
	{ "exec", required_argument, NULL, 'e' },
	{ "duration", required_argument, NULL, 'd' },
	{ "count", required_argument, NULL, 'c' },
	{ "interval", required_argument, NULL, 'i' },
	{ "ipv4", no_argument, NULL, '4' },
	{ "ipv6", no_argument, NULL, '6' },
	{ "netns-id", required_argument, NULL, OPT_NETNS_ID },
	{ "pid-netns", required_argument, NULL, OPT_PID_NETNS },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "container", required_argument, NULL, OPT_CONTAINER },
	{ "pod", required_argument, NULL, OPT_POD },
	{ "probe", required_argument, NULL, OPT_PROBE },
	{ "no-stack", no_argument, NULL, OPT_NO_STACK },
	{ "stack-rate", required_argument, NULL, OPT_STACK_RATE },
	{ "keep-going", no_argument, NULL, OPT_KEEP_GOING },
	{ "list-scripts", no_argument, NULL, OPT_LIST_SCRIPTS },
	{ "show-script", required_argument, NULL, OPT_SHOW_SCRIPT },
	{ "list-reasons", no_argument, NULL, OPT_LIST_REASONS },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "sport", required_argument, NULL, OPT_SPORT },
	{ "dport", required_argument, NULL, OPT_DPORT },
	{ "saddr", required_argument, NULL, OPT_SADDR },
	{ "daddr", required_argument, NULL, OPT_DADDR },
	{ "addr", required_argument, NULL, OPT_ADDR },
	{ "reason", required_argument, NULL, OPT_REASON },
	{ "write", required_argument, NULL, 'w' },
	{ "read", required_argument, NULL, 'r' },
	{ "snaplen", required_argument, NULL, OPT_SNAPLEN },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "ring-kb", required_argument, NULL, OPT_RING_KB },
	{ "max-keys", required_argument, NULL, OPT_MAX_KEYS },
	{ "user", required_argument, NULL, OPT_USER },
	{ "explain", required_argument, NULL, OPT_EXPLAIN },
	{ "no-kernel-count", no_argument, NULL, OPT_NO_KERNEL_COUNT },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "metrics-labels", required_argument, NULL, OPT_METRICS_LABELS },
	{ "coverage", no_argument, NULL, OPT_COVERAGE },
	{ NULL, 0, NULL, 0 },
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * The reason, with the words it quotes escaped (strnvis, as the printers do): a newline or a
 * terminal's control byte in a word would break the one line and reach the terminal.
 */
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	char raw[256], safe[4 * sizeof(raw) + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	if (n < 0)
		raw[0] = '\0';
	n = vis__text(safe, sizeof(safe), raw, strlen(raw), 0);
	snprintf(err, errlen, "%s", n < 0 ? "a bad option" : safe);
	return -EINVAL;
}

/*
 * The cgroup2 mount from mountinfo: its mount point and its root within the hierarchy ("/",
 * deeper inside a cgroup namespace). Pure v2 mounts it at /sys/fs/cgroup, the hybrid layout at
 * /sys/fs/cgroup/unified. 0, or -ENOENT when there is none.
 */
static int cgroup2_mount(char *dir, size_t dlen, char *root, size_t rlen)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (err && fgets(line, sizeof(line), f)) {
		char r[1024], m[1024], *sep = strstr(line, " - ");

		if (!sep || strncmp(sep, " - cgroup2 ", 11) ||
		    sscanf(line, "%*s %*s %*s %1023s %1023s", r, m) != 2)
			continue;
		snprintf(dir, dlen, "%s", m);
		snprintf(root, rlen, "%s", r);
		err = 0;
	}
	fclose(f);
	return err;
}

/* Path components of p ("/a/b" and "a/b/" are 2). */
static unsigned int path_depth(const char *p)
{
	unsigned int n = 0;

	for (; *p; p++)
		if (*p != '/' && (p[1] == '/' || !p[1]))
			n++;
	return n;
}

/*
 * --cgroup PATH into the filter: the cgroup v2 id (its directory's inode, as the kernel's
 * cgroup ids are) and its depth, which the probe needs to match the cgroups below it. PATH is a
 * directory of the cgroup2 mount, or a path from the hierarchy's root (/proc/PID/cgroup's).
 */
static int cgroup_resolve(const char *path, struct tcpdrop_filter *f, char *err, size_t errlen)
{
	char dir[1024], root[1024], full[PATH_MAX], *real;
	const char *rel;
	struct stat st;
	size_t dl;

	if (cgroup2_mount(dir, sizeof(dir), root, sizeof(root)))
		return fail(err, errlen, "--cgroup: no cgroup2 file system is mounted");
	dl = strlen(dir);
	real = realpath(path, NULL);
	if (!real || strncmp(real, dir, dl) || (real[dl] && real[dl] != '/')) {
		free(real);
		snprintf(full, sizeof(full), "%s/%s", dir, path);
		real = realpath(full, NULL);
	}
	if (!real || strncmp(real, dir, dl) || (real[dl] && real[dl] != '/') || stat(real, &st) ||
	    !S_ISDIR(st.st_mode)) {
		free(real);
		return fail(err, errlen, "--cgroup: '%s' is not a cgroup under %s", path, dir);
	}
	rel = real + dl;
	f->cgroup_id = st.st_ino;
	f->cgroup_level = path_depth(strcmp(root, "/") ? root : "") + path_depth(rel);
	free(real);
	return 0;
}

static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 1e9)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int add_ports(const char *list, __u16 *set, __u8 *n, const char *opt, char *err,
		     size_t errlen)
{
	char *copy = xstrdup(list), *save = NULL, *tok;
	int ret = 0;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint64_t port;

		if (parse_u64(tok, 65535, &port) || port == 0) {
			ret = fail(err, errlen, "%s: '%s' is not a port (1-65535)", opt, tok);
			break;
		}
		if (*n >= TCPDROP_MAX_PORTS) {
			ret = fail(err, errlen, "%s: at most %d ports", opt, TCPDROP_MAX_PORTS);
			break;
		}
		set[(*n)++] = (__u16)port;
	}
	if (!ret && !*n)
		ret = fail(err, errlen, "%s: no port given", opt);
	free(copy);
	return ret;
}

int parse_net(const char *s, struct tcpdrop_net *net)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	uint64_t prefix;
	int max;

	memset(net, 0, sizeof(*net));
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, net->net) == 1) {
		net->family = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, net->net) == 1) {
		net->family = 6;
		max = 128;
	} else {
		return -EINVAL;
	}
	prefix = (uint64_t)max;
	if (slash && (parse_u64(slash, (uint64_t)max, &prefix)))
		return -EINVAL;
	for (int i = 0; i < max / 8; i++) {
		int bits = (int)prefix - i * 8;

		net->mask[i] = bits >= 8 ? 0xff : bits <= 0 ? 0 : (__u8)(0xff << (8 - bits));
		net->net[i] &= net->mask[i];
	}
	return 0;
}

static int add_net(struct options *o, const char *s, __u8 side, const char *opt, char *err,
		   size_t errlen)
{
	struct tcpdrop_net net;

	if (o->filter.nnets >= TCPDROP_MAX_NETS)
		return fail(err, errlen, "%s: at most %d address filters in all", opt,
			    TCPDROP_MAX_NETS);
	if (parse_net(s, &net))
		return fail(err, errlen, "%s: '%s' is not an IPv4/IPv6 address or CIDR", opt, s);
	net.side = side;
	o->filter.nets[o->filter.nnets++] = net;
	return 0;
}

static int append_list(char **dst, const char *add)
{
	size_t old = *dst ? strlen(*dst) : 0;

	*dst = xrealloc(*dst, old + strlen(add) + 2);
	if (old)
		(*dst)[old++] = ',';
	strcpy(*dst + old, add);
	return 0;
}

/* Whether argv word a is an option that swallows the next word. */
static int takes_arg(const char *a)
{
	if (a[0] != '-' || !a[1])
		return 0;
	if (a[1] == '-') {
		size_t len = strcspn(a + 2, "=");

		if (a[2 + len] == '=')
			return 0;
		for (const struct option *o = long_opts; o->name; o++)
			if (strlen(o->name) == len && !strncmp(o->name, a + 2, len))
				return o->has_arg == required_argument;
		return 0;
	}
	/* A cluster of short options: the first one that takes an argument ends it. */
	for (const char *p = a + 1; *p; p++) {
		const char *o = strchr(short_opts, *p);

		if (o && o[1] == ':')
			return p[1] == '\0';
	}
	return 0;
}

/*
 * --coverage prints one table, of what the kernel counted while tracing: what prints drops, or
 * traces nothing, has no place beside it. It runs with an empty drop() (nothing printed).
 */
static int check_coverage(struct options *o, char *err, size_t errlen)
{
	const char *other = o->read_path      ? "-r (a recording has no kernel counters)"
			    : o->write_path   ? "-w"
			    : o->script	      ? "-s"
			    : o->exec_code    ? "-e"
			    : o->filter_expr  ? "-f"
			    : o->interval > 0 ? "-i (tick() with tcpdrop.coverage() does that)"
			    : o->list_reasons ? "--list-reasons"
			    : o->explain      ? "--explain"
			    : o->pcap_expr    ? "a pcap-filter expression"
					      : NULL;

	if (!o->coverage)
		return 0;
	if (other)
		return fail(err, errlen, "--coverage prints its table alone: not with %s", other);
	o->exec_code = "";
	return 0;
}

/*
 * -w's default ring, per CPU: a recording is what a storm must not lose, and on a busy machine the
 * reader may wait 100-300 ms for a CPU (measured: 2 senders on 2 CPUs, lost 1-5 % with 2 MiB,
 * none with 16 MiB: 128k stack-less events, most of a second of the bench's storm per CPU).
 * 128 MiB in all at most, so that large machines do not pin a GiB of rings; never less than the
 * default.
 */
#define WRITE_RING_KB (16u << 10)
#define WRITE_RINGS_KB (128u << 10)

static uint32_t write_ring_kb(void)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);
	uint32_t kb = WRITE_RING_KB;

	while (n > 0 && (uint64_t)kb * (uint64_t)n > WRITE_RINGS_KB && kb > TCPDROP_DEFAULT_RING_KB)
		kb /= 2;
	return kb;
}

int opts_parse(struct options *o, int argc, char **argv, char *err, size_t errlen)
{
	int nopt = argc, c, ret = 0, ring_kb_set = 0;
	const char *why;
	uint64_t v;

	memset(o, 0, sizeof(*o));
	o->stack_rate = TCPDROP_DEFAULT_STACK_RATE;
	o->ring_kb = TCPDROP_DEFAULT_RING_KB;
	err[0] = '\0';
	/* Words after the first real "--" belong to the script. */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			nopt = i;
			break;
		}
		if (takes_arg(argv[i]))
			i++;
	}
	if (nopt < argc) {
		o->script_args = argv + nopt + 1;
		o->nscript_args = argc - nopt - 1;
	}

	/* 0, not 1: glibc's full reset, also of where it stood inside a cluster ("-vd"). */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(nopt, argv, short_opts, long_opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			o->help = 1;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'V':
			o->version = 1;
			break;
		case 's':
			o->script = optarg;
			break;
		case 'f':
			o->filter_expr = optarg;
			break;
		case 'e':
			o->exec_code = optarg;
			break;
		case 'd':
			if (parse_seconds(optarg, &o->duration))
				return fail(err, errlen, "-d: '%s' is not a duration in seconds",
					    optarg);
			break;
		case 'c':
			if (parse_u64(optarg, UINT64_MAX, &o->count) || !o->count)
				return fail(err, errlen, "-c: '%s' is not a count > 0", optarg);
			break;
		case 'i':
			/* Below a millisecond the timer would round to zero: a single tick. */
			if (parse_seconds(optarg, &o->interval) || o->interval < 0.001)
				return fail(err, errlen, "-i: '%s' is not an interval in seconds",
					    optarg);
			break;
		case '4':
		case '6':
			if (o->filter.family && o->filter.family != c - '0')
				return fail(err, errlen, "-4 and -6 exclude each other");
			o->filter.family = (__u8)(c - '0');
			break;
		case OPT_NETNS_ID:
			if (parse_u64(optarg, UINT32_MAX, &v) || !v)
				return fail(err, errlen,
					    "--netns-id: '%s' is not a namespace inode", optarg);
			o->netns_id = (uint32_t)v;
			break;
		case OPT_CGROUP:
			ret = cgroup_resolve(optarg, &o->filter, err, errlen);
			break;
		case OPT_PID_NETNS:
			if (parse_u64(optarg, INT_MAX, &v) || !v)
				return fail(err, errlen, "--pid-netns: '%s' is not a pid", optarg);
			o->pid_netns = (int)v;
			break;
		case OPT_CONTAINER:
			if (!*optarg)
				return fail(err, errlen, "--container: give a name or an id");
			o->container = optarg;
			break;
		case OPT_POD:
			if (!*optarg || optarg[strlen(optarg) - 1] == '/' || *optarg == '/')
				return fail(err, errlen, "--pod: '%s' is not [NAMESPACE/]NAME",
					    optarg);
			o->pod = optarg;
			break;
		case OPT_PROBE:
			if (probe_mode_parse(optarg, &o->probe))
				return fail(err, errlen,
					    "--probe: '%s' is not one of auto, tp_btf, raw_tp, "
					    "tracepoint, kprobe, fentry",
					    optarg);
			break;
		case OPT_NO_STACK:
			o->no_stack = 1;
			break;
		case OPT_STACK_RATE:
			if (parse_u64(optarg, UINT32_MAX, &v))
				return fail(err, errlen, "--stack-rate: '%s' is not a number",
					    optarg);
			o->stack_rate = (__u32)v;
			break;
		case OPT_KEEP_GOING:
			o->keep_going = 1;
			break;
		case OPT_LIST_SCRIPTS:
			o->list_scripts = 1;
			break;
		case OPT_SHOW_SCRIPT:
			o->show_script = optarg;
			break;
		case OPT_LIST_REASONS:
			o->list_reasons = 1;
			break;
		case OPT_PORT:
			ret = add_ports(optarg, o->filter.ports, &o->filter.nports, "--port", err,
					errlen);
			break;
		case OPT_SPORT:
			ret = add_ports(optarg, o->filter.sports, &o->filter.nsports, "--sport",
					err, errlen);
			break;
		case OPT_DPORT:
			ret = add_ports(optarg, o->filter.dports, &o->filter.ndports, "--dport",
					err, errlen);
			break;
		case OPT_SADDR:
			ret = add_net(o, optarg, TCPDROP_SIDE_SRC, "--saddr", err, errlen);
			break;
		case OPT_DADDR:
			ret = add_net(o, optarg, TCPDROP_SIDE_DST, "--daddr", err, errlen);
			break;
		case OPT_ADDR:
			ret = add_net(o, optarg, TCPDROP_SIDE_ANY, "--addr", err, errlen);
			break;
		case OPT_REASON:
			append_list(&o->reasons, optarg);
			break;
		case 'w':
			o->write_path = optarg;
			break;
		case 'r':
			o->read_path = optarg;
			break;
		case OPT_SNAPLEN:
			if (parse_u64(optarg, TCPDROP_SNAPLEN_MAX, &v))
				return fail(err, errlen,
					    "--snaplen: '%s' is not a byte count (0-%d)", optarg,
					    TCPDROP_SNAPLEN_MAX);
			o->snaplen = (uint32_t)v;
			o->snaplen_set = 1;
			break;
		case OPT_FORCE:
			o->force = 1;
			break;
		case OPT_RING_KB:
			if (parse_u64(optarg, 1u << 20, &v) || v < 4)
				return fail(err, errlen,
					    "--ring-kb: '%s' is not a size in KiB (4-1048576)",
					    optarg);
			o->ring_kb = (uint32_t)v;
			ring_kb_set = 1;
			break;
		case OPT_MAX_KEYS:
			o->max_keys = (uint64_t)strtonum(optarg, 1, TCPDROP_MAX_KEYS_MAX, &why);
			if (why)
				return fail(err, errlen, "--max-keys: '%s' is %s (1-%d keys)",
					    optarg, why, TCPDROP_MAX_KEYS_MAX);
			break;
		case OPT_USER:
			o->user = optarg;
			break;
		case OPT_EXPLAIN:
			o->explain = optarg;
			break;
		case OPT_NO_KERNEL_COUNT:
			o->no_kernel_count = 1;
			break;
		case OPT_METRICS: {
			struct sockaddr_storage ss;
			socklen_t len;

			if (metrics__parse_listen(optarg, &ss, &len))
				return fail(err, errlen,
					    "--metrics: '%s' is not [ADDR:]PORT (9100, "
					    "127.0.0.1:9100, [::1]:9100)",
					    optarg);
			o->metrics.listen = optarg;
			break;
		}
		case OPT_METRICS_LABELS: {
			char why[256];

			/* Its reason quotes the words given: escaped by fail(), as every other. */
			if (metrics__parse_labels(optarg, &o->metrics.labels, why, sizeof(why)))
				return fail(err, errlen, "%s", why);
			o->metrics_labels_set = 1;
			break;
		}
		case OPT_COVERAGE:
			o->coverage = 1;
			break;
		case '?':
		default:
			if (optopt > 0 && optopt < 256 && strchr(short_opts, optopt) &&
			    strchr(short_opts, optopt)[1] == ':')
				return fail(err, errlen, "option -%c needs a value", optopt);
			if (optopt > 0 && optopt < 256)
				return fail(err, errlen, "unknown option -%c", optopt);
			return fail(err, errlen, "unknown option or missing value: %s",
				    argv[optind - 1]);
		}
		if (ret)
			return ret;
	}
	/* What is left before "--" is a pcap-filter expression, as with tcpdump. */
	for (int i = optind; i < nopt; i++) {
		size_t old = o->pcap_expr ? strlen(o->pcap_expr) : 0;

		o->pcap_expr = xrealloc(o->pcap_expr, old + strlen(argv[i]) + 2);
		if (old)
			o->pcap_expr[old++] = ' ';
		strcpy(o->pcap_expr + old, argv[i]);
	}
	if (o->snaplen_set && !o->write_path)
		return fail(err, errlen, "--snaplen goes with -w");
	if (o->write_path && !ring_kb_set)
		o->ring_kb = write_ring_kb();
	if (o->force && !o->write_path)
		return fail(err, errlen, "--force goes with -w");
	if (o->metrics_labels_set && !o->metrics.listen)
		return fail(err, errlen, "--metrics-labels goes with --metrics");
	if (o->metrics.listen && o->read_path)
		return fail(err, errlen, "--metrics counts in the kernel: not with -r");
	if (!o->metrics_labels_set)
		o->metrics.labels = METRICS_DEFAULT_LABELS;
	o->metrics.max_keys = (uint32_t)o->max_keys;
	if (o->netns_id && o->pid_netns)
		return fail(err, errlen, "--netns-id and --pid-netns exclude each other");
	if (o->container && o->pod)
		return fail(err, errlen, "--container and --pod exclude each other");
	if ((o->container || o->pod) && o->read_path)
		return fail(err, errlen,
			    "%s has no meaning with -r: it finds what runs now, and a recording's "
			    "drops are another time's",
			    o->container ? "--container" : "--pod");
	return check_coverage(o, err, errlen);
}

int env_read(struct env_knobs *k, char *err, size_t errlen)
{
	const char *s = getenv("TCPDROP_POLL_MS"), *ring = getenv("TCPDROP_RING");
	unsigned long v = 0;
	const char *p;

	k->ring_shared = ring && !strcmp(ring, "shared");
	k->timing = getenv("TCPDROP_TIMING") != NULL;
	k->no_owners = getenv("TCPDROP_OWNERS") && !strcmp(getenv("TCPDROP_OWNERS"), "off");
	k->poll_ms = TCPDROP_POLL_MS;
	if (!s || !*s)
		return 0;
	/* Digits only: strtoul would take a sign, spaces or hex. */
	for (p = s; *p >= '0' && *p <= '9' && v <= TCPDROP_POLL_MS_MAX; p++)
		v = v * 10 + (unsigned long)(*p - '0');
	if (*p || !v || v > TCPDROP_POLL_MS_MAX)
		return fail(err, errlen,
			    "TCPDROP_POLL_MS: '%s' is not a poll period in milliseconds (1-%u)", s,
			    TCPDROP_POLL_MS_MAX);
	k->poll_ms = (unsigned int)v;
	return 0;
}

void opts_free(struct options *o)
{
	free(o->reasons);
	o->reasons = NULL;
	free(o->pcap_expr);
	o->pcap_expr = NULL;
}

int runtime_opts__from(struct runtime_opts *ro, const struct options *o)
{
	char *src = NULL, *chunk = NULL;
	size_t len = 0;

	memset(ro, 0, sizeof(*ro));
	if (o->script && runtime__script_source(o->script, &src, &len, &chunk))
		return -EINVAL;
	ro->script_src = src;
	ro->script_len = len;
	ro->script_chunk = chunk;
	ro->filter_expr = o->filter_expr;
	ro->exec_code = o->exec_code;
	ro->args = o->script_args;
	ro->nargs = o->nscript_args;
	ro->count = o->count;
	ro->keep_going = o->keep_going;
	ro->interval = o->interval;
	ro->owners = !o->read_path;
	return 0;
}
