/* Live-test helper: the few portable chores sh cannot do alone in a small guest. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
	"usage: tdutil ino PATH              print the inode number of PATH (e.g. a netns)\n"
	"       tdutil sleep SEC             sleep SEC seconds (fractions allowed, at most 600)\n"
	"       tdutil waitfor FILE TEXT SEC [PID]\n"
	"                                    wait until FILE holds TEXT: exit 0; 1 after SEC;\n"
	"                                    2 as soon as process PID has ended\n"
	"       tdutil runas UID GID CMD...  drop to UID/GID with no extra groups, exec CMD\n"
	"       tdutil timeout SEC CMD...    run CMD; SIGTERM, then SIGKILL, after SEC (exit 124)\n"
	"                                    SIGINT/SIGTERM are passed on to CMD\n";

static double seconds(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v >= 0 && v <= 600)) {
		fprintf(stderr, "tdutil: bad seconds '%s'\n", s);
		exit(2);
	}
	return v;
}

static void nap(double sec)
{
	struct timespec ts = { (time_t)sec, (long)((sec - (double)(time_t)sec) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int file_has(const char *path, const char *text)
{
	char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

/* A process that has exited, reaped or not (a zombie still answers kill(pid, 0)). */
static int ended(const char *pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return !p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X';
}

static int waitfor(const char *path, const char *text, double sec, const char *pid)
{
	double end = now() + sec;

	while (!file_has(path, text)) {
		if (pid && ended(pid))
			return file_has(path, text) ? 0 : 2;
		if (now() >= end)
			return 1;
		nap(0.02);
	}
	return 0;
}

static int runas(char **argv)
{
	uid_t uid = (uid_t)atoi(argv[0]);
	gid_t gid = (gid_t)atoi(argv[1]);

	if (setgroups(0, NULL) || setgid(gid) || setuid(uid)) {
		perror("tdutil: runas");
		return 126;
	}
	execvp(argv[2], argv + 2);
	fprintf(stderr, "tdutil: %s: %s\n", argv[2], strerror(errno));
	return 127;
}

static volatile sig_atomic_t got_sig;

static void on_sig(int sig)
{
	got_sig = sig;
}

static int timeout(double sec, char **argv)
{
	struct sigaction sa = { .sa_handler = on_sig };
	double end = now() + sec;
	int status, termed = 0;
	pid_t pid;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	pid = fork();
	if (pid < 0) {
		perror("tdutil: fork");
		return 125;
	}
	if (!pid) {
		/* A background job of a non-interactive sh starts with SIGINT ignored: undo that.
		 */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execvp(argv[0], argv);
		fprintf(stderr, "tdutil: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		if (got_sig) {
			kill(pid, got_sig);
			got_sig = 0;
		}
		if (now() >= end) {
			if (termed) {
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				fprintf(stderr, "tdutil: %s still ran after %.0f s: killed\n",
					argv[0], sec);
				return 124;
			}
			kill(pid, SIGTERM);
			termed = 1;
			end = now() + 2;
		}
		nap(0.01);
	}
	if (termed) {
		fprintf(stderr, "tdutil: %s still ran after %.0f s: terminated\n", argv[0], sec);
		return 124;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	struct stat st;

	if (argc == 3 && !strcmp(argv[1], "ino")) {
		if (stat(argv[2], &st)) {
			fprintf(stderr, "tdutil: %s: %s\n", argv[2], strerror(errno));
			return 1;
		}
		printf("%lu\n", (unsigned long)st.st_ino);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "sleep")) {
		nap(seconds(argv[2]));
		return 0;
	}
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "waitfor"))
		return waitfor(argv[2], argv[3], seconds(argv[4]), argc == 6 ? argv[5] : NULL);
	if (argc >= 5 && !strcmp(argv[1], "runas"))
		return runas(argv + 2);
	if (argc >= 4 && !strcmp(argv[1], "timeout"))
		return timeout(seconds(argv[2]), argv + 3);
	fputs(usage, stderr);
	return 2;
}
