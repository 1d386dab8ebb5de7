/* A fast, read-only walk over BTF records: vmlinux and modules' split BTF, bounds-checked. */
#include "sym/sym.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define BTF_MAGIC 0xeB9F

struct hdr {
	uint16_t magic;
	uint8_t version;
	uint8_t flags;
	uint32_t hdr_len;
	uint32_t type_off;
	uint32_t type_len;
	uint32_t str_off;
	uint32_t str_len;
};

struct rec {
	uint32_t name_off;
	uint32_t info;
	uint32_t size_type;
};

struct kbtf {
	char *data;
	size_t mapped; /* data is a read-only mapping of this length, not malloc'ed */
	const char *types, *strs;
	uint32_t types_len, strs_len;
	uint32_t *offs; /* record offset of each of our types */
	uint32_t n;
	uint32_t first_id; /* 1, or the base's end for split BTF */
	uint32_t str_base; /* string offsets below this are the base's */
	const struct kbtf *base;
};

/* Bytes that follow a record of that kind, or -1 for a kind we do not know. */
static long extra(int kind, uint32_t vlen)
{
	switch (kind) {
	case 1: /* int */
	case 14: /* var */
	case 17: /* decl tag */
		return 4;
	case 2: /* ptr */
	case 7: /* fwd */
	case 8: /* typedef */
	case 9: /* volatile */
	case 10: /* const */
	case 11: /* restrict */
	case 12: /* func */
	case 16: /* float */
	case 18: /* type tag */
		return 0;
	case 3: /* array */
		return 12;
	case 4: /* struct */
	case 5: /* union */
	case 15: /* datasec */
	case 19: /* enum64 */
		return 12L * vlen;
	case 6: /* enum */
	case 13: /* func proto */
		return 8L * vlen;
	default:
		return -1;
	}
}

static int index_types(struct kbtf *b)
{
	uint32_t off = 0, cap = 1024;

	b->offs = xmalloc(cap * sizeof(*b->offs));
	while (off + sizeof(struct rec) <= b->types_len) {
		struct rec r;
		long more;

		memcpy(&r, b->types + off, sizeof(r));
		more = extra((int)((r.info >> 24) & 0x1f), r.info & 0xffff);
		if (more < 0 || off + sizeof(r) + (uint64_t)more > b->types_len)
			return -EINVAL;
		if (b->n == cap) {
			cap *= 2;
			b->offs = xrealloc(b->offs, cap * sizeof(*b->offs));
		}
		b->offs[b->n++] = off;
		off += (uint32_t)(sizeof(r) + (size_t)more);
	}
	return off == b->types_len ? 0 : -EINVAL;
}

/* Takes ownership of data: malloc'ed, or mapped when mapped is its length. */
static struct kbtf *parse(char *data, uint32_t len, size_t mapped, const struct kbtf *base)
{
	struct kbtf *b = xcalloc(1, sizeof(*b));
	struct hdr h;

	b->data = data;
	b->mapped = mapped;
	if (len < sizeof(h))
		goto bad;
	memcpy(&h, b->data, sizeof(h));
	if (h.magic != BTF_MAGIC || h.hdr_len < sizeof(h) || h.hdr_len > len ||
	    (uint64_t)h.hdr_len + h.type_off + h.type_len > len ||
	    (uint64_t)h.hdr_len + h.str_off + h.str_len > len || !h.str_len)
		goto bad;
	b->types = b->data + h.hdr_len + h.type_off;
	b->types_len = h.type_len;
	b->strs = b->data + h.hdr_len + h.str_off;
	b->strs_len = h.str_len;
	if (b->strs[b->strs_len - 1] != '\0')
		goto bad;
	b->base = base;
	b->first_id = base ? kbtf__end_id(base) : 1;
	b->str_base = base ? base->str_base + base->strs_len : 0;
	if (index_types(b))
		goto bad;
	return b;
bad:
	kbtf__free(b);
	errno = EINVAL;
	return NULL;
}

struct kbtf *kbtf__from_mem(const void *data, uint32_t len, const struct kbtf *base)
{
	char *copy = xmalloc(len ? len : 1);

	memcpy(copy, data, len);
	return parse(copy, len, 0, base);
}

