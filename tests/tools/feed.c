/* Test tool: runs synthetic drop events, described as text, through the real Lua runtime. */
/*
 * usage: feed [--events FILE] [--batch N] [--loop] [--syslog-to FILE] [--bench N] [--kcount]
 *             [tcpdrop options: -s -f -e -i -c -d --keep-going] [-- script args]
 *
 * FILE (default: standard input) has one event per line, as key=value words:
 *
 *   saddr=10.0.0.2 daddr=10.0.0.1 sport=40000 dport=80 flags=SYN|ACK state=CLOSE
 *   reason=NO_SOCKET pid=0 tid=0 comm="a b\x01" cpu=1 ts=1700000000.25 len=60 seq=1 ack=2
 *   win=512 netns=4026531840 ifindex=2 family=6 stack=tcp_v4_rcv+0x99,ip_local_deliver+0x1f
 *   loc=sym+0x1 stack_status=ok|off|skipped|failed noreason=1 evflags=N
 *   and any scalar field of the event by its raw name (bpf/fields.h): tid=7 hdr_len=40 ...
 *
 * Omitted keys take defaults (a SYN from 10.0.0.2:40000 to 10.0.0.1:80 with no socket,
 * NO_SOCKET, one second after the event before). Other lines: "tick" (calls tick() when an
 * interval is set, as a live run would), "sleep SEC", "reap" (the loop's once-a-second
 * housekeeping), "zombies" (prints how many children of ours are zombies), "stats lost=N
 * filtered_kernel=N ..." (what the core would pass to done), "flush" (ends the batch) and
 * "# comment". Events go to the runtime in batches of --batch (default 64), cut at every
 * other line. Reason and state numbers are those of the Linux 6.18 kernel this project is
 * developed on, so expected outputs do not depend on the machine that runs the tests. No root.
 *
 * --loop runs the real event loop (core/loop.c) with no event source: the events are handed
 * over at the first drain, ticks come from its timerfd (-i), -d ends it.
 * --bench N dispatches N events (the file's, repeated) in batches of 1024 and prints the time.
 *
 * --kcount stands in for the kernel's count tables (issue 14): the run's plan asks for tables as
 * it would of the probe; each event is counted into every table under the key the probe would
 * give it (kcount__key), at most max_keys keys between two reads, the rest counted as overflow;
 * with no client wanting the events (kc_only), they are counted only, never delivered. Keys are
 * handed over in the order they first came, so that a small table overflows as the events' would.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lua/bridge.h"
#include "sym/sym.h"
#include "run/run.h"
#include "cli/cli.h"
#include "util/util.h"

#define BENCH_BATCH 1024
#define BASE_TS 1700000000ULL /* 2023-11-14 22:13:20 UTC */

