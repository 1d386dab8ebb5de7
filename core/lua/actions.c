/* Script actions: commands started with posix_spawn and reaped by pid, messages sent to syslog. */
#include "lua/bridge.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

extern char **environ;

struct child {
	pid_t pid;
	char name[32]; /* argv[0], for the message when it fails */
};

static struct child children[ACTIONS_MAX_CHILDREN];
static unsigned int nchildren;
static struct action_stats stats;
static FILE *syslog_file;
static int syslog_opened;

static const char *const level_names[] = {
	"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

static void child_done(const struct child *c, int status)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return;
	stats.failed_exit++;
	if (WIFEXITED(status))
		vmsg("command %s (pid %d) exited with status %d", c->name, (int)c->pid,
		     WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		vmsg("command %s (pid %d) was killed by signal %d", c->name, (int)c->pid,
		     WTERMSIG(status));
}

unsigned int actions__reap(void)
{
	unsigned int i = 0;

	while (i < nchildren) {
		int status;
		pid_t r = waitpid(children[i].pid, &status, WNOHANG);

		if (r == 0 || (r < 0 && errno == EINTR)) {
			i++;
			continue;
		}
		/* Exited, or gone (ECHILD: someone else reaped it); either way no longer ours. */
		if (r > 0)
			child_done(&children[i], status);
		children[i] = children[--nchildren];
	}
	return nchildren;
}

int actions__spawn(const char *const *argv)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	pid_t pid;
	int err;

	if (!argv || !argv[0] || !argv[0][0])
		return -EINVAL;
	if (nchildren == ACTIONS_MAX_CHILDREN && actions__reap() == ACTIONS_MAX_CHILDREN) {
		stats.spawn_failed++;
		return -EAGAIN;
	}
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGCHLD);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	/* What we printed before the command must come out before what it prints. */
	fflush(stdout);
	err = posix_spawnp(&pid, argv[0], &fa, &attr, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (err) {
		stats.spawn_failed++;
		return -err;
	}
	children[nchildren].pid = pid;
	snprintf(children[nchildren].name, sizeof(children[nchildren].name), "%s", argv[0]);
	nchildren++;
	stats.spawned++;
	return (int)pid;
}

void actions__stats(struct action_stats *st)
{
	*st = stats;
	st->running = nchildren;
}

int actions__syslog_level(const char *name)
{
	static const struct {
		const char *name;
		int level;
	} aliases[] = {
		{ "emergency", LOG_EMERG }, { "critical", LOG_CRIT },	 { "error", LOG_ERR },
		{ "warn", LOG_WARNING },    { "information", LOG_INFO },
	};

	if (name[0] >= '0' && name[0] <= '7' && !name[1])
		return name[0] - '0';
	for (size_t i = 0; i < ARRAY_SIZE(level_names); i++)
		if (!strcmp(name, level_names[i]))
			return (int)i;
	for (size_t i = 0; i < ARRAY_SIZE(aliases); i++)
		if (!strcmp(name, aliases[i].name))
			return aliases[i].level;
	return -1;
}

void actions__syslog(int level, const char *message)
{
	level &= LOG_PRIMASK;
	if (syslog_file) {
		fprintf(syslog_file, "%s %s\n", level_names[level], message);
		fflush(syslog_file);
		return;
	}
	if (!syslog_opened) {
		openlog("tcpdrop", LOG_PID, LOG_DAEMON);
		syslog_opened = 1;
	}
	syslog(level, "%s", message);
}

void actions__set_syslog_file(FILE *f)
{
	syslog_file = f;
}