struct kbtf *kbtf__open(const char *path, const struct kbtf *base)
{
	struct stat st;
	size_t len = 0;
	char *data;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	/* sysfs gives BTF files their true size: one buffer, no growing copies. */
	if (fstat(fd, &st) || st.st_size <= 0 || st.st_size > (256 << 20)) {
		close(fd);
		data = read_file(path, 256u << 20, &len);
		return data ? parse(data, (uint32_t)len, 0, base) : NULL;
	}
	/*
	 * Since 6.16 the kernel maps its BTF straight into us: no copy, and none of
	 * the thousand page-sized reads sysfs answers with otherwise.
	 */
	data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (data != MAP_FAILED) {
		close(fd);
		return parse(data, (uint32_t)st.st_size, (size_t)st.st_size, base);
	}
	data = xmalloc((size_t)st.st_size);
	while (len < (size_t)st.st_size) {
		ssize_t r = read(fd, data + len, (size_t)st.st_size - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	return parse(data, (uint32_t)len, 0, base);
}

void kbtf__free(struct kbtf *b)
{
	if (!b)
		return;
	if (b->mapped)
		munmap(b->data, b->mapped);
	else
		free(b->data);
	free(b->offs);
	free(b);
}

static const char *str(const struct kbtf *b, uint32_t off)
{
	if (off < b->str_base)
		return b->base ? str(b->base, off) : "";
	off -= b->str_base;
	return off < b->strs_len ? b->strs + off : "";
}

/* The record of an id, from this BTF or its base; NULL when out of range. */
static const struct kbtf *owner(const struct kbtf *b, uint32_t id, struct rec *r,
				const char **after)
{
	while (b && id < b->first_id)
		b = b->base;
	if (!b || id == 0 || id - b->first_id >= b->n)
		return NULL;
	memcpy(r, b->types + b->offs[id - b->first_id], sizeof(*r));
	if (after)
		*after = b->types + b->offs[id - b->first_id] + sizeof(*r);
	return b;
}

uint32_t kbtf__first_id(const struct kbtf *b)
{
	return b->first_id;
}

uint32_t kbtf__end_id(const struct kbtf *b)
{
	return b->first_id + b->n;
}

int kbtf__kind(const struct kbtf *b, uint32_t id)
{
	struct rec r;

	return owner(b, id, &r, NULL) ? (int)((r.info >> 24) & 0x1f) : 0;
}

const char *kbtf__name(const struct kbtf *b, uint32_t id)
{
	struct rec r;
	const struct kbtf *o = owner(b, id, &r, NULL);

	return o ? str(o, r.name_off) : "";
}

uint32_t kbtf__ref(const struct kbtf *b, uint32_t id)
{
	struct rec r;

	return owner(b, id, &r, NULL) ? r.size_type : 0;
}

int kbtf__vlen(const struct kbtf *b, uint32_t id)
{
	struct rec r;

	return owner(b, id, &r, NULL) ? (int)(r.info & 0xffff) : 0;
}

uint32_t kbtf__find(const struct kbtf *b, const char *name, int kind)
{
	for (uint32_t i = 0; i < b->n; i++) {
		struct rec r;

		memcpy(&r, b->types + b->offs[i], sizeof(r));
		if ((int)((r.info >> 24) & 0x1f) == kind && !strcmp(str(b, r.name_off), name))
			return b->first_id + i;
	}
	return 0;
}

/* Enumerator i of an enum (8-byte entries) or enum64 (12-byte entries). */
static int enumerator(const struct kbtf *b, uint32_t id, int i, const struct kbtf **o,
		      uint32_t *name_off, int64_t *val)
{
	struct rec r;
	const char *after;
	int kind;
	uint32_t w[3];

	*o = owner(b, id, &r, &after);
	kind = (int)((r.info >> 24) & 0x1f);
	if (!*o || i < 0 || i >= (int)(r.info & 0xffff))
		return -1;
	if (kind == KBTF_ENUM) {
		memcpy(w, after + 8 * i, 8);
		*name_off = w[0];
		/* kind_flag set: unsigned values. */
		*val = (r.info >> 31) ? (int64_t)w[1] : (int64_t)(int32_t)w[1];
		return 0;
	}
	if (kind == KBTF_ENUM64) {
		memcpy(w, after + 12 * i, 12);
		*name_off = w[0];
		*val = (int64_t)(((uint64_t)w[2] << 32) | w[1]);
		return 0;
	}
	return -1;
}

const char *kbtf__enum_name(const struct kbtf *b, uint32_t id, int i)
{
	const struct kbtf *o;
	uint32_t name_off;
	int64_t val;

	return enumerator(b, id, i, &o, &name_off, &val) ? "" : str(o, name_off);
}

int64_t kbtf__enum_value(const struct kbtf *b, uint32_t id, int i)
{
	const struct kbtf *o;
	uint32_t name_off;
	int64_t val;

	return enumerator(b, id, i, &o, &name_off, &val) ? 0 : val;
}
