/*
 * Who was hurt, by name, in a -w file: the names a drop's cgroup id (or, without one, its netns)
 * resolved to, written once per id with the first drop that has it (PCAPNG_TAG_OWNER_NAMES), and
 * read back into the run's names table, from which a replay's e.container and the others answer.
 * The writer's per-drop cost is one compare with the last id, else one hash probe.
 */
#include "capture/internal.h"
#include "sym/sym.h"

#include <stdlib.h>
#include <time.h>

#define SEEN_CAP 8192 /* power of 2 */
#define SEEN_MAX 4096 /* ids kept; more and the table starts again (ids are written again) */
#define RETRY_MS 1000 /* an id nothing named is asked again after this, on its next drop */

struct seen {
	uint64_t key; /* 0: empty */
	uint64_t retry_at; /* ms; 0: its names are in the file */
};

struct owner_tab {
	struct owners *ow; /* made on first need (or at once under --user, see ownertab__new) */
	uint64_t last_key; /* the last drop's id, written */
	unsigned int n;
	struct seen seen[SEEN_CAP];
	/* The option being made: id, kind, then the names. */
	char names[NAMES__OWNER_FIELDS * (NAME_MAX_LEN + 1)];
};

/*
 * What keeps names unknown is said by the run's Lua side, once a field is used (core/lua/owner.c):
 * the file records the same unknowns, "-" in a replay, without a second telling.
 */
static void quiet(const char *line)
{
}

static struct owners *tab_owners(struct owner_tab *t)
{
	struct owners_opts o = { .warn = quiet };

	if (!t->ow) {
		owners_opts__env(&o);
		t->ow = owners__new(&o);
	}
	return t->ow;
}

struct owner_tab *ownertab__new(void)
{
	struct owner_tab *t = xcalloc(1, sizeof(*t));

	/* --user: what only root may read is read now, before the privileges go (owner.c too). */
	if (privs__pending())
		owners__prime(tab_owners(t));
	return t;
}

void ownertab__free(struct owner_tab *t)
{
	if (!t)
		return;
	owners__free(t->ow);
	free(t);
}

/* A cgroup id or netns inode as one key (names.c's), 0 when the drop has neither. */
static uint64_t drop_key(const struct tcpdrop_event *ev, int *netns, uint64_t *id)
{
	*netns = !ev->cgroup_id_raw;
	*id = ev->cgroup_id_raw ? ev->cgroup_id_raw : ev->netns;
	return *id ? *id | (uint64_t)*netns << 63 : 0;
}

static struct seen *seen_slot(struct owner_tab *t, uint64_t key)
{
	uint32_t i = (uint32_t)((key * 0x9E3779B97F4A7C15ULL) >> 32) & (SEEN_CAP - 1);

	while (t->seen[i].key && t->seen[i].key != key)
		i = (i + 1) & (SEEN_CAP - 1);
	return &t->seen[i];
}

/* The names, each with its NUL, into t->names: their length. NULL entries are "". */
static size_t pack(struct owner_tab *t, const char **v)
{
	size_t len = 0;

	for (int i = 0; i < NAMES__OWNER_FIELDS; i++) {
		size_t n = v[i] ? strnlen(v[i], NAME_MAX_LEN) : 0;

		memcpy(t->names + len, v[i] ? v[i] : "", n);
		len += n;
		t->names[len++] = '\0';
	}
	return len;
}

const char *ownertab__names(struct owner_tab *t, const struct tcpdrop_event *ev, uint64_t *id,
			    int *netns, size_t *len)
{
	uint64_t key = drop_key(ev, netns, id), now;
	const char *v[NAMES__OWNER_FIELDS];
	struct seen *s;
	int found;

	if (!key || key == t->last_key)
		return NULL;
	s = seen_slot(t, key);
	if (s->key && !s->retry_at) {
		t->last_key = key;
		return NULL;
	}
	now = now_ns(CLOCK_MONOTONIC_COARSE) / 1000000;
	if (s->key && now < s->retry_at)
		return NULL;
	if (!s->key) {
		if (t->n >= SEEN_MAX) {
			memset(t->seen, 0, sizeof(t->seen));
			t->n = 0;
			s = seen_slot(t, key);
		}
		s->key = key;
		t->n++;
	}
	/* -w records live drops only (-r excludes it): this machine's answer is the run's. */
	found = owners__answer(tab_owners(t), *netns ? 0 : *id, *netns ? *id : 0, v);
	if (!found) {
		s->retry_at = now + RETRY_MS;
		return NULL;
	}
	s->retry_at = 0;
	t->last_key = key;
	*len = pack(t, v);
	return t->names;
}

/* ---- Reading. */

int ownertab__read(struct names *nm, const uint8_t *v, size_t len, const int s)
{
	const uint8_t *p = v + PCAPNG_OWNER_NAMES_HEAD, *end = v + len;
	uint64_t id;
	uint32_t kind;

	if (len < PCAPNG_OWNER_NAMES_HEAD + NAMES__OWNER_FIELDS)
		return -1;
	id = get64(v, s);
	kind = get32(v + 8, s);
	if (!id || kind > 1 || end[-1])
		return -1;
	for (int i = 0; i < NAMES__OWNER_FIELDS; i++) {
		const uint8_t *nul = memchr(p, '\0', (size_t)(end - p));

		/* Any bytes but NUL, as the runtimes' files gave them: Lua's vis() shows them. */
		if (!nul)
			return -1;
		p = nul + 1;
	}
	if (p != end)
		return -1;
	/* Past the table's bound, later ids answer "-": nothing else to do about it. */
	names__set_owner(nm, (int)kind, id, (const char *)v + PCAPNG_OWNER_NAMES_HEAD,
			 len - PCAPNG_OWNER_NAMES_HEAD);
	return 0;
}
