/* Parts of the printers' lines, written in C for Lua (through struct tcpdrop_cfuncs). */
#ifndef TCPDROP_COLUMNS_H
#define TCPDROP_COLUMNS_H

#include <stdint.h>
#include <linux/types.h>
#include "tcpdrop.h"

/* An address as text (IPv6 when family is 6, else IPv4) into buf; its length, 0 on failure. */
int columns__ntop(int family, const void *addr, char *buf, int len);

#define COLUMNS_PID_MAX 32 /* widest PID column asked for */
/* Room columns__flow() needs at buf besides the time: two IPv6 endpoints at their widest. */
#define COLUMNS_FLOW_ROOM 176

/*
 * "TIME PID IP SADDR:SPORT > DADDR:DPORT " as bcc's tcpdrop starts a line: TIME (time_len
 * bytes) in 8 columns, the PID in pid_width, IP in 2, each endpoint in 20; each at least its
 * width, like %-Ns. Returns the bytes written, at most time_len + COLUMNS_FLOW_ROOM.
 */
int columns__flow(void *buf, const struct tcpdrop_event *e, int pid_width, const char *time,
		  int time_len);

/* Longest frame text, as e.stack's frames: what the symboliser gets room for (and a NUL). */
#define COLUMNS_FRAME_MAX 512
/* Room columns__frames() needs for a full stack. */
#define COLUMNS_FRAMES_ROOM (TCPDROP_STACK_MAX * (COLUMNS_FRAME_MAX + 2))

/* A frame's text into buf (room for len bytes with the NUL); its length (as ksyms__format()). */
typedef int (*columns_sym_fn)(__u64 addr, char *buf, int len);

/*
 * The stack's frames, a "\tFRAME\n" line each, at buf (room for len bytes; frames that do not
 * fit are left out, never cut). Returns the bytes written.
 */
int columns__frames(void *buf, int len, const struct tcpdrop_event *e, columns_sym_fn sym);

#endif
