/* Names the running kernel gives to drop reasons and TCP states, read from its BTF. */
#ifndef TCPDROP_NAMES_H
#define TCPDROP_NAMES_H

#include <stdint.h>
#include <stdio.h>

struct kbtf;
struct names;

/* An empty table: every lookup answers NULL until names are added. */
struct names *names__new(void);
/*
 * Fill from the kernel: reasons from BTF `enum skb_drop_reason`, else from the
 * tracepoint's format file; states from BTF, else the long-stable TCP numbering.
 * btf may be NULL (then the vmlinux BTF is loaded here). 0, or -errno when no
 * source of reason names could be read (lookups then answer NULL).
 */
int names__load_kernel(struct names *nm, const struct kbtf *btf);
/* Parse a tracepoint format file's __print_symbolic list (exposed for tests). */
int names__load_format(struct names *nm, const char *text);
void names__free(struct names *nm);

void names__set_reason(struct names *nm, uint32_t code, const char *name);
void names__set_state(struct names *nm, unsigned int code, const char *name);

/* NULL when the code has no name; subsystem reasons (code >> 16) are looked up on first use. */
const char *names__reason(struct names *nm, uint32_t code);
const char *names__state(struct names *nm, unsigned int code);

/* The code of a reason name (with or without SKB_DROP_REASON_), or -1. */
int64_t names__reason_code(struct names *nm, const char *name);
/*
 * A comma-separated list of reason names (NULL: none) appended to codes[*n], at most max in
 * all. 0, or -EINVAL after one line: "--reason: SOURCE no drop reason 'X'", with the nearest
 * known name when one is close ("this kernel has", "FILE names").
 */
int names__resolve_list(struct names *nm, const char *list, const char *source, uint32_t *codes,
			uint8_t *n, unsigned int max);
/* --list-reasons: "NAME CODE" lines, by code. */
void names__print_reasons(struct names *nm, FILE *out);
/* Iterate the core reasons: returns the next code after *pos that has a name, or -1. */
int64_t names__next_reason(struct names *nm, int64_t pos);

#endif
