/* Unit tests of core/ksyms.c on a kallsyms-format fixture: lookup, format, intern, stack start. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sym/sym.h"

#define CHECK_SUITE "ksyms"
#include "check.h"

static char fixture[4096];

static void fixture_path(void)
{
	const char *top = getenv("TOP");

	snprintf(fixture, sizeof(fixture), "%s%stests/unit/kallsyms.txt", top ? top : "",
		 top ? "/" : "");
}

/* map_addr answers this name and offset. */
static void maps_to(struct ksyms *ks, const char *name, uint64_t addr, const char *want,
		    uint64_t want_off)
{
	uint64_t off = ~0ULL;
	const char *got = ksyms__map_addr(ks, addr, &off);

	if (!want)
		check(name, got == NULL, "0x%" PRIx64 " maps to %s", addr, got);
	else
		check(name, got && !strcmp(got, want) && off == want_off,
		      "0x%" PRIx64 " maps to %s+0x%" PRIx64 ", want %s+0x%" PRIx64, addr,
		      got ? got : "(null)", off, want, want_off);
}

static void formats_to(struct ksyms *ks, const char *name, uint64_t addr, const char *want)
{
	char buf[256];
	int n = ksyms__format(ks, addr, 0, buf, sizeof(buf));

	check(name, !strcmp(buf, want) && n == (int)strlen(want), "'%s' (%d), want '%s'", buf, n,
	      want);
}

static void test_lookup(void)
{
	struct ksyms *ks = ksyms__new();
	char buf[8];
	int err = ksyms__load_file(ks, fixture);
	int n;

	check("load fixture", err == 0, "ksyms__load_file(%s) = %d", fixture, err);
	maps_to(ks, "offset inside a function", 0xffffffff81000491, "tcp_v4_rcv", 0x91);
	maps_to(ks, "exact symbol address", 0xffffffff81000400, "tcp_v4_rcv", 0);
	maps_to(ks, "lower-case t symbol", 0xffffffff81000104, "local_helper", 4);
	maps_to(ks, "weak symbol", 0xffffffff81000301, "weak_function", 1);
	maps_to(ks, "data symbols are skipped", 0xffffffff81000210, "local_helper", 0x110);
	maps_to(ks, "read-only data is skipped", 0xffffffff81000d10, "tcp_rcv_established", 0x110);
	maps_to(ks, "names with dots", 0xffffffff81000e01, "__netif_receive_skb_one_core.cold", 1);
	maps_to(ks, "module symbol without its [module]", 0xffffffffc0002040, "nft_do_chain", 0x40);
	maps_to(ks, "unsorted module lines are sorted", 0xffffffffc0001010, "nft_do_chain_inet",
		0x10);
	maps_to(ks, "below the first symbol", 0xffffffff80ffffff, NULL, 0);
	maps_to(ks, "zero-address and absolute symbols are skipped", 0x10, NULL, 0);
	maps_to(ks, "lines without a name are skipped", 0xffffffff81001000,
		"__netif_receive_skb_one_core.cold", 0x200);
	check("map_addr without an offset pointer",
	      ksyms__map_addr(ks, 0xffffffff81000400, NULL) != NULL, "NULL");

	formats_to(ks, "format name+0xoff", 0xffffffff81000491, "tcp_v4_rcv+0x91");
	formats_to(ks, "format at the symbol", 0xffffffff81000b00, "tcp_validate_incoming+0x0");
	formats_to(ks, "format unknown address", 0xffffffff80000000, "0xffffffff80000000");
	n = ksyms__format(ks, 0xffffffff81000491, 0, buf, sizeof(buf));
	check("format truncates to the buffer", n == 7 && !strcmp(buf, "tcp_v4_"), "'%s' (%d)", buf,
	      n);

	ksyms__add(ks, 0xffffffff81000480, "added_later");
	maps_to(ks, "ksyms__add after a lookup", 0xffffffff81000491, "added_later", 0x11);
	ksyms__free(ks);
	ksyms__free(NULL);

	ks = ksyms__new();
	err = ksyms__load_file(ks, "/nonexistent/kallsyms");
	check("missing file", err == -ENOENT, "ksyms__load_file = %d", err);
	formats_to(ks, "empty table formats addresses", 0xffffffff81000491, "0xffffffff81000491");
	ksyms__free(ks);
}

