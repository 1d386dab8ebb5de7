/*
 * The kernel's MIB counters per network namespace, and the coverage table beside traced drops.
 *
 * A namespace's /proc/net files are opened once, from inside it (setns on this thread only,
 * through /proc/thread-self so that the process's other threads do not count), and kept: a seq
 * file read again from offset 0 gives fresh values, from the namespace it was opened in, whoever
 * the process has become since (--user drops root after start).
 */
#define _GNU_SOURCE /* setns */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kernel/kernel.h"
#include "sym/sym.h"
#include "util/util.h"

#define MAX_COUNTERS 4096 /* names kept; a few hundred exist today */
#define MAX_NAME 96
#define MAX_FILE (1u << 20)
#define RETRY_NS 1000000000ull
#define SWEEP_NS (5 * RETRY_NS)

enum { F_NETSTAT, F_SNMP, F_SNMP6, N_FILES };
static const char *const file_names[N_FILES] = { "netstat", "snmp", "snmp6" };

enum { SEEN = 1 };

struct mib_nsent {
	uint64_t ino;
	int fds[N_FILES];
	int open, err;
	int dir; /* read from a directory (tests): never looked up */
	int gone; /* its last process went: files closed, the last values kept */
	int found; /* seen by the current sweep */
	char *via;
	uint64_t since_ns, next_try_ns;
	unsigned int tries;
	uint64_t *start, *now;
	uint8_t *flags;
	size_t cap; /* counters the three arrays have room for */
};

struct mib {
	struct mib_nsent *ns;
	size_t n_ns, max_ns;
	uint32_t *ns_hash; /* index + 1 by inode, open addressing */
	size_t ns_hash_mask;
	uint64_t overflow, born_ns, next_sweep_ns;
	char **names;
	size_t n_names;
	uint32_t *name_hash; /* id + 1 by name */
	size_t name_hash_mask;
	char *buf;
	size_t buf_cap;
};

static uint64_t mono_ns(void)
{
	return now_ns(CLOCK_MONOTONIC);
}

static size_t pow2_above(size_t n)
{
	size_t p = 16;

	while (p < 2 * n)
		p <<= 1;
	return p;
}

struct mib *mib__new(unsigned int max_ns)
{
	struct mib *m = xcalloc(1, sizeof(*m));

	m->max_ns = max_ns ? max_ns : MIB_MAX_NS;
	m->ns = xcalloc(m->max_ns, sizeof(*m->ns));
	m->ns_hash_mask = pow2_above(m->max_ns) - 1;
	m->ns_hash = xcalloc(m->ns_hash_mask + 1, sizeof(*m->ns_hash));
	m->name_hash_mask = pow2_above(MAX_COUNTERS) - 1;
	m->name_hash = xcalloc(m->name_hash_mask + 1, sizeof(*m->name_hash));
	m->names = xcalloc(MAX_COUNTERS, sizeof(*m->names));
	m->born_ns = mono_ns();
	return m;
}

void mib__free(struct mib *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_ns; i++) {
		struct mib_nsent *e = &m->ns[i];

		for (int f = 0; f < N_FILES; f++)
			if (e->fds[f] >= 0)
				close(e->fds[f]);
		free(e->via);
		free(e->start);
		free(e->now);
		free(e->flags);
	}
	for (size_t i = 0; i < m->n_names; i++)
		free(m->names[i]);
	free(m->names);
	free(m->name_hash);
	free(m->ns_hash);
	free(m->ns);
	free(m->buf);
	free(m);
}

/* --- Names: one id per counter name, shared by every namespace. */

/* The id of a name (len bytes), added when new; -1 when the table is full. */
static long name_id(struct mib *m, const char *s, size_t len, int add)
{
	size_t h = fnv1a32(s, len) & m->name_hash_mask;

	for (;; h = (h + 1) & m->name_hash_mask) {
		uint32_t v = m->name_hash[h];

		if (!v)
			break;
		if (!strncmp(m->names[v - 1], s, len) && !m->names[v - 1][len])
			return (long)v - 1;
	}
	if (!add || m->n_names >= MAX_COUNTERS)
		return -1;
	m->names[m->n_names] = xmalloc(len + 1);
	memcpy(m->names[m->n_names], s, len);
	m->names[m->n_names][len] = '\0';
	m->name_hash[h] = (uint32_t)++m->n_names;
	return (long)m->n_names - 1;
}