/* enum skb_drop_reason of Linux 6.18, as /sys/kernel/btf/vmlinux lists it. */
static const char *const reasons_6_18[] = {
	"SKB_NOT_DROPPED_YET",
	"SKB_CONSUMED",
	"NOT_SPECIFIED",
	"NO_SOCKET",
	"SOCKET_CLOSE",
	"SOCKET_FILTER",
	"SOCKET_RCVBUFF",
	"UNIX_DISCONNECT",
	"UNIX_SKIP_OOB",
	"PKT_TOO_SMALL",
	"TCP_CSUM",
	"UDP_CSUM",
	"NETFILTER_DROP",
	"OTHERHOST",
	"IP_CSUM",
	"IP_INHDR",
	"IP_RPFILTER",
	"UNICAST_IN_L2_MULTICAST",
	"XFRM_POLICY",
	"IP_NOPROTO",
	"PROTO_MEM",
	"TCP_AUTH_HDR",
	"TCP_MD5NOTFOUND",
	"TCP_MD5UNEXPECTED",
	"TCP_MD5FAILURE",
	"TCP_AONOTFOUND",
	"TCP_AOUNEXPECTED",
	"TCP_AOKEYNOTFOUND",
	"TCP_AOFAILURE",
	"SOCKET_BACKLOG",
	"TCP_FLAGS",
	"TCP_ABORT_ON_DATA",
	"TCP_ZEROWINDOW",
	"TCP_OLD_DATA",
	"TCP_OVERWINDOW",
	"TCP_OFOMERGE",
	"TCP_RFC7323_PAWS",
	"TCP_RFC7323_PAWS_ACK",
	"TCP_RFC7323_TW_PAWS",
	"TCP_RFC7323_TSECR",
	"TCP_LISTEN_OVERFLOW",
	"TCP_OLD_SEQUENCE",
	"TCP_INVALID_SEQUENCE",
	"TCP_INVALID_END_SEQUENCE",
	"TCP_INVALID_ACK_SEQUENCE",
	"TCP_RESET",
	"TCP_INVALID_SYN",
	"TCP_CLOSE",
	"TCP_FASTOPEN",
	"TCP_OLD_ACK",
	"TCP_TOO_OLD_ACK",
	"TCP_ACK_UNSENT_DATA",
	"TCP_OFO_QUEUE_PRUNE",
	"TCP_OFO_DROP",
	"IP_OUTNOROUTES",
	"BPF_CGROUP_EGRESS",
	"IPV6DISABLED",
	"NEIGH_CREATEFAIL",
	"NEIGH_FAILED",
	"NEIGH_QUEUEFULL",
	"NEIGH_DEAD",
	"NEIGH_HH_FILLFAIL",
	"TC_EGRESS",
	"SECURITY_HOOK",
	"QDISC_DROP",
	"QDISC_OVERLIMIT",
	"QDISC_CONGESTED",
	"CAKE_FLOOD",
	"FQ_BAND_LIMIT",
	"FQ_HORIZON_LIMIT",
	"FQ_FLOW_LIMIT",
	"CPU_BACKLOG",
	"XDP",
	"TC_INGRESS",
	"UNHANDLED_PROTO",
	"SKB_CSUM",
	"SKB_GSO_SEG",
	"SKB_UCOPY_FAULT",
	"DEV_HDR",
	"DEV_READY",
	"FULL_RING",
	"NOMEM",
	"HDR_TRUNC",
	"TAP_FILTER",
	"TAP_TXFILTER",
	"ICMP_CSUM",
	"INVALID_PROTO",
	"IP_INADDRERRORS",
	"IP_INNOROUTES",
	"IP_LOCAL_SOURCE",
	"IP_INVALID_SOURCE",
	"IP_LOCALNET",
	"IP_INVALID_DEST",
	"PKT_TOO_BIG",
	"DUP_FRAG",
	"FRAG_REASM_TIMEOUT",
	"FRAG_TOO_FAR",
	"TCP_MINTTL",
	"IPV6_BAD_EXTHDR",
	"IPV6_NDISC_FRAG",
	"IPV6_NDISC_HOP_LIMIT",
	"IPV6_NDISC_BAD_CODE",
	"IPV6_NDISC_BAD_OPTIONS",
	"IPV6_NDISC_NS_OTHERHOST",
	"QUEUE_PURGE",
	"TC_COOKIE_ERROR",
	"PACKET_SOCK_ERROR",
	"TC_CHAIN_NOTFOUND",
	"TC_RECLASSIFY_LOOP",
	"VXLAN_INVALID_HDR",
	"VXLAN_VNI_NOT_FOUND",
	"MAC_INVALID_SOURCE",
	"VXLAN_ENTRY_EXISTS",
	"NO_TX_TARGET",
	"IP_TUNNEL_ECN",
	"TUNNEL_TXINFO",
	"LOCAL_MAC",
	"ARP_PVLAN_DISABLE",
	"MAC_IEEE_MAC_CONTROL",
	"BRIDGE_INGRESS_STP_STATE",
	"CAN_RX_INVALID_FRAME",
	"CANFD_RX_INVALID_FRAME",
	"CANXL_RX_INVALID_FRAME",
	"PFMEMALLOC",
	"DUALPI2_STEP_DROP",
	"PSP_INPUT",
	"PSP_OUTPUT",
	"RECURSION_LIMIT",
};

