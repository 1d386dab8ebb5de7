/* C functions the Lua runtime calls through the FFI (passed as pointers: works in static builds).
 */
#ifndef TCPDROP_CFUNCS_H
#define TCPDROP_CFUNCS_H

struct tcpdrop_cfuncs {
	int (*ntop)(int family, const void *addr, char *buf, int len);
	int (*ksym)(__u64 addr, char *buf, int len);
	double (*mono)(void); /* CLOCK_MONOTONIC in seconds: rate limits, elapsed time */
	void (*out)(const void *p, __u32 n); /* bytes to stdout, through stdio as io.write */
};

#endif
