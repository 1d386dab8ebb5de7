/* Files compiled into the binary: the Lua runtime, the shipped scripts, the FFI cdef. */
#ifndef TCPDROP_EMBED_H
#define TCPDROP_EMBED_H

#include <stddef.h>

struct embedded {
	const char *name;
	const char *data;
	size_t len;
};

extern const char embedded_cdef[];
extern const struct embedded embedded_modules[]; /* "tcpdrop.event", ...; ends with a NULL name */
extern const struct embedded embedded_scripts[]; /* "classic", ...; ends with a NULL name */

const struct embedded *embedded_script(const char *name);

#endif