static const char *const states[] = {
	NULL,	     "ESTABLISHED", "SYN_SENT",	    "SYN_RECV",	      "FIN_WAIT1",
	"FIN_WAIT2", "TIME_WAIT",   "CLOSE",	    "CLOSE_WAIT",     "LAST_ACK",
	"LISTEN",    "CLOSING",	    "NEW_SYN_RECV", "BOUND_INACTIVE",
};

static const char *const flag_names[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR" };

/* --kcount: one of the kernel's tables, stood in for. */
struct kc_entry {
	struct tcpdrop_kkey k;
	uint64_t count, bytes;
};

struct kc_table {
	uint32_t keys, max;
	struct kc_entry *e; /* in the order the keys first came */
	size_t n;
	uint32_t *slot; /* open addressing: entry index + 1, 0 free */
	size_t nslots;
	uint64_t overflow;
};

/* The test feeder: a source of the real run lifecycle (core/run/run.c), fed from text. */
struct feed {
	struct run_source s; /* first: the run hands it back */
	struct run *r; /* from start on */
	struct names *nm;
	struct ksyms *ks;
	struct tcpdrop_event *batch;
	unsigned int n, cap;
	uint64_t nevents, bench_n;
	uint64_t next_ts; /* ns */
	struct run_stats kstats; /* what a "stats" line set */
	FILE *in;
	const char *path;
	unsigned int lineno;
	int status; /* 0 go on, 1 stop, <0 error */
	int bad_input; /* a line feed could not read: exit 2, not the script's fault */
	int input_done;
	int kcount; /* --kcount */
	int kc_only;
	struct kc_table kc[TCPDROP_KC_MAX_TABLES];
	unsigned int n_kc;
	uint64_t counted;
};

static void kc_count(struct kc_table *t, const struct tcpdrop_event *ev)
{
	struct tcpdrop_kkey k;
	size_t i;

	kcount__key(&k, ev, t->keys);
	for (i = fnv1a32(&k, sizeof(k)) & (t->nslots - 1); t->slot[i];
	     i = (i + 1) & (t->nslots - 1)) {
		struct kc_entry *e = &t->e[t->slot[i] - 1];

		if (!memcmp(&e->k, &k, sizeof(k))) {
			e->count++;
			e->bytes += ev->len;
			return;
		}
	}
	if (t->n == t->max) {
		t->overflow++;
		return;
	}
	t->e[t->n] = (struct kc_entry){ .k = k, .count = 1, .bytes = ev->len };
	t->slot[i] = (uint32_t)++t->n;
}

/* The batch into the tables; delivered too when a client wants the events. */
static int kc_deliver(struct feed *f)
{
	for (unsigned int i = 0; i < f->n; i++)
		for (unsigned int t = 0; t < f->n_kc; t++)
			kc_count(&f->kc[t], &f->batch[i]);
	if (f->n_kc)
		f->counted += f->n;
	if (f->kc_only) {
		f->n = 0;
		return 0;
	}
	return run__deliver(f->r, f->batch, f->n);
}

static int kc_collect(struct run_source *s)
{
	return 0;
}

static int kc_take(struct run_source *s, unsigned int t, kcount_fn fn, void *ctx,
		   uint64_t *overflow)
{
	struct feed *f = (struct feed *)s;
	struct kc_table *kt;
	int ret = 0;

	if (t >= f->n_kc)
		return -EINVAL;
	kt = &f->kc[t];
	for (size_t i = 0; i < kt->n && !ret; i++)
		ret = fn(ctx, &kt->e[i].k, kt->e[i].count, kt->e[i].bytes);
	*overflow = kt->overflow;
	kt->overflow = 0;
	kt->n = 0;
	memset(kt->slot, 0, kt->nslots * sizeof(*kt->slot));
	return ret;
}

static void kc_free(struct feed *f)
{
	for (unsigned int t = 0; t < f->n_kc; t++) {
		free(f->kc[t].e);
		free(f->kc[t].slot);
	}
}

static int bad(struct feed *f, const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "feed: %s:%u: ", f->path, f->lineno);
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	return -EINVAL;
}

static int num(const char *s, uint64_t max, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return (errno || end == s || *end || *v > max) ? -EINVAL : 0;
}