/* Run a lookup with stderr caught in a file: what the user would have seen. */
static void stderr_of_format(struct ksyms *ks, uint64_t addr, char *out, size_t len)
{
	char path[] = "/tmp/tcpdrop-ksyms-err-XXXXXX", buf[64];
	int fd = mkstemp(path), saved = dup(2);
	FILE *f;
	size_t n = 0;

	fflush(stderr);
	if (fd >= 0)
		dup2(fd, 2);
	ksyms__format(ks, addr, 0, buf, sizeof(buf));
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	out[0] = '\0';
	f = fd >= 0 ? fopen(path, "r") : NULL;
	if (f) {
		n = fread(out, 1, len - 1, f);
		fclose(f);
	}
	out[n] = '\0';
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
}

static void test_lazy(void)
{
	struct ksyms *ks = ksyms__new();
	char err[512];

	ksyms__set_lazy(ks, fixture);
	maps_to(ks, "lazy load on first lookup", 0xffffffff81000a05, "kfree_skb_reason", 5);
	ksyms__free(ks);

	/* A missing file says so once on stderr; frames then show addresses. */
	ks = ksyms__new();
	ksyms__set_lazy(ks, "/nonexistent/kallsyms");
	stderr_of_format(ks, 0xffffffff81000491, err, sizeof(err));
	check("lazy load of a missing file: one line",
	      !strcmp(err, "tcpdrop: cannot read /nonexistent/kallsyms: No such file or "
			   "directory; stacks will show addresses\n"),
	      "stderr '%s'", err);
	stderr_of_format(ks, 0xffffffff81000491, err, sizeof(err));
	check("lazy load of a missing file: said once", !err[0], "stderr again '%s'", err);
	formats_to(ks, "lazy load of a missing file", 0xffffffff81000491, "0xffffffff81000491");
	ksyms__free(ks);
}

/* A name field that stops at end of file must not pick up what an earlier line left behind. */
static void test_truncated_last_line(void)
{
	char path[] = "/tmp/tcpdrop-ksyms-XXXXXX";
	int fd = mkstemp(path);
	struct ksyms *ks = ksyms__new();
	const char text[] = "ffffffff81000000 T a_rather_long_function_name_left_in_the_buffer\n"
			    "ffffffff81000100 T";

	if (fd < 0 || write(fd, text, sizeof(text) - 1) != (ssize_t)(sizeof(text) - 1)) {
		check("truncated last line", 0, "cannot write %s", path);
		ksyms__free(ks);
		return;
	}
	close(fd);
	ksyms__load_file(ks, path);
	unlink(path);
	maps_to(ks, "truncated last line adds no symbol", 0xffffffff81000110,
		"a_rather_long_function_name_left_in_the_buffer", 0x110);
	ksyms__free(ks);
}

/* A frame's text by id or by address, through the one cache: as ksyms__frame_into() gives it. */
static void frame_is(struct ksyms *ks, const char *name, uint64_t v, int ids, const char *want)
{
	char buf[256];
	int n = ksyms__frame_into(ks, v, ids, buf, sizeof(buf));

	check(name, n == (int)strlen(want) && !strcmp(buf, want), "'%s' (%d), want '%s'", buf, n,
	      want);
}

