/* -w: record drops into a pcapng file (or standard output) as they are delivered. */
#ifndef TCPDROP_RECORD_H
#define TCPDROP_RECORD_H

#include <stdint.h>

#include <linux/types.h>
#include "../bpf/tcpdrop.h"

struct names;
struct ksyms;
struct run_stats;
struct recorder;

struct recorder_opts {
	const char *path; /* "-": standard output */
	int force; /* replace an existing regular file */
	uint32_t snaplen; /* payload bytes after the headers (for the IDB's snaplen) */
	uint64_t max_events; /* record at most this many; 0: no limit */
};

/*
 * Create the file and write its header (section with the kernel's names, one
 * raw-IP interface). With "-", the file goes to the original standard output
 * and fd 1 is pointed at stderr, so that no script output can corrupt it.
 * 0, or -errno after one line saying why.
 */
int recorder__open(const struct recorder_opts *ro, struct names *nm, struct ksyms *ks,
		   struct recorder **out);
/* Mark the start of tracing (a statistics block with the start time, for replayed ticks). */
void recorder__start(struct recorder *r);
/* Buffer n events as whole blocks; written out when enough waits. 0 or -errno (said once). */
int recorder__write(struct recorder *r, const struct tcpdrop_event *ev, unsigned int n);
/* Write out what is buffered: at least once a second. 0 or -errno (said once). */
int recorder__flush(struct recorder *r);
/*
 * st: write the end-of-run statistics, flush and close; 0 or -errno. st NULL:
 * the run never started; remove the file if we created it. Frees r (NULL is fine).
 */
int recorder__close(struct recorder *r, const struct run_stats *st);

#endif