/* A value: bare, or double-quoted with C escapes (\n \t \\ \" \xHH). In place; its length. */
static int unquote(char *s, size_t *len)
{
	char *w = s, *r = s + 1;

	if (*s != '"') {
		*len = strlen(s);
		return 0;
	}
	while (*r && *r != '"') {
		if (*r != '\\') {
			*w++ = *r++;
			continue;
		}
		r++;
		switch (*r) {
		case 'n':
			*w++ = '\n';
			r++;
			break;
		case 't':
			*w++ = '\t';
			r++;
			break;
		case 'x': {
			char hex[3] = { r[1], r[1] ? r[2] : 0, 0 };

			if (!isxdigit((unsigned char)hex[0]) || !isxdigit((unsigned char)hex[1]))
				return -EINVAL;
			*w++ = (char)strtoul(hex, NULL, 16);
			r += 3;
			break;
		}
		case '\0':
			return -EINVAL;
		default:
			*w++ = *r++;
		}
	}
	if (*r != '"')
		return -EINVAL;
	*w = '\0';
	*len = (size_t)(w - s);
	return 0;
}

/* The next word of a line, a quoted value counting as part of it. */
static char *next_word(char **p)
{
	char *s = *p, *start;
	int quoted = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return NULL;
	start = s;
	for (; *s; s++) {
		if (*s == '\\' && quoted && s[1]) {
			s++;
			continue;
		}
		if (*s == '"')
			quoted = !quoted;
		else if (!quoted && (*s == ' ' || *s == '\t'))
			break;
	}
	if (*s)
		*s++ = '\0';
	*p = s;
	return start;
}

static int parse_flags(const char *s, uint8_t *out)
{
	char buf[128], *save = NULL, *tok;
	uint64_t v;

	if (!num(s, 255, &v)) {
		*out = (uint8_t)v;
		return 0;
	}
	*out = 0;
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, "|", &save); tok; tok = strtok_r(NULL, "|", &save)) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(flag_names); i++)
			if (!strcmp(tok, flag_names[i]))
				break;
		if (i == ARRAY_SIZE(flag_names))
			return -EINVAL;
		*out |= (uint8_t)(1u << i);
	}
	return 0;
}

