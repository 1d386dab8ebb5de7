/*
 * Unit tests of core/sym/owners.c: the runtimes' cgroup path conventions, and the names found in
 * a tree laid out here the way podman, Docker, the kubelet and the kernel lay theirs out
 * (containers.json, config.v2.json, /var/log/containers links, a cgroup tree, a /proc).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sym/sym.h"

#define CHECK_SUITE "owners"
#include "check.h"

#define ID1 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID2 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define ID3 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID4 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define UID "8a2b3c4d-1e2f-4a5b-9c8d-0123456789ab"
#define UID_ "8a2b3c4d_1e2f_4a5b_9c8d_0123456789ab"

static char top[256];

static const char *str(const char *s)
{
	return s ? s : "-";
}

/* --- Path conventions */

static void parses(const char *name, const char *path, const char *runtime, const char *id,
		   const char *uid, const char *unit)
{
	struct owner_ids ids;
	int told = owners__parse_path(path, &ids);
	int want = *id || *uid || *unit;

	check(name,
	      told == want && !strcmp(ids.runtime, runtime) && !strcmp(ids.id, id) &&
		      !strcmp(ids.pod_uid, uid) && !strcmp(ids.unit, unit),
	      "%s: told %d runtime '%s' id '%s' pod '%s' unit '%s'", path, told, ids.runtime,
	      ids.id, ids.pod_uid, ids.unit);
}

static void test_paths(void)
{
	parses("docker cgroupfs", "/docker/" ID1, "docker", ID1, "", "");
	parses("docker systemd", "/system.slice/docker-" ID1 ".scope", "docker", ID1, "", "");
	parses("docker, systemd inside it", "/docker/" ID1 "/system.slice/nginx.service", "docker",
	       ID1, "", "nginx.service");
	parses("podman cgroupfs", "/libpod_parent/libpod-" ID1, "podman", ID1, "", "");
	parses("podman systemd", "/machine.slice/libpod-" ID1 ".scope", "podman", ID1, "", "");
	parses("podman systemd, its payload", "/machine.slice/libpod-" ID1 ".scope/container",
	       "podman", ID1, "", "");
	parses("podman's conmon is not the container", "/machine.slice/libpod-conmon-" ID1 ".scope",
	       "", "", "", "");
	parses("podman cgroupfs conmon", "/libpod_parent/conmon", "", "", "", "");
	parses("containerd under kubelet, systemd",
	       "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
	       ".slice/cri-containerd-" ID1 ".scope",
	       "containerd", ID1, UID, "");
	parses("kubelet burstable, systemd",
	       "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	       ".slice/cri-containerd-" ID2 ".scope",
	       "containerd", ID2, UID, "");
	parses("kubelet guaranteed, systemd",
	       "/kubepods.slice/kubepods-pod" UID_ ".slice/crio-" ID1 ".scope", "cri-o", ID1, UID,
	       "");
	parses("cri-o's conmon is not the container",
	       "/kubepods.slice/kubepods-pod" UID_ ".slice/crio-conmon-" ID1 ".scope", "", "", UID,
	       "");
	parses("kubelet cgroupfs, bare id: runtime not told",
	       "/kubepods/besteffort/pod" UID "/" ID1, "", ID1, UID, "");
	parses("kubelet cgroupfs guaranteed", "/kubepods/pod" UID "/" ID2, "", ID2, UID, "");
	parses("kubelet cgroupfs, cri-o", "/kubepods/burstable/pod" UID "/crio-" ID1, "cri-o", ID1,
	       UID, "");
	parses("kubelet cgroupfs, containerd scope",
	       "/kubepods/besteffort/pod" UID "/cri-containerd-" ID1 ".scope", "containerd", ID1,
	       UID, "");
	parses("a pod's own cgroup", "/kubepods/besteffort/pod" UID, "", "", UID, "");
	parses("kubelet below a prefix", "/tcpdrop-test/kubepods/besteffort/pod" UID "/" ID1, "",
	       ID1, UID, "");
	parses("docker under kubelet, systemd",
	       "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
	       ".slice/docker-" ID1 ".scope",
	       "docker", ID1, UID, "");
	parses("a pod uid outside kubepods is not a pod", "/pod" UID "/" ID1, "", "", "", "");
	parses("systemd service", "/system.slice/nginx.service", "systemd", "", "",
	       "nginx.service");
	parses("user service",
	       "/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service", "systemd", "",
	       "", "foo.service");
	parses("a session is nobody's", "/user.slice/user-1000.slice/session-3.scope", "", "", "",
	       "");
	parses("root", "/", "", "", "", "");
	parses("empty", "", "", "", "", "");
	parses("id too short", "/docker/0123456789abcdef", "", "", "", "");
	parses("id upper case",
	       "/docker/0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "", "",
	       "", "");
	parses("id too long", "/docker/" ID1 "0", "", "", "", "");
	parses("bare id outside docker and pods", "/lxc/" ID1, "", "", "", "");
	parses("malformed uid", "/kubepods/besteffort/pod8a2b3c4d-1e2f-4a5b-9c8d-0123456789a/" ID1,
	       "", "", "", "");
	parses("systemd uid spelled with dashes is not systemd's",
	       "/kubepods.slice/kubepods-besteffort-pod" UID ".slice", "", "", "", "");
	parses("the deepest container wins", "/docker/" ID1 "/docker/" ID2, "docker", ID2, "", "");
	parses("repeated slashes", "//docker//" ID1 "/", "docker", ID1, "", "");
	parses("docker-<id> without .scope", "/system.slice/docker-" ID1, "", "", "", "");
	parses("a .service too short", "/.service", "", "", "", "");
}

