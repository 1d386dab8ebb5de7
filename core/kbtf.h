/* A fast, read-only walk over the kernel's BTF: the few lookups tcpdrop needs before loading. */
#ifndef TCPDROP_KBTF_H
#define TCPDROP_KBTF_H

#include <stdint.h>

/*
 * libbpf's btf__parse() validates and indexes every type (~25 ms for vmlinux);
 * libbpf parses it again for CO-RE anyway. Names and the tracepoint's arity
 * only need a walk over the records, which takes a millisecond or two.
 */
struct kbtf;

enum kbtf_kind {
	KBTF_INT = 1,
	KBTF_PTR = 2,
	KBTF_ENUM = 6,
	KBTF_TYPEDEF = 8,
	KBTF_FUNC = 12,
	KBTF_FUNC_PROTO = 13,
	KBTF_ENUM64 = 19,
};

/* Open a BTF file; base (may be NULL) for a module's split BTF. NULL and errno on failure. */
struct kbtf *kbtf__open(const char *path, const struct kbtf *base);
/* From memory (tests): the bytes are copied. */
struct kbtf *kbtf__from_mem(const void *data, uint32_t len, const struct kbtf *base);
void kbtf__free(struct kbtf *b);

/* First type of that kind and name: its id, or 0. */
uint32_t kbtf__find(const struct kbtf *b, const char *name, int kind);
/* Types: ids 1..count (a split BTF's ids continue its base's). */
uint32_t kbtf__first_id(const struct kbtf *b);
uint32_t kbtf__end_id(const struct kbtf *b);
int kbtf__kind(const struct kbtf *b, uint32_t id);
const char *kbtf__name(const struct kbtf *b, uint32_t id);
/* The type a typedef, pointer, qualifier or function refers to. */
uint32_t kbtf__ref(const struct kbtf *b, uint32_t id);
/* Members of an enum/enum64 or parameters of a function prototype. */
int kbtf__vlen(const struct kbtf *b, uint32_t id);
/* Enumerator i: name and value. */
const char *kbtf__enum_name(const struct kbtf *b, uint32_t id, int i);
int64_t kbtf__enum_value(const struct kbtf *b, uint32_t id, int i);

#endif