static int set_field(struct feed *f, struct tcpdrop_event *e, char *key, char *val, int *have_loc,
		     int *family_set)
{
	uint64_t v;
	size_t len;

	if (unquote(val, &len))
		return bad(f, "bad quoted value for %s: %s", key, val);
	if (!strcmp(key, "saddr") || !strcmp(key, "daddr")) {
		uint8_t *dst = key[0] == 's' ? e->saddr_raw : e->daddr_raw;
		int fam = strchr(val, ':') ? 6 : 4;

		memset(dst, 0, 16);
		if (inet_pton(fam == 6 ? AF_INET6 : AF_INET, val, dst) != 1)
			return bad(f, "bad address for %s: %s", key, val);
		if (!*family_set)
			e->family = (uint8_t)fam;
	} else if (!strcmp(key, "family")) {
		if (num(val, 6, &v) || (v != 4 && v != 6))
			return bad(f, "family is 4 or 6, not %s%s", val, "");
		e->family = (uint8_t)v;
		*family_set = 1;
	} else if (!strcmp(key, "flags")) {
		if (parse_flags(val, &e->tcp_flags))
			return bad(f, "bad TCP flags: %s%s", val, "");
	} else if (!strcmp(key, "state")) {
		e->evflags &= (uint8_t)~TCPDROP_F_SOCK;
		e->state_code = 0;
		if (strcmp(val, "-")) {
			size_t i;

			for (i = 1; i < ARRAY_SIZE(states); i++)
				if (!strcmp(val, states[i]))
					break;
			if (i == ARRAY_SIZE(states)) {
				if (num(val, 255, &v))
					return bad(f, "unknown state: %s%s", val, "");
				i = (size_t)v;
			}
			e->state_code = (uint8_t)i;
			e->evflags |= TCPDROP_F_SOCK;
		}
	} else if (!strcmp(key, "reason")) {
		int64_t code = names__reason_code(f->nm, val);

		if (code < 0 && num(val, UINT32_MAX, &v))
			return bad(f, "unknown reason: %s%s", val, "");
		e->reason_code = code >= 0 ? (uint32_t)code : (uint32_t)v;
	} else if (!strcmp(key, "noreason")) {
		e->evflags |= TCPDROP_F_NO_REASON;
	} else if (!strcmp(key, "comm")) {
		if (len > 15)
			return bad(f, "comm is at most 15 bytes: %s%s", val, "");
		memset(e->comm_raw, 0, sizeof(e->comm_raw));
		memcpy(e->comm_raw, val, len);
	} else if (!strcmp(key, "ts")) {
		char *end;
		double sec = strtod(val, &end);

		/* Refused past 2^64 ns (year 2554), where the conversion is undefined. */
		if (end == val || *end || !(sec >= 0) || sec_to_ns(sec) == UINT64_MAX)
			return bad(f, "bad ts (seconds since 1970, before 2^64 ns): %s%s", val, "");
		e->ts_ns = sec_to_ns(sec + 0.5e-9);
	} else if (!strcmp(key, "stack")) {
		char *save = NULL, *tok;

		e->nstack = 0;
		for (tok = strtok_r(val, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			if (e->nstack == TCPDROP_STACK_MAX)
				return bad(f, "more than %s frames%s", "32", "");
			e->stack_addr[e->nstack++] = ksyms__frame_id(f->ks, tok, strlen(tok));
		}
	} else if (!strcmp(key, "loc")) {
		e->loc_addr = ksyms__frame_id(f->ks, val, strlen(val));
		*have_loc = 1;
	} else if (!strcmp(key, "stack_status")) {
		e->evflags &= (uint8_t) ~(TCPDROP_F_NO_STACK | TCPDROP_F_STACK_SKIPPED |
					  TCPDROP_F_STACK_FAILED);
		if (!strcmp(val, "off"))
			e->evflags |= TCPDROP_F_NO_STACK;
		else if (!strcmp(val, "skipped"))
			e->evflags |= TCPDROP_F_STACK_SKIPPED;
		else if (!strcmp(val, "failed"))
			e->evflags |= TCPDROP_F_STACK_FAILED;
		else if (strcmp(val, "ok"))
			return bad(f, "stack_status is ok, off, skipped or failed, not %s%s", val,
				   "");
	} else {
		/* Every scalar of the field table, by its raw name (the keys above come first). */
		static const struct {
			const char *name;
			size_t off, size;
		} nums[] = {
#define N(type, field, part) { #field, offsetof(struct tcpdrop_event, field), sizeof(type) },
#define SKIP(type, field, count, part)
			TCPDROP_EVENT_FIELDS(N, SKIP)
#undef N
#undef SKIP
		};
		size_t i;

		if (!strcmp(key, "ack"))
			key = "ack_seq";
		for (i = 0; i < ARRAY_SIZE(nums); i++)
			if (!strcmp(key, nums[i].name))
				break;
		if (i == ARRAY_SIZE(nums))
			return bad(f, "unknown key: %s%s", key, "");
		if (num(val, nums[i].size == 8 ? UINT64_MAX : (1ULL << (8 * nums[i].size)) - 1, &v))
			return bad(f, "bad number for %s: %s", key, val);
		memcpy((char *)e + nums[i].off, &v, nums[i].size); /* little-endian host */
		if (!strcmp(key, "nstack") && e->nstack > TCPDROP_STACK_MAX)
			return bad(f, "nstack is at most %s: %s", "32", val);
	}
	return 0;
}

static void default_event(struct feed *f, struct tcpdrop_event *e)
{
	memset(e, 0, sizeof(*e));
	e->family = 4;
	inet_pton(AF_INET, "10.0.0.2", e->saddr_raw);
	inet_pton(AF_INET, "10.0.0.1", e->daddr_raw);
	e->sport = 40000;
	e->dport = 80;
	e->tcp_flags = 0x02;
	e->reason_code = 3; /* NO_SOCKET */
	e->evflags = TCPDROP_F_PKT_HDRS;
	strcpy(e->comm_raw, "swapper/0");
	e->len = 60;
	e->seq = 1000;
	e->win = 64240;
	e->netns = 4026531840u;
	e->ifindex = 1;
	e->ts_ns = f->next_ts;
}

static int deliver(struct feed *f)
{
	int ret;

	if (!f->n || f->status)
		return f->status;
	ret = f->kcount ? kc_deliver(f) : run__deliver(f->r, f->batch, f->n);
	f->n = 0;
	if (ret)
		f->status = ret;
	return ret;
}

static int parse_event(struct feed *f, char *line, struct tcpdrop_event *e)
{
	int have_loc = 0, family_set = 0;
	char *w;

	default_event(f, e);
	while ((w = next_word(&line))) {
		char *eq = strchr(w, '=');

		if (!eq)
			return bad(f, "expected key=value, got %s%s", w, "");
		*eq = '\0';
		if (set_field(f, e, w, eq + 1, &have_loc, &family_set))
			return -EINVAL;
	}
	if (!have_loc && e->nstack)
		e->loc_addr = e->stack_addr[0];
	/* Its frames are texts, as in a replay. */
	if (e->nstack || e->loc_addr)
		e->evflags |= TCPDROP_F_FRAME_IDS;
	f->next_ts = time_add(e->ts_ns, 1000000000ULL);
	return 0;
}

static unsigned int zombies(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	unsigned int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char path[300], buf[512], *p;
		FILE *fp;
		int ppid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		fp = fopen(path, "r");
		if (!fp)
			continue;
		p = fgets(buf, sizeof(buf), fp) ? strrchr(buf, ')') : NULL;
		fclose(fp);
		/* "pid (comm) S ppid ...": the comm may hold spaces and parentheses. */
		if (p && sscanf(p + 2, "%*c %d", &ppid) == 1 && ppid == getpid() && p[2] == 'Z')
			n++;
	}
	closedir(d);
	return n;
}

