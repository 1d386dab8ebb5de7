/* Private to owners.c and owners_files.c: the object, its bounded tables, the name sources. */
#ifndef TCPDROP_SYM_OWNERS_INT_H
#define TCPDROP_SYM_OWNERS_INT_H

#include <stdint.h>

#include "sym/sym.h"

/* u64 keys (never 0) to one malloc'd value each; at most max entries. */
struct tab {
	uint64_t *key;
	void **val;
	unsigned int cap, n, max;
};

enum { RT_PODMAN, RT_DOCKER, RT_KUBE, RT_N };

struct owners {
	char *proc, *podman_root, *docker_root, *kubelet_logs;
	char *cgroup_root; /* NULL: no cgroup2 mount */
	char *cgroup_prefix; /* the mount's root in the hierarchy ("" for "/") */
	unsigned int rescan_ms, netns_ttl_ms;
	void (*warn)(const char *line);
	char *warnings;
	int absent[RT_N], warned[RT_N]; /* a runtime's root absent at start; warned once met */
	int denied_warned;
	struct tab cgroups; /* cgroup id -> path */
	struct tab paths; /* hash of a path -> struct path_ent */
	struct tab netns; /* netns inode -> the path its processes share; "": none in it */
	struct tab comms; /* (pid, start) -> struct comm_ent */
	struct tab podman, docker; /* hash of an id -> struct ent: name */
	struct tab kube_ctr; /* hash of an id -> struct ent: pod, namespace, container */
	struct tab kube_pod; /* hash of a pod uid -> struct ent: pod, namespace */
	uint64_t walk_at, scan_at, netns_at, podman_at, kube_at; /* ms */
	int64_t podman_mtime, kube_mtime; /* what the last read saw (ns) */
	struct owners_stats st;
};

/* A string key and up to three strings after it, in one allocation. */
struct ent {
	uint64_t at; /* ms: when a negative answer was had */
	const char *s[3];
	char key[];
};

/* Names found for a path's ids ("" when not). */
struct names {
	char name[256], pod[256], namespace[256];
};

void tab_init(struct tab *t, unsigned int max);
void tab_clear(struct tab *t);
void tab_free(struct tab *t);
void *tab_get(const struct tab *t, uint64_t k);
/* Add or replace; -ENOSPC (v freed) when full. */
int tab_add(struct tab *t, uint64_t k, void *v);
/* Add or replace; a full table is emptied first (and counted). */
void tab_put(struct owners *ow, struct tab *t, uint64_t k, void *v);
uint64_t str_key(const char *s);
struct ent *ent_new(const char *key, const char *a, const char *b, const char *c);
const struct ent *ent_get(const struct tab *t, const char *key);

uint64_t owners_now_ms(void);
/* 1 (and *last set to now) when the last rescan is at least the rescan interval ago. */
int due(struct owners *ow, uint64_t *last);
void owners_warn(struct owners *ow, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void files_init(struct owners *ow, unsigned int max);
void files_free(struct owners *ow);
/* The names the runtimes' files give to ids; each source reread on a miss, rate-limited. */
void files_names(struct owners *ow, const struct owner_ids *ids, struct names *nm);

#endif
