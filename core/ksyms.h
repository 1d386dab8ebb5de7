/* Kernel symbol lookup: addresses to "name+0xoff", from /proc/kallsyms or a recorded file. */
#ifndef TCPDROP_KSYMS_H
#define TCPDROP_KSYMS_H

#include <stddef.h>
#include <stdint.h>

struct ksyms;

struct ksyms *ksyms__new(void);
void ksyms__free(struct ksyms *ks);

/* Read a kallsyms-format file (text symbols only). 0 or -errno. */
int ksyms__load_file(struct ksyms *ks, const char *path);
/* Load /proc/kallsyms on first need: the read costs tens of milliseconds. */
void ksyms__set_lazy(struct ksyms *ks, const char *path);
/*
 * Start reading the lazy file in a thread now, so the first stack does not
 * stall the reader (~60 ms of kernel time while a storm fills the rings); the
 * first lookup waits for it. Nothing else may touch ks until then. The thread
 * runs at nice -5 where allowed.
 */
void ksyms__preload(struct ksyms *ks);

/* Add one symbol; verbatim ones print their name alone (frames replayed from a file). */
void ksyms__add(struct ksyms *ks, uint64_t addr, const char *name, int verbatim);

/*
 * The symbol at or below addr: its name and the offset; NULL when none. The
 * name is spelled out in a buffer of ks's: valid until the next lookup.
 */
const char *ksyms__map_addr(struct ksyms *ks, uint64_t addr, uint64_t *off);

/* "name+0xoff" (or the verbatim name, or "0x..." when unknown) into buf; returns its length. */
int ksyms__format(struct ksyms *ks, uint64_t addr, char *buf, size_t len);

/*
 * Frames' text as ksyms__format() spells them, kept: symbolising is a search and a format, and
 * the same frames come back drop after drop. Direct-mapped; zeroed is empty.
 */
#define KSYMS_TEXT_SLOTS 512 /* power of 2 */
#define KSYMS_TEXT_CHARS 118 /* longer texts are formatted every time */

struct ksyms_texts {
	struct ksyms_text {
		uint64_t addr;
		uint16_t len; /* 0: empty (no text is empty) */
		char s[KSYMS_TEXT_CHARS];
	} slot[KSYMS_TEXT_SLOTS];
};

/* ksyms__format() through t: the same text and length, from t when it holds it whole. */
int ksyms__format_kept(struct ksyms *ks, struct ksyms_texts *t, uint64_t addr, char *buf,
		       size_t len);

/* Intern a frame string for replay: returns an address that formats back to it. */
uint64_t ksyms__intern(struct ksyms *ks, const char *frame);

/* Trim a raw stack to start at the dropping function: returns the first frame index to keep. */
unsigned int ksyms__stack_start(struct ksyms *ks, const unsigned long long *frames, unsigned int n,
				uint64_t location);

#endif