static int set_stats(struct feed *f, char *line)
{
	char *w;

	while ((w = next_word(&line))) {
		char *eq = strchr(w, '=');
		uint64_t v;

		if (!eq || num(eq + 1, UINT64_MAX, &v))
			return bad(f, "stats: expected key=number, got %s%s", w, "");
		*eq = '\0';
		if (!strcmp(w, "lost"))
			f->kstats.lost = v;
		else if (!strcmp(w, "filtered_kernel"))
			f->kstats.filtered_kernel = v;
		else if (!strcmp(w, "stacks_skipped"))
			f->kstats.stacks_skipped = v;
		else if (!strcmp(w, "stacks_failed"))
			f->kstats.stacks_failed = v;
		else if (!strcmp(w, "counted"))
			f->kstats.counted = v;
		else
			return bad(f, "stats: unknown counter %s%s", w, "");
	}
	run__housekeeping(f->r, &f->kstats);
	return 0;
}

/* Read the input to its end or until the runtime says stop. 0, 1 (stop) or <0. */
static int run_input(struct feed *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	while (!f->status && (len = getline(&line, &cap, f->in)) >= 0) {
		char *p = line, *word;

		f->lineno++;
		if (len && line[len - 1] == '\n')
			line[len - 1] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		word = p;
		if (!strncmp(word, "tick", 4) && (!word[4] || word[4] == ' ')) {
			/* As in a live run: no interval (-i, tcpdrop.interval()), no tick. */
			if (!run__interval(f->r))
				continue;
			if (deliver(f))
				break;
			f->status = run__tick(f->r);
		} else if (!strncmp(word, "sleep ", 6)) {
			double sec = atof(word + 6);
			struct timespec ts = { (time_t)sec,
					       (long)((sec - (double)(time_t)sec) * 1e9) };

			if (deliver(f))
				break;
			nanosleep(&ts, NULL);
		} else if (!strcmp(word, "reap")) {
			if (deliver(f))
				break;
			run__housekeeping(f->r, NULL);
		} else if (!strcmp(word, "zombies")) {
			if (deliver(f))
				break;
			fflush(stdout);
			printf("zombies %u\n", zombies());
			fflush(stdout);
		} else if (!strncmp(word, "stats ", 6)) {
			if (deliver(f))
				break;
			if (set_stats(f, word + 6)) {
				f->status = -EINVAL;
				f->bad_input = 1;
				break;
			}
		} else if (!strcmp(word, "flush")) {
			deliver(f);
		} else {
			if (parse_event(f, word, &f->batch[f->n])) {
				f->status = -EINVAL;
				f->bad_input = 1;
				break;
			}
			f->nevents++;
			if (++f->n == f->cap)
				deliver(f);
		}
	}
	if (!f->status)
		deliver(f);
	free(line);
	return f->status;
}

