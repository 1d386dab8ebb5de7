/*
 * Who was hurt: cgroup ids, network namespaces and pids to the container, pod or unit they belong
 * to, resolved in user space from what the kernel and the runtimes keep on disk (no daemon, no
 * API). Lazily, cached, rescanned on a miss at most once per rescan interval, never per event;
 * every cache bounded. What cannot be told is NULL (printed "-"), never a guess. Not thread-safe:
 * one struct owners per thread.
 * (Private to core/sym until the lead moves it into sym.h.)
 */
#ifndef TCPDROP_SYM_OWNERS_H
#define TCPDROP_SYM_OWNERS_H

#include <stdint.h>

/* Where to look; NULL or 0 takes the default (the real places), so tests can lay out a tree. */
struct owners_opts {
	const char *proc; /* "/proc" */
	const char *mountinfo; /* "<proc>/self/mountinfo": where the cgroup2 mount is found */
	const char *cgroup_root; /* the cgroup2 mount from mountinfo: /sys/fs/cgroup(/unified) */
	const char
		*podman_root; /* "/var/lib/containers/storage" (its *-containers/containers.json) */
	const char *docker_root; /* "/var/lib/docker" (its containers/<id>/config.v2.json) */
	const char
		*kubelet_logs; /* "/var/log/containers" (<pod>_<namespace>_<container>-<id>.log) */
	unsigned int max_entries; /* per cache, 4096; a full cache is emptied and counted */
	unsigned int rescan_ms; /* least time between two rescans of one source on misses, 1000 */
	unsigned int netns_ttl_ms; /* a netns answer older than this is rescanned (inodes are
				     reused once a namespace is gone), 5000 */
	/* Each warning once (no "tcpdrop: " and no newline); NULL: msg(). */
	void (*warn)(const char *line);
};

/* Every string NULL when not known; valid until the next call on the same struct owners. */
struct owner {
	const char *cgroup; /* the cgroup v2 path from the hierarchy's root: "/kubepods/..." */
	const char *runtime; /* "docker", "podman", "containerd", "cri-o", "systemd" */
	const char *id; /* the container's full id (64 hex digits) */
	const char *name; /* the container's name (Kubernetes': its name in the pod), or the unit */
	const char *pod_uid; /* the Kubernetes pod's uid, with dashes */
	const char *pod; /* the pod's name and namespace, from the kubelet's log links */
	const char *namespace;
};

/* What a cgroup path alone tells, by the runtimes' naming conventions ("" when not told). */
struct owner_ids {
	char runtime[16]; /* "" with an id: a bare id under a pod (cgroupfs), runtime not told */
	char id[65];
	char pod_uid[37];
	char unit[256]; /* the deepest "*.service" component */
};

struct owners_stats {
	uint64_t cgroup_walks; /* walks of the cgroup2 tree */
	uint64_t netns_scans; /* scans of /proc's processes */
	uint64_t name_loads; /* reads of the runtimes' files (containers.json, config.v2.json,
				links) */
	uint64_t limited; /* misses answered NULL without a rescan: the last was too recent */
	uint64_t full; /* caches emptied because they reached max_entries */
};

struct owners;

/*
 * Never fails (reads nothing but mountinfo and a few stats). What will keep names unknown is
 * warned here, once: no cgroup2 mount, /proc hidden (hidepid) or other processes' namespaces
 * unreadable, a runtime's root unreadable. A runtime's absent root is warned the first time one
 * of its containers is met. opts may be NULL.
 */
struct owners *owners__new(const struct owners_opts *opts);
void owners__free(struct owners *ow);
/* Every warning given so far, one per line; NULL when none. */
const char *owners__warnings(const struct owners *ow);
void owners__stats(const struct owners *ow, struct owners_stats *st);

/*
 * A cgroup id (bpf_get_current_cgroup_id(), bpf_sk_cgroup_id(): the cgroup2 directory's inode)
 * to its owner; NULL when the id is not (or no longer) in the hierarchy.
 */
const struct owner *owners__cgroup(struct owners *ow, uint64_t cgroup_id);
/* A cgroup path (from the hierarchy's root) to its owner; NULL only when path is NULL. */
const struct owner *owners__path(struct owners *ow, const char *path);
/*
 * A network namespace's inode to the container or pod whose processes are in it: the container
 * when they all are in one, the pod when they all are in one pod, else nothing told (the host's
 * namespace). NULL when no process readable here is in it. Answers are kept netns_ttl_ms.
 */
const struct owner *owners__netns(struct owners *ow, uint64_t netns_ino);
/* A process's owner, from /proc/PID/cgroup (reads it at each call: not for every event). */
const struct owner *owners__pid(struct owners *ow, int pid);

/*
 * /proc/PID/stat: comm (into comm, len bytes with the NUL) and start, field 22 (the start time
 * in clock ticks since boot, which is task->start_boottime / (1e9 / sysconf(_SC_CLK_TCK))).
 * 0, -ENOENT when there is no such process, else -errno.
 */
int owners__pid_stat(struct owners *ow, int pid, char *comm, unsigned int len, uint64_t *start);
/* 1: pid is still the process that started at start; 0: it is gone, or the pid was reused. */
int owners__pid_is(struct owners *ow, int pid, uint64_t start);
/* The comm of the process pid that started at start, cached; NULL when gone or reused. */
const char *owners__comm(struct owners *ow, int pid, uint64_t start);

/* Parse a cgroup path's components (pure; for tests too). 1 when anything was told, else 0. */
int owners__parse_path(const char *path, struct owner_ids *ids);

/* s, or "-" for an unknown. */
static inline const char *owners__str(const char *s)
{
	return s ? s : "-";
}

#endif
