/* Test tool: a hook that never returns, interrupted from a signal handler by runtime__interrupt. */
/*
 * usage: interrupt SCRIPT [HOOK]
 *
 * Loads SCRIPT (a file) with the real runtime, arms SIGALRM every 0.2 s, whose handler calls
 * runtime__interrupt(), and runs HOOK ("drop": default, one synthetic drop; "init"; "tick") then
 * done. Prints "HOOK returned R" and "done returned R" on stdout, and exits with the run's code
 * (runtime__exit_code, else 0). A hook that is never interrupted is ended by the eleventh
 * SIGALRM with the default action (after 2 s): the test sees the signal.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "lua/bridge.h"
#include "sym/sym.h"
#include "util/util.h"

static struct runtime *the_rt; /* for the handler: a signal handler has no other context */
static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	if (++alarms > 10) {
		signal(SIGALRM, SIG_DFL);
		raise(SIGALRM);
	}
	runtime__interrupt(the_rt);
}

int main(int argc, char **argv)
{
	struct runtime_opts ro = { 0 };
	struct itimerval it = { { 0, 200000 }, { 0, 200000 } };
	struct run_stats st = { 0 };
	struct tcpdrop_event ev;
	const char *hook = argc > 2 ? argv[2] : "drop";
	struct names *nm = names__new();
	struct ksyms *ks = ksyms__new();
	double interval = 0;
	size_t len;
	char *src, *chunk;
	int ret, code;

	if (argc < 2 || runtime__script_source(argv[1], &src, &len, &chunk))
		return 2;
	ro.script_src = src;
	ro.script_len = len;
	ro.script_chunk = chunk;
	if (runtime__new(&ro, nm, ks, &the_rt))
		return 2;
	signal(SIGALRM, on_alarm);
	setitimer(ITIMER_REAL, &it, NULL);
	ret = runtime__init(the_rt, &interval);
	if (!strcmp(hook, "init")) {
		printf("init returned %d\n", ret);
	} else if (!strcmp(hook, "tick")) {
		printf("tick returned %d\n", runtime__tick(the_rt, 1));
	} else {
		memset(&ev, 0, sizeof(ev));
		ev.family = 4;
		ev.dport = 80;
		printf("drop returned %d\n", runtime__dispatch(the_rt, &ev, 1));
	}
	fflush(stdout);
	st.seen = 1;
	printf("done returned %d\n", runtime__done(the_rt, &st));
	fflush(stdout);
	it.it_value.tv_usec = it.it_interval.tv_usec = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	code = runtime__exit_code(the_rt);
	runtime__free(the_rt);
	ksyms__free(ks);
	names__free(nm);
	free(src);
	free(chunk);
	return code < 0 ? 0 : code;
}
