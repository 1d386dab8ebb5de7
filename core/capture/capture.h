/* Capture files: the pcapng writer and reader, the drop codec, the pcap filter, -w. */
#ifndef TCPDROP_CAPTURE_CAPTURE_H
#define TCPDROP_CAPTURE_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "drop.h"

/* pcapng and pcap files: reading and writing blocks, and how a drop event rides in a packet block.
 */

struct names;
struct ksyms;
struct run_stats;

/*
 * What -w writes (and -r reads back):
 *
 *  - One Section Header Block: shb_userappl "tcpdrop VERSION", shb_os "Linux RELEASE",
 *    shb_hardware the machine, opt_comment "host NAME", and the recording kernel's names.
 *  - One Interface Description Block: LINKTYPE_RAW (101), if_tsresol 9 (nanoseconds),
 *    snaplen = 120 + --snaplen, if_name "tcpdrop".
 *  - An Interface Statistics Block when tracing starts (isb_starttime) and one at the end
 *    (isb_starttime, isb_endtime, isb_ifrecv, isb_ifdrop = events lost in the ring buffer,
 *    isb_usrdeliv = drops in the file, and tcpdrop's own counters).
 *  - One Enhanced Packet Block per drop: the packet from its IP header as the probe copied
 *    it, or (headers read from the socket) an IPv4/IPv6 + TCP header pair made from the
 *    event; original length = the length its IP header gives (skb->len rides in the event);
 *    an opt_comment "REASON (CODE) state STATE pid PID comm COMM" and one "stack: f0 <- f1
 *    <- ...", whole frames, as many as fit 511 characters, then "<- ... (N more frames)" (or
 *    "stack: skipped"/"failed"); and the event itself in custom options.
 *
 * Custom options: code 2989 (binary, may be copied by editors), holding the Private
 * Enterprise Number 32473 (the one IANA reserves for documentation, RFC 5612; tcpdrop has
 * none registered yet), a 16-bit tag and the tag's data. Integers are in the section's byte
 * order, like the rest of the block. Readers skip tags they do not know and ignore bytes
 * past the ones they know, so that later versions can add both.
 *
 *  tag  block  data
 *   1   EPB    the fields, PCAPNG_EVENT_LEN bytes: u32 reason_code, pid, tid, netns,
 *              ifindex, cpu, len (skb->len), seq, ack_seq; u16 sport, dport, win, pkt_len,
 *              hdr_len; u8 family, state_code, tcp_flags, evflags (TCPDROP_F_*); u16 frames
 *              in the stack; 16 bytes saddr, 16 daddr (IPv4 in the first 4), 16 comm
 *   2   EPB    the reason's name as the recording kernel called it (absent: unnamed)
 *   3   EPB    the socket state's name
 *   4   EPB    the dropping location, "symbol+0xoff" (absent: unknown)
 *   5   EPB    the stack, one "symbol+0xoff" per line, from the dropping function on
 *   6   EPB    who was hurt, PCAPNG_OWNER_LEN bytes: u32 owner_pid; u64 cgroup_id, owner's
 *              start (ns since boot); u32 sock_ino, sk_uid; 16 bytes owner's comm; u8
 *              owner_flags (TCPDROP_O_*). Absent: none known (all zero)
 *   7   EPB    who was hurt, by name, with the first drop of each id: u64 the id, u32 its kind
 *              (0: the socket's cgroup id, 1: for a drop without one, its netns inode), then
 *              seven strings, each ended by a NUL, "" unknown: cgroup, container, container_id,
 *              runtime, pod, pod_namespace, pod_uid, as the recording run resolved them. A
 *              replay answers e.container and the others from these, "-" for ids without
 *              one. Written again when the writer's table of 4096 ids starts over.
 *  16   SHB    the recording kernel's reasons, "CODE NAME\n" lines (repeated if > 60 KB)
 *  17   SHB    its TCP states, "CODE NAME\n" lines
 *  20   ISB    the run's counters: u64 seen, lost, filtered_kernel, stacks_skipped,
 *              stacks_failed, script errors
 *
 * Frames are strings, never addresses: the file replays on another kernel and gives away
 * no kernel address (KASLR). A frame no symbol names (without CAP_SYSLOG, none is) is "?".
 * Every frame but the first is a return address, named by the call before it.
 */
#define PCAPNG_PEN 32473u

enum pcapng_tag {
	PCAPNG_TAG_EVENT = 1,
	PCAPNG_TAG_REASON = 2,
	PCAPNG_TAG_STATE = 3,
	PCAPNG_TAG_LOCATION = 4,
	PCAPNG_TAG_STACK = 5,
	PCAPNG_TAG_OWNER = 6,
	PCAPNG_TAG_OWNER_NAMES = 7,
	PCAPNG_TAG_REASONS = 16,
	PCAPNG_TAG_STATES = 17,
	PCAPNG_TAG_STATS = 20,
};

