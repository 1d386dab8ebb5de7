#!/bin/sh
# The command line's own answers: --version, --explain for every reason of this kernel,
# --list-reasons' words, --max-keys, and the one-line refusals (--reason N, --pid-netns, --probe).
. "$(dirname "$0")/../lib.sh"

W=$(mktemp -d "$TMPDIR/tcpdrop-cli.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
trap 'exit 1' INT TERM HUP
REC=$TOP/tests/pcapng/cases/empty-stack.pcapng

# --version: ours, the commit, then the libraries'; -V the same.
"$TCPDROP" --version >"$W/v" 2>&1
commit=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)
check_eq cli-version-line "tcpdrop $(sed -n 's/^VERSION := //p' "$TOP/Makefile") (commit $commit)" \
	"$(sed -n 1p "$W/v")"
check_grep cli-version-libbpf '^libbpf [0-9][0-9]*\.[0-9][0-9]*$' "$W/v"
check_grep cli-version-luajit '^LuaJIT [0-9]' "$W/v"
check_eq cli-version-V "$(cat "$W/v")" "$("$TCPDROP" -V 2>&1)"

# --max-keys wins over tcpdrop.max_keys() from init.
cat >"$W/keys.lua" <<'LUA'
function drop(e) end
function init() tcpdrop.max_keys(100); print(tcpdrop.max_keys()); tcpdrop.exit(0) end
LUA
check_eq cli-max-keys-wins 7 "$("$TCPDROP" -r "$REC" --max-keys 7 -s "$W/keys.lua" 2>&1)"
check_eq cli-max-keys-script 100 "$("$TCPDROP" -r "$REC" -s "$W/keys.lua" 2>&1)"

# Every reason of this kernel: --explain describes it, or says it has no description yet.
if "$TCPDROP" --list-reasons >"$W/reasons" 2>"$W/reasons.err"; then
	bad="" n=0 described=0
	while read -r name code what; do
		# A reason tcpdrop names itself: "NAME (tcpdrop)", its code after.
		if [ "$code" = "(tcpdrop)" ]; then
			name="$name (tcpdrop)"
			code=${what%% *}
			what=${what#* }
			what=$(echo "$what" | sed 's/^ *//')
		fi
		n=$((n + 1))
		"$TCPDROP" --explain "$name" >"$W/e" 2>&1
		rc=$?
		first=$(sed -n 1p "$W/e")
		if [ $rc = 0 ] && [ "$first" = "$name (code $code on this kernel)" ] &&
			grep -q '^  what:  .' "$W/e" && grep -q '^  MIB:   .' "$W/e" &&
			grep -q '^  check: .' "$W/e" &&
			[ "$what" = "$(sed -n 's/^  what:  //p' "$W/e")" ]; then
			described=$((described + 1))
		elif [ $rc = 0 ] && [ "$(cat "$W/e")" = "$name (code $code on this kernel): no description yet" ] &&
			[ "$what" = "no description yet" ]; then
			:
		else
			bad="$bad $name"
		fi
	done <"$W/reasons"
	check_eq "cli-explain-every-reason ($n reasons, $described described)" "" "$bad"
	[ "$described" -gt 0 ] && pass cli-explain-some-described ||
		fail cli-explain-some-described "none of $n"
else
	pass "cli-explain-every-reason: this kernel names no reasons ($(head -1 "$W/reasons.err"))"
fi
"$TCPDROP" --explain NO_SOCKT >"$W/e" 2>&1
check_eq cli-explain-did-you-mean "2" "$?"
check_grep cli-explain-did-you-mean-text "no drop reason 'NO_SOCKT' (did you mean NO_SOCKET?)" "$W/e"
# A short word no reason is near gets no suggestion: three edits of three letters are another
# word (FOO was once "did you mean XDP?"), for --explain and --reason alike.
for opt in --explain --reason; do
	"$TCPDROP" $opt FOO -d 0.1 >"$W/far" 2>&1
	check_eq "cli-no-far-suggestion$opt: exit" "2" "$?"
	check_grep "cli-no-far-suggestion$opt" "no drop reason 'FOO'\$" "$W/far"
done
# The line names the option that was given (--explain), not --reason.
check_grep cli-explain-unknown-names-its-option "^tcpdrop: --explain: " "$W/e"
"$TCPDROP" -r "$REC" --explain NO_SOCKET >"$W/e" 2>&1
check_grep cli-explain-replay '^NO_SOCKET (code 3 in ' "$W/e"

# A number for a name: the name asked for, with the number's name here.
c=$(sed -n 's/^NO_SOCKET  *\([0-9]*\) .*/\1/p' "$W/reasons")
if [ -n "$c" ]; then
	"$TCPDROP" --reason "$c" >"$W/r" 2>&1
	check_eq cli-reason-number "2 tcpdrop: --reason: give the name, not the number ($c is NO_SOCKET on this kernel)" \
		"$? $(head -1 "$W/r")"
fi
"$TCPDROP" --reason "$(printf 'NO\nSOCKET')" >"$W/r" 2>&1
check_eq cli-reason-newline-escaped "2 1" "$? $(wc -l <"$W/r" | tr -d ' ')"
# A script name with an escape sequence: every message about it shows the sequence escaped,
# shipped-name misses, missing files and files that are not regular alike.
esc=$(printf 'x\033[31m')
mkdir -p "$W/$esc.lua"
for spec in "$esc" "$W/$esc.lua" "$W/nonexistent$esc.lua"; do
	"$TCPDROP" -s "$spec" -r "$REC" >"$W/s" 2>&1
	rc=$?
	if [ $rc -eq 2 ] && grep -q 'x\\033\[31m' "$W/s" && ! tr -d '\n' <"$W/s" | grep -q "$(printf '\033')"; then
		echo "PASS cli-script-name-escaped: $(head -c 60 "$W/s")"
	else
		echo "FAIL cli-script-name-escaped: rc $rc, $(od -c "$W/s" | head -3)"
	fi
done

# --pid-netns of a process that is gone.
gone=$(sh -c 'echo $$')
"$TCPDROP" --pid-netns "$gone" >"$W/p" 2>&1
check_eq cli-pid-netns-gone "2 tcpdrop: --pid-netns $gone: no such process" "$? $(cat "$W/p")"

# --probe MODE that cannot load: its reason said once, -v or not.
if [ "$(id -u)" = 0 ]; then
	for v in "" -v; do
		"$TCPDROP" $v --probe kprobe --netns-id 1 -d 0.2 >/dev/null 2>"$W/k"
		if [ $? = 0 ]; then
			pass "cli-probe-error-once$v: kprobe attached here"
			continue
		fi
		why=$(sed -n 's/^tcpdrop: --probe kprobe: \(.*\) (-v shows.*/\1/p; s/^tcpdrop: --probe kprobe: //p' "$W/k" | head -1)
		check_eq "cli-probe-error-once$v" 1 "$(grep -cF -- "$why" "$W/k")"
	done
fi
