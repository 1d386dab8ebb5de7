/* Reading pcapng (any byte order, any number of sections) and classic pcap, block by block. */
#include "capture/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

#define READ_CHUNK (1u << 20)

static struct capreader *reader_new(const char *name)
{
	struct capreader *cr = xcalloc(1, sizeof(*cr));

	cr->fd = -1;
	cr->name = xstrdup(name);
	return cr;
}

int capreader__open(const char *path, struct capreader **out)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	struct capreader *cr;
	struct stat st;

	if (fd < 0) {
		int err = -errno;

		msg("cannot open %s: %s", path, strerror(errno));
		return err;
	}
	cr = reader_new(strcmp(path, "-") ? path : "standard input");
	cr->fd = fd;
	cr->regular = !fstat(fd, &st) && S_ISREG(st.st_mode);
	cr->cap = READ_CHUNK;
	cr->buf = xmalloc(cr->cap);
	*out = cr;
	return 0;
}

struct capreader *capreader__from_mem(const void *data, size_t len, const char *name)
{
	struct capreader *cr = reader_new(name);

	cr->buf = (uint8_t *)(uintptr_t)data; /* never written in memory mode */
	cr->cap = cr->end = len;
	cr->eof = 1;
	return cr;
}

void capreader__free(struct capreader *cr)
{
	if (!cr)
		return;
	if (cr->fd >= 0) {
		if (cr->fd != STDIN_FILENO)
			close(cr->fd);
		free(cr->buf);
	}
	free(cr->ifs);
	free(cr->name);
	free(cr);
}

/* Make n bytes from pos readable: 1, 0 when the input ends first, or -errno. */
static int read_more(struct capreader *cr, size_t n)
{
	if (cr->fd < 0 || cr->eof)
		return 0;
	if (cr->pos + n > cr->cap) {
		memmove(cr->buf, cr->buf + cr->pos, cr->end - cr->pos);
		cr->base += cr->pos;
		cr->end -= cr->pos;
		cr->pos = 0;
		if (n > cr->cap) {
			cr->cap = n + READ_CHUNK;
			cr->buf = xrealloc(cr->buf, cr->cap);
		}
	}
	while (cr->end - cr->pos < n) {
		ssize_t r = read(cr->fd, cr->buf + cr->end, cr->cap - cr->end);

		if (r < 0) {
			if (errno == EINTR)
				return -EINTR;
			msg("%s: read error at offset %llu: %s", cr->name,
			    (unsigned long long)(cr->base + cr->end), strerror(errno));
			return -EIO;
		}
		if (r == 0) {
			cr->eof = 1;
			return 0;
		}
		cr->end += (size_t)r;
	}
	return 1;
}

/* The same, inline for the usual case: the bytes are there already. */
static inline int ensure(struct capreader *cr, size_t n)
{
	return cr->end - cr->pos >= n ? 1 : read_more(cr, n);
}

int capreader__may_wait(const struct capreader *cr)
{
	return cr->fd >= 0 && !cr->regular;
}

int capreader__pending(const struct capreader *cr)
{
	size_t have = cr->end - cr->pos;
	uint32_t len;

	if (cr->fd < 0 || cr->eof || cr->regular)
		return 0;
	if (cr->kind == KIND_PCAPNG) {
		if (have < 8)
			return 1;
		len = get32(cr->buf + cr->pos + 4, cr->swap);
	} else if (cr->kind == KIND_PCAP) {
		if (have < 16)
			return 1;
		len = 16 + get32(cr->buf + cr->pos + 8, cr->swap);
	} else {
		return 1;
	}
	return have < len;
}

static const char *block_name(uint32_t type)
{
	switch (type) {
	case BT_SHB:
		return "section header block";
	case BT_IDB:
		return "interface description block";
	case BT_PB:
		return "packet block";
	case BT_SPB:
		return "simple packet block";
	case BT_ISB:
		return "interface statistics block";
	case BT_EPB:
		return "enhanced packet block";
	default:
		return "block";
	}
}

