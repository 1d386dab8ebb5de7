/* A live tracing run, from loading the probe to done(stats). */
#ifndef TCPDROP_TRACE_H
#define TCPDROP_TRACE_H

struct options;
struct runtime_opts;
struct names;
struct ksyms;
struct pcapfilter;

/* pf (may be NULL) filters each batch before the script. Returns the process exit code: 0, 1
 * (failure or script error), 2 (bad input). */
int trace__run(struct options *o, struct runtime_opts *ro, struct names *nm, struct ksyms *ks,
	       struct pcapfilter *pf);

#endif