#define PCAPNG_EVENT_LEN 100 /* bytes of PCAPNG_TAG_EVENT data in version 1 */
#define PCAPNG_OWNER_LEN 45 /* bytes of PCAPNG_TAG_OWNER: the event's owner_pid to owner_flags */
#define PCAPNG_OWNER_NAMES_HEAD 12 /* PCAPNG_TAG_OWNER_NAMES' id and kind, before the names */

#define PCAPNG_LINKTYPE_RAW 101
#define PCAPNG_MAX_BLOCK (16u << 20) /* larger blocks are refused as corrupt */

/* ---- Writing: blocks are built whole in memory, in host byte order. ---- */

struct pcapng_buf {
	uint8_t *p;
	size_t len, cap;
};

void pcapng_buf__free(struct pcapng_buf *b);

struct pcapng_section {
	const char *userappl; /* shb_userappl: "tcpdrop VERSION" */
	const char *os; /* shb_os: the kernel release */
	const char *hardware; /* shb_hardware: the machine */
	const char *comment; /* opt_comment: e.g. the host name */
	struct names *nm; /* the recording kernel's reason and state names; may be NULL */
};

void pcapng__put_shb(struct pcapng_buf *b, const struct pcapng_section *s);
/* One interface, nanosecond timestamps. */
void pcapng__put_idb(struct pcapng_buf *b, uint16_t linktype, uint32_t snaplen, const char *name,
		     const char *desc);
/*
 * One Enhanced Packet Block for a drop: the packet bytes (or, when the probe
 * had no packet, an IP + TCP header pair made from the event), a readable
 * comment, and every field in custom options with names and frames as strings.
 */
void pcapng__put_event(struct pcapng_buf *b, const struct tcpdrop_event *ev, struct names *nm,
		       struct ksyms *ks);
/*
 * The same bytes for a stream of drops (-w), several times cheaper: the lengths of names are
 * kept between calls (names may change: their lengths are re-read). Frames go through ks's
 * one cache either way.
 */
struct pcapng_enc;
struct pcapng_enc *pcapng_enc__new(struct names *nm, struct ksyms *ks);
void pcapng_enc__free(struct pcapng_enc *e);
void pcapng_enc__put_event(struct pcapng_enc *e, struct pcapng_buf *b,
			   const struct tcpdrop_event *ev);
/* Frames written so far as "?": no symbol named them, and an address must not be written. */
uint64_t pcapng_enc__unnamed(const struct pcapng_enc *e);
/* An Interface Statistics Block: st NULL marks the start of the run, else its end and counts. */
void pcapng__put_isb(struct pcapng_buf *b, uint64_t now, uint64_t start, uint64_t end,
		     const struct run_stats *st, uint64_t written);

/* ---- Reading pcapng (any byte order, any number of sections) and classic pcap. ---- */

enum cap_kind {
	CAP_PACKET = 1,
	CAP_SECTION, /* a section header: opts are its options */
	CAP_STATS, /* an interface statistics block */
};

/* One record; its pointers are valid until the next capreader__next(). */
struct cap_rec {
	int kind;
	int swap; /* the section's byte order differs from ours */
	uint64_t offset; /* where the block starts in the file, for messages */
	const char *what; /* the block's name, for messages */
	uint64_t ts; /* ns since the epoch (a simple packet block: the previous packet's) */
	uint32_t linktype;
	uint32_t ifid;
	uint32_t caplen, origlen;
	const uint8_t *data;
	const uint8_t *opts; /* pcapng options (NULL for pcap) */
	uint32_t optlen;
	uint64_t start, end; /* CAP_STATS: isb_starttime and isb_endtime in ns, 0 when absent */
};

struct capreader;

/* Open path ("-": standard input). 0, or -errno after one line naming the file. */
int capreader__open(const char *path, struct capreader **out);
/* Read from memory (the fuzz target); the memory must outlive the reader. */
struct capreader *capreader__from_mem(const void *data, size_t len, const char *name);
void capreader__free(struct capreader *cr);
/*
 * The next record: 1, 0 at the end, or <0 after one line naming the block and
 * its offset. -EINTR (no message) when a signal interrupted a read: call again.
 */
int capreader__next(struct capreader *cr, struct cap_rec *r);
/* Whether the next record needs a read that may wait (a pipe): time to hand on a batch. */
int capreader__pending(const struct capreader *cr);
/* Whether a read can ever wait: not for memory or a regular file, so no need to ask the above. */
int capreader__may_wait(const struct capreader *cr);