static int input_drain(struct run_source *s, struct run *r)
{
	return run_input((struct feed *)s);
}

/* --loop: everything at the first drain; then only the loop's timers and -d. */
static int loop_drain(struct run_source *s, struct run *r)
{
	struct feed *f = (struct feed *)s;

	if (f->input_done)
		return 0;
	f->input_done = 1;
	return run_input(f);
}

static int start(struct run_source *s, struct run *r, const struct run_settings *set)
{
	struct feed *f = (struct feed *)s;
	const struct kcount_spec *kc;

	f->r = r;
	if (!f->kcount)
		return 0;
	kc = run__kcount_tables(r, &f->n_kc, &f->kc_only);
	for (unsigned int t = 0; t < f->n_kc; t++) {
		struct kc_table *kt = &f->kc[t];

		kt->keys = kc[t].keys;
		kt->max = kc[t].max_keys ? kc[t].max_keys : KCOUNT_DEFAULT_KEYS;
		for (kt->nslots = 16; kt->nslots < 2 * (size_t)kt->max; kt->nslots *= 2)
			;
		kt->e = xcalloc(kt->max, sizeof(*kt->e));
		kt->slot = xcalloc(kt->nslots, sizeof(*kt->slot));
	}
	return 0;
}

/* What the core would pass to done: the "stats" lines' counters. */
static void stats(struct run_source *s, struct run_stats *rs)
{
	uint64_t seen = rs->seen;

	*rs = ((struct feed *)s)->kstats;
	rs->seen = seen;
	if (((struct feed *)s)->counted)
		rs->counted = ((struct feed *)s)->counted;
}

static int report(struct run_source *s, const struct run_stats *rs)
{
	return ((struct feed *)s)->bad_input ? 2 : 0;
}

static int bench(struct run_source *s, struct run *r)
{
	struct feed *f = (struct feed *)s;
	uint64_t total = f->bench_n;
	struct tcpdrop_event *big = xcalloc(BENCH_BATCH, sizeof(*big));
	unsigned int have;
	uint64_t t0, t1, done = 0;
	int ret = 0;

	/* The input's events, repeated to fill a batch (a default event when there are none). */
	f->cap = BENCH_BATCH;
	free(f->batch);
	f->batch = big;
	f->status = 0;
	{
		char *line = NULL;
		size_t cap = 0;
		ssize_t len;

		f->n = 0;
		while (f->n < BENCH_BATCH && (len = getline(&line, &cap, f->in)) >= 0) {
			f->lineno++;
			if (len && line[len - 1] == '\n')
				line[len - 1] = '\0';
			if (!line[0] || line[0] == '#')
				continue;
			if (parse_event(f, line, &big[f->n])) {
				free(line);
				f->bad_input = 1;
				return -EINVAL;
			}
			f->n++;
		}
		free(line);
	}
	if (!f->n)
		default_event(f, &big[f->n++]);
	have = f->n;
	for (unsigned int i = have; i < BENCH_BATCH; i++)
		big[i] = big[i % have];
	f->n = 0;
	t0 = now_ns(CLOCK_MONOTONIC);
	while (done < total && !ret) {
		unsigned int n =
			total - done < BENCH_BATCH ? (unsigned int)(total - done) : BENCH_BATCH;

		ret = run__deliver(r, big, n);
		done += n;
	}
	t1 = now_ns(CLOCK_MONOTONIC);
	fflush(stdout);
	fprintf(stderr, "bench: %llu events in %.4f s: %.1f ns per event\n",
		(unsigned long long)done, (double)(t1 - t0) / 1e9,
		done ? (double)(t1 - t0) / (double)done : 0.0);
	return ret < 0 ? ret : 0;
}