static int truncated(struct capreader *cr, const char *what, uint64_t off, uint64_t want)
{
	msg("%s: truncated %s at offset %llu: it needs %llu bytes, the file ends after %llu",
	    cr->name, what, (unsigned long long)off, (unsigned long long)want,
	    (unsigned long long)(cr->end - cr->pos));
	return -EINVAL;
}

static int bad(struct capreader *cr, const char *what, uint64_t off, const char *why)
{
	msg("%s: bad %s at offset %llu: %s", cr->name, what, (unsigned long long)off, why);
	return -EINVAL;
}

int pcapng__opt_next(const uint8_t **p, const uint8_t *end, int swap, struct pcapng_opt *o)
{
	return opt_next(p, end, swap, o);
}

/* Check that a block's options are well formed, so that later passes need not. */
static int opts_ok(const uint8_t *p, const uint8_t *end, int swap)
{
	struct pcapng_opt o;
	int r;

	while ((r = opt_next(&p, end, swap, &o)) > 0)
		;
	return r;
}

static int iface_add(struct capreader *cr, const uint8_t *body, uint32_t blen, uint64_t off)
{
	const uint8_t *p = body + 8, *end = body + blen;
	struct iface f = { .mul = 1, .div = 1, .shift = -1 };
	struct pcapng_opt o;
	int r;

	f.linktype = get16(body, cr->swap);
	f.snaplen = get32(body + 4, cr->swap);
	f.mul = 1000; /* the default resolution: microseconds */
	while ((r = opt_next(&p, end, cr->swap, &o)) > 0) {
		if (o.code == IF_TSRESOL && o.len >= 1) {
			unsigned int v = o.val[0] & 0x7f;

			f.mul = f.div = 1;
			f.shift = -1;
			if (o.val[0] & 0x80) {
				if (v > 63)
					return bad(cr, "interface description block", off,
						   "if_tsresol is finer than 2^-63 s");
				f.shift = (int)v;
			} else if (v > 19) {
				return bad(cr, "interface description block", off,
					   "if_tsresol is finer than 10^-19 s");
			} else {
				for (unsigned int i = v; i < 9; i++)
					f.mul *= 10;
				for (unsigned int i = 9; i < v; i++)
					f.div *= 10;
			}
		} else if (o.code == IF_TSOFFSET && o.len >= 8) {
			f.offset = (int64_t)get64(o.val, cr->swap);
		}
	}
	if (r < 0)
		return bad(cr, "interface description block", off, "malformed options");
	if (cr->nifs == cr->ifcap) {
		cr->ifcap = cr->ifcap ? cr->ifcap * 2 : 4;
		cr->ifs = xrealloc(cr->ifs, cr->ifcap * sizeof(*cr->ifs));
	}
	cr->ifs[cr->nifs++] = f;
	return 0;
}

static int pcap_header(struct capreader *cr)
{
	uint32_t magic, major;
	int r = ensure(cr, 24);

	if (r < 0)
		return r;
	if (!r)
		return truncated(cr, "pcap file header", 0, 24);
	memcpy(&magic, cr->buf, 4);
	cr->swap = magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u;
	magic = cr->swap ? __builtin_bswap32(magic) : magic;
	cr->frac_mul = magic == 0xa1b23c4du ? 1 : 1000;
	major = get16(cr->buf + 4, cr->swap);
	if (major != 2)
		return bad(cr, "pcap file header", 0, "only version 2 is read");
	cr->linktype = get32(cr->buf + 20, cr->swap) & 0xffff;
	cr->kind = KIND_PCAP;
	cr->pos = 24;
	return 0;
}

