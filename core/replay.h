/* -r: replay a recorded pcapng (or any pcap/pcapng capture) through the Lua runtime. */
#ifndef TCPDROP_REPLAY_H
#define TCPDROP_REPLAY_H

struct options;
struct runtime_opts;
struct names;
struct pcapfilter;

/*
 * Read o->read_path ("-": standard input) and hand its drops to the runtime,
 * with ticks and -d in recorded time, the in-kernel filters of a live run and
 * pf (a pcap-filter expression, or NULL) applied in user space. nm must be empty:
 * it is filled with the names the file carries. Needs no privileges and loads
 * nothing into the kernel.
 * Returns the exit code: 0, 1 (bad or unreadable file, script error), 2 (usage).
 */
int replay__run(struct options *o, struct runtime_opts *ro, struct names *nm,
		struct pcapfilter *pf);

#endif