int main(int argc, char **argv)
{
	struct feed f = { .path = "-", .cap = 64, .next_ts = BASE_TS * 1000000000ULL };
	struct runtime_opts ro = { 0 };
	struct run_settings set = { .ro = &ro, .poll_ms = 10 };
	struct options o = { 0 };
	char err[256];
	const char *events = NULL, *syslog_path = NULL;
	FILE *syslog_file = NULL;
	int loop = 0, i, targc = 0, code;
	char **targv;

	/* feed's own options, anywhere before "--"; the rest is a tcpdrop command line. */
	code = 2;
	targv = xcalloc((size_t)argc + 1, sizeof(*targv));
	targv[targc++] = argv[0];
	for (i = 1; i < argc; i++) {
		uint64_t v;

		if (!strcmp(argv[i], "--")) {
			while (i < argc)
				targv[targc++] = argv[i++];
			break;
		}
		if (!strcmp(argv[i], "--events") && i + 1 < argc) {
			events = argv[++i];
		} else if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
			if (num(argv[++i], 4096, &v) || !v) {
				fprintf(stderr, "feed: --batch 1..4096\n");
				goto out;
			}
			f.cap = (unsigned int)v;
		} else if (!strcmp(argv[i], "--loop")) {
			loop = 1;
		} else if (!strcmp(argv[i], "--kcount")) {
			f.kcount = 1;
		} else if (!strcmp(argv[i], "--syslog-to") && i + 1 < argc) {
			syslog_path = argv[++i];
		} else if (!strcmp(argv[i], "--bench") && i + 1 < argc) {
			if (num(argv[++i], UINT64_MAX, &f.bench_n)) {
				fprintf(stderr, "feed: --bench N\n");
				goto out;
			}
		} else {
			targv[targc++] = argv[i];
		}
	}
	if (opts_parse(&o, targc, targv, err, sizeof(err))) {
		msg("%s", err);
		goto out;
	}
	if (o.pcap_expr) {
		fprintf(stderr, "feed: unexpected words: %s\n", o.pcap_expr);
		goto out;
	}
	if (events && strcmp(events, "-")) {
		f.in = fopen(events, "r");
		if (!f.in) {
			fprintf(stderr, "feed: %s: %s\n", events, strerror(errno));
			goto out;
		}
		f.path = events;
	} else {
		f.in = stdin;
	}
	if (syslog_path) {
		syslog_file = fopen(syslog_path, "a");
		if (!syslog_file) {
			fprintf(stderr, "feed: %s: %s\n", syslog_path, strerror(errno));
			goto out;
		}
		actions__set_syslog_file(syslog_file);
	}

	f.nm = names__new();
	for (size_t r = 0; r < ARRAY_SIZE(reasons_6_18); r++)
		names__set_reason(f.nm, (uint32_t)r, reasons_6_18[r]);
	for (size_t s = 1; s < ARRAY_SIZE(states); s++)
		names__set_state(f.nm, (unsigned int)s, states[s]);
	f.ks = ksyms__new();
	f.batch = xcalloc(f.cap, sizeof(*f.batch));

	if (runtime_opts__from(&ro, &o))
		goto out;
	ro.max_keys = o.max_keys;
	set.duration = o.duration;
	set.no_kernel_count = o.no_kernel_count;
	verbose = o.verbose; /* what -v says of the plan */
	f.s = (struct run_source){ .name = f.path,
				   .loop = loop && !f.bench_n,
				   .wake_fd = -1,
				   .start = start,
				   .drain = f.bench_n ? bench
					    : loop    ? loop_drain
						      : input_drain,
				   .stats = stats,
				   .report = report };
	if (f.kcount) {
		f.s.kcount_collect = kc_collect;
		f.s.kcount_take = kc_take;
	}
	code = run__main(&set, &f.s, f.nm, f.ks);
out:
	if (f.ks)
		ksyms__free(f.ks);
	if (f.nm)
		names__free(f.nm);
	free(f.batch);
	kc_free(&f);
	runtime_opts__free(&ro);
	opts_free(&o);
	free(targv);
	if (f.in && f.in != stdin)
		fclose(f.in);
	if (syslog_file)
		fclose(syslog_file);
	return code;
}
