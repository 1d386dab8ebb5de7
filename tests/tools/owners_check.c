/*
 * owners_check: the core's owner resolution (core/sym/owners.c) on this machine's real cgroups,
 * processes and runtimes, or on a tree a test laid out, one query after another on one struct
 * owners (so that caches and rate limits are those of a run).
 *
 *   owners_check [-p PROC] [-m MOUNTINFO] [-c CGROUP_ROOT] [-P PODMAN_ROOT] [-D DOCKER_ROOT]
 *                [-K KUBELET_LOGS] [-r RESCAN_MS] QUERY...
 *   QUERY: cgroup ID | netns INO | path PATH | pid PID | stat PID | is PID START |
 *          comm PID START | stats
 *
 * An owner prints as "cgroup=P runtime=R id=I name=N pod_uid=U pod=P namespace=S" ("-" for an
 * unknown; the line "-" when there is no owner); warnings go to stderr as "warning: ...".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sym/sym.h"

static void warn_line(const char *line)
{
	fprintf(stderr, "warning: %s\n", line);
}

static void print_owner(const struct owner *o)
{
	if (!o) {
		puts("-");
		return;
	}
	printf("cgroup=%s runtime=%s id=%s name=%s pod_uid=%s pod=%s namespace=%s\n",
	       owners__str(o->cgroup), owners__str(o->runtime), owners__str(o->id),
	       owners__str(o->name), owners__str(o->pod_uid), owners__str(o->pod),
	       owners__str(o->namespace));
}

static int usage(void)
{
	fputs("usage: owners_check [-p PROC] [-m MOUNTINFO] [-c CGROUP_ROOT] [-P PODMAN_ROOT] "
	      "[-D DOCKER_ROOT] [-K KUBELET_LOGS] [-r RESCAN_MS] QUERY...\n",
	      stderr);
	return 2;
}

int main(int argc, char **argv)
{
	struct owners_opts o = { .warn = warn_line };
	struct owners_stats st;
	struct owners *ow;
	int c, i, status = 0;

	while ((c = getopt(argc, argv, "p:m:c:P:D:K:r:")) != -1) {
		switch (c) {
		case 'p':
			o.proc = optarg;
			break;
		case 'm':
			o.mountinfo = optarg;
			break;
		case 'c':
			o.cgroup_root = optarg;
			break;
		case 'P':
			o.podman_root = optarg;
			break;
		case 'D':
			o.docker_root = optarg;
			break;
		case 'K':
			o.kubelet_logs = optarg;
			break;
		case 'r':
			o.rescan_ms = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		default:
			return usage();
		}
	}
	if (optind >= argc)
		return usage();
	ow = owners__new(&o);
	for (i = optind; i < argc; i++) {
		const char *q = argv[i], *a = i + 1 < argc ? argv[i + 1] : NULL;
		const char *b = i + 2 < argc ? argv[i + 2] : NULL;
		uint64_t start;
		char comm[32];

		if (!strcmp(q, "stats")) {
			owners__stats(ow, &st);
			printf("walks=%llu scans=%llu loads=%llu limited=%llu full=%llu\n",
			       (unsigned long long)st.cgroup_walks,
			       (unsigned long long)st.netns_scans,
			       (unsigned long long)st.name_loads, (unsigned long long)st.limited,
			       (unsigned long long)st.full);
			continue;
		}
		if (!a) {
			status = usage();
			break;
		}
		i++;
		if (!strcmp(q, "cgroup")) {
			print_owner(owners__cgroup(ow, strtoull(a, NULL, 10)));
		} else if (!strcmp(q, "netns")) {
			print_owner(owners__netns(ow, strtoull(a, NULL, 10)));
		} else if (!strcmp(q, "path")) {
			print_owner(owners__path(ow, a));
		} else if (!strcmp(q, "pid")) {
			print_owner(owners__pid(ow, atoi(a)));
		} else if (!strcmp(q, "stat")) {
			int err = owners__pid_stat(ow, atoi(a), comm, sizeof(comm), &start);

			if (err)
				printf("error=%d\n", err);
			else
				printf("comm=%s start=%llu\n", comm, (unsigned long long)start);
		} else if (b && !strcmp(q, "is")) {
			printf("%d\n", owners__pid_is(ow, atoi(a), strtoull(b, NULL, 10)));
			i++;
		} else if (b && !strcmp(q, "comm")) {
			puts(owners__str(owners__comm(ow, atoi(a), strtoull(b, NULL, 10))));
			i++;
		} else {
			status = usage();
			break;
		}
	}
	owners__free(ow);
	return status;
}
