/* C functions the Lua runtime calls through the FFI (passed as pointers: works in static builds).
 */
#ifndef TCPDROP_CFUNCS_H
#define TCPDROP_CFUNCS_H

struct tcpdrop_event;

struct tcpdrop_cfuncs {
	int (*ntop)(int family, const void *addr, char *buf, int len);
	/*
	 * A frame's text into buf; its length. flags: TCPDROP_F_FRAME_IDS (v a frame-text id, else
	 * a kernel address), KSYMS_RET (a return address: looked up at v-1). ks: the run's symbols
	 * (tcpdrop.core's ksyms), passed by Lua: C keeps no context in statics.
	 */
	int (*ksym)(void *ks, __u64 v, int flags, char *buf, int len);
	double (*mono)(void); /* CLOCK_MONOTONIC in seconds: rate limits, elapsed time */
	void (*out)(const void *p, __u32 n); /* bytes to stdout, through stdio as io.write */
	/* A line's first columns into a string.buffer's reserved room (core/columns.h). */
	int (*flow)(void *buf, const struct tcpdrop_event *e, int pid_width, int bracket,
		    const char *time, int time_len);
	/* The stack's "\tFRAME\n" lines into reserved room (core/columns.h). */
	int (*frames)(void *ks, void *buf, int len, const struct tcpdrop_event *e);
};

#endif