static void test_frame_ids(void)
{
	struct ksyms *ks = ksyms__new();
	uint32_t a, b, c, ids[2000];
	char name[64];
	int bad = 0;

	ksyms__load_file(ks, fixture);
	a = ksyms__frame_id(ks, "replayed_fn+0x10", 16);
	b = ksyms__frame_id(ks, "other_fn+0x20xyz", 13);
	c = ksyms__frame_id(ks, "replayed_fn+0x10", 16);
	check("frame ids: one per text", a == c && a != b && a && b, "a=%u b=%u c=%u", a, b, c);
	frame_is(ks, "frame ids: the text back", a, 1, "replayed_fn+0x10");
	frame_is(ks, "frame ids: only len bytes", b, 1, "other_fn+0x20");
	frame_is(ks, "frame ids: an unknown id says so", 999, 1, "[frame 999?]");
	frame_is(ks, "frame ids: an id is no address", a, 0,
		 (snprintf(name, sizeof(name), "0x%x", a), name));
	frame_is(ks, "frame ids: kernel frames still format", 0xffffffff81000491, 0,
		 "tcp_v4_rcv+0x91");

	/* Enough to grow the hash table several times. */
	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "frame_%d+0x%x", i, i);
		ids[i] = ksyms__frame_id(ks, name, strlen(name));
	}
	for (int i = 0; i < 2000; i++) {
		size_t len;
		const char *t;

		snprintf(name, sizeof(name), "frame_%d+0x%x", i, i);
		t = ksyms__frame(ks, ids[i], 1, &len);
		if (ksyms__frame_id(ks, name, strlen(name)) != ids[i] || len != strlen(name) ||
		    memcmp(t, name, len))
			bad++;
	}
	check("frame ids: 2000 texts round-trip", !bad, "%d of 2000 wrong", bad);
	check("frame ids: earlier ids survive growth",
	      ksyms__frame_id(ks, "replayed_fn+0x10", 16) == a, "id changed");
	ksyms__free(ks);
}

static void test_stack_start(void)
{
	struct ksyms *ks = ksyms__new();
	const unsigned long long raw[] = {
		0xffffffffc0003020, /* the probe program, bpf_prog_... */
		0xffffffff81000830, /* bpf_trace_run4 */
		0xffffffff81000910, /* sk_skb_reason_drop */
		0xffffffff81000491, /* tcp_v4_rcv: the dropping function */
		0xffffffff81000e10, /* its caller */
	};
	const unsigned long long unknown_first[] = { 0x1000, 0xffffffff81000a10, 0xffffffff81000b33,
						     0xffffffff81000c44 };
	const unsigned long long all_machinery[] = { 0xffffffff81000830, 0xffffffffc0004010 };
	unsigned int i;

	ksyms__load_file(ks, fixture);
	i = ksyms__stack_start(ks, raw, 5, 0xffffffff81000491);
	check("stack starts at the location", i == 3, "index %u", i);
	i = ksyms__stack_start(ks, raw, 5, 0xffffffff81000e10);
	check("location wins over names", i == 4, "index %u", i);
	i = ksyms__stack_start(ks, raw, 5, 0);
	check("no location: skip the tracing machinery", i == 3, "index %u", i);
	i = ksyms__stack_start(ks, raw, 5, 0xffffffff81000777);
	check("location not in the stack: skip the machinery", i == 3, "index %u", i);
	i = ksyms__stack_start(ks, unknown_first, 4, 0);
	check("frames not in kallsyms are skipped", i == 2, "index %u", i);
	i = ksyms__stack_start(ks, all_machinery, 2, 0);
	check("all machinery: keep the whole stack", i == 0, "index %u", i);
	i = ksyms__stack_start(ks, raw, 0, 0);
	check("empty stack", i == 0, "index %u", i);
	ksyms__free(ks);
}

/* Far past the nearest symbol below (a JIT image, a trampoline): not inside it. */
static void test_span(void)
{
	struct ksyms *ks = ksyms__new();

	ksyms__add(ks, 0xffffffffc0000000ULL, "cleanup_module");
	formats_to(ks, "span: near a symbol", 0xffffffffc0005650ULL, "cleanup_module+0x5650");
	formats_to(ks, "span: 1 MiB past it is unknown", 0xffffffffc0100000ULL,
		   "0xffffffffc0100000");
	check("span: map_addr says unknown", !ksyms__map_addr(ks, 0xffffffffc0100000ULL, NULL),
	      "mapped");
	ksyms__free(ks);
}