/* The next option of a block: 1 (o filled), 0 at the end, -1 when the options are malformed. */
struct pcapng_opt {
	uint16_t code, len;
	const uint8_t *val;
};
int pcapng__opt_next(const uint8_t **p, const uint8_t *end, int swap, struct pcapng_opt *o);

/* ---- Turning records into events. ---- */

struct pcapng_decoder;

/*
 * Names of the file are added to nm, its frames' texts to ks: the events it gives have
 * TCPDROP_F_FRAME_IDS, their frames ids of ks's texts.
 */
struct pcapng_decoder *pcapng_decoder__new(struct names *nm, struct ksyms *ks);
void pcapng_decoder__free(struct pcapng_decoder *d);

/* A section header's name tables. 0, or <0 after a message. */
int pcapng__decode_section(struct pcapng_decoder *d, const struct cap_rec *r, const char *file);
/*
 * A packet: 1 with ev filled; 0 when it is no TCP over IPv4/IPv6 (counted, see
 * pcapng_decoder__skipped); <0 after a message when the tcpdrop data is corrupt.
 */
int pcapng__decode_packet(struct pcapng_decoder *d, const struct cap_rec *r,
			  struct tcpdrop_event *ev, const char *file);
/*
 * The next record when it is a drop as -w writes it (an enhanced packet block with tcpdrop's
 * record, in this machine's byte order, already read in): 1 with ev filled as
 * capreader__next() and pcapng__decode_packet() would, or <0 after the same message. 0 when
 * it is anything else: nothing was read, take those two.
 */
int pcapng__next_drop(struct capreader *cr, struct pcapng_decoder *d, struct tcpdrop_event *ev,
		      const char *file);
/* A statistics block: 1 with st filled when it carries tcpdrop's counters, else 0 (or <0). */
int pcapng__decode_stats(struct pcapng_decoder *d, const struct cap_rec *r, struct run_stats *st,
			 const char *file);

struct pcapng_skipped {
	uint64_t not_tcp; /* packets that are not TCP over IP, or too short to tell */
	uint64_t bad_link; /* packets on a link type we cannot read */
	uint32_t last_link; /* the last such link type */
};
const struct pcapng_skipped *pcapng_decoder__skipped(const struct pcapng_decoder *d);

/*
 * The IPv4 or IPv6 + TCP header pair an event describes, for drops seen without their packet:
 * what -w records and what pcap filters match (DF, TTL 64, a valid IP checksum; no payload).
 * p has room for PCAPNG_SYNTH_MAX bytes; returns the length.
 */
#define PCAPNG_SYNTH_MAX 60
size_t pcapng__synthesise(uint8_t *p, const struct tcpdrop_event *ev);

/* --- tcpdump-style filters (pcap-filter(7)), run in user space over a drop's IP and TCP headers */

struct pcapfilter;

/*
 * Compile expr as libpcap would for raw IP packets. On a bad expression,
 * print one line with libpcap's own message and return -EINVAL.
 */
int pcapfilter__new(const char *expr, struct pcapfilter **out);
void pcapfilter__free(struct pcapfilter *pf);

/*
 * Whether the drop matches. The packet is the event's pkt[] when the probe
 * copied it, else the IPv4/IPv6 + TCP header pair -w records for it
 * (pcapng__synthesise), so a filter matches the same drops live and replayed.
 */
int pcapfilter__match(struct pcapfilter *pf, const struct tcpdrop_event *ev);

/*
 * Keep only the matching events of a batch, in order, moved to its front; the
 * new count. A NULL filter keeps everything, so callers need no test.
 */
int pcapfilter__batch(struct pcapfilter *pf, struct tcpdrop_event *ev, unsigned int n);

/* Events the filter has rejected so far. */
uint64_t pcapfilter__rejected(const struct pcapfilter *pf);

/* --- -w: record drops into a pcapng file (or standard output) as they are delivered. */

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
/*
 * Write out what is buffered: at least once a second. From the thread that records, once the
 * writer thread runs, it is queued for it and written at once, never waited for (the reader
 * must not stall on the disk); from any other thread (the watchdog), it is in the file when
 * this returns. 0 or -errno (said once).
 */
int recorder__flush(struct recorder *r);
/*
 * st: write the end-of-run statistics, flush and close; 0 or -errno. st NULL:
 * the run never started; remove the file if we created it. Frees r (NULL is fine).
 */
int recorder__close(struct recorder *r, const struct run_stats *st);

#endif
