/*
 * --user: become another user for good, with no capability left, once everything that needs
 * root is done. The raw capget/capset system calls: what is needed here is "all to zero", which
 * the v3 header says in a few lines; libcap would be a library for that alone.
 */
#define _GNU_SOURCE /* getresuid, setresuid */
#include "util/util.h"

#include <bsd/stdlib.h>
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Credentials are the process's: one target for the whole run. */
static struct {
	int pending;
	int done;
	uid_t uid;
	gid_t gid;
	char name[64];
} target;

int privs__prepare(const char *user)
{
	struct passwd *pw;
	const char *why = NULL;
	long long id;

	if (geteuid() != 0) {
		msg("--user needs root: it is root's privileges that are given up");
		return -EPERM;
	}
	id = strtonum(user, 0, UINT32_MAX - 1, &why);
	errno = 0;
	pw = why ? getpwnam(user) : getpwuid((uid_t)id);
	if (!pw) {
		if (why)
			msg("--user: no user named '%s'", user);
		else
			msg("--user: uid %lld has no entry in the user database (its group is "
			    "unknown)",
			    id);
		return -ENOENT;
	}
	if (pw->pw_uid == 0) {
		msg("--user: '%s' is root: give a user without its privileges", user);
		return -EINVAL;
	}
	target.uid = pw->pw_uid;
	target.gid = pw->pw_gid;
	snprintf(target.name, sizeof(target.name), "%s", pw->pw_name);
	target.pending = 1;
	return 0;
}

static int caps_get(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };

	return syscall(SYS_capget, &hdr, data) ? -errno : 0;
}

static int caps_clear(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };

	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

/* The bounding set, while CAP_SETPCAP is still held: nothing exec'ed later can regain one. */
static void bounding_clear(void)
{
	for (int cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno == EINVAL)
			break; /* past the last capability this kernel knows */
}

/* What the drop must have left: the user's ids, no other group, no capability anywhere. */
static const char *verify(void)
{
	struct __user_cap_data_struct data[2];
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) || ru != target.uid || eu != target.uid || su != target.uid)
		return "the uids did not change";
	if (getresgid(&rg, &eg, &sg) || rg != target.gid || eg != target.gid || sg != target.gid)
		return "the gids did not change";
	if (getgroups(0, NULL) != 0)
		return "supplementary groups are left";
	if (caps_get(data))
		return "capget failed";
	for (int i = 0; i < 2; i++)
		if (data[i].effective || data[i].permitted || data[i].inheritable)
			return "capabilities are left";
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) > 0)
			return "ambient capabilities are left";
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return "no_new_privs is not set";
	return NULL;
}

int privs__drop(void)
{
	const char *step = NULL, *left;
	int err = 0;

	if (!target.pending || target.done)
		return 0;
	/* Each in turn, the first that fails named: none may be skipped. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		step = "clearing the ambient capabilities";
	if (!step)
		bounding_clear();
	if (!step && setgroups(0, NULL))
		step = "setgroups";
	if (!step && setresgid(target.gid, target.gid, target.gid))
		step = "setresgid";
	if (!step && setresuid(target.uid, target.uid, target.uid))
		step = "setresuid";
	/* setresuid empties the permitted and effective sets; the inheritable one stays. */
	if (!step && (err = caps_clear()))
		errno = -err;
	if (!step && err)
		step = "capset";
	if (!step && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		step = "PR_SET_NO_NEW_PRIVS";
	if (step) {
		err = -errno;
		msg("--user %s: %s failed: %s", target.name, step, strerror(errno));
		return err;
	}
	left = verify();
	if (left) {
		msg("--user %s: the drop did not hold (%s)", target.name, left);
		return -EPERM;
	}
	target.done = 1;
	vmsg("running as %s (uid %u, gid %u), with no capabilities", target.name,
	     (unsigned int)target.uid, (unsigned int)target.gid);
	return 0;
}

int privs__pending(void)
{
	return target.pending && !target.done;
}
