#!/bin/sh
# Bash completion (contrib/bash-completion/tcpdrop): sourced in bash with bash-completion's
# library, its function called with COMP_WORDS set as bash sets them, its answers checked.
. "$(dirname "$0")/../lib.sh"

COMPFILE=$TOP/contrib/bash-completion/tcpdrop
LIB=/usr/share/bash-completion/bash_completion
sh "$TOP/tests/deploy/deps.sh" || { fail completion-deps "cannot install bash-completion"; exit 1; }
BASH=$(command -v bash) || { fail completion-setup "no bash"; exit 1; }
for f in "$LIB" "$COMPFILE" "$TCPDROP"; do
	[ -e "$f" ] || { fail completion-setup "missing $f"; exit 1; }
done

W=$(mktemp -d "$TMPDIR/tcpdrop-completion.XXXXXX") || exit 1
NS=tdcomp-$$
cleanup() {
	ip netns del "$NS" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# comp WORD...: the completions of the last word (may be ''), one a line, sorted; run in $W.
comp() {
	(cd "$W" && "$BASH" -c '. "$1"; . "$2"; shift 2
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_tcpdrop tcpdrop "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}"' _ "$LIB" "$COMPFILE" "$TCPDROP" "$@") | sort
}

# has NAME WANTED... -- WORD...: each wanted word is among the completions.
has() {
	name=$1
	shift
	want=""
	while [ "$1" != -- ]; do
		want="$want $1"
		shift
	done
	shift
	comp "$@" > "$W/out"
	for w in $want; do
		grep -qxF -- "$w" "$W/out" || { fail "$name" "no '$w' for [$*]: $(tr '\n' ' ' < "$W/out")"; return; }
	done
	pass "$name"
}

# lacks NAME UNWANTED -- WORD...
lacks() {
	name=$1 bad=$2
	shift 3
	comp "$@" > "$W/out"
	if grep -qF -- "$bad" "$W/out"; then
		fail "$name" "'$bad' offered for [$*]: $(tr '\n' ' ' < "$W/out")"
	else
		pass "$name"
	fi
}

# Every option of -h, from a bare dash, and none that -h lacks.
"$TCPDROP" -h | grep -o -- '^  \(-[A-Za-z0-9], \|    \)--[a-z0-9-]*' | tr -d ',' | tr ' ' '\n' |
	grep . | sort > "$W/help"
comp - | grep -v -x -- -- > "$W/all"
check_file completion-every-option "$W/help" "$W/all"
has completion-long-prefix --reason --read -- --rea
has completion-script-names classic json prom alert -- -s ''
has completion-script-prefix classic -- --script cl
touch "$W/mine.lua" "$W/notes.txt"
has completion-script-lua-file mine.lua default -- -s ''
lacks completion-script-not-txt notes.txt -- -s ''
has completion-show-script json -- --show-script j
lacks completion-show-script-no-file mine.lua -- --show-script ''
has completion-probe-modes tp_btf tracepoint -- --probe t
has completion-read-file mine.lua notes.txt -- -r ''
lacks completion-number-nothing mine.lua -- -d ''
lacks completion-after-dashdash --reason -- -s alert -- --rea

# Reason names of the running kernel, also after a comma.
r1=$("$TCPDROP" --list-reasons 2>/dev/null | awk 'NR == 3 { print $1 }')
r2=$("$TCPDROP" --list-reasons 2>/dev/null | awk 'NR == 4 { print $1 }')
if [ -n "$r1" ] && [ -n "$r2" ]; then
	has completion-reason "$r1" -- --reason "$(echo "$r1" | cut -c1-4)"
	has completion-reason-list "$r1,$r2" -- --reason "$r1,$(echo "$r2" | cut -c1-4)"
	has completion-explain "$r1" -- --explain "$(echo "$r1" | cut -c1-4)"
else
	fail completion-reason "this kernel lists no drop reasons (tcpdrop --list-reasons)"
fi

# Namespaces and processes.
if ip netns add "$NS" 2>"$W/err"; then
	has completion-netns-id "$(stat -L -c %i "/run/netns/$NS")" -- --netns-id ''
else
	fail completion-netns-id "ip netns add: $(cat "$W/err")"
fi
has completion-pid-netns 1 -- --pid-netns ''
has completion-user nobody -- --user nob
has completion-metrics-labels reason,dport reason,daddr -- --metrics-labels reason,d
lacks completion-metrics-port mine.lua -- --metrics ''

