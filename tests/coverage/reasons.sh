#!/bin/sh
# Which drop reasons --explain describes, on the kernels of the matrix and on this one.
# reasons.list holds the reasons each kernel names (read from its BTF: 5.10 names none, drop
# reasons came with 5.17), and those tcpdrop adds there, with whether --explain describes each;
# the check is that the list says what --explain says now, and that every reason of the running
# kernel is described or says "no description yet". After a change to core/sym/explain.c:
#   sh tests/coverage/reasons.sh -u     (rewrites the list's second column, then review the diff)
# POSIX sh, also busybox sh. No root needed.
. "$(dirname "$0")/../lib.sh"

LIST=$(dirname "$0")/reasons.list
W=$(mktemp -d "$TMPDIR/tcpdrop-reasons.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT

# described NAME: whether --explain describes it, on this kernel or as a reason of others.
described() {
	if "$TCPDROP" --explain "$1" 2>/dev/null | grep -q '^  what:  .'; then
		echo described
	else
		echo none
	fi
}

while read -r kernel status name; do
	case $kernel in
	'#'* | '') echo "$kernel${status:+ $status}${name:+ $name}" ;;
	*) echo "$kernel $(described "$name") $name" ;;
	esac
done <"$LIST" >"$W/now"

if [ "${1:-}" = -u ]; then
	cp "$W/now" "$LIST"
	echo "reasons: $LIST rewritten"
	exit 0
fi

check_file "reasons: the list says what --explain describes (sh $0 -u)" "$LIST" "$W/now"
for k in $(grep -v '^#' "$LIST" | awk '{ print $1 }' | sort -u); do
	n=$(grep -c "^$k " "$LIST")
	d=$(grep -c "^$k described " "$LIST")
	none=$(grep "^$k none " "$LIST" | cut -d' ' -f3- | tr '\n' ' ')
	pass "reasons $k: $d of $n described${none:+; not yet: $none}"
done

# Every reason of the running kernel: described, or "no description yet" (and said so).
if "$TCPDROP" --list-reasons >"$W/list" 2>"$W/list.err"; then
	bad="" n=0 d=0
	# NAME CODE WHAT: a name of ours is "NAME (tcpdrop)".
	sed 's/^\([A-Z0-9_]*\) (tcpdrop) /\1_(tcpdrop) /' "$W/list" >"$W/list2"
	while read -r name code what; do
		name=$(echo "$name" | sed 's/_(tcpdrop)$/ (tcpdrop)/')
		n=$((n + 1))
		"$TCPDROP" --explain "$name" >"$W/e" 2>&1
		if grep -q '^  what:  .' "$W/e" && [ "$what" != "no description yet" ]; then
			d=$((d + 1))
		elif [ "$(cat "$W/e")" = "$name (code $code on this kernel): no description yet" ] &&
			[ "$what" = "no description yet" ]; then
			:
		else
			bad="$bad [$name]"
		fi
	done <"$W/list2"
	check_eq "reasons of this kernel ($(uname -r)): $d of $n described, the others say so" "" "$bad"
	# SKB_DROP_REASON_MAX bounds the enum: not a reason, neither listed nor described.
	check_eq "reasons: MAX is not one" "0 none" "$(grep -c '^MAX ' "$W/list") $(described MAX)"
	# A kernel that names none (5.10) says so, then lists tcpdrop's own as such.
	kernel=$(grep -c -v ' (tcpdrop) ' "$W/list")
	if [ "$kernel" = 0 ]; then
		check_grep "reasons: this kernel names none, said" \
			"^tcpdrop: this kernel names no drop reasons (they came with Linux 5.17): .*; these are tcpdrop's own\$" \
			"$W/list.err"
		check_eq "reasons: then tcpdrop's own two" 2 "$(grep -c ' (tcpdrop) ' "$W/list")"
	else
		check_nogrep "reasons: this kernel names $kernel, not said to name none" \
			"names no drop reasons" "$W/list.err"
	fi
else
	fail "reasons of this kernel" "--list-reasons: $(head -n 1 "$W/list.err")"
fi
