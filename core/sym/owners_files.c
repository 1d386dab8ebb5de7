/*
 * The runtimes' conventions: what their cgroup paths are called, and where they keep an id's
 * name on disk: podman's (containers/storage's) containers.json, Docker's config.v2.json, the
 * kubelet's /var/log/containers links. Read as files: no daemon, no API.
 */
#include "sym/owners_int.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/util.h"

#define ID_LEN 64
#define UID_LEN 36

/* --- Cgroup path components */

static int is_hex_id(const char *s, size_t n)
{
	if (n != ID_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* A pod uid, 8-4-4-4-12 hex digits, the dashes spelled sep (systemd's slices spell them '_'). */
static int is_uid(const char *s, size_t n, char sep)
{
	if (n != UID_LEN)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != sep
			 : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return 1;
}

/* c (n bytes) is prefix + a 64-hex id + suffix: the id's start, or NULL. */
static const char *id_in(const char *c, size_t n, const char *prefix, const char *suffix)
{
	size_t p = strlen(prefix), s = strlen(suffix);

	if (n != p + ID_LEN + s || strncmp(c, prefix, p) || strncmp(c + p + ID_LEN, suffix, s))
		return NULL;
	return is_hex_id(c + p, ID_LEN) ? c + p : NULL;
}

/* The container conventions: component prefix, suffix, runtime. conmon's scopes match none. */
static const struct {
	const char *prefix, *suffix, *runtime;
} conventions[] = {
	{ "docker-", ".scope", "docker" }, /* systemd driver */
	{ "libpod-", ".scope", "podman" }, /* systemd driver */
	{ "libpod-", "", "podman" }, /* cgroupfs: /libpod_parent/libpod-<id> */
	{ "cri-containerd-", ".scope", "containerd" },
	{ "crio-", ".scope", "cri-o" },
	{ "crio-", "", "cri-o" }, /* cgroupfs */
};

/* A kubelet pod component: cgroupfs "pod<uid>", systemd "kubepods[-qos]-pod<uid_>.slice". */
static int pod_in(const char *c, size_t n, char *uid)
{
	const char *u = NULL;
	char sep = '-';

	if (n == 3 + UID_LEN && !strncmp(c, "pod", 3)) {
		u = c + 3;
	} else if (n > 6 + UID_LEN + 4 && !strncmp(c, "kubepods", 8) &&
		   !strncmp(c + n - 6, ".slice", 6) &&
		   !strncmp(c + n - 6 - UID_LEN - 4, "-pod", 4)) {
		u = c + n - 6 - UID_LEN;
		sep = '_';
	}
	if (!u || !is_uid(u, UID_LEN, sep))
		return 0;
	for (int i = 0; i < UID_LEN; i++)
		uid[i] = u[i] == '_' ? '-' : u[i];
	uid[UID_LEN] = '\0';
	return 1;
}

int owners__parse_path(const char *path, struct owner_ids *ids)
{
	const char *c = path, *prev = "", *cid;
	size_t prev_n = 0;
	int kube = 0, pod = 0;

	memset(ids, 0, sizeof(*ids));
	while (c && *c) {
		size_t n;

		while (*c == '/')
			c++;
		n = strcspn(c, "/");
		if (!n)
			break;
		cid = NULL;
		for (size_t i = 0; i < ARRAY_SIZE(conventions) && !cid; i++)
			if ((cid = id_in(c, n, conventions[i].prefix, conventions[i].suffix)))
				snprintf(ids->runtime, sizeof(ids->runtime), "%s",
					 conventions[i].runtime);
		if (!cid && is_hex_id(c, n) && prev_n == 6 && !strncmp(prev, "docker", 6)) {
			cid = c; /* cgroupfs: /docker/<id> */
			snprintf(ids->runtime, sizeof(ids->runtime), "docker");
		} else if (!cid && is_hex_id(c, n) && pod) {
			cid = c; /* cgroupfs under a pod: containerd's and docker's alike, not told
				  */
			ids->runtime[0] = '\0';
		}
		if (cid) {
			memcpy(ids->id, cid, ID_LEN);
			ids->id[ID_LEN] = '\0';
		} else if (!strncmp(c, "kubepods", 8) && (n == 8 || c[8] == '.' || c[8] == '-')) {
			kube = 1;
			if (pod_in(c, n, ids->pod_uid))
				pod = 1;
		} else if (kube && pod_in(c, n, ids->pod_uid)) {
			pod = 1;
		} else if (n > 8 && n < sizeof(ids->unit) && !strncmp(c + n - 8, ".service", 8)) {
			memcpy(ids->unit, c, n);
			ids->unit[n] = '\0';
		}
		prev = c;
		prev_n = n;
		c += n;
	}
	if (!ids->id[0] && !pod && ids->unit[0])
		snprintf(ids->runtime, sizeof(ids->runtime), "systemd");
	return ids->id[0] || pod || ids->unit[0];
}

/* --- A small JSON reader: the two runtimes' files need a few strings from known places. */

struct json {
	const char *p, *end;
};

static void js_ws(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int js_is(struct json *j, char c)
{
	js_ws(j);
	if (j->p < j->end && *j->p == c) {
		j->p++;
		return 1;
	}
	return 0;
}

/*
 * A string into out (len bytes with the NUL; NULL to skip it). 0; -ERANGE when read but too long
 * or not printable ASCII without spaces (no runtime allows more in a name or id; out is ""); or
 * -EINVAL: not a string.
 */
static int js_str(struct json *j, char *out, size_t len)
{
	size_t n = 0;
	int bad = 0;

	if (!js_is(j, '"'))
		return -EINVAL;
	while (j->p < j->end && *j->p != '"') {
		char c = *j->p++;

		if (c == '\\') {
			if (j->p >= j->end)
				return -EINVAL;
			c = *j->p++;
			if (c == 'u') {
				if (j->end - j->p < 4)
					return -EINVAL;
				j->p += 4; /* beyond ASCII: not a name we print */
				bad = 1;
				continue;
			}
			c = c == '"' || c == '\\' || c == '/' ? c : 0;
		}
		if (c <= ' ' || c > '~')
			bad = 1;
		if (out && n + 1 < len)
			out[n] = c;
		n++;
	}
	if (j->p >= j->end)
		return -EINVAL;
	j->p++;
	if (!out)
		return 0;
	if (bad || n + 1 > len) {
		out[0] = '\0';
		return -ERANGE;
	}
	out[n] = '\0';
	return 0;
}

/* Any value; depth bounds the nesting. 0 or -EINVAL. */
static int js_skip(struct json *j, int depth)
{
	char close;

	js_ws(j);
	if (j->p >= j->end || depth > 64)
		return -EINVAL;
	if (*j->p == '"')
		return js_str(j, NULL, 0);
	/* A number or a literal: true, false, null. */
	if (*j->p != '{' && *j->p != '[') {
		const char *start = j->p;

		while (j->p < j->end && !strchr(",]} \t\r\n", *j->p))
			j->p++;
		return j->p > start ? 0 : -EINVAL;
	}
	close = *j->p++ == '{' ? '}' : ']';
	if (js_is(j, close))
		return 0;
	do {
		if (close == '}' && (js_str(j, NULL, 0) || !js_is(j, ':')))
			return -EINVAL;
		if (js_skip(j, depth + 1))
			return -EINVAL;
	} while (js_is(j, ','));
	return js_is(j, close) ? 0 : -EINVAL;
}

/*
 * The members of the object at j: each key to fn, which reads its value (or returns 1 to have it
 * skipped). 0 or -EINVAL.
 */
static int js_object(struct json *j, int (*fn)(struct json *j, const char *key, void *arg),
		     void *arg)
{
	char key[64];
	int r;

	if (!js_is(j, '{'))
		return -EINVAL;
	if (js_is(j, '}'))
		return 0;
	do {
		/* A key too long for key[] is none of ours: "" asks for its value skipped. */
		if (js_str(j, key, sizeof(key)) == -EINVAL)
			return -EINVAL;
		if (!js_is(j, ':'))
			return -EINVAL;
		r = fn(j, key, arg);
		if (r < 0 || (r > 0 && js_skip(j, 1)))
			return -EINVAL;
	} while (js_is(j, ','));
	return js_is(j, '}') ? 0 : -EINVAL;
}

/* What we print for a name: 1 to 255 printable ASCII bytes, no space (a column's cell). */
static int valid_name(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (s[i] <= ' ' || s[i] > '~' || i >= 255)
			return 0;
	return i > 0;
}

/* A string member's value into out: "" when unusable; -EINVAL when not a string at all. */
static int js_member_str(struct json *j, char *out, size_t len)
{
	return js_str(j, out, len) == -EINVAL ? -EINVAL : 0;
}

/* --- podman: <root>/<driver>-containers/containers.json, [{"id": ..., "names": [...]}, ...] */

struct pm_ctr {
	char id[ID_LEN + 2], name[256];
};

static int pm_member(struct json *j, const char *key, void *arg)
{
	struct pm_ctr *c = arg;

	if (!strcmp(key, "id"))
		return js_member_str(j, c->id, sizeof(c->id));
	if (strcmp(key, "names"))
		return 1;
	if (!js_is(j, '['))
		return -EINVAL;
	if (js_is(j, ']'))
		return 0;
	/* The first name is the container's; a later one is an alias. */
	if (js_member_str(j, c->name, sizeof(c->name)))
		return -EINVAL;
	while (js_is(j, ','))
		if (js_skip(j, 2))
			return -EINVAL;
	return js_is(j, ']') ? 0 : -EINVAL;
}

static void podman_file(struct owners *ow, const char *file)
{
	size_t len;
	char *text = read_file(file, 64 << 20, &len);
	struct json j = { text, text + (text ? len : 0) };

	if (!text)
		return;
	ow->st.name_loads++;
	if (js_is(&j, '[') && !js_is(&j, ']')) {
		do {
			struct pm_ctr c = { "", "" };

			if (js_object(&j, pm_member, &c))
				break;
			if (is_hex_id(c.id, strlen(c.id)) && valid_name(c.name))
				tab_put(ow, &ow->podman, str_key(c.id),
					ent_new(c.id, c.name, 0, 0));
		} while (js_is(&j, ','));
	}
	free(text);
}

/* Reread every containers.json, if any changed since the last read. */
static void podman_load(struct owners *ow)
{
	char file[PATH_MAX];
	DIR *d = opendir(ow->podman_root);
	struct dirent *de;
	int64_t mtime = 0;
	struct stat st;

	if (!d)
		return;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (n < 12 || strcmp(de->d_name + n - 11, "-containers"))
			continue;
		snprintf(file, sizeof(file), "%s/%s/containers.json", ow->podman_root, de->d_name);
		if (!stat(file, &st))
			mtime += st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
	}
	if (mtime != ow->podman_mtime) {
		ow->podman_mtime = mtime;
		tab_clear(&ow->podman);
		rewinddir(d);
		while ((de = readdir(d))) {
			size_t n = strlen(de->d_name);

			if (n < 12 || strcmp(de->d_name + n - 11, "-containers"))
				continue;
			snprintf(file, sizeof(file), "%s/%s/containers.json", ow->podman_root,
				 de->d_name);
			podman_file(ow, file);
		}
	}
	closedir(d);
}

static const char *podman_name(struct owners *ow, const char *id)
{
	const struct ent *e = ent_get(&ow->podman, id);

	if (!e && due(ow, &ow->podman_at)) {
		podman_load(ow);
		e = ent_get(&ow->podman, id);
	}
	return e ? e->s[0] : NULL;
}

/* --- Docker: <root>/containers/<id>/config.v2.json, {"ID": id, "Name": "/name", ...} */

struct dk_ctr {
	char id[ID_LEN + 2], name[257];
};

static int dk_member(struct json *j, const char *key, void *arg)
{
	struct dk_ctr *c = arg;

	if (!strcmp(key, "ID"))
		return js_member_str(j, c->id, sizeof(c->id));
	if (!strcmp(key, "Name"))
		return js_member_str(j, c->name, sizeof(c->name));
	return 1;
}

static const char *docker_name(struct owners *ow, const char *id)
{
	const struct ent *e = ent_get(&ow->docker, id);
	struct dk_ctr c = { "", "" };
	struct ent *ne;
	char file[PATH_MAX];
	size_t len;
	char *text;

	/* A negative answer is asked again after the rescan interval. */
	if (e && (e->s[0] || owners_now_ms() - e->at < ow->rescan_ms))
		return e->s[0];
	snprintf(file, sizeof(file), "%s/containers/%s/config.v2.json", ow->docker_root, id);
	text = read_file(file, 16 << 20, &len);
	if (text) {
		struct json j = { text, text + len };

		ow->st.name_loads++;
		if (js_object(&j, dk_member, &c) || strcmp(c.id, id))
			c.name[0] = '\0';
		free(text);
	}
	ne = ent_new(id, c.name[0] == '/' && valid_name(c.name + 1) ? c.name + 1 : NULL, 0, 0);
	ne->at = owners_now_ms();
	tab_put(ow, &ow->docker, str_key(id), ne);
	return ne->s[0];
}

/*
 * --- The kubelet: /var/log/containers/<pod>_<namespace>_<container>-<id>.log, a link to
 * /var/log/pods/<namespace>_<pod>_<uid>/<container>/<n>.log (names cannot hold '_': DNS labels).
 */

static int split3(char *s, char sep, char **a, char **b, char **c)
{
	*a = s;
	*b = strchr(s, sep);
	if (!*b)
		return 0;
	*(*b)++ = '\0';
	*c = strchr(*b, sep);
	if (!*c)
		return 0;
	*(*c)++ = '\0';
	return **a && **b && **c && !strchr(*c, sep);
}

static void kube_link(struct owners *ow, const char *name)
{
	char buf[NAME_MAX + 1], target[PATH_MAX], file[PATH_MAX], *pod, *ns, *ctr, *id, *t;
	char *tns, *tpod, *uid;
	size_t n = strlen(name);
	ssize_t tn;

	if (n < 4 + 1 + ID_LEN + 4 || n >= sizeof(buf) || strcmp(name + n - 4, ".log"))
		return;
	memcpy(buf, name, n - 4);
	buf[n - 4] = '\0';
	id = buf + n - 4 - ID_LEN;
	if (id[-1] != '-' || !is_hex_id(id, ID_LEN))
		return;
	id[-1] = '\0';
	if (!split3(buf, '_', &pod, &ns, &ctr) || !valid_name(pod) || !valid_name(ns) ||
	    !valid_name(ctr))
		return;
	tab_put(ow, &ow->kube_ctr, str_key(id), ent_new(id, pod, ns, ctr));
	/* The pod's uid, from the link's target: for the pod's other cgroups (its sandbox). */
	snprintf(file, sizeof(file), "%s/%s", ow->kubelet_logs, name);
	tn = readlink(file, target, sizeof(target) - 1);
	if (tn <= 0)
		return;
	target[tn] = '\0';
	for (int i = 0; i < 2 && (t = strrchr(target, '/')); i++)
		*t = '\0';
	t = strrchr(target, '/');
	if (t && split3(t + 1, '_', &tns, &tpod, &uid) && !strcmp(tns, ns) && !strcmp(tpod, pod) &&
	    is_uid(uid, strlen(uid), '-'))
		tab_put(ow, &ow->kube_pod, str_key(uid), ent_new(uid, pod, ns, NULL));
}

static void kube_load(struct owners *ow)
{
	DIR *d = opendir(ow->kubelet_logs);
	struct dirent *de;
	struct stat st;
	int64_t mtime;

	if (!d)
		return;
	if (!fstat(dirfd(d), &st) &&
	    (mtime = st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec) != ow->kube_mtime) {
		ow->kube_mtime = mtime;
		ow->st.name_loads++;
		while ((de = readdir(d)))
			kube_link(ow, de->d_name);
	}
	closedir(d);
}

static const struct ent *kube_get(struct owners *ow, struct tab *t, const char *key)
{
	const struct ent *e = ent_get(t, key);

	if (!e && due(ow, &ow->kube_at)) {
		kube_load(ow);
		e = ent_get(t, key);
	}
	return e;
}

/* --- Together */

void files_init(struct owners *ow, unsigned int max)
{
	tab_init(&ow->podman, max);
	tab_init(&ow->docker, max);
	tab_init(&ow->kube_ctr, max);
	tab_init(&ow->kube_pod, max);
}

void files_free(struct owners *ow)
{
	tab_free(&ow->podman);
	tab_free(&ow->docker);
	tab_free(&ow->kube_ctr);
	tab_free(&ow->kube_pod);
}

static void absent_once(struct owners *ow, int rt, const char *what, const char *root)
{
	if (!ow->absent[rt] || ow->warned[rt])
		return;
	ow->warned[rt] = 1;
	owners_warn(ow, "%s met, but %s is absent: their names unknown (-)", what, root);
}

static void copy(char *dst, const char *s)
{
	if (s)
		snprintf(dst, 256, "%s", s);
}

void files_names(struct owners *ow, const struct owner_ids *ids, struct names *nm)
{
	const char *rt = ids->runtime;
	int kube = ids->pod_uid[0] ||
		   (ids->id[0] && (!rt[0] || !strcmp(rt, "containerd") || !strcmp(rt, "cri-o")));
	const struct ent *e;

	if (kube) {
		absent_once(ow, RT_KUBE, "Kubernetes containers", ow->kubelet_logs);
		if (ids->id[0] && (e = kube_get(ow, &ow->kube_ctr, ids->id))) {
			copy(nm->pod, e->s[0]);
			copy(nm->namespace, e->s[1]);
			copy(nm->name, e->s[2]);
		}
		if (!nm->pod[0] && ids->pod_uid[0] &&
		    (e = kube_get(ow, &ow->kube_pod, ids->pod_uid))) {
			copy(nm->pod, e->s[0]);
			copy(nm->namespace, e->s[1]);
		}
	}
	if (!nm->name[0] && !strcmp(rt, "docker")) {
		absent_once(ow, RT_DOCKER, "Docker containers", ow->docker_root);
		copy(nm->name, docker_name(ow, ids->id));
	} else if (!nm->name[0] && !strcmp(rt, "podman")) {
		absent_once(ow, RT_PODMAN, "podman containers", ow->podman_root);
		copy(nm->name, podman_name(ow, ids->id));
	} else if (!strcmp(rt, "systemd") && valid_name(ids->unit)) {
		copy(nm->name, ids->unit);
	}
}
