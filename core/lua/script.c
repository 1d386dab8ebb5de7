/* Which script -s names, and its source: a bare name is a shipped script, never a file. */
#include "lua/bridge.h"
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const struct embedded *embedded_script(const char *name)
{
	for (const struct embedded *e = embedded_scripts; e->name; e++)
		if (!strcmp(e->name, name))
			return e;
	return NULL;
}

/*
 * A path, by its spelling alone: tcpdrop runs as root, and a bare name that found a file in the
 * current directory first ran whatever someone had left there under a shipped script's name.
 */
static int names_a_file(const char *spec)
{
	size_t n = strlen(spec);

	return strchr(spec, '/') || (n > 4 && !strcmp(spec + n - 4, ".lua"));
}

/* path is opened; shown (path escaped for a terminal) is what messages say. */
static int read_script(const char *path, const char *shown, char **src, size_t *len)
{
	struct stat st;
	char *nul;

	if (stat(path, &st)) {
		int err = -errno;

		if (errno == ENOENT)
			msg("script not found: %s (no such file)", shown);
		else
			msg("cannot read script %s: %s", shown, strerror(errno));
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		msg("cannot read script %s: not a regular file", shown);
		return -EINVAL;
	}
	if (st.st_size > RUNTIME_SCRIPT_MAX) {
		msg("script %s is too big: %lld bytes, at most %d", shown, (long long)st.st_size,
		    RUNTIME_SCRIPT_MAX);
		return -EFBIG;
	}
	/* One byte more than allowed: a file that grew since stat() is refused, never cut. */
	*src = read_file(path, (size_t)RUNTIME_SCRIPT_MAX + 1, len);
	if (!*src) {
		int err = -errno;

		msg("cannot read script %s: %s", shown, strerror(errno));
		return err;
	}
	if (*len > RUNTIME_SCRIPT_MAX) {
		msg("script %s is too big: more than %d bytes", shown, RUNTIME_SCRIPT_MAX);
		goto refuse;
	}
	nul = memchr(*src, '\0', *len);
	if (nul) {
		int line = 1;

		for (const char *p = *src; p < nul; p++)
			line += *p == '\n';
		msg("script %s has a NUL byte at line %d: not a Lua source text", shown, line);
		goto refuse;
	}
	return 0;
refuse:
	free(*src);
	*src = NULL;
	return -EINVAL;
}

int runtime__script_source(const char *spec, char **src, size_t *len, char **chunk)
{
	const struct embedded *e;
	char *shown;
	size_t n = strlen(spec);
	int err = 0;

	/* The name as the messages here show it: a -s word may hold escape sequences. */
	shown = xmalloc(4 * n + 1);
	vis__text(shown, 4 * n + 1, spec, n, 0);
	if (names_a_file(spec)) {
		err = read_script(spec, shown, src, len);
		if (!err) { /* raw: the error handler escapes what it prints */
			*chunk = xmalloc(n + 2);
			sprintf(*chunk, "@%s", spec);
		}
		goto out;
	}
	e = embedded_script(spec);
	if (!e) {
		struct stat st;

		if (!stat(spec, &st))
			msg("no shipped script named '%s' (see --list-scripts); for the file, say "
			    "./%s",
			    shown, shown);
		else
			msg("script not found: %s (no shipped script of that name, see "
			    "--list-scripts; a file needs a path or a .lua suffix)",
			    shown);
		err = -ENOENT;
		goto out;
	}
	*src = xmalloc(e->len + 1);
	memcpy(*src, e->data, e->len);
	(*src)[e->len] = '\0';
	*len = e->len;
	*chunk = xmalloc(strlen(spec) + 6);
	sprintf(*chunk, "@%s.lua", spec);
out:
	free(shown);
	return err;
}

void runtime_opts__free(struct runtime_opts *ro)
{
	free((char *)ro->script_src);
	free((char *)ro->script_chunk);
	ro->script_src = ro->script_chunk = NULL;
}