/*
 * A sorted run, then a tail in no order that reaches below and above it (modules and BPF
 * programs in kallsyms): every symbol is found again, with its own name.
 */
static void test_sort_tail(void)
{
	struct ksyms *ks = ksyms__new();
	uint64_t seed = 42;
	int bad = 0, n = 0;
	char name[32];

	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "core_%d", i);
		ksyms__add(ks, 0xffffffff81000000ULL + (uint64_t)i * 0x100, name);
	}
	for (int i = 0; i < 2000; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		/* 256-byte slots the sorted run does not use: below it, between, above it */
		snprintf(name, sizeof(name), "tail_%d", i);
		ksyms__add(ks, 0xffffffff80f00000ULL + ((seed >> 33) % 0x8000) * 0x100 + 0x80,
			   name);
	}
	for (int i = 0; i < 3000; i++) {
		uint64_t off = 1;
		const char *got;

		snprintf(name, sizeof(name), "core_%d", i);
		got = ksyms__map_addr(ks, 0xffffffff81000000ULL + (uint64_t)i * 0x100, &off);
		bad += !got || strcmp(got, name) || off != 0;
		n++;
	}
	seed = 42;
	for (int i = 0; i < 2000; i++) {
		uint64_t off = 1, addr;
		const char *got;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		addr = 0xffffffff80f00000ULL + ((seed >> 33) % 0x8000) * 0x100 + 0x80;
		got = ksyms__map_addr(ks, addr, &off);
		/* Two tail symbols may share an address; either name is right then. */
		bad += !got || strncmp(got, "tail_", 5) || off != 0;
		n++;
	}
	check("unsorted tail merged into a sorted run", bad == 0, "%d of %d lookups wrong", bad, n);
	ksyms__free(ks);
}

/*
 * A kallsyms table is kept compact once loaded (8 bytes a symbol, the high halves of the
 * addresses per run): lookups across runs, and a symbol added afterwards.
 */
static void test_compact_runs(void)
{
	char path[] = "/tmp/tcpdrop-ksyms-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	struct ksyms *ks;

	if (!f) {
		check("compact: temporary file", 0, "mkstemp: %s", strerror(errno));
		return;
	}
	fputs("ffff800080001000 T run1_a\n"
	      "ffff8000fffff000 t run1_b\n"
	      "ffff800100000100 T run2_a\n"
	      "ffff8001fffff000 T run2_b\n"
	      "ffff800300000000 T run3_a\n"
	      "ffff800080000800 t out_of_order\t[mod]\n",
	      f);
	fclose(f);
	ks = ksyms__new();
	ksyms__set_lazy(ks, path);
	maps_to(ks, "compact: below everything", 0xffff800080000000, NULL, 0);
	maps_to(ks, "compact: the unsorted one", 0xffff800080000810, "out_of_order", 0x10);
	maps_to(ks, "compact: within a run", 0xffff800080001010, "run1_a", 0x10);
	maps_to(ks, "compact: last of a run", 0xffff8000fffff004, "run1_b", 4);
	maps_to(ks, "compact: below a run's first, from the run before", 0xffff800100000010,
		"run1_b", 0x1010);
	maps_to(ks, "compact: first of a run", 0xffff800100000100, "run2_a", 0);
	maps_to(ks, "compact: last of a run, near its end", 0xffff8001fffff040, "run2_b", 0x40);
	maps_to(ks, "compact: a high half with no run", 0xffff800200000010, "run2_b", 0x1010);
	maps_to(ks, "compact: the last run", 0xffff800300000020, "run3_a", 0x20);
	ksyms__add(ks, 0xffff800300001000, "added_later");
	maps_to(ks, "compact: a symbol added afterwards", 0xffff800300001008, "added_later", 8);
	maps_to(ks, "compact: the others after an add", 0xffff800100000104, "run2_a", 4);
	ksyms__free(ks);
	unlink(path);
}