static int pcap_next(struct capreader *cr, struct cap_rec *rec)
{
	uint64_t off = cr->base + cr->pos;
	const uint8_t *h;
	uint32_t incl;
	int r = ensure(cr, 16);

	if (r < 0)
		return r;
	if (!r)
		return cr->end == cr->pos ? 0 : truncated(cr, "packet record header", off, 16);
	h = cr->buf + cr->pos;
	incl = get32(h + 8, cr->swap);
	if (incl > PCAPNG_MAX_BLOCK)
		return bad(cr, "packet record", off, "its captured length is over 16 MiB");
	r = ensure(cr, 16 + (size_t)incl);
	if (r < 0)
		return r;
	if (!r)
		return truncated(cr, "packet record", off, 16 + (uint64_t)incl);
	h = cr->buf + cr->pos;
	rec->kind = CAP_PACKET;
	rec->offset = off;
	rec->what = "packet record";
	rec->swap = cr->swap;
	rec->ifid = 0;
	rec->opts = NULL;
	rec->optlen = 0;
	rec->start = rec->end = 0;
	rec->ts = (uint64_t)get32(h, cr->swap) * 1000000000u +
		  (uint64_t)get32(h + 4, cr->swap) * cr->frac_mul;
	rec->linktype = cr->linktype;
	rec->caplen = incl;
	rec->origlen = get32(h + 12, cr->swap);
	rec->data = h + 16;
	cr->pos += 16 + (size_t)incl;
	return 1;
}

static int packet(struct capreader *cr, struct cap_rec *rec, uint32_t type, const uint8_t *body,
		  uint32_t blen, uint64_t off)
{
	const char *what = block_name(type);
	uint32_t ifid;
	const struct iface *f;

	if (blen < (type == BT_SPB ? 4u : 20u))
		return bad(cr, what, off, "too short for its fields");
	ifid = type == BT_EPB ? get32(body, cr->swap) : type == BT_PB ? get16(body, cr->swap) : 0;
	if (ifid >= cr->nifs) {
		char why[96];

		snprintf(why, sizeof(why), "it names interface %u, the section has %u", ifid,
			 cr->nifs);
		return bad(cr, what, off, why);
	}
	rec->offset = off;
	rec->what = what;
	if (type != BT_SPB) {
		if (packet_walk(cr, rec, body, blen, ifid, cr->swap) != WALK_OK)
			return bad(cr, what, off, "its captured length overruns the block");
		cr->last_ts = rec->ts;
		return 1;
	}
	f = &cr->ifs[0];
	rec->kind = CAP_PACKET;
	rec->swap = cr->swap;
	rec->linktype = f->linktype;
	rec->ifid = 0;
	rec->start = rec->end = 0;
	rec->origlen = get32(body, cr->swap);
	rec->caplen = blen - 4 < rec->origlen ? blen - 4 : rec->origlen;
	if (f->snaplen && rec->caplen > f->snaplen)
		rec->caplen = f->snaplen;
	rec->data = body + 4;
	rec->opts = NULL;
	rec->optlen = 0;
	rec->ts = cr->last_ts;
	return 1;
}

static int stats(struct capreader *cr, struct cap_rec *rec, const uint8_t *body, uint32_t blen,
		 uint64_t off)
{
	const char *what = block_name(BT_ISB);
	const uint8_t *p = body + 12, *end = body + blen;
	const struct iface *f;
	struct pcapng_opt o;
	uint32_t ifid;
	int r;

	if (blen < 12)
		return bad(cr, what, off, "too short for its fields");
	ifid = get32(body, cr->swap);
	if (ifid >= cr->nifs)
		return bad(cr, what, off, "it names an interface the section does not have");
	f = &cr->ifs[ifid];
	memset(rec, 0, sizeof(*rec));
	rec->kind = CAP_STATS;
	rec->offset = off;
	rec->what = what;
	rec->swap = cr->swap;
	rec->ifid = ifid;
	rec->ts = to_ns(f, (uint64_t)get32(body + 4, cr->swap) << 32 | get32(body + 8, cr->swap));
	rec->opts = p;
	rec->optlen = blen - 12;
	while ((r = opt_next(&p, end, cr->swap, &o)) > 0) {
		uint64_t *dst = o.code == ISB_STARTTIME ? &rec->start
				: o.code == ISB_ENDTIME ? &rec->end
							: NULL;

		if (dst && o.len == 8)
			*dst = to_ns(f, (uint64_t)get32(o.val, cr->swap) << 32 |
						get32(o.val + 4, cr->swap));
	}
	if (r < 0)
		return bad(cr, what, off, "malformed options");
	return 1;
}

