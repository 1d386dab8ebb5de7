/* Test tool for core/kernel/mib.c: watch namespaces, run a command, print the counters' deltas.
 *
 * mib_check [-u UID] [-c COUNTER]... [-C] [-a SHELL-CMD] INO... -- CMD...
 *   watches each namespace (its inode) and prints "watch INO VIA" or "watch INO failed ERRNO";
 *   with -u, drops to UID (and GID UID, no groups) with the files kept, prints "uid UID" and
 *   "rewatch INO RET err ERR tries N" for a namespace never opened (the last INO), N its lookups
 *   (2: looked up again after the drop); then runs CMD as root
 * (forked before the drop, held until the start snapshots are taken), samples, and prints "delta
 * INO COUNTER N" for each -c COUNTER ("none" when absent), "moved INO N": how many counters
 * changed, and with -C the coverage table (nothing traced; this kernel's names). Exit: 0, 1 (CMD
 * failed, or a sample failed), 2 (usage).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel/kernel.h"
#include "sym/sym.h"
#include "util/util.h"

#define MAX_ARGS 16

static int usage(void)
{
	fprintf(stderr,
		"usage: mib_check [-u UID] [-c COUNTER]... [-C] [-a SHELL-CMD] INO... -- CMD...\n");
	return 2;
}

/* CMD, forked now and held until a byte (or EOF) comes down the pipe: *wfd is its end. */
static pid_t spawn_held(char **cmd, int *wfd)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(126);
		close(p[0]);
		execvp(cmd[0], cmd);
		fprintf(stderr, "mib_check: %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	close(p[0]);
	*wfd = p[1];
	return pid;
}

static int drop_to(uid_t uid)
{
	if (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
		return -errno;
	return geteuid() == uid && getuid() == uid ? 0 : -EPERM;
}

static void deltas(struct mib *m, char **counters, int n_counters)
{
	struct mib_ns ns;

	for (size_t i = 0; !mib__ns(m, i, &ns); i++) {
		size_t moved = 0;
		uint64_t start, now;

		if (!ns.open)
			continue;
		for (int c = 0; c < n_counters; c++) {
			if (mib__find(m, ns.ino, counters[c], &start, &now))
				printf("delta %" PRIu64 " %s none\n", ns.ino, counters[c]);
			else
				printf("delta %" PRIu64 " %s %" PRIu64 "\n", ns.ino, counters[c],
				       now - start);
		}
		for (size_t id = 0; id < mib__counter_count(m); id++)
			if (!mib__value(m, i, id, &start, &now) && start != now)
				moved++;
		printf("moved %" PRIu64 " %zu\n", ns.ino, moved);
		if (ns.gone)
			printf("gone %" PRIu64 "\n", ns.ino);
	}
}

static void coverage(struct mib *m)
{
	struct names *nm = names__new();
	struct mib_row *rows;
	size_t n;

	if (names__load_kernel(nm, NULL))
		fprintf(stderr, "mib_check: no reason names from this kernel\n");
	n = mib__coverage(m, nm, NULL, 0, 0, &rows);
	mib__print_coverage(m, rows, n, stdout);
	free(rows);
	names__free(nm);
}

int main(int argc, char **argv)
{
	char *counters[MAX_ARGS];
	uint64_t inos[MAX_ARGS];
	const char *after = NULL;
	int n_counters = 0, n_inos = 0, cover = 0, uid = -1, wfd = -1, status, i, ret = 0;
	struct mib *m;
	pid_t pid;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "-u") && i + 1 < argc)
			uid = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-c") && i + 1 < argc && n_counters < MAX_ARGS)
			counters[n_counters++] = argv[++i];
		else if (!strcmp(argv[i], "-a") && i + 1 < argc)
			after = argv[++i];
		else if (!strcmp(argv[i], "-C"))
			cover = 1;
		else if (argv[i][0] >= '0' && argv[i][0] <= '9' && n_inos < MAX_ARGS)
			inos[n_inos++] = strtoull(argv[i], NULL, 10);
		else
			return usage();
	}
	if (i + 1 >= argc || !n_inos)
		return usage();
	pid = spawn_held(argv + i + 1, &wfd);
	if (pid < 0) {
		perror("mib_check: fork");
		return 1;
	}
	m = mib__new(0);
	for (int k = 0; k < n_inos; k++) {
		int r = mib__watch(m, inos[k]);
		struct mib_ns ns;

		mib__ns(m, (size_t)k, &ns);
		if (r == 1)
			printf("watch %" PRIu64 " %s\n", inos[k], ns.via);
		else
			printf("watch %" PRIu64 " failed %d\n", inos[k], ns.err);
	}
	if (uid >= 0) {
		int err = drop_to((uid_t)uid);

		if (err) {
			fprintf(stderr, "mib_check: -u %d: %s\n", uid, strerror(-err));
			ret = 1;
		} else {
			printf("uid %d\n", (int)geteuid());
		}
	}
	fflush(stdout);
	if (write(wfd, "g", 1) != 1)
		ret = 1;
	close(wfd);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "mib_check: the command failed\n");
		ret = 1;
	}
	if (uid >= 0) {
		/* Never opened: looked up again, now without the right to enter it. */
		usleep(1100 * 1000);
		struct mib_ns ns;
		int r = mib__watch(m, inos[n_inos - 1]);

		mib__ns(m, (size_t)n_inos - 1, &ns);
		printf("rewatch %" PRIu64 " %d err %d tries %u\n", inos[n_inos - 1], r, ns.err,
		       ns.tries);
	}
	if (mib__sample(m)) {
		fprintf(stderr, "mib_check: a sample failed\n");
		ret = 1;
	}
	deltas(m, counters, n_counters);
	if (cover)
		coverage(m);
	fflush(stdout);
	if (after && system(after))
		ret = 1;
	mib__free(m);
	return ret;
}