/* Kernel frames through the cache: ksyms__format()'s text, cut as it cuts, never stale. */
static void kept_is(struct ksyms *ks, const char *name, uint64_t addr, size_t room)
{
	char want[256], got[256];
	int nw = ksyms__format(ks, addr, 0, want, room);
	int ng = ksyms__frame_into(ks, addr, 0, got, room);

	check(name, nw == ng && !strcmp(want, got), "'%s' (%d), want '%s' (%d)", got, ng, want, nw);
}

static void test_kept(void)
{
	struct ksyms *ks = ksyms__new();
	/* The same slot as 0xffffffff81000491, another frame. */
	uint64_t a = 0xffffffff81000491, b = a ^ (1ULL << 22);

	ksyms__load_file(ks, fixture);
	kept_is(ks, "kept: address 0 in an empty cache is no hit", 0, 256);
	kept_is(ks, "kept: miss", a, 256);
	kept_is(ks, "kept: hit", a, 256);
	kept_is(ks, "kept: a hit with too little room truncates as format does", a, 8);
	kept_is(ks, "kept: another frame in the same slot", b, 256);
	kept_is(ks, "kept: the first frame again", a, 256);
	ksyms__add(ks, 0xffffffff81000480, "added_later");
	kept_is(ks, "kept: a symbol added since is seen", a, 256);
	ksyms__free(ks);
}

/* A kallsyms-format file of text into a temporary path (the caller unlinks it); 0 on failure. */
static int temp_kallsyms(char *path, const char *text)
{
	int fd = mkstemp(path);
	size_t len = strlen(text);

	if (fd < 0)
		return 0;
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		unlink(path);
		return 0;
	}
	close(fd);
	return 1;
}

/*
 * Every frame but the first is a return address: after a call that never returns it is the
 * next symbol's start, and names the caller (looked up at address - 1, offset still its own).
 */
static void test_return_address(void)
{
	struct ksyms *ks = ksyms__new();
	const unsigned long long noreturn_call[] = {
		0xffffffffc0003020, /* the probe program */
		0xffffffff81000b00, /* returns past kfree_skb_reason's end: the next one's start */
		0xffffffff81000491, /* tcp_v4_rcv */
	};
	unsigned int i;

	ksyms__load_file(ks, fixture);
	frame_is(ks, "return address at the next symbol's start: the caller", 0xffffffff81000b00,
		 KSYMS_RET, "kfree_skb_reason+0x100");
	frame_is(ks, "the same address as a location: its own symbol", 0xffffffff81000b00, 0,
		 "tcp_validate_incoming+0x0");
	frame_is(ks, "return address again, from the cache", 0xffffffff81000b00, KSYMS_RET,
		 "kfree_skb_reason+0x100");
	frame_is(ks, "return address inside a function: as before", 0xffffffff81000491, KSYMS_RET,
		 "tcp_v4_rcv+0x91");
	frame_is(ks, "return address one past a start", 0xffffffff81000401, KSYMS_RET,
		 "tcp_v4_rcv+0x1");
	formats_to(ks, "format: a location at a start", 0xffffffff81000400, "tcp_v4_rcv+0x0");
	i = ksyms__stack_start(ks, noreturn_call, 3, 0);
	check("stack start names return addresses by their call", i == 2,
	      "index %u (a return address read as the start of the next symbol)", i);
	ksyms__free(ks);
}

/*
 * Without CAP_SYSLOG kallsyms shows every address as zeros: no symbol, and no frame a file is
 * given may be an address. The message names the capability.
 */
