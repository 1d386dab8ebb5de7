/* The printers' first columns, written in C for Lua (through struct tcpdrop_cfuncs). */
#ifndef TCPDROP_COLUMNS_H
#define TCPDROP_COLUMNS_H

#include <stdint.h>
#include <linux/types.h>
#include "tcpdrop.h"

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

#endif
