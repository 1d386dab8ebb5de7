/* The test helpers' way into a network namespace: a name under /var/run/netns, a path, or "-". */
#ifndef TCPDROP_TEST_NETNS_H
#define TCPDROP_TEST_NETNS_H

/* The includer defines _GNU_SOURCE first (setns). */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Enter ns on this thread ("-": stay). 0, or -1 with errno and path naming what failed. */
static inline int netns_enter(const char *ns, char *path, size_t len)
{
	int fd, ret;

	if (!strcmp(ns, "-"))
		return 0;
	snprintf(path, len, strchr(ns, '/') ? "%s" : "/var/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = setns(fd, CLONE_NEWNET);
	if (ret)
		snprintf(path, len, "setns %s", ns);
	close(fd);
	return ret;
}

#endif