static void test_no_addresses(void)
{
	char path[] = "/tmp/tcpdrop-ksyms-zero-XXXXXX", err[512];
	struct ksyms *ks = ksyms__new();

	if (!temp_kallsyms(path, "0000000000000000 T _stext\n"
				 "0000000000000000 T tcp_v4_rcv\n"
				 "0000000000000000 t nft_do_chain\t[nf_tables]\n")) {
		check("zeros: fixture", 0, "cannot write %s", path);
		ksyms__free(ks);
		return;
	}
	ksyms__set_lazy(ks, path);
	stderr_of_format(ks, 0xffffffff81000491, err, sizeof(err));
	check("zeros: the message names CAP_SYSLOG",
	      strstr(err, " lists no addresses: naming kernel frames needs CAP_SYSLOG") &&
		      strstr(err, "kptr_restrict") && strchr(err, '\n') == err + strlen(err) - 1,
	      "stderr '%s'", err);
	frame_is(ks, "zeros: a printer sees the address", 0xffffffff81000491, 0,
		 "0xffffffff81000491");
	frame_is(ks, "zeros: a file gets no address", 0xffffffff81000491, KSYMS_NO_ADDR, "?");
	frame_is(ks, "zeros: nor a return address", 0xffffffffc0002040, KSYMS_NO_ADDR | KSYMS_RET,
		 "?");
	frame_is(ks, "zeros: the printer's digits after the file's ?", 0xffffffff81000491, 0,
		 "0xffffffff81000491");
	formats_to(ks, "zeros: format shows the address", 0xffffffff81000491, "0xffffffff81000491");
	ksyms__free(ks);
	unlink(path);

	/* With symbols, only frames none covers. */
	ks = ksyms__new();
	ksyms__load_file(ks, fixture);
	frame_is(ks, "no-addr: a named frame is named", 0xffffffff81000491, KSYMS_NO_ADDR,
		 "tcp_v4_rcv+0x91");
	frame_is(ks, "no-addr: past every symbol's span", 0xffffffffc0100000ULL, KSYMS_NO_ADDR,
		 "?");
	frame_is(ks, "no-addr: below the first symbol", 0xffffffff80000000ULL, KSYMS_NO_ADDR, "?");
	ksyms__free(ks);
}

/* A name as long as the kernel allows, with its offset: whole in KSYMS_FRAME_MAX. */
static void test_long_name(void)
{
	struct ksyms *ks = ksyms__new();
	char name[KSYMS_NAME_MAX + 64], want[sizeof(name) + 32], got[KSYMS_FRAME_MAX];
	int n;

	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	name[KSYMS_NAME_MAX] = '\0';
	ksyms__add(ks, 0xffffffff81000000ULL, name);
	snprintf(want, sizeof(want), "%s+0x3ffff", name);
	n = ksyms__frame_into(ks, 0xffffffff8103ffffULL, 0, got, sizeof(got));
	check("long name: the whole frame, offset and all",
	      n == (int)strlen(want) && !strcmp(got, want), "%d bytes, want %zu", n, strlen(want));
	/* A name longer than a kernel's is kept to the kernel's length. */
	memset(name, 'y', sizeof(name) - 1);
	ksyms__add(ks, 0xffffffff82000000ULL, name);
	name[KSYMS_NAME_MAX] = '\0';
	snprintf(want, sizeof(want), "%s+0x10", name);
	n = ksyms__frame_into(ks, 0xffffffff82000010ULL, 0, got, sizeof(got));
	check("long name: cut to the kernel's longest, offset kept",
	      n == (int)strlen(want) && !strcmp(got, want), "%d bytes, want %zu", n, strlen(want));
	ksyms__free(ks);
}

int main(void)
{
	fixture_path();
	test_lookup();
	test_lazy();
	test_truncated_last_line();
	test_frame_ids();
	test_stack_start();
	test_span();
	test_sort_tail();
	test_compact_runs();
	test_kept();
	test_return_address();
	test_no_addresses();
	test_long_name();
	return failures ? 1 : 0;
}