/* --- A tree laid out as the runtimes and the kernel lay theirs out */

static void put(const char *rel, const char *text)
{
	char path[512], dir[512], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	for (slash = strchr(dir + strlen(top) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(dir, 0755);
		*slash = '/';
	}
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void dir(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s/x", top, rel);
	put(path + strlen(top) + 1, "");
	unlink(path);
}

static void link_to(const char *rel, const char *target)
{
	char path[512];

	put(rel, "");
	snprintf(path, sizeof(path), "%s/%s", top, rel);
	unlink(path);
	if (symlink(target, path))
		perror(path);
}

static unsigned long long ino(const char *rel)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	return stat(path, &st) ? 0 : (unsigned long long)st.st_ino;
}

static char warned[4096];

static void collect(const char *line)
{
	size_t n = strlen(warned);

	snprintf(warned + n, sizeof(warned) - n, "%s\n", line);
}

static struct owners *open_tree(const char *proc, unsigned int max, unsigned int rescan_ms)
{
	char p[7][512];
	struct owners_opts o = { .max_entries = max, .rescan_ms = rescan_ms, .warn = collect };

	snprintf(p[0], sizeof(p[0]), "%s/%s", top, proc);
	snprintf(p[1], sizeof(p[1]), "%s/cg", top);
	snprintf(p[2], sizeof(p[2]), "%s/storage", top);
	snprintf(p[3], sizeof(p[3]), "%s/docker", top);
	snprintf(p[4], sizeof(p[4]), "%s/log/containers", top);
	o.proc = p[0];
	o.cgroup_root = p[1];
	o.podman_root = p[2];
	o.docker_root = p[3];
	o.kubelet_logs = p[4];
	warned[0] = '\0';
	return owners__new(&o);
}

static void owner_is(const char *name, const struct owner *o, const char *want)
{
	char got[1024];

	if (!o)
		snprintf(got, sizeof(got), "-");
	else
		snprintf(got, sizeof(got), "%s %s %s %s %s %s %s", str(o->cgroup), str(o->runtime),
			 str(o->id), str(o->name), str(o->pod_uid), str(o->pod), str(o->namespace));
	check(name, !strcmp(got, want), "\n  got  %s\n  want %s", got, want);
}

#define KPATH "/kubepods/besteffort/pod" UID
#define K8S " " UID " web-7d4b9 shop"

static void lay_out(void)
{
	/* podman: the metadata is a string of JSON, the second name an alias; one bad entry. */
	put("storage/overlay-containers/containers.json",
	    "[{\"id\":\"" ID1 "\",\"names\":[\"db\",\"alias\"],\"image\":\"x\",\"metadata\":"
	    "\"{\\\"name\\\":\\\"wrong\\\"}\",\"flags\":{\"MountLabel\":\"\",\"n\":[1,2,{}]},"
	    "\"created\":\"2026-01-01T00:00:00Z\"},\n"
	    " {\"names\" : [ \"web\" ], \"id\" : \"" ID2 "\", \"ok\": true, \"z\": null},"
	    " {\"id\":\"" ID3 "\",\"names\":[\"has space\"]}]\n");
	put("storage/overlay-containers/containers.lock", "");
	put("storage/overlay-images/images.json", "[{\"id\":\"" ID4 "\",\"names\":[\"img\"]}]");
	/* Docker: a nested "Name" before the container's own; one file of another id. */
	put("docker/containers/" ID1 "/config.v2.json",
	    "{\"StreamConfig\":{},\"State\":{\"Running\":true,\"Pid\":42,\"Health\":null},"
	    "\"Config\":{\"Name\":\"/nested\",\"Env\":[\"A=\\\"b\\\"\"]},\"ID\":\"" ID1
	    "\",\"Name\":\"/api\",\"Driver\":\"overlay2\"}");
	put("docker/containers/" ID2 "/config.v2.json", "{\"ID\":\"" ID1 "\",\"Name\":\"/liar\"}");
	put("docker/containers/" ID3 "/config.v2.json", "{\"ID\":\"" ID3 "\",\"Name\":");
	/* The kubelet: each container's link into /var/log/pods, the pod's uid in its target. */
	link_to("log/containers/web-7d4b9_shop_nginx-" ID1 ".log",
		"/var/log/pods/shop_web-7d4b9_" UID "/nginx/0.log");
	link_to("log/containers/web-7d4b9_shop_sidecar-" ID2 ".log",
		"/var/log/pods/shop_web-7d4b9_" UID "/sidecar/0.log");
	link_to("log/containers/bad_name-" ID3 ".log", "/nowhere");
	/* A cgroup tree. */
	dir("cg" KPATH "/" ID1);
	dir("cg" KPATH "/" ID2);
	dir("cg/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
	    ".slice/cri-containerd-" ID3 ".scope");
	dir("cg/system.slice/docker-" ID1 ".scope");
	dir("cg/libpod_parent/libpod-" ID2);
	dir("cg/system.slice/cron.service");
	/* A /proc: pid 1; two containers of the pod in one netns; a docker one alone in its own;
	 * a hybrid host's process whose v2 line tells nothing. */
	put("proc/1/cgroup", "0::/init.scope\n");
	link_to("proc/1/ns/net", "net:[4026531840]");
	put("proc/1/stat", "1 (init) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 7 1 2 3\n");
	put("proc/100/cgroup", "0::" KPATH "/" ID1 "\n");
	link_to("proc/100/ns/net", "net:[4026532001]");
	put("proc/100/stat",
	    "100 (my (odd) comm) S 1 100 100 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 12345 1 2\n");
	put("proc/101/cgroup", "0::" KPATH "/" ID2 "\n");
	link_to("proc/101/ns/net", "net:[4026532001]");
	put("proc/102/cgroup", "2:cpu:/docker/" ID1 "\n1:name=systemd:/docker/" ID1 "\n0::/\n");
	link_to("proc/102/ns/net", "net:[4026532002]");
	put("proc/103/cgroup", "1:name=systemd:/\n0::/system.slice/cron.service\n");
	link_to("proc/103/ns/net", "net:[4026531840]");
	put("proc/104/cgroup", "0::/docker/" ID1 "\n");
	link_to("proc/104/ns/net", "net:[4026532003]");
	put("proc/105/cgroup", "0::/docker/" ID1 "/sub\n");
	link_to("proc/105/ns/net", "net:[4026532003]");
	put("proc/self/mountinfo", "");
	/* A /proc that hides pid 1 (hidepid=invisible). */
	dir("hidden");
}

static void test_tree(void)
{
	struct owners *ow = open_tree("proc", 0, 0);
	struct owners_stats st;
	char comm[32];
	uint64_t start = 0;
	int err;

	check("no warning when every source is readable", warned[0] == '\0', "%s", warned);
	check("owners__warnings: none", owners__warnings(ow) == NULL, "%s", owners__warnings(ow));
	owner_is("kubelet cgroupfs: pod and container from the log link",
		 owners__path(ow, KPATH "/" ID1), KPATH "/" ID1 " - " ID1 " nginx" K8S);
	owner_is("kubelet: the second container", owners__path(ow, KPATH "/" ID2),
		 KPATH "/" ID2 " - " ID2 " sidecar" K8S);
	owner_is("kubelet systemd: a container without a link (the sandbox): the pod by its uid",
		 owners__path(ow,
			      "/kubepods.slice/kubepods-besteffort.slice/"
			      "kubepods-besteffort-pod" UID_ ".slice/cri-containerd-" ID3 ".scope"),
		 "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
		 ".slice/cri-containerd-" ID3 ".scope containerd " ID3 " -" K8S);
	owner_is("the pod's own cgroup", owners__path(ow, KPATH), KPATH " - - -" K8S);
	owner_is("docker: Name of the top level, without its /",
		 owners__path(ow, "/system.slice/docker-" ID1 ".scope"),
		 "/system.slice/docker-" ID1 ".scope docker " ID1 " api - - -");
	owner_is("docker: a file of another ID is not believed", owners__path(ow, "/docker/" ID2),
		 "/docker/" ID2 " docker " ID2 " - - - -");
	owner_is("docker: a cut file gives no name", owners__path(ow, "/docker/" ID3),
		 "/docker/" ID3 " docker " ID3 " - - - -");
	owner_is("docker: no file", owners__path(ow, "/docker/" ID4),
		 "/docker/" ID4 " docker " ID4 " - - - -");
	owner_is("podman: the first name", owners__path(ow, "/libpod_parent/libpod-" ID1),
		 "/libpod_parent/libpod-" ID1 " podman " ID1 " db - - -");
	owner_is("podman: members in any order",
		 owners__path(ow, "/machine.slice/libpod-" ID2 ".scope"),
		 "/machine.slice/libpod-" ID2 ".scope podman " ID2 " web - - -");
	owner_is("podman: a name we would not print is unknown",
		 owners__path(ow, "/libpod_parent/libpod-" ID3),
		 "/libpod_parent/libpod-" ID3 " podman " ID3 " - - - -");
	owner_is("podman: an image's id is no container",
		 owners__path(ow, "/libpod_parent/libpod-" ID4),
		 "/libpod_parent/libpod-" ID4 " podman " ID4 " - - - -");
	owner_is("systemd: the unit", owners__path(ow, "/system.slice/cron.service"),
		 "/system.slice/cron.service systemd - cron.service - - -");
	owner_is("nothing told", owners__path(ow, "/user.slice"), "/user.slice - - - - - -");
	owner_is("no path", owners__path(ow, NULL), "-");

	owner_is("cgroup id of a kubelet container", owners__cgroup(ow, ino("cg" KPATH "/" ID1)),
		 KPATH "/" ID1 " - " ID1 " nginx" K8S);
	owner_is("cgroup id of a podman container",
		 owners__cgroup(ow, ino("cg/libpod_parent/libpod-" ID2)),
		 "/libpod_parent/libpod-" ID2 " podman " ID2 " web - - -");
	owner_is("cgroup id of the root", owners__cgroup(ow, ino("cg")), "/ - - - - - -");
	owner_is("cgroup id of a file is none",
		 owners__cgroup(ow, ino("storage/overlay-containers/"
					"containers.json")),
		 "-");
	owner_is("cgroup id 0", owners__cgroup(ow, 0), "-");
	owners__stats(ow, &st);
	check("one walk for every cgroup", st.cgroup_walks == 1, "%llu walks",
	      (unsigned long long)st.cgroup_walks);
	check("a miss within the interval does not walk again", st.limited >= 1, "%llu limited",
	      (unsigned long long)st.limited);

	owner_is("a netns no process is in", owners__netns(ow, 4026539999ULL), "-");
	{
		uint64_t limited;

		owners__stats(ow, &st);
		limited = st.limited;

		owner_is("a netns no process is in, again", owners__netns(ow, 4026539999ULL), "-");
		owners__stats(ow, &st);
		check("an empty netns is remembered, not rescanned", st.limited == limited,
		      "%llu limited, was %llu", (unsigned long long)st.limited,
		      (unsigned long long)limited);
	}
	owner_is("netns of two containers of one pod: the pod", owners__netns(ow, 4026532001ULL),
		 KPATH " - - -" K8S);
	owner_is("netns on a hybrid host: name=systemd's line when 0:: tells nothing",
		 owners__netns(ow, 4026532002ULL), "/docker/" ID1 " docker " ID1 " api - - -");
	owner_is("netns of a container's processes in its sub-cgroups: the container",
		 owners__netns(ow, 4026532003ULL), "/docker/" ID1 " docker " ID1 " api - - -");
	owner_is("the host's netns: nobody", owners__netns(ow, 4026531840ULL), "/ - - - - - -");
	owners__stats(ow, &st);
	check("one scan for every netns", st.netns_scans == 1, "%llu scans",
	      (unsigned long long)st.netns_scans);
	owner_is("pid: its cgroup file", owners__pid(ow, 101),
		 KPATH "/" ID2 " - " ID2 " sidecar" K8S);
	owner_is("pid gone", owners__pid(ow, 999), "-");

	err = owners__pid_stat(ow, 100, comm, sizeof(comm), &start);
	check("stat: comm with spaces and parentheses, field 22",
	      !err && !strcmp(comm, "my (odd) comm") && start == 12345, "%d '%s' %llu", err, comm,
	      (unsigned long long)start);
	err = owners__pid_stat(ow, 100, comm, 4, NULL);
	check("stat: comm cut to the buffer", !err && !strcmp(comm, "my "), "%d '%s'", err, comm);
	check("stat: no such pid", owners__pid_stat(ow, 999, comm, sizeof(comm), &start) == -ENOENT,
	      "not -ENOENT");
	check("pid is the one that started then", owners__pid_is(ow, 100, 12345) == 1, "no");
	check("pid reused: started at another time", owners__pid_is(ow, 100, 12344) == 0, "yes");
	check("pid gone", owners__pid_is(ow, 999, 12345) == 0, "yes");
	check("comm of the process", !strcmp(str(owners__comm(ow, 100, 12345)), "my (odd) comm"),
	      "%s", str(owners__comm(ow, 100, 12345)));
	check("comm of a reused pid is none", owners__comm(ow, 100, 1) == NULL, "%s",
	      owners__comm(ow, 100, 1));
	owners__free(ow);

	ow = owners__new(NULL);
	err = owners__pid_stat(ow, getpid(), comm, sizeof(comm), &start);
	check("stat of this process, in the real /proc",
	      !err && !strcmp(comm, "test_owners") && owners__pid_is(ow, getpid(), start) == 1 &&
		      owners__pid_is(ow, getpid(), start + 1) == 0,
	      "%d '%s' %llu", err, comm, (unsigned long long)start);
	owners__free(ow);
}

/* Names that appear after a miss are found once the interval has passed, and not before. */
static void test_rescan(void)
{
	struct owners *ow = open_tree("proc", 0, 200);
	struct owners_stats st;

	owner_is("podman: not yet there", owners__path(ow, "/libpod_parent/libpod-" ID4),
		 "/libpod_parent/libpod-" ID4 " podman " ID4 " - - - -");
	put("storage/vfs-containers/containers.json",
	    "[{\"id\":\"" ID4 "\",\"names\":[\"late\"]}]");
	owner_is("podman: a new file within the interval is not read yet",
		 owners__path(ow, "/libpod_parent/libpod-" ID4),
		 "/libpod_parent/libpod-" ID4 " podman " ID4 " - - - -");
	usleep(250 * 1000);
	owner_is("podman: read after the interval (another storage driver's file)",
		 owners__path(ow, "/libpod_parent/libpod-" ID4),
		 "/libpod_parent/libpod-" ID4 " podman " ID4 " late - - -");
	owner_is("podman: the first file still read",
		 owners__path(ow, "/libpod_parent/libpod-" ID1),
		 "/libpod_parent/libpod-" ID1 " podman " ID1 " db - - -");
	dir("cg/docker/" ID4);
	owner_is("cgroup made after the first walk: walked again after the interval",
		 owners__cgroup(ow, ino("cg/docker/" ID4)),
		 "/docker/" ID4 " docker " ID4 " - - - -");
	owners__stats(ow, &st);
	check("rescans counted", st.cgroup_walks == 1 && st.name_loads >= 3,
	      "%llu walks %llu loads", (unsigned long long)st.cgroup_walks,
	      (unsigned long long)st.name_loads);
	owners__free(ow);
}

/* Bounded: a table that fills is emptied and counted; answers stay right. */
static void test_bounds(void)
{
	struct owners *ow = open_tree("proc", 4, 0);
	struct owners_stats st;
	char path[128];
	int ok = 1;

	for (int i = 0; i < 20; i++) {
		const struct owner *o;

		snprintf(path, sizeof(path), "/system.slice/unit%d.service", i);
		o = owners__path(ow, path);
		ok &= o && !strcmp(str(o->name), path + 14);
	}
	owners__stats(ow, &st);
	check("bounded caches: answers right, emptying counted", ok && st.full >= 4,
	      "ok %d full %llu", ok, (unsigned long long)st.full);
	{
		static const char *const dirs[] = { "cg",
						    "cg/kubepods",
						    "cg/kubepods/besteffort",
						    ("cg" KPATH),
						    ("cg" KPATH "/" ID1),
						    ("cg" KPATH "/" ID2),
						    "cg/system.slice",
						    "cg/system.slice/cron.service",
						    "cg/libpod_parent",
						    ("cg/libpod_parent/libpod-" ID2) };
		unsigned int found = 0, walks;

		for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
			found += owners__cgroup(ow, ino(dirs[i])) != NULL;
		walks = (unsigned int)st.cgroup_walks;
		owners__stats(ow, &st);
		check("bounded: the cgroup walk stops at the bound, counted",
		      found <= 4 && st.full > (uint64_t)ok && st.cgroup_walks == walks + 1,
		      "%u found, %llu full", found, (unsigned long long)st.full);
	}
	owners__free(ow);
}

static void test_warnings(void)
{
	struct owners *ow;
	char root[512];
	struct owners_opts o = { .warn = collect };

	ow = open_tree("hidden", 0, 0);
	check("hidepid: one warning at start",
	      strstr(warned, "hides other users' processes (hidepid)") &&
		      !strchr(strchr(warned, '\n') + 1, '\n'),
	      "%s", warned);
	check("owners__warnings has it",
	      owners__warnings(ow) && !strcmp(owners__warnings(ow), warned), "%s",
	      str(owners__warnings(ow)));
	owner_is("hidepid: a netns unknown", owners__netns(ow, 4026532001ULL), "-");
	owners__free(ow);

	snprintf(root, sizeof(root), "%s/proc", top);
	o.proc = root;
	o.mountinfo = "/nonexistent/mountinfo";
	o.docker_root = "/nonexistent/docker";
	o.podman_root = "/nonexistent/storage";
	o.kubelet_logs = "/nonexistent/containers";
	warned[0] = '\0';
	ow = owners__new(&o);
	check("no cgroup2 mount: one warning",
	      !strcmp(warned, "no cgroup2 mount in "
			      "/nonexistent/mountinfo: cgroups "
			      "unknown (-)\n"),
	      "%s", warned);
	owner_is("no cgroup2 mount: ids unknown", owners__cgroup(ow, 1), "-");
	warned[0] = '\0';
	owners__path(ow, "/docker/" ID1);
	owners__path(ow, "/docker/" ID2);
	owners__path(ow, "/system.slice/docker-" ID3 ".scope");
	check("docker absent: one warning when its containers are met",
	      !strcmp(warned, "Docker containers met, but /nonexistent/docker is absent: their "
			      "names unknown (-)\n"),
	      "%s", warned);
	warned[0] = '\0';
	owners__path(ow, KPATH "/" ID1);
	owners__path(ow, KPATH "/" ID2);
	check("kubelet logs absent: one warning",
	      strstr(warned, "/nonexistent/containers is absent") &&
		      !strchr(strchr(warned, '\n') + 1, '\n'),
	      "%s", warned);
	owners__free(ow);

	/* A root that is there but unreadable (as nobody would find /var/lib/docker), warned at
	 * once; root reads through modes, so the test makes it a file instead. */
	snprintf(root, sizeof(root), "%s/storage/overlay-containers/containers.json", top);
	o.mountinfo = NULL;
	o.docker_root = root;
	warned[0] = '\0';
	ow = owners__new(&o);
	check("docker root unreadable: warned at start",
	      strstr(warned, "docker names unknown (-)") != NULL, "%s", warned);
	owners__free(ow);
}

int main(void)
{
	char tmpl[] = "/tmp/tcpdrop-owners-XXXXXX";
	char cmd[512];

	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(top, sizeof(top), "%s", tmpl);
	test_paths();
	lay_out();
	test_tree();
	test_rescan();
	test_bounds();
	test_warnings();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	if (system(cmd))
		perror(cmd);
	return failures ? 1 : 0;
}