static void record(struct mib_nsent *e, size_t id, uint64_t v)
{
	if (id >= e->cap) {
		size_t cap = e->cap ? e->cap : 256;

		while (cap <= id)
			cap *= 2;
		e->start = xrealloc(e->start, cap * sizeof(*e->start));
		e->now = xrealloc(e->now, cap * sizeof(*e->now));
		e->flags = xrealloc(e->flags, cap);
		memset(e->flags + e->cap, 0, cap - e->cap);
		e->cap = cap;
	}
	if (!(e->flags[id] & SEEN)) {
		e->flags[id] |= SEEN;
		e->start[id] = v;
	}
	e->now[id] = v;
}

/* --- Parsing: "Group: Name Name" then "Group: 1 2" (netstat, snmp), or "Name value" (snmp6). */

static const char *line_end(const char *p)
{
	const char *nl = strchr(p, '\n');

	return nl ? nl : p + strlen(p);
}

static const char *skip_blanks(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

static const char *word_end(const char *p, const char *end)
{
	while (p < end && *p != ' ' && *p != '\t')
		p++;
	return p;
}

/* A decimal value; a negative one (Tcp MaxConn is -1) as its two's complement, as nstat reads. */
static int parse_value(const char *p, const char *end, uint64_t *v)
{
	int neg = p < end && *p == '-';
	uint64_t x = 0;

	if (neg)
		p++;
	if (p == end)
		return -EINVAL;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	*v = neg ? -x : x;
	return 0;
}

static void add_counter(struct mib *m, struct mib_nsent *e, const char *group, size_t glen,
			const char *name, size_t nlen, uint64_t v)
{
	char full[MAX_NAME];
	long id;

	if (glen + nlen >= sizeof(full))
		return;
	memcpy(full, group, glen);
	memcpy(full + glen, name, nlen);
	id = name_id(m, full, glen + nlen, 1);
	if (id >= 0)
		record(e, (size_t)id, v);
}

/* A names line and the values line under it, the same group before their colon. */
static void parse_pair(struct mib *m, struct mib_nsent *e, const char *h, const char *he,
		       const char *v, const char *ve, size_t glen)
{
	const char *hp = skip_blanks(h + glen + 1, he), *vp = skip_blanks(v + glen + 1, ve);

	while (hp < he && vp < ve) {
		const char *hw = word_end(hp, he), *vw = word_end(vp, ve);
		uint64_t x;

		if (!parse_value(vp, vw, &x))
			add_counter(m, e, h, glen, hp, (size_t)(hw - hp), x);
		hp = skip_blanks(hw, he);
		vp = skip_blanks(vw, ve);
	}
}

static void parse_rows(struct mib *m, struct mib_nsent *e, const char *text)
{
	const char *h = text;

	while (*h) {
		const char *he = line_end(h), *colon = memchr(h, ':', (size_t)(he - h));
		const char *v = *he ? he + 1 : he, *ve = line_end(v);
		size_t glen;

		if (!colon) {
			h = v;
			continue;
		}
		glen = (size_t)(colon - h);
		/* Out of step (a names line without its values): start again at the next line. */
		if ((size_t)(ve - v) <= glen || memcmp(v, h, glen) || v[glen] != ':') {
			h = v;
			continue;
		}
		parse_pair(m, e, h, he, v, ve, glen);
		h = *ve ? ve + 1 : ve;
	}
}

static void parse_flat(struct mib *m, struct mib_nsent *e, const char *text)
{
	for (const char *p = text; *p;) {
		const char *end = line_end(p), *n = skip_blanks(p, end), *ne = word_end(n, end);
		const char *v = skip_blanks(ne, end);
		uint64_t x;

		while (end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			end--;
		if (ne > n && !parse_value(v, word_end(v, end), &x) && word_end(v, end) == end)
			add_counter(m, e, "", 0, n, (size_t)(ne - n), x);
		p = *line_end(p) ? line_end(p) + 1 : line_end(p);
	}
}

/* --- Reading: a kept file, again from its start. */

static int read_all(struct mib *m, int fd)
{
	size_t len = 0;

	if (!m->buf) {
		m->buf_cap = 16384;
		m->buf = xmalloc(m->buf_cap);
	}
	for (;;) {
		ssize_t n;

		if (len + 1 >= m->buf_cap) {
			if (m->buf_cap >= MAX_FILE)
				return -EFBIG;
			m->buf_cap *= 2;
			m->buf = xrealloc(m->buf, m->buf_cap);
		}
		n = pread(fd, m->buf + len, m->buf_cap - 1 - len, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			break;
		len += (size_t)n;
	}
	m->buf[len] = '\0';
	return 0;
}

static int read_ns(struct mib *m, struct mib_nsent *e)
{
	int ret = 0;

	for (int f = 0; f < N_FILES; f++) {
		int err;

		if (e->fds[f] < 0)
			continue;
		err = read_all(m, e->fds[f]);
		if (err) {
			ret = ret ? ret : err;
			continue;
		}
		if (f == F_SNMP6)
			parse_flat(m, e, m->buf);
		else
			parse_rows(m, e, m->buf);
	}
	return ret;
}

/* Open the files of the namespace this thread is in now (prefix "/proc/thread-self/net"). */
static int open_files(struct mib_nsent *e, const char *prefix)
{
	char path[4096];

	for (int f = 0; f < N_FILES; f++) {
		snprintf(path, sizeof(path), "%s/%s", prefix, file_names[f]);
		e->fds[f] = open(path, O_RDONLY | O_CLOEXEC);
	}
	/* snmp6 is absent without IPv6; the other two are there in every namespace. */
	return e->fds[F_NETSTAT] >= 0 || e->fds[F_SNMP] >= 0 ? 0 : -ENOENT;
}

static void close_files(struct mib_nsent *e)
{
	for (int f = 0; f < N_FILES; f++) {
		if (e->fds[f] >= 0)
			close(e->fds[f]);
		e->fds[f] = -1;
	}
}

/* --- Finding a namespace: this thread's own, a name of ip netns, a process's. */

static const char *self_ns(void)
{
	return access("/proc/thread-self/ns/net", F_OK) ? "/proc/self/ns/net"
							: "/proc/thread-self/ns/net";
}

static const char *self_net(void)
{
	return access("/proc/thread-self/net", F_OK) ? "/proc/self/net" : "/proc/thread-self/net";
}

/* Enter path's namespace on this thread, open the files there, come back. 0 or -errno. */
static int enter_and_open(struct mib_nsent *e, const char *path)
{
	int nsfd = -1, home = -1, ret = 0;
	struct stat st;

	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	home = open(self_ns(), O_RDONLY | O_CLOEXEC);
	if (nsfd < 0 || home < 0) {
		ret = -errno;
		goto out;
	}
	/* The path may name another namespace by now (a process gone, its pid reused). */
	if (fstat(nsfd, &st) || st.st_ino != e->ino) {
		ret = -ENOENT;
		goto out;
	}
	if (setns(nsfd, CLONE_NEWNET)) {
		ret = -errno;
		goto out;
	}
	ret = open_files(e, self_net());
	if (setns(home, CLONE_NEWNET)) {
		/* Cannot happen with the rights that let us in; if it does, say so loudly. */
		ret = -errno;
		msg("MIB counters: this thread could not return to its network namespace: %s",
		    strerror(errno));
		close_files(e);
	}
out:
	if (nsfd >= 0)
		close(nsfd);
	if (home >= 0)
		close(home);
	return ret;
}

/* The entry of ino, or NULL; *slot (may be NULL) is where it is or would go in the hash. */
static struct mib_nsent *find_ns(const struct mib *m, uint64_t ino, size_t *slot)
{
	size_t h = ino & m->ns_hash_mask;

	for (;; h = (h + 1) & m->ns_hash_mask) {
		uint32_t v = m->ns_hash[h];

		if (!v || m->ns[v - 1].ino == ino) {
			if (slot)
				*slot = h;
			return v ? &m->ns[v - 1] : NULL;
		}
	}
}

/* Not open, and its next lookup is due. */
static int due(const struct mib_nsent *e, uint64_t now)
{
	return !e->open && !e->dir && e->err != -EPERM && e->next_try_ns <= now;
}

static struct mib_nsent *pending_for(struct mib *m, const struct stat *st, dev_t nsdev,
				     uint64_t now)
{
	struct mib_nsent *e = st->st_dev == nsdev ? find_ns(m, st->st_ino, NULL) : NULL;

	return e && due(e, now) ? e : NULL;
}

/* Try path for the pending namespaces; 1 when none is left to look for. */
static int try_path(struct mib *m, const char *path, dev_t nsdev, uint64_t now, size_t *left)
{
	struct mib_nsent *e;
	struct stat st;
	int err;

	if (stat(path, &st) || !(e = pending_for(m, &st, nsdev, now)))
		return 0;
	err = enter_and_open(e, path);
	if (err) {
		e->err = err;
		return 0;
	}
	e->open = 1;
	e->err = 0;
	e->via = xstrdup(path);
	e->since_ns = mono_ns();
	read_ns(m, e);
	return --*left == 0;
}

static int scan_dir(struct mib *m, const char *dir, int procs, dev_t nsdev, uint64_t now,
		    size_t *left)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[512];
	int done = 0;

	if (!d)
		return 0;
	while (!done && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (procs && (de->d_name[0] < '0' || de->d_name[0] > '9'))
			continue;
		snprintf(path, sizeof(path), procs ? "%s/%s/ns/net" : "%s/%s", dir, de->d_name);
		done = try_path(m, path, nsdev, now, left);
	}
	closedir(d);
	return done;
}

/* Look up every namespace due for a try, in one pass over the places namespaces are found. */
static void lookup_due(struct mib *m)
{
	uint64_t now = mono_ns();
	struct mib_nsent *e;
	size_t left = 0;
	struct stat self;

	for (size_t i = 0; i < m->n_ns; i++) {
		e = &m->ns[i];
		if (!due(e, now))
			continue;
		e->tries++;
		e->err = -ENOENT;
		left++;
	}
	if (!left || stat(self_ns(), &self))
		return;
	e = pending_for(m, &self, self.st_dev, now);
	if (e) {
		e->err = open_files(e, self_net());
		if (!e->err) {
			e->open = 1;
			e->via = xstrdup("self");
			e->since_ns = mono_ns();
			read_ns(m, e);
			left--;
		}
	}
	if (left && !scan_dir(m, "/run/netns", 0, self.st_dev, now, &left) &&
	    !scan_dir(m, "/var/run/netns", 0, self.st_dev, now, &left))
		scan_dir(m, "/proc", 1, self.st_dev, now, &left);
	for (size_t i = 0; i < m->n_ns; i++)
		if (!m->ns[i].open && m->ns[i].next_try_ns <= now)
			m->ns[i].next_try_ns = now + RETRY_NS;
}

/* Mark the watched namespaces found under dir. */
static void mark_found(struct mib *m, const char *dir, int procs, dev_t nsdev)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[512];

	if (!d)
		return;
	while ((de = readdir(d))) {
		struct mib_nsent *e;
		struct stat st;

		if (de->d_name[0] == '.' || (procs && (de->d_name[0] < '0' || de->d_name[0] > '9')))
			continue;
		snprintf(path, sizeof(path), procs ? "%s/%s/ns/net" : "%s/%s", dir, de->d_name);
		if (stat(path, &st))
			continue;
		e = st.st_dev == nsdev ? find_ns(m, st.st_ino, NULL) : NULL;
		if (e)
			e->found = 1;
	}
	closedir(d);
}

/*
 * A kept file holds its namespace alive, with its devices (a container's veth stays on the host).
 * Once no process and no name under /run/netns holds it, read it a last time and let it go. Only
 * as root: other users' processes cannot be looked at otherwise, and may be in there. (Even root
 * may be refused a few, e.g. a sandbox's init: taken as not in a namespace watched here.)
 */
static void sweep(struct mib *m, uint64_t now)
{
	size_t held = 0;
	struct stat self;

	if (now < m->next_sweep_ns)
		return;
	m->next_sweep_ns = now + SWEEP_NS;
	for (size_t i = 0; i < m->n_ns; i++) {
		struct mib_nsent *e = &m->ns[i];

		e->found = !e->open || e->gone || e->dir || !strcmp(e->via, "self");
		held += !e->found;
	}
	if (!held || geteuid() != 0 || stat(self_ns(), &self))
		return;
	mark_found(m, "/run/netns", 0, self.st_dev);
	mark_found(m, "/var/run/netns", 0, self.st_dev);
	mark_found(m, "/proc", 1, self.st_dev);
	for (size_t i = 0; i < m->n_ns; i++) {
		struct mib_nsent *e = &m->ns[i];

		if (e->found)
			continue;
		read_ns(m, e);
		close_files(e);
		e->gone = 1;
	}
}

/* The entry of ino, added when new; NULL when the table is full (counted). */
static struct mib_nsent *ns_entry(struct mib *m, uint64_t ino, int *added)
{
	size_t h;
	struct mib_nsent *e = find_ns(m, ino, &h);

	*added = 0;
	if (e)
		return e;
	if (m->n_ns >= m->max_ns) {
		m->overflow++;
		return NULL;
	}
	e = &m->ns[m->n_ns];
	memset(e, 0, sizeof(*e));
	e->ino = ino;
	e->fds[0] = e->fds[1] = e->fds[2] = -1;
	e->err = -ENOENT;
	e->since_ns = mono_ns();
	m->ns_hash[h] = (uint32_t)++m->n_ns;
	*added = 1;
	return e;
}

int mib__watch(struct mib *m, uint64_t netns_ino)
{
	int added;
	struct mib_nsent *e = ns_entry(m, netns_ino, &added);

	if (!e)
		return -ENOSPC;
	if (due(e, mono_ns()))
		lookup_due(m);
	return e->open;
}

int mib__watch_dir(struct mib *m, uint64_t netns_ino, const char *dir)
{
	int added;
	struct mib_nsent *e = ns_entry(m, netns_ino, &added);

	if (!e)
		return -ENOSPC;
	if (e->open)
		return 1;
	e->dir = 1;
	e->tries++;
	e->err = open_files(e, dir);
	if (e->err)
		return 0;
	e->open = 1;
	e->via = xstrdup(dir);
	e->since_ns = mono_ns();
	read_ns(m, e);
	return 1;
}

int mib__sample(struct mib *m)
{
	uint64_t now = mono_ns();
	int ret = 0;

	for (size_t i = 0; i < m->n_ns; i++) {
		if (due(&m->ns[i], now)) {
			lookup_due(m);
			break;
		}
	}
	sweep(m, now);
	for (size_t i = 0; i < m->n_ns; i++) {
		int err;

		if (!m->ns[i].open || m->ns[i].gone)
			continue;
		err = read_ns(m, &m->ns[i]);
		ret = ret ? ret : err;
	}
	return ret;
}

size_t mib__ns_count(const struct mib *m)
{
	return m->n_ns;
}

int mib__ns(const struct mib *m, size_t i, struct mib_ns *out)
{
	const struct mib_nsent *e;

	if (i >= m->n_ns)
		return -ENOENT;
	e = &m->ns[i];
	*out = (struct mib_ns){ .ino = e->ino,
				.open = e->open,
				.err = e->open ? 0 : e->err,
				.via = e->via,
				.since_ns = e->since_ns,
				.tries = e->tries,
				.gone = e->gone };
	return 0;
}

uint64_t mib__overflow(const struct mib *m)
{
	return m->overflow;
}

uint64_t mib__born_ns(const struct mib *m)
{
	return m->born_ns;
}

size_t mib__counter_count(const struct mib *m)
{
	return m->n_names;
}

const char *mib__counter_name(const struct mib *m, size_t id)
{
	return id < m->n_names ? m->names[id] : NULL;
}

int mib__value(const struct mib *m, size_t i, size_t id, uint64_t *start, uint64_t *now)
{
	const struct mib_nsent *e;

	if (i >= m->n_ns)
		return -ENOENT;
	e = &m->ns[i];
	if (id >= e->cap || !(e->flags[id] & SEEN))
		return -ENOENT;
	*start = e->start[id];
	*now = e->now[id];
	return 0;
}

int mib__find(const struct mib *m, uint64_t netns_ino, const char *name, uint64_t *start,
	      uint64_t *now)
{
	long id = name_id((struct mib *)m, name, strlen(name), 0);
	const struct mib_nsent *e = find_ns(m, netns_ino, NULL);

	if (id < 0 || !e)
		return -ENOENT;
	return mib__value(m, (size_t)(e - m->ns), (size_t)id, start, now);
}
