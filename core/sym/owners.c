/*
 * Owners: cgroup ids, netns inodes and pids to containers, pods and units (owners.h). Every
 * source is read on a miss, at most once per rescan interval, into a bounded table; a hit is a
 * hash lookup. The runtimes' names come from their own files (owners_files.c).
 */
#include "sym/sym.h"
#include "sym/owners_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"

#define CGROUP_DEPTH 64 /* deeper than any runtime nests; bounds the walk's recursion */

/* --- Bounded tables: u64 keys (never 0), one malloc'd value each, emptied when full. */

void tab_init(struct tab *t, unsigned int max)
{
	t->cap = 16;
	while (t->cap < 2 * max)
		t->cap *= 2;
	t->max = max;
	t->n = 0;
	t->key = xcalloc(t->cap, sizeof(*t->key));
	t->val = xcalloc(t->cap, sizeof(*t->val));
}

void tab_clear(struct tab *t)
{
	for (unsigned int i = 0; i < t->cap; i++) {
		if (t->key[i])
			free(t->val[i]);
		t->key[i] = 0;
		t->val[i] = NULL;
	}
	t->n = 0;
}

void tab_free(struct tab *t)
{
	if (!t->key)
		return;
	tab_clear(t);
	free(t->key);
	free(t->val);
}

static unsigned int tab_slot(const struct tab *t, uint64_t k)
{
	unsigned int i = (unsigned int)((k * 0x9e3779b97f4a7c15ULL) >> 32) & (t->cap - 1);

	while (t->key[i] && t->key[i] != k)
		i = (i + 1) & (t->cap - 1);
	return i;
}

void *tab_get(const struct tab *t, uint64_t k)
{
	unsigned int i = tab_slot(t, k);

	return t->key[i] ? t->val[i] : NULL;
}

int tab_add(struct tab *t, uint64_t k, void *v)
{
	unsigned int i = tab_slot(t, k);

	if (t->key[i]) {
		free(t->val[i]);
	} else {
		if (t->n >= t->max) {
			free(v);
			return -ENOSPC;
		}
		t->n++;
		t->key[i] = k;
	}
	t->val[i] = v;
	return 0;
}

void tab_put(struct owners *ow, struct tab *t, uint64_t k, void *v)
{
	if (tab_get(t, k) || t->n < t->max) {
		tab_add(t, k, v);
		return;
	}
	ow->st.full++;
	tab_clear(t);
	tab_add(t, k, v);
}

uint64_t str_key(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h ? h : 1;
}

/* One allocation: the key, then up to three strings (NULL stays NULL). */
struct ent *ent_new(const char *key, const char *a, const char *b, const char *c)
{
	const char *s[3] = { a, b, c };
	size_t n = sizeof(struct ent) + strlen(key) + 1;
	struct ent *e;
	char *p;

	for (int i = 0; i < 3; i++)
		n += s[i] ? strlen(s[i]) + 1 : 0;
	e = xmalloc(n);
	e->at = 0;
	p = stpcpy(e->key, key) + 1;
	for (int i = 0; i < 3; i++) {
		e->s[i] = s[i] ? p : NULL;
		if (s[i])
			p = stpcpy(p, s[i]) + 1;
	}
	return e;
}

/* The entry under key's hash, when it is key's (two keys sharing a hash: a miss, not a guess). */
const struct ent *ent_get(const struct tab *t, const char *key)
{
	const struct ent *e = tab_get(t, str_key(key));

	return e && !strcmp(e->key, key) ? e : NULL;
}

/* --- Time and warnings */

uint64_t owners_now_ms(void)
{
	return now_ns(CLOCK_MONOTONIC) / 1000000;
}

int due(struct owners *ow, uint64_t *last)
{
	uint64_t now = owners_now_ms();

	if (*last && now - *last < ow->rescan_ms) {
		ow->st.limited++;
		return 0;
	}
	*last = now ? now : 1;
	return 1;
}

void owners_warn(struct owners *ow, const char *fmt, ...)
{
	char line[512];
	size_t n = ow->warnings ? strlen(ow->warnings) : 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ow->warnings = xrealloc(ow->warnings, n + strlen(line) + 2);
	strcpy(ow->warnings + n, line);
	strcat(ow->warnings + n, "\n");
	if (ow->warn)
		ow->warn(line);
	else
		msg("%s", line);
}

