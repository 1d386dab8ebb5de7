/* Unit tests of core/kbtf.c: hand-made BTF, damaged BTF, and agreement with libbpf on vmlinux. */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sym/sym.h"
#include "kernel/kernel.h"
#include "util/util.h"

#define CHECK_SUITE "kbtf"
#include "check.h"

/* A tiny BTF: 1 int, 2 enum e {A=-1, B=7}, 3 func_proto(int, int), 4 ptr->3, 5 typedef t->4. */
static const char strings[] = "\0int\0e\0A\0B\0t\0x";
#define S_INT 1
#define S_E 5
#define S_A 7
#define S_B 9
#define S_T 11

static size_t tiny(unsigned char *out, int break_len)
{
	uint32_t types[] = {
		S_INT,
		1u << 24,
		4,
		0x20, /* int, 32 bits */
		S_E,
		(6u << 24) | 2,
		4,
		S_A,
		(uint32_t)-1,
		S_B,
		7, /* enum, signed */
		0,
		(13u << 24) | 2,
		1,
		0,
		1,
		0,
		1, /* func_proto: int (int, int) */
		0,
		2u << 24,
		3, /* ptr to 3 */
		S_T,
		8u << 24,
		4, /* typedef t -> 4 */
	};
	uint32_t hdr[6] = { 0x0001eB9F, 24, 0, sizeof(types), sizeof(types), sizeof(strings) };

	if (break_len)
		hdr[3] += 4; /* the type section claims more than there is */
	memcpy(out, hdr, sizeof(hdr));
	memcpy(out + 24, types, sizeof(types));
	memcpy(out + 24 + sizeof(types), strings, sizeof(strings));
	return 24 + sizeof(types) + sizeof(strings);
}

static void test_tiny(void)
{
	unsigned char buf[512];
	size_t len = tiny(buf, 0);
	struct kbtf *b = kbtf__from_mem(buf, (uint32_t)len, NULL);
	uint32_t e, t;

	check("tiny: parses", b != NULL, "NULL");
	if (!b)
		return;
	check("tiny: five types", kbtf__end_id(b) == 6, "end %u", kbtf__end_id(b));
	e = kbtf__find(b, "e", KBTF_ENUM);
	check("tiny: finds the enum", e == 2, "id %u", e);
	check("tiny: enum by kind only", kbtf__find(b, "e", KBTF_TYPEDEF) == 0, "found");
	check("tiny: enumerator names",
	      !strcmp(kbtf__enum_name(b, e, 0), "A") && !strcmp(kbtf__enum_name(b, e, 1), "B"),
	      "%s %s", kbtf__enum_name(b, e, 0), kbtf__enum_name(b, e, 1));
	check("tiny: signed enum value", kbtf__enum_value(b, e, 0) == -1, "%lld",
	      (long long)kbtf__enum_value(b, e, 0));
	check("tiny: enumerator out of range", !*kbtf__enum_name(b, e, 2), "not empty");
	t = kbtf__find(b, "t", KBTF_TYPEDEF);
	check("tiny: typedef -> ptr -> func_proto",
	      t == 5 && kbtf__ref(b, t) == 4 && kbtf__kind(b, kbtf__ref(b, 4)) == KBTF_FUNC_PROTO,
	      "t=%u", t);
	check("tiny: func_proto arity", kbtf__vlen(b, 3) == 2, "%d", kbtf__vlen(b, 3));
	check("tiny: id 0 and past the end", !kbtf__kind(b, 0) && !kbtf__kind(b, 6), "kinds");
	kbtf__free(b);
}

static void test_damaged(void)
{
	unsigned char buf[512];
	size_t len = tiny(buf, 1);

	check("damaged: a type section past the end", !kbtf__from_mem(buf, (uint32_t)len, NULL),
	      "parsed");
	len = tiny(buf, 0);
	check("damaged: cut short", !kbtf__from_mem(buf, (uint32_t)len - 20, NULL), "parsed");
	buf[0] ^= 0xff;
	check("damaged: wrong magic", !kbtf__from_mem(buf, (uint32_t)len, NULL), "parsed");
	check("damaged: empty", !kbtf__from_mem(buf, 0, NULL), "parsed");
	len = tiny(buf, 0);
	buf[24 + 7] = 30; /* kind 30 does not exist */
	check("damaged: unknown kind", !kbtf__from_mem(buf, (uint32_t)len, NULL), "parsed");
}

/* The running kernel: kbtf must agree with libbpf's full parse. */
static void test_vmlinux(void)
{
	struct kbtf *k = kbtf__open("/sys/kernel/btf/vmlinux", NULL);
	struct btf *l = btf__load_vmlinux_btf();
	const struct btf_type *t;
	int id, n, same = 1, nargs = 0;
	uint32_t kid;

	if (!l || libbpf_get_error(l)) {
		check("vmlinux: libbpf reads it", 0, "no BTF on this kernel");
		kbtf__free(k);
		return;
	}
	check("vmlinux: kbtf reads it", k != NULL, "NULL");
	if (!k) {
		btf__free(l);
		return;
	}
	check("vmlinux: same number of types", kbtf__end_id(k) == btf__type_cnt(l), "%u vs %u",
	      kbtf__end_id(k), btf__type_cnt(l));
	id = btf__find_by_name_kind(l, "skb_drop_reason", BTF_KIND_ENUM);
	kid = kbtf__find(k, "skb_drop_reason", KBTF_ENUM);
	check("vmlinux: same enum skb_drop_reason", id > 0 && (uint32_t)id == kid, "%d vs %u", id,
	      kid);
	t = btf__type_by_id(l, id);
	n = btf_vlen(t);
	for (int i = 0; i < n; i++)
		if (strcmp(btf__name_by_offset(l, btf_enum(t)[i].name_off),
			   kbtf__enum_name(k, kid, i)) ||
		    btf_enum(t)[i].val != (int)kbtf__enum_value(k, kid, i))
			same = 0;
	check("vmlinux: same reason names and codes", same && n == kbtf__vlen(k, kid), "differ");
	id = btf__find_by_name_kind(l, "btf_trace_kfree_skb", BTF_KIND_TYPEDEF);
	if (id > 0) {
		t = btf__type_by_id(l, id);
		while (btf_is_typedef(t) || btf_is_ptr(t))
			t = btf__type_by_id(l, t->type);
		nargs = btf_vlen(t) - 1;
	}
	check("vmlinux: same kfree_skb tracepoint arity", probe__tp_nargs(k) == nargs, "%d vs %d",
	      probe__tp_nargs(k), nargs);
	kbtf__free(k);
	btf__free(l);
}

int main(void)
{
	test_tiny();
	test_damaged();
	test_vmlinux();
	return failures ? 1 : 0;
}