static int pcapng_next(struct capreader *cr, struct cap_rec *rec)
{
	for (;;) {
		uint64_t off = cr->base + cr->pos;
		const uint8_t *h, *body;
		uint32_t type, len, blen;
		const char *what, *fault;
		int r = ensure(cr, 8), swap = cr->swap;

		if (r < 0)
			return r;
		if (!r)
			return cr->end == cr->pos ? 0 : truncated(cr, "block header", off, 8);
		h = cr->buf + cr->pos;
		type = get32(h, swap);
		what = block_name(type);
		if (type == BT_SHB) {
			uint32_t bom;

			r = ensure(cr, 12);
			if (r < 0)
				return r;
			if (!r)
				return truncated(cr, what, off, 12);
			h = cr->buf + cr->pos;
			memcpy(&bom, h + 8, 4);
			if (bom != BOM && bom != __builtin_bswap32(BOM))
				return bad(cr, what, off, "its byte-order magic is wrong");
			swap = bom != BOM;
		}
		len = get32(h + 4, swap);
		fault = block_len_fault(type, len);
		if (fault) {
			char why[96];

			snprintf(why, sizeof(why), "its length %u is %s", len, fault);
			return bad(cr, what, off, why);
		}
		r = ensure(cr, len);
		if (r < 0)
			return r;
		if (!r)
			return truncated(cr, what, off, len);
		h = cr->buf + cr->pos;
		if (get32(h + len - 4, swap) != len)
			return bad(cr, what, off,
				   "its trailing length differs from its leading one");
		body = h + 8;
		blen = len - 12;
		cr->pos += len;

		switch (type) {
		case BT_SHB:
			if (get16(body + 4, swap) != 1)
				return bad(cr, what, off, "only pcapng version 1 is read");
			if (opts_ok(body + 16, body + blen, swap) < 0)
				return bad(cr, what, off, "malformed options");
			cr->swap = swap;
			cr->nifs = 0;
			memset(rec, 0, sizeof(*rec));
			rec->kind = CAP_SECTION;
			rec->offset = off;
			rec->what = what;
			rec->swap = swap;
			rec->opts = body + 16;
			rec->optlen = blen - 16;
			return 1;
		case BT_IDB:
			if (blen < 8)
				return bad(cr, what, off, "too short for its fields");
			r = iface_add(cr, body, blen, off);
			if (r)
				return r;
			break;
		case BT_EPB:
		case BT_PB:
		case BT_SPB:
			return packet(cr, rec, type, body, blen, off);
		case BT_ISB:
			return stats(cr, rec, body, blen, off);
		default:
			break; /* blocks we do not need: skipped, as the format says */
		}
	}
}

int capreader__next(struct capreader *cr, struct cap_rec *r)
{
	if (!cr->started) {
		uint32_t magic;
		int ret = ensure(cr, 4);

		if (ret < 0)
			return ret;
		if (!ret) {
			if (cr->end == cr->pos)
				msg("%s: empty file (no pcapng section header, no pcap header)",
				    cr->name);
			else
				msg("%s: too short to be a pcapng or pcap file (%zu bytes)",
				    cr->name, cr->end - cr->pos);
			return -EINVAL;
		}
		memcpy(&magic, cr->buf, 4);
		if (magic == BT_SHB) {
			cr->kind = KIND_PCAPNG;
		} else if (magic == 0xa1b2c3d4u || magic == 0xa1b23c4du || magic == 0xd4c3b2a1u ||
			   magic == 0x4d3cb2a1u) {
			ret = pcap_header(cr);
			if (ret)
				return ret;
		} else {
			msg("%s: not a pcapng or pcap file (it starts with %02x %02x %02x %02x)",
			    cr->name, cr->buf[0], cr->buf[1], cr->buf[2], cr->buf[3]);
			return -EINVAL;
		}
		cr->started = 1;
	}
	return cr->kind == KIND_PCAP ? pcap_next(cr, r) : pcapng_next(cr, r);
}