const char *owners__warnings(const struct owners *ow)
{
	return ow->warnings;
}

void owners__stats(const struct owners *ow, struct owners_stats *st)
{
	*st = ow->st;
}

/* --- The cgroup2 mount, and the walk of its tree: each directory's inode is its cgroup id. */

/* mountinfo's octal escapes (\040 for a space) undone in place. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* The first cgroup2 mount: its mount point, and its root (not "/" inside a cgroup namespace). */
static int find_cgroup2(const char *mountinfo, char **point, char **root)
{
	char *text = read_file(mountinfo, 1 << 22, NULL), *line, *save = NULL;
	int err = -ENOENT;

	if (!text)
		return -errno;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sep = strstr(line, " - "), *f[5], *s2 = NULL, *p = line;
		int i;

		if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
			continue;
		*sep = '\0';
		for (i = 0; i < 5 && (f[i] = strtok_r(p, " ", &s2)); i++)
			p = NULL;
		if (i < 5)
			continue;
		unescape(f[3]);
		unescape(f[4]);
		*root = xstrdup(strcmp(f[3], "/") ? f[3] : "");
		*point = xstrdup(f[4]);
		err = 0;
		break;
	}
	free(text);
	return err;
}

/* path holds the directory's path (len bytes); dfd is open on it. Adds it and what is below. */
static void walk_dir(struct owners *ow, int dfd, char *path, size_t len, int depth, int *full)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;

	if (!d) {
		close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		struct stat st;
		size_t n = strlen(de->d_name);
		int fd;

		if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		if (len + 1 + n >= PATH_MAX ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISDIR(st.st_mode))
			continue;
		path[len] = '/';
		memcpy(path + len + 1, de->d_name, n + 1);
		if (!tab_get(&ow->cgroups, st.st_ino) &&
		    tab_add(&ow->cgroups, st.st_ino, xstrdup(path)) == -ENOSPC)
			*full = 1;
		if (depth < CGROUP_DEPTH &&
		    (fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
			walk_dir(ow, fd, path, len + 1 + n, depth + 1, full);
		path[len] = '\0';
	}
	closedir(d);
}

static void walk_cgroups(struct owners *ow)
{
	char path[PATH_MAX];
	struct stat st;
	int fd, full = 0;

	if (!ow->cgroup_root)
		return;
	ow->st.cgroup_walks++;
	if (ow->cgroups.n >= ow->cgroups.max) {
		ow->st.full++;
		tab_clear(&ow->cgroups);
	}
	fd = open(ow->cgroup_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (!fstat(fd, &st) && !tab_get(&ow->cgroups, st.st_ino))
		tab_add(&ow->cgroups, st.st_ino,
			xstrdup(ow->cgroup_prefix[0] ? ow->cgroup_prefix : "/"));
	snprintf(path, sizeof(path), "%s", ow->cgroup_prefix);
	walk_dir(ow, fd, path, strlen(path), 0, &full);
	if (full)
		ow->st.full++;
}

/* --- A process's cgroup, and the netns scan */

/*
 * The line of /proc/PID/cgroup that tells most: the v2 one ("0::/path"); on a hybrid host whose
 * v2 line tells nothing, name=systemd's, then the v1 controllers' in order. Into path.
 */
static int pid_cgroup(struct owners *ow, int pid, char *path, size_t len)
{
	char file[PATH_MAX], *text, *line, *save = NULL, *v2 = NULL, *sd = NULL, *best = NULL;
	struct owner_ids ids;
	int err = 0;

	snprintf(file, sizeof(file), "%s/%d/cgroup", ow->proc, pid);
	text = read_file(file, 1 << 16, NULL);
	if (!text)
		return -errno;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *p = strchr(line, ':'), *q = p ? strchr(p + 1, ':') : NULL;

		if (!q || q[1] != '/')
			continue;
		if (!strncmp(line, "0::", 3))
			v2 = q + 1;
		else if (!strncmp(p + 1, "name=systemd:", 13))
			sd = q + 1;
		else if (!best && owners__parse_path(q + 1, &ids))
			best = q + 1;
	}
	if (v2 && owners__parse_path(v2, &ids))
		best = v2;
	else if (sd && owners__parse_path(sd, &ids))
		best = sd;
	else if (!best)
		best = v2 ? v2 : sd;
	if (best)
		snprintf(path, len, "%s", best);
	else
		err = -ENOENT;
	free(text);
	return err;
}

/* a cut to the components it shares with b ("/" when none). */
static void common_prefix(char *a, const char *b)
{
	size_t i, cut = 0;

	for (i = 0;; i++) {
		int ea = !a[i] || a[i] == '/', eb = !b[i] || b[i] == '/';

		if (ea && eb) {
			cut = i;
			if (!a[i] || !b[i])
				break;
		}
		if (a[i] != b[i])
			break;
	}
	a[cut ? cut : 1] = '\0';
}

/*
 * A namespace's answer: the cgroup path its processes share ("": none in it), and one of them
 * (pid and start time), by which a later scan that may not look (--user) still knows it is there.
 */
struct ns_ent {
	int pid;
	uint64_t start;
	char path[];
};

static struct ns_ent *ns_new(int pid, const char *path)
{
	struct ns_ent *e = xmalloc(sizeof(*e) + strlen(path) + 1);

	e->pid = pid;
	e->start = 0;
	strcpy(e->path, path);
	return e;
}

/*
 * A scan that could not read some processes' namespaces keeps the last scan's answers it did
 * not see again, each while the process it was had from is alive (the same pid and start time):
 * a process leaves its namespace only by setns(2), which no container's processes do. Under
 * --user this is what was seen as root (owners__prime) for as long as it holds.
 */
static void keep_unseen(struct owners *ow, struct tab *old)
{
	for (unsigned int i = 0; i < old->cap; i++) {
		struct ns_ent *e = old->val[i];

		if (!old->key[i] || !e->pid || tab_get(&ow->netns, old->key[i]) ||
		    !owners__pid_is(ow, e->pid, e->start))
			continue;
		if (tab_add(&ow->netns, old->key[i], e) == -ENOSPC)
			return; /* e freed */
		old->key[i] = 0;
		old->val[i] = NULL;
		old->n--;
	}
}

/* Every process's netns: the cgroup path its processes share, one table for all namespaces. */
static void scan_netns(struct owners *ow)
{
	DIR *d = opendir(ow->proc);
	struct dirent *de;
	unsigned int denied = 0, full = 0;
	struct tab old = ow->netns;

	ow->st.netns_scans++;
	tab_init(&ow->netns, old.max);
	ow->netns_at = owners_now_ms();
	if (!d)
		goto out;
	while ((de = readdir(d))) {
		char file[PATH_MAX], link[64], path[PATH_MAX], *end;
		unsigned long long ino;
		long pid = strtol(de->d_name, &end, 10);
		struct ns_ent *have;
		ssize_t n;

		if (*end || pid <= 0)
			continue;
		snprintf(file, sizeof(file), "%s/%ld/ns/net", ow->proc, pid);
		n = readlink(file, link, sizeof(link) - 1);
		if (n <= 0) {
			denied += errno == EACCES || errno == EPERM;
			continue;
		}
		link[n] = '\0';
		if (sscanf(link, "net:[%llu]", &ino) != 1 || !ino)
			continue;
		have = tab_get(&ow->netns, ino);
		if (have && !strcmp(have->path, "/"))
			continue;
		if (pid_cgroup(ow, (int)pid, path, sizeof(path)))
			continue;
		if (have) {
			common_prefix(have->path, path);
			continue;
		}
		have = ns_new((int)pid, path);
		if (owners__pid_stat(ow, (int)pid, NULL, 0, &have->start))
			have->pid = 0;
		if (tab_add(&ow->netns, ino, have) == -ENOSPC)
			full = 1;
	}
	closedir(d);
	ow->st.full += full;
	if (denied && !ow->denied_warned) {
		ow->denied_warned = 1;
		owners_warn(ow,
			    "%u processes' %s/PID/ns/net unreadable (no ptrace access: "
			    "CAP_SYS_PTRACE): their network namespaces' owners unknown (-)",
			    denied, ow->proc);
	}
out:
	if (denied || !d)
		keep_unseen(ow, &old);
	tab_free(&old);
}

/* --- The object */

static const char *or_default(const char *s, const char *def)
{
	return s && *s ? s : def;
}

static const char *env(const char *name)
{
	const char *s = getenv(name);

	return s && *s ? s : NULL;
}

void owners_opts__env(struct owners_opts *o)
{
	o->podman_root = env("TCPDROP_PODMAN_ROOT");
	o->docker_root = env("TCPDROP_DOCKER_ROOT");
	o->kubelet_logs = env("TCPDROP_KUBELET_LOGS");
}

static void check_root(struct owners *ow, const char *root, const char *what, int *absent)
{
	if (!faccessat(AT_FDCWD, root, R_OK | X_OK, AT_EACCESS))
		return;
	if (errno == ENOENT) {
		*absent = 1;
		return;
	}
	owners_warn(ow, "%s: %s: %s names unknown (-)", root, strerror(errno), what);
}

struct owners *owners__new(const struct owners_opts *opts)
{
	static const struct owners_opts none;
	const struct owners_opts *o = opts ? opts : &none;
	struct owners *ow = xcalloc(1, sizeof(*ow));
	unsigned int max = o->max_entries ? o->max_entries : 4096;
	char file[PATH_MAX];

	ow->proc = xstrdup(or_default(o->proc, "/proc"));
	ow->podman_root = xstrdup(or_default(o->podman_root, "/var/lib/containers/storage"));
	ow->docker_root = xstrdup(or_default(o->docker_root, "/var/lib/docker"));
	ow->kubelet_logs = xstrdup(or_default(o->kubelet_logs, "/var/log/containers"));
	ow->rescan_ms = o->rescan_ms ? o->rescan_ms : 1000;
	ow->netns_ttl_ms = o->netns_ttl_ms ? o->netns_ttl_ms : 5000;
	ow->warn = o->warn;
	tab_init(&ow->cgroups, max);
	tab_init(&ow->paths, max);
	tab_init(&ow->netns, max);
	tab_init(&ow->comms, max);
	files_init(ow, max);

	if (o->cgroup_root && *o->cgroup_root) {
		ow->cgroup_root = xstrdup(o->cgroup_root);
		ow->cgroup_prefix = xstrdup("");
	} else {
		snprintf(file, sizeof(file), "%s/self/mountinfo", ow->proc);
		if (find_cgroup2(or_default(o->mountinfo, file), &ow->cgroup_root,
				 &ow->cgroup_prefix))
			owners_warn(ow, "no cgroup2 mount in %s: cgroups unknown (-)",
				    or_default(o->mountinfo, file));
	}

	/*
	 * pid 1 is always there: not seen, or its cgroup file unreadable (which needs no ptrace
	 * access), /proc is mounted hidepid. Namespaces unreadable for want of ptrace access are
	 * told by the first scan, which sees how many.
	 */
	snprintf(file, sizeof(file), "%s/1/cgroup", ow->proc);
	if (access(file, R_OK))
		owners_warn(ow,
			    "%s hides other users' processes (hidepid): network namespaces' "
			    "owners unknown (-)",
			    ow->proc);
	check_root(ow, ow->podman_root, "podman", &ow->absent[RT_PODMAN]);
	check_root(ow, ow->docker_root, "docker", &ow->absent[RT_DOCKER]);
	check_root(ow, ow->kubelet_logs, "Kubernetes pod and container", &ow->absent[RT_KUBE]);
	return ow;
}

void owners__free(struct owners *ow)
{
	if (!ow)
		return;
	tab_free(&ow->cgroups);
	tab_free(&ow->paths);
	tab_free(&ow->netns);
	tab_free(&ow->comms);
	files_free(ow);
	free(ow->proc);
	free(ow->podman_root);
	free(ow->docker_root);
	free(ow->kubelet_logs);
	free(ow->cgroup_root);
	free(ow->cgroup_prefix);
	free(ow->warnings);
	free(ow);
}

/* --- Lookups */

struct path_ent {
	struct owner o;
	uint64_t at; /* when resolved, ms */
	int partial; /* a name was not found: looked up again after the rescan interval */
	char buf[];
};

static struct path_ent *resolve(struct owners *ow, const char *path)
{
	struct owner_ids ids;
	struct names nm;
	const char *s[7];
	const char **f[7];
	struct path_ent *e;
	size_t n = 0;
	char *p;

	memset(&nm, 0, sizeof(nm));
	owners__parse_path(path, &ids);
	files_names(ow, &ids, &nm);
	s[0] = path, s[1] = ids.runtime, s[2] = ids.id, s[3] = nm.name;
	s[4] = ids.pod_uid, s[5] = nm.pod, s[6] = nm.namespace;
	for (int i = 0; i < 7; i++)
		n += strlen(s[i]) + 1;
	e = xmalloc(sizeof(*e) + n);
	f[0] = &e->o.cgroup, f[1] = &e->o.runtime, f[2] = &e->o.id, f[3] = &e->o.name;
	f[4] = &e->o.pod_uid, f[5] = &e->o.pod, f[6] = &e->o.namespace;
	p = e->buf;
	for (int i = 0; i < 7; i++) {
		*f[i] = *s[i] ? p : NULL;
		p = stpcpy(p, s[i]) + 1;
	}
	e->at = owners_now_ms();
	e->partial = (e->o.id && !e->o.name) || (e->o.pod_uid && !e->o.pod);
	return e;
}

const struct owner *owners__path(struct owners *ow, const char *path)
{
	uint64_t k;
	struct path_ent *e;

	if (!path)
		return NULL;
	k = str_key(path);
	e = tab_get(&ow->paths, k);
	if (e && !strcmp(e->o.cgroup, path) &&
	    (!e->partial || owners_now_ms() - e->at < ow->rescan_ms))
		return &e->o;
	e = resolve(ow, path);
	tab_put(ow, &ow->paths, k, e);
	return &e->o;
}

const struct owner *owners__cgroup(struct owners *ow, uint64_t cgroup_id)
{
	const char *path = cgroup_id ? tab_get(&ow->cgroups, cgroup_id) : NULL;

	if (!path && cgroup_id && due(ow, &ow->walk_at)) {
		walk_cgroups(ow);
		path = tab_get(&ow->cgroups, cgroup_id);
	}
	return path ? owners__path(ow, path) : NULL;
}

const struct owner *owners__netns(struct owners *ow, uint64_t netns_ino)
{
	const struct ns_ent *e;

	if (!netns_ino)
		return NULL;
	e = owners_now_ms() - ow->netns_at < ow->netns_ttl_ms ? tab_get(&ow->netns, netns_ino)
							      : NULL;
	if (!e && due(ow, &ow->scan_at)) {
		scan_netns(ow);
		e = tab_get(&ow->netns, netns_ino);
		/*
		 * No process in it (a namespace kept by a bind mount): "" says so until the next
		 * scan, not one scan a second while its drops come.
		 */
		if (!e && tab_add(&ow->netns, netns_ino, ns_new(0, "")) == -ENOSPC)
			ow->st.full++;
	}
	return e && *e->path ? owners__path(ow, e->path) : NULL;
}

int owners__answer(struct owners *ow, uint64_t cgroup_id, uint64_t netns_ino, const char **out)
{
	const struct owner *o =
		cgroup_id ? owners__cgroup(ow, cgroup_id) : owners__netns(ow, netns_ino);

	memset(out, 0, NAMES__OWNER_FIELDS * sizeof(*out));
	if (!o)
		return 0;
	out[0] = cgroup_id ? o->cgroup : NULL;
	out[1] = o->name;
	out[2] = o->id;
	out[3] = o->runtime;
	out[4] = o->pod;
	out[5] = o->namespace;
	out[6] = o->pod_uid;
	return 1;
}

void owners__prime(struct owners *ow)
{
	walk_cgroups(ow);
	ow->walk_at = owners_now_ms();
	for (unsigned int i = 0; i < ow->cgroups.cap; i++)
		if (ow->cgroups.key[i])
			owners__path(ow, ow->cgroups.val[i]);
	scan_netns(ow);
	ow->scan_at = owners_now_ms();
	for (unsigned int i = 0; i < ow->netns.cap; i++) {
		const struct ns_ent *e = ow->netns.val[i];

		if (ow->netns.key[i] && *e->path)
			owners__path(ow, e->path);
	}
}

const struct owner *owners__pid(struct owners *ow, int pid)
{
	char path[PATH_MAX];

	return pid > 0 && !pid_cgroup(ow, pid, path, sizeof(path)) ? owners__path(ow, path) : NULL;
}

/* --- --container, --pod: from names to ids */

int owners__matches(const struct owner *o, const struct owner_match *m)
{
	if (!o)
		return 0;
	if (m->container) {
		size_t n = strlen(m->container);

		if (o->name && !strcmp(o->name, m->container))
			return 1;
		/* A short id as docker ps and podman ps print it: 12 digits or more. */
		return o->id && n >= 12 && !strncmp(o->id, m->container, n);
	}
	if (m->pod)
		return o->pod && !strcmp(o->pod, m->pod) &&
		       (!m->namespace || (o->namespace && !strcmp(o->namespace, m->namespace)));
	return 0;
}

int owners__find(struct owners *ow, const struct owner_match *m, struct owner_found *found,
		 unsigned int max)
{
	unsigned int n = 0;
	int over = 0;

	walk_cgroups(ow);
	ow->walk_at = owners_now_ms();
	for (unsigned int i = 0; i < ow->cgroups.cap; i++) {
		if (!ow->cgroups.key[i] ||
		    !owners__matches(owners__path(ow, ow->cgroups.val[i]), m))
			continue;
		if (n == max) {
			over = 1;
			break;
		}
		found[n++] = (struct owner_found){ .id = ow->cgroups.key[i], .netns = 0 };
	}
	scan_netns(ow);
	ow->scan_at = owners_now_ms();
	for (unsigned int i = 0; i < ow->netns.cap; i++) {
		const struct ns_ent *e = ow->netns.val[i];

		if (!ow->netns.key[i] || !*e->path ||
		    !owners__matches(owners__path(ow, e->path), m))
			continue;
		if (n == max) {
			over = 1;
			break;
		}
		found[n++] = (struct owner_found){ .id = ow->netns.key[i], .netns = 1 };
	}
	return over ? -ENOSPC : (int)n;
}

/* --- Processes: comm and start time, to tell a reused pid */

int owners__pid_stat(struct owners *ow, int pid, char *comm, unsigned int len, uint64_t *start)
{
	char file[PATH_MAX], buf[1024], *lp, *rp, *p;
	unsigned long long st = 0;
	ssize_t n;
	int fd, i;

	if (pid <= 0)
		return -ENOENT;
	snprintf(file, sizeof(file), "%s/%d/stat", ow->proc, pid);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -ENOENT;
	buf[n] = '\0';
	/* "pid (comm) state ...": comm may hold spaces and parentheses; the last ')' ends it. */
	lp = strchr(buf, '(');
	rp = strrchr(buf, ')');
	if (!lp || !rp || rp < lp)
		return -EINVAL;
	p = rp + 1;
	for (i = 3; i < 22 && p; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p, " %llu", &st) != 1)
		return -EINVAL;
	if (comm && len) {
		size_t cl = (size_t)(rp - lp - 1);

		if (cl >= len)
			cl = len - 1;
		memcpy(comm, lp + 1, cl);
		comm[cl] = '\0';
	}
	if (start)
		*start = st;
	return 0;
}

int owners__pid_is(struct owners *ow, int pid, uint64_t start)
{
	uint64_t st;

	return !owners__pid_stat(ow, pid, NULL, 0, &st) && st == start;
}

struct comm_ent {
	int pid;
	uint64_t start;
	char comm[32]; /* "" once the process is gone: it cannot come back */
};

const char *owners__comm(struct owners *ow, int pid, uint64_t start)
{
	uint64_t k = ((uint64_t)(unsigned int)pid << 40 ^ start) * 0x9e3779b97f4a7c15ULL;
	struct comm_ent *e;
	uint64_t st;

	k = k ? k : 1;
	e = tab_get(&ow->comms, k);
	if (!e || e->pid != pid || e->start != start) {
		e = xcalloc(1, sizeof(*e));
		e->pid = pid;
		e->start = start;
		if (owners__pid_stat(ow, pid, e->comm, sizeof(e->comm), &st) || st != start)
			e->comm[0] = '\0';
		tab_put(ow, &ow->comms, k, e);
	}
	return e->comm[0] ? e->comm : NULL;
}
