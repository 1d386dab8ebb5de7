#!/bin/sh
# make install / make uninstall: into a staging DESTDIR, the list of what landed, the installed
# binary run (--version, --list-scripts, a replay), its man pages and completion found where
# man and bash-completion look, then uninstall to a tree with no file left.
. "$(dirname "$0")/../lib.sh"

sh "$TOP/tests/deploy/deps.sh" || { fail install-deps "cannot install the deploy packages"; exit 1; }
W=$(mktemp -d "$TMPDIR/tcpdrop-install.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
trap 'exit 1' INT TERM HUP
D=$W/root
PREFIX=/usr/local
P=$D$PREFIX
REC=$TOP/tests/pcapng/cases/empty-stack.pcapng

if ! make -s -C "$TOP" install DESTDIR="$D" > "$W/make.log" 2>&1; then
	fail install-make "make install DESTDIR=...: $(tail -5 "$W/make.log")"
	exit 1
fi
pass install-make

# What landed, as a list: each file, its mode.
{
	for f in sbin/tcpdrop:755 share/man/man8/tcpdrop.8:644 share/man/man7/tcpdrop-lua.7:644 \
		share/bash-completion/completions/tcpdrop:644 share/doc/tcpdrop/README.md:644 \
		share/doc/tcpdrop/scripting.md:644 share/tcpdrop/systemd/tcpdrop-prom.service:644 \
		share/tcpdrop/systemd/tcpdrop@.service:644 share/tcpdrop/systemd/alert.env:644 \
		share/tcpdrop/kubernetes/tcpdrop.yaml:644 share/tcpdrop/containers/seccomp.sh:644; do
		echo "$PREFIX/${f%:*} ${f#*:}"
	done
	for s in "$TOP"/scripts/*.lua; do
		echo "$PREFIX/share/tcpdrop/scripts/$(basename "$s") 644"
	done
} | sort > "$W/want"
(cd "$D" && find . ! -type d | sed 's/^\.//' | sort | while read -r f; do
	echo "$f $(stat -c %a "$D$f")"
done) > "$W/got"
check_file install-files "$W/want" "$W/got"
echo "install: $(wc -l < "$W/got") files in $D$PREFIX"

# The installed binary, from the installed tree.
v=$("$P/sbin/tcpdrop" --version 2>&1 | head -1)
case $v in
"tcpdrop "[0-9]*) pass "install-version: $v" ;;
*) fail install-version "[$v]" ;;
esac
"$TCPDROP" --list-scripts > "$W/scripts.built"
"$P/sbin/tcpdrop" --list-scripts > "$W/scripts.inst" 2>&1
check_file install-list-scripts "$W/scripts.built" "$W/scripts.inst"
"$TCPDROP" -r "$REC" > "$W/replay.built" 2>&1
"$P/sbin/tcpdrop" -r "$REC" > "$W/replay.inst" 2>&1
check_file install-replay "$W/replay.built" "$W/replay.inst"
check_grep install-replay-drop "NO_SOCKET" "$W/replay.inst"
# The script copies are the embedded ones, byte for byte.
bad=""
for s in "$P"/share/tcpdrop/scripts/*.lua; do
	n=$(basename "$s" .lua)
	"$P/sbin/tcpdrop" --show-script "$n" | cmp -s - "$s" || bad="$bad $n"
done
check_eq install-scripts-embedded "" "$bad"
# Units name the installed binary; no placeholder is left.
cat "$P"/share/tcpdrop/systemd/* > "$W/units"
check_nogrep install-units-no-placeholder "@[a-z]*@" "$W/units"
check_grep install-units-sbindir "^ExecStart=$PREFIX/sbin/tcpdrop " "$W/units"

# man finds the pages in the installed tree; bash-completion loads the completion from it.
if MANPATH=$P/share/man man -w tcpdrop > "$W/man8" 2>&1 &&
	MANPATH=$P/share/man man -w tcpdrop-lua > "$W/man7" 2>&1; then
	pass "install-man: $(cat "$W/man8" "$W/man7" | sed "s#$D##" | tr '\n' ' ')"
else
	fail install-man "man -w: $(cat "$W/man8" "$W/man7")"
fi
out=$(XDG_DATA_DIRS=$P/share bash -c '. /usr/share/bash-completion/bash_completion
	__load_completion tcpdrop && complete -p tcpdrop' 2>&1)
check_eq install-completion-loads "complete -F _tcpdrop tcpdrop" "$out"

if ! make -s -C "$TOP" uninstall DESTDIR="$D" > "$W/make.log" 2>&1; then
	fail install-uninstall "make uninstall: $(tail -5 "$W/make.log")"
else
	left=$(cd "$D" && find . ! -type d)
	check_eq install-uninstall-empty "" "$left"
fi
