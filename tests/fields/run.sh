#!/bin/sh
# The field table (bpf/fields.h) is the one definition of the event: check that what is
# derived from it agrees, and that the layout checks in bpf/tcpdrop.h really fire.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$TOP" || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass() { echo "PASS fields: $1"; }
fail() { echo "FAIL fields: $1"; }

# A field slipped into the record, with the host compiler and with the probe's clang.
cp bpf/tcpdrop.h "$tmp/"
sed 's/F(__u32, cpu, TCPDROP_PART_REC)/F(__u32, cpu, TCPDROP_PART_REC) F(__u8, extra, TCPDROP_PART_REC)/' \
	bpf/fields.h >"$tmp/fields.h"
mkdir "$tmp/src"
printf '#include <linux/types.h>\n#include "tcpdrop.h"\n' >"$tmp/src/t.c"
if grep -q 'F(__u8, extra' "$tmp/fields.h"; then
	for cc in "${CC:-cc} -std=gnu11" "${CLANG:-clang} -target bpf -I/usr/include/$(${CC:-cc} -dumpmachine)"; do
		if $cc -fsyntax-only -I"$tmp" "$tmp/src/t.c" 2>"$tmp/err"; then
			fail "a misplaced field compiles with ${cc%% *}"
		elif grep -q 'has padding between its fields' "$tmp/err" &&
			grep -q 'fixed record' "$tmp/err"; then
			pass "a misplaced field is refused by ${cc%% *}"
		else
			fail "a misplaced field fails with ${cc%% *} for another reason: $(head -1 "$tmp/err")"
		fi
	done
else
	fail "the test could not misplace a field (bpf/fields.h changed shape?)"
fi
# The documented way to add a field: before _pad, shrinking it. Both compilers take it.
mkdir "$tmp/new"
cp bpf/tcpdrop.h "$tmp/new/"
sed -e 's/A(__u8, _pad, 7, TCPDROP_PART_PAD)/F(__u8, trial, TCPDROP_PART_HEAD) A(__u8, _pad, 6, TCPDROP_PART_PAD)/' \
	bpf/fields.h >"$tmp/new/fields.h"
if ! grep -q 'F(__u8, trial' "$tmp/new/fields.h"; then
	fail "the test could not add a field before _pad (bpf/fields.h changed shape?)"
else
	for cc in "${CC:-cc} -std=gnu11" "${CLANG:-clang} -target bpf -I/usr/include/$(${CC:-cc} -dumpmachine)"; do
		if $cc -fsyntax-only -I"$tmp/new" "$tmp/src/t.c" 2>"$tmp/err"; then
			pass "a field added before _pad compiles with ${cc%% *}"
		else
			fail "a field added before _pad is refused by ${cc%% *}: $(grep error "$tmp/err" | head -1)"
		fi
	done
fi
if ${CC:-cc} -std=gnu11 -fsyntax-only -Ibpf "$tmp/src/t.c" 2>"$tmp/err"; then
	pass "the real table compiles"
else
	fail "the real table does not compile: $(head -1 "$tmp/err")"
fi

# Lua's raw names (build/fields.lua) against the FFI's own view of the struct (build/cdef.h).
cat >"$tmp/check.lua" <<'LUA'
local ffi = require("ffi")
ffi.cdef("typedef uint8_t __u8; typedef uint16_t __u16; typedef uint32_t __u32; typedef uint64_t __u64;")
local f = io.open(arg[1]); local cdef = f:read("*a"):gsub("^[^\n]*\n[^\n]*\n", ""); f:close()
ffi.cdef(cdef)
local fields = dofile(arg[2])
local off, bad = 0, 0
for _, fd in ipairs(fields) do
	local o = ffi.offsetof("struct tcpdrop_event", fd.name)
	if o ~= off then
		print(("%s at %s, expected %d"):format(fd.name, tostring(o), off)); bad = bad + 1
	end
	off = off + ffi.sizeof(fd.ctype) * fd.count
end
if off ~= ffi.sizeof("struct tcpdrop_event") then
	print(("fields add up to %d, the struct is %d"):format(off, ffi.sizeof("struct tcpdrop_event")))
	bad = bad + 1
end
print(#fields .. " fields")
os.exit(bad == 0 and 0 or 1)
LUA
if out=$(luajit "$tmp/check.lua" build/cdef.h build/fields.lua 2>&1); then
	pass "Lua's field list matches the struct the FFI sees ($out)"
else
	fail "Lua's field list and the struct disagree: $out"
fi

# The owner fields (lua/event.lua's owner_fields): a run whose hooks read none of them loads no
# owner program, so the list must hold every field the probe fills only while tracking owners:
# each raw field bpf/owner.h writes into an event, and each derived field whose getter reads
# one of those (or is lua/owner.lua's). A field missing here would read as unknown, silently.
listed=$(sed -n '/^for _, n in ipairs({ "owner_pid"/,/}) do$/p' lua/event.lua | grep -o '"[a-z_]*"' |
	tr -d '"' | sort -u)
raw=$(grep -o 'e->[a-z_]*' bpf/owner.h | sed 's/^e->//' | sort -u)
derived=$(awk -v raw="$(echo $raw)" '
	BEGIN { n = split(raw, r, " ") }
	/^\t\{ "[a-z_]+"/ { split($0, q, "\""); name = q[2] }
	name != "" {
		if ($0 ~ /owner\.getters/) print name
		for (i = 1; i <= n; i++) if ($0 ~ ("e\\." r[i] "([^a-z_]|$)")) print name
	}
	/^}$/ { name = "" }' lua/event.lua | sort -u)
missing=
for f in $raw $derived; do
	echo "$listed" | grep -qx "$f" || missing="$missing $f"
done
if [ -z "$raw" ] || [ -z "$derived" ] || [ -z "$listed" ]; then
	fail "owner fields: could not read the lists (raw: $(echo $raw); derived: $(echo $derived))"
elif [ -n "$missing" ]; then
	fail "owner fields: the probe's owner fields missing from event.lua's owner_fields:$missing"
else
	pass "owner fields: all $(echo $raw $derived | wc -w) fields that need owners are listed ($(echo $derived))"
fi
