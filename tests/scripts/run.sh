#!/bin/sh
# Script tests, no root: the shipped scripts, every one-liner of docs/scripting.md, the hooks,
# helpers, actions and error messages, on synthetic drops (tests/scripts/*.txt) run through the
# real Lua runtime by build/tests/feed; errors that need no root also through ./tcpdrop.
# Outputs are compared with tests/scripts/expected/; UPDATE=1 rewrites those (then read the diff).
. "$(dirname "$0")/../lib.sh"

HERE=$TOP/tests/scripts
FEED=$TESTBIN/feed
EVENTS=$HERE/events.txt
L=$HERE/lua
EXP=$HERE/expected
T=$TMPDIR/tcpdrop-scripts.$$
# Event times print in local time: pin it, so that expected outputs hold anywhere.
TZ=UTC
export TZ

if [ ! -x "$FEED" ] || [ ! -x "$TCPDROP" ]; then
	fail scripts-tools "$FEED or $TCPDROP is missing (make tests-build)"
	exit 0
fi
mkdir -p "$T" || exit 1
trap 'rm -rf "$T"' EXIT

# Times of day that are not the events' own (tick headers, alerts, top) and measured rates.
normalise() {
	sed -e 's/^\[[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\]$/[HH:MM:SS]/' \
		-e 's/^[0-9][0-9]:[0-9][0-9]:[0-9][0-9] ALERT /HH:MM:SS ALERT /' \
		-e 's/^tcpdrop top - [0-9:]* \(.*\) ([0-9.]*\/s)/tcpdrop top - HH:MM:SS \1 (N\/s)/' \
		-e 's/^\([0-9]* drops in \)[0-9.]* s/\1N s/'
}

# feed NAME ARGS...: run feed (input from $IN, default the events file); stdout in $T/NAME.out,
# normalised, stderr in $T/NAME.err, exit status in $rc.
feed() {
	name=$1
	shift
	"$FEED" "$@" <"${IN:-$EVENTS}" >"$T/$name.raw" 2>"$T/$name.err"
	rc=$?
	normalise <"$T/$name.raw" >"$T/$name.out"
}

# expect NAME [RC]: the output is the expected one, and so is the exit status (default 0).
expect() {
	if [ -n "${UPDATE:-}" ]; then
		cp "$T/$1.out" "$EXP/$1.out"
	fi
	if [ "$rc" != "${2:-0}" ]; then
		fail "$1" "exit status $rc, expected ${2:-0}: $(head -5 "$T/$1.err")"
	elif [ ! -f "$EXP/$1.out" ]; then
		fail "$1" "no expected output $EXP/$1.out (UPDATE=1 writes it)"
	else
		check_file "$1" "$EXP/$1.out" "$T/$1.out"
	fi
}

# run_ok NAME ARGS...: feed, and compare.
run_ok() {
	n=$1
	feed "$@"
	expect "$n"
}

with_ticks() { # the events, an interval's end, the events again, another end
	{
		cat "$EVENTS"
		echo tick
		cat "$EVENTS"
		echo tick
	} >"$T/ticks.txt"
	echo "$T/ticks.txt"
}
TICKS=$(with_ticks)

# --- The shipped scripts ------------------------------------------------------------------

run_ok script-default
run_ok script-default-named -s default
run_ok script-classic -s classic
# The header lines are the exact format strings of issue 2 (bcc's current and 2018 formats).
check_eq default-header "TIME     PID     IP SADDR:SPORT          > DADDR:DPORT          STATE (FLAGS)        REASON (CODE)" "$(head -1 "$T/script-default.out")"
check_eq classic-header "TIME     PID    IP SADDR:SPORT          > DADDR:DPORT          STATE (FLAGS)" "$(head -1 "$T/script-classic.out")"
run_ok script-json -s json
# --no-stack: one line per drop, no blank line after each (its stack is not there to end).
printf 'sport=1 stack_status=off\nsport=2 stack_status=off\n' >"$T/nostack.txt"
IN=$T/nostack.txt run_ok script-default-no-stack -s default
IN=$T/nostack.txt run_ok script-classic-no-stack -s classic
# -i: an interval without a drop still prints its time line, and says it had none.
printf 'reason=NO_SOCKET\ntick\ntick\nreason=NO_SOCKET\ntick\n' >"$T/quiet.txt"
IN=$T/quiet.txt run_ok oneliner-quiet-interval -e 'count(e.reason)' -i 1
if luajit "$HERE/jsoncheck.lua" <"$T/script-json.out" >"$T/json.keys" 2>"$T/json.why"; then
	pass json-valid
else
	fail json-valid "$(cat "$T/json.why")"
fi
check_eq json-stable-keys 1 "$(sort -u "$T/json.keys" | wc -l | tr -d ' ')"
check_grep json-control-bytes-escaped '"comm":"a\\"b\\u0001\\ufffd\\tc"' "$T/script-json.out"
# -- reason_help: one key more, after reason_code, with --explain's words; nothing else moves.
printf 'reason=TCP_CLOSE\nnoreason=1\nreason=777\n' | cat "$EVENTS" - >"$T/help.txt"
IN=$T/help.txt run_ok script-json-reason-help -s json -- reason_help
IN=$T/help.txt feed script-json-plain -s json
check_eq json-reason-help-only-added "" "$(sed 's/,"reason_help":"[^"]*"//' \
	"$T/script-json-reason-help.out" | diff - "$T/script-json-plain.out")"
check_eq json-reason-help-valid 0 "$(luajit "$HERE/jsoncheck.lua" \
	<"$T/script-json-reason-help.out" >/dev/null 2>&1; echo $?)"
check_grep json-reason-help-explain "\"reason\":\"NO_SOCKET\",\"reason_code\":3,\"reason_help\":\"$("$TCPDROP" \
	--explain NO_SOCKET | sed -n 's/^  what:  //p')\"" "$T/script-json-reason-help.out"
check_grep json-reason-help-none '"reason":"777","reason_code":777,"reason_help":"no description yet"' \
	"$T/script-json-reason-help.out"
feed json-bad-arg -s json -- reasonhelp
check_eq json-bad-arg "2 tcpdrop: json: unknown argument 'reasonhelp' (reason_help)" \
	"$rc $(grep json: "$T/json-bad-arg.err")"
run_ok script-stacks -s stacks
run_ok script-stacks-reason -s stacks -- reason offsets
run_ok script-summary -s summary
run_ok script-summary-rows -s summary -- 2
run_ok script-summary-by-pod -s summary -- 2 by=pod
run_ok script-wide -s wide
IN=$TICKS run_ok script-top -s top -- 3
IN=$TICKS run_ok script-top-default -s top
IN=$TICKS run_ok script-top-by-container -s top -- by=container 3
IN=$TICKS run_ok script-alert -s alert -- rate=2
IN=$TICKS run_ok script-alert-port -s alert -- rate=3 by=port every=0

# prom: the file node_exporter reads, replaced atomically, and its counters at exit.
{
	cat "$TICKS"
	echo "stats lost=5"
} >"$T/prom-in.txt"
IN=$T/prom-in.txt feed script-prom -s prom -- "file=$T/drops.prom"
cp "$T/drops.prom" "$T/script-prom.out" 2>/dev/null
expect script-prom
check_eq prom-no-temp-left "" "$(find "$T" -name 'drops.prom.tmp*')"
IN=$TICKS run_ok script-prom-stdout -s prom -- file=- ports=80,22
# The same counted in the kernel's tables (feed --kcount stands in for them): the same files.
IN=$T/prom-in.txt feed script-prom-kcount --kcount -s prom -- "file=$T/drops-kc.prom"
cp "$T/drops-kc.prom" "$T/script-prom-kcount.out" 2>/dev/null
check_file script-prom-kcount "$EXP/script-prom.out" "$T/script-prom-kcount.out"
IN=$TICKS feed script-prom-stdout-kcount --kcount -s prom -- file=- ports=80,22
check_file script-prom-stdout-kcount "$EXP/script-prom-stdout.out" \
	"$T/script-prom-stdout-kcount.out"
# by=: a label more, counted from the events (the feeder's drops name no pod: "-").
IN=$TICKS run_ok script-prom-by-pod -s prom -- file=- by=pod ports=80,22
IN=$TICKS run_ok script-prom-by-container --kcount -s prom -- file=- by=container
feed prom-bad-dir -s prom -- file=/nonexistent/dir/x.prom
check_grep prom-bad-dir-said 'prom: cannot write /nonexistent/dir/x.prom' "$T/prom-bad-dir.err"

# Bad script arguments: one line, a non-zero exit.
for s in alert prom top stacks summary; do
	feed "$s-bad-arg" -s "$s" -- bogus=1
	if [ "$rc" -ne 0 ] && grep -q "^tcpdrop: $s: " "$T/$s-bad-arg.err"; then
		pass "$s-bad-argument"
	else
		fail "$s-bad-argument" "exit $rc: $(cat "$T/$s-bad-arg.err")"
	fi
done

# --- The one-liners of docs/scripting.md, run as written ------------------------------------

awk '/^## One-liners/ { on = 1; next } /^## / { on = 0 }
     on && /^    tcpdrop / { sub(/^    tcpdrop /, ""); print }' "$TOP/docs/scripting.md" >"$T/oneliners"
n=0
while IFS= read -r args; do
	n=$((n + 1))
	: >"$T/syslog"
	eval "set -- $args"
	IN=$HERE/oneliners.txt feed "oneliner-$n" --syslog-to "$T/syslog" "$@"
	cat "$T/syslog" >>"$T/oneliner-$n.out"
	expect "oneliner-$n"
done <"$T/oneliners"
if [ "$n" -ge 12 ]; then
	pass "docs-oneliners-count"
else
	fail "docs-oneliners-count" "only $n one-liners found in docs/scripting.md"
fi

# The docs name every event field, tcpdrop.* function, hook and shipped script.
feed api-names -e 'x = 1' -c 1 -s "$L/names.lua"
missing=""
while read -r kind name; do
	case $kind in
	field) set -- -e "e.$name\`" ;;
	api) set -- -e "tcpdrop.$name(" -e "tcpdrop.$name\`" -e "tcpdrop.$name{" -e "\`$name(" ;;
	*) continue ;;
	esac
	grep -qF "$@" "$TOP/docs/scripting.md" || missing="$missing $kind:$name"
done <"$T/api-names.raw"
for h in init filter drop tick done; do
	grep -q "\`$h(" "$TOP/docs/scripting.md" || missing="$missing hook:$h"
done
for s in "$TOP"/scripts/*.lua; do
	s=$(basename "$s" .lua)
	grep -q "^| \`$s\` |" "$TOP/docs/scripting.md" || missing="$missing script:$s"
done
if [ -s "$T/api-names.raw" ] && [ -z "$missing" ]; then
	pass docs-complete
else
	fail docs-complete "not documented:$missing $(cat "$T/api-names.err")"
fi

# --- Hooks and events ------------------------------------------------------------------------

run_ok fields --batch 1 -s "$L/fields.lua"
# The event's __index must never root a JIT trace of its own (lua/event.lua says why).
feed trace-root -s "$L/traceroot.lua" -- "$TOP/lua/event.lua"
check_eq trace-root-index "traces rooted at __index: 0" "$(cat "$T/trace-root.out" "$T/trace-root.err")"
run_ok hooks -s "$L/hooks.lua" -- a "b c"
IN=$TICKS run_ok hooks-interval -s "$L/hooks.lua" -i 5
run_ok filter-only -s "$L/filteronly.lua"
run_ok filter-and-f -s "$L/hooks.lua" -f 'e.family == 4'
run_ok count-limit -s "$L/hooks.lua" -c 2
IN=$TICKS run_ok aggregations -s "$L/aggs.lua"
IN=$TICKS run_ok keep -i 1 -e 'tcpdrop.keep() count(e.reason)'
feed exit-drop -s "$L/exit.lua" -- drop
expect exit-drop 3
feed exit-init -s "$L/exit.lua" -- init
expect exit-init 4

# The tick timer of the real event loop fires with no event at all.
IN=/dev/null feed tick-timer --loop -d 0.55 -s "$L/tick.lua"
ticks=$(grep -c '^tick' "$T/tick-timer.out")
if [ "$rc" -eq 0 ] && [ "$ticks" -ge 3 ] && [ "$ticks" -le 5 ] &&
	grep -q '^done seen=0$' "$T/tick-timer.out"; then
	pass tick-timer-no-events
else
	fail tick-timer-no-events "exit $rc, $ticks ticks in 0.55 s at 0.1 s: $(cat "$T/tick-timer.err")"
fi
IN=/dev/null feed tick-option --loop -d 0.5 -i 0.2 -s "$L/tick.lua"
ticks=$(grep -c '^tick' "$T/tick-option.out")
if [ "$ticks" -ge 1 ] && [ "$ticks" -le 2 ]; then
	pass tick-option-wins
else
	fail tick-option-wins "$ticks ticks in 0.5 s at -i 0.2"
fi
feed interval-late -e 'tcpdrop.interval(1)'
check_grep interval-outside-init 'must be called from init()' "$T/interval-late.err"

# --- Actions ---------------------------------------------------------------------------------

{
	cat "$EVENTS"
	echo "sleep 0.5"
	echo zombies
	echo reap
	echo zombies
} >"$T/actions-in.txt"
: >"$T/actions.sys"
IN=$T/actions-in.txt feed actions --syslog-to "$T/actions.sys" -s "$L/actions.lua" -- "$T/spawned"
# How many exited children wait before the housekeeping reap depends on timing: checked apart.
grep -v '^zombies' "$T/actions.raw" >"$T/actions.out"
expect actions
check_grep spawn-zombies-before-reap '^zombies [1-9]' "$T/actions.raw"
check_eq spawn-no-zombie-after-reap "zombies 0" "$(grep '^zombies' "$T/actions.raw" | tail -1)"
check_eq spawn-argv-verbatim 'NETFILTER_DROP|$HOME;`x` *
NO_SOCKET|$HOME;`x` *
TCP_CLOSE|$HOME;`x` *
TCP_INVALID_SEQUENCE|$HOME;`x` *' "$(sort "$T/spawned")"
check_grep spawn-failure-said 'cannot run /nonexistent/command: No such file or directory' \
	"$T/actions.err"
check_eq syslog-levels "err an error
notice a notice
info info by number" "$(cat "$T/actions.sys")"

# alert: a command run for each alert (no shell), syslog, and the rate limit.
cat >"$T/page.sh" <<EOF
#!/bin/sh
echo "page \$*" >>"$T/paged"
EOF
chmod +x "$T/page.sh"
: >"$T/alert.sys"
{
	cat "$TICKS"
	echo "sleep 0.3"
	echo reap
	echo zombies
} >"$T/alert-in.txt"
IN=$T/alert-in.txt feed alert-exec --syslog-to "$T/alert.sys" -s alert -- rate=2 \
	"exec=$T/page.sh" syslog=warning
check_eq alert-exec-ran "page reason NO_SOCKET 4.0 2" "$(cat "$T/paged" 2>/dev/null)"
check_eq alert-syslog "warning ALERT reason NO_SOCKET: 4.0 drops/s (threshold 2)" \
	"$(cat "$T/alert.sys")"
check_eq alert-rate-limited 1 "$(grep -c ALERT "$T/alert-exec.out")"
check_grep alert-no-zombie '^zombies 0$' "$T/alert-exec.out"

# --- Errors ----------------------------------------------------------------------------------

feed errors -s "$L/errors.lua"
expect errors 1
check_eq error-traceback "tcpdrop: $L/errors.lua:4: event has no field 'nosuch'
stack traceback:
	$L/errors.lua:4: in function 'describe'
	$L/errors.lua:10: in function 'drop'
tcpdrop: 1 script error" "$(cat "$T/errors.err")"
feed keep-going -s "$L/errors.lua" --keep-going
expect keep-going 1
check_grep keep-going-reported '^tcpdrop: 2 script errors$' "$T/keep-going.err"
# With --keep-going, ten errors in full, then only counted.
{
	cat "$EVENTS" "$EVENTS"
} >"$T/many.txt"
IN=$T/many.txt feed keep-going-many -e 'error("boom")' --keep-going --batch 3
check_eq keep-going-capped "10 1 1" "$(grep -c '^tcpdrop: -e:1: boom' "$T/keep-going-many.err") \
$(grep -c 'further script errors are counted' "$T/keep-going-many.err") \
$(grep -c '^tcpdrop: 14 script errors$' "$T/keep-going-many.err")"
feed syntax -s "$L/syntax.lua"
check_eq syntax-error "2 tcpdrop: $L/syntax.lua:4: ')' expected (to close '(' at line 3) near 'end'" \
	"$rc $(cat "$T/syntax.err")"
check_eq syntax-error-no-output "" "$(cat "$T/syntax.out")"
feed misspelt -s "$L/misspelt.lua"
check_eq misspelt-early "2" "$rc"
sed 's/cuont/count/' "$L/misspelt.lua" >"$T/misspelt.lua"
feed misspelt-hook -s "$T/misspelt.lua"
sed "s|$T/misspelt.lua|$L/misspelt.lua|" "$T/misspelt-hook.err" >>"$T/misspelt.err"
check_grep misspelt-hook "warning: $L/misspelt.lua defines dorp(), which is not a hook (did you mean drop()?)" "$T/misspelt.err"
check_grep misspelt-global "misspelt.lua:6: undefined global 'cuont' (did you mean 'count'?)" "$T/misspelt.err"
feed bare-field -f 'dport == 80'
check_grep bare-field-hint "undefined global 'dport' (did you mean 'e.dport'?)" "$T/bare-field.err"
feed misspelt-field -e 'print(e.dprot)'
check_grep misspelt-field "event has no field 'dprot' (did you mean 'dport'?)" "$T/misspelt-field.err"
feed misspelt-api -e 'tcpdrop.spwn("x")'
check_grep misspelt-api "tcpdrop has no 'spwn' (did you mean 'tcpdrop.spawn'?)" "$T/misspelt-api.err"
feed bad-filter -f 'e.dport =! 80'
check_eq bad-filter "2 tcpdrop: -f:1: ')' expected near '='" "$rc $(cat "$T/bad-filter.err")"
feed exec-and-drop -s "$L/hooks.lua" -e 'x = 1'
check_eq exec-and-drop "2 tcpdrop: -e gives the body of drop(), but the script defines drop() already" \
	"$rc $(cat "$T/exec-and-drop.err")"
feed done-error -e 'x = 1' -s "$L/names.lua" -- fail-in-done
check_grep done-error "names.lua:.*: failing in done" "$T/done-error.err"
check_eq done-error-status 1 "$rc"
feed init-error -s "$L/names.lua" -- fail-in-init
check_grep init-error "names.lua:.*: failing in init" "$T/init-error.err"
check_eq init-error-done-runs "1 done ran" "$rc $(cat "$T/init-error.out")"

# The real binary, where no root is needed: errors before anything attaches.
"$TCPDROP" -s "$L/syntax.lua" >"$T/bin-syntax.out" 2>"$T/bin-syntax.err"
check_eq binary-syntax-error "2 tcpdrop: $L/syntax.lua:4: ')' expected (to close '(' at line 3) near 'end'" \
	"$? $(cat "$T/bin-syntax.err")"
"$TCPDROP" -s no-such-script >/dev/null 2>"$T/bin-missing.err"
check_eq binary-missing-script "2 tcpdrop: script not found: no-such-script (no shipped script of that name, see --list-scripts; a file needs a path or a .lua suffix)" \
	"$? $(cat "$T/bin-missing.err")"
"$TCPDROP" -f 'e.dport ==' >/dev/null 2>"$T/bin-filter.err"
check_eq binary-bad-filter "2 tcpdrop: -f:1: unexpected symbol near ')'" "$? $(cat "$T/bin-filter.err")"
"$TCPDROP" --list-scripts >"$T/list" 2>&1
check_eq binary-list-scripts "alert classic default json prom stacks summary top wide" \
	"$(awk '{ printf "%s%s", sep, $1; sep = " " }' "$T/list")"
"$TCPDROP" --show-script json >"$T/show" 2>&1
check_file binary-show-script "$TOP/scripts/json.lua" "$T/show"

# --- Safe to leave running ---------------------------------------------------------------

# A bare -s NAME is the shipped script, never a file of that name in the current directory.
mkdir -p "$T/plant"
planted=""
for s in "$TOP"/scripts/*.lua; do
	s=$(basename "$s" .lua)
	echo 'io.stderr:write("PLANTED\n") function drop() end' >"$T/plant/$s"
	(cd "$T/plant" && "$FEED" -s "$s" -c 1 <"$EVENTS" >"$T/plant/$s.out" 2>"$T/plant/$s.err")
	if grep -q PLANTED "$T/plant/$s.out" "$T/plant/$s.err"; then
		planted="$planted $s"
	fi
done
check_eq planted-file-not-run "" "$planted"
(cd "$T/plant" && "$FEED" -s ./top -c 1 <"$EVENTS" >/dev/null 2>"$T/plant-path.err")
check_grep planted-file-by-path PLANTED "$T/plant-path.err"
(cd "$T/plant" && "$TCPDROP" -s nosuch >/dev/null 2>"$T/plant-hint.err")
echo x >"$T/plant/nosuch"
(cd "$T/plant" && "$TCPDROP" -s nosuch >/dev/null 2>"$T/plant-hint.err")
check_eq planted-hint "tcpdrop: no shipped script named 'nosuch' (see --list-scripts); for the file, say ./nosuch" \
	"$(cat "$T/plant-hint.err")"
for f in /dev/zero "$T/plant"; do
	"$TCPDROP" -s "$f" >/dev/null 2>"$T/notreg.err"
	check_eq "script-not-regular-$(basename "$f")" "2 tcpdrop: cannot read script $f: not a regular file" \
		"$? $(cat "$T/notreg.err")"
done
# A script with a NUL byte, or bigger than 16 MiB: refused, never cut short.
printf 'function drop(e)\n\tprint("a")\000print("b")\nend\n' >"$T/nul.lua"
"$TCPDROP" -s "$T/nul.lua" >/dev/null 2>"$T/nul.err"
check_eq script-nul-refused "2 tcpdrop: script $T/nul.lua has a NUL byte at line 2: not a Lua source text" \
	"$? $(cat "$T/nul.err")"
: >"$T/big.lua"
truncate -s 17M "$T/big.lua"
"$TCPDROP" -s "$T/big.lua" >/dev/null 2>"$T/big.err"
check_eq script-too-big "2 tcpdrop: script $T/big.lua is too big: 17825792 bytes, at most 16777216" \
	"$? $(cat "$T/big.err")"
rm -f "$T/big.lua"

# os.exit(n) from a hook ends the run as tcpdrop.exit(n) does: done runs, the code is n.
run_os_exit() {
	feed "os-exit-$1" -s "$L/osexit.lua" -- $1
	check_eq "os-exit-$1" "$2" "$rc $(tr '\n' '|' <"$T/os-exit-$1.out")"
}
run_os_exit "" '3 drop 80|drop 80|drop 443|done passed=3|"in done"  COUNT|in done        1|'
run_os_exit done '5 drop 80|drop 80|drop 443|done passed=3|"in done"  COUNT|in done        1|'

# Aggregations keep at most max_keys keys; what did not fit is counted, shown and reported.
IN=$HERE/oneliners.txt run_ok keys-capped -s "$L/keys.lua"
check_grep keys-capped-said "^tcpdrop: count(SPORT): 7 updates of new keys not counted, the table was full (3 keys" \
	"$T/keys-capped.err"
check_grep keys-capped-own "^tcpdrop: own limit: 8 updates of new keys not counted" "$T/keys-capped.err"
awk 'BEGIN { for (i = 1; i <= 10050; i++) printf "sport=%d dport=%d saddr=10.%d.%d.1 stack=f%d+0x1\n", i, i, i % 256, i / 256, i }' \
	>"$T/storm.txt"
IN=$T/storm.txt feed keys-default -e 'count(e.sport, e.saddr)'
check_eq keys-default-rows 10002 "$(grep -c . "$T/keys-default.out")"
check_grep keys-default-said "^tcpdrop: count(SPORT, SADDR): 50 updates of new keys not counted, the table was full (10000 keys" \
	"$T/keys-default.err"
check_grep keys-default-table "^\[50 updates of new keys not counted: the table is full (10000 keys" \
	"$T/keys-default.out"
IN=$T/storm.txt feed keys-stacks -s stacks
check_eq keys-stacks "tcpdrop: stacks: 50 drops not counted: more than 10000 different stacks (--max-keys, tcpdrop.max_keys)" \
	"$(cat "$T/keys-stacks.err")"
IN=$T/storm.txt feed keys-top -s top
check_grep keys-top "^\[.* updates of new keys not counted" "$T/keys-top.out"
IN=$T/storm.txt feed keys-summary -s summary
check_grep keys-summary "^\[50 updates of new keys not counted" "$T/keys-summary.out"

# One format per column; numbers inside text sort as numbers (ports 9, 22, 443).
printf 'win=1\nwin=2\nwin=64 dport=22\ndaddr=10.0.0.1 dport=9\ndport=443\ndport=22\ndport=9\ndport=443\n' \
	>"$T/fmt.txt"
IN=$T/fmt.txt run_ok avg-one-format -e 'avg(e.win, e.dport)'
IN=$T/fmt.txt run_ok top-ports-numeric -e 'count(e.daddr .. ":" .. e.dport)'

# Names that reach a terminal escaped: C0, C1 (0x9b alone or as U+009B), DEL, bad UTF-8;
# valid UTF-8 and plain ASCII unchanged.
printf '%s\n' 'comm="a\x9bb"' 'comm="\xc2\x9b[2J"' 'comm="caf\xc3\xa9"' 'comm="x\x7fy\\z"' \
	'comm="ok_name"' >"$T/vis.txt"
IN=$T/vis.txt run_ok vis-names -e 'count(e.comm) print(tcpdrop.printable(e.comm))'

# A misspelt name is found before tracing, even with no drop: exit 2 and one line.
for c in "-e|cuont(e.reason)|-e:1: undefined global 'cuont' (did you mean 'count'?)" \
	"-f|dport == 80|-f:1: undefined global 'dport' (did you mean 'e.dport'?)" \
	"-e|count(e.reasn)|-e:1: event has no field 'reasn' (did you mean 'reason'?)" \
	"-s|$L/misspelt.lua|$L/misspelt.lua:6: undefined global 'cuont' (did you mean 'count'?)"; do
	opt=${c%%|*}
	rest=${c#*|}
	"$TCPDROP" "$opt" "${rest%%|*}" -d 2 >/dev/null 2>"$T/early.err"
	check_eq "early-name-check $opt ${rest%%|*}" "2 $(grep -c . "$T/early.err") tcpdrop: ${rest#*|}" \
		"$? 1 $(grep -v 'warning:' "$T/early.err")"
done
IN=/dev/null feed early-dynamic -s "$L/dyn.lua"
check_eq early-check-spares-globals-set-later "0" "$rc"
IN=$HERE/oneliners.txt feed early-dynamic-runs -s "$L/dyn.lua"
check_grep early-dynamic-counted "^ *80  *[0-9]" "$T/early-dynamic-runs.out"

# Every shipped script checks its arguments and paths in init: exit 2, one line.
for c in "alert|syslog=bogus|unknown syslog level 'bogus'" \
	"alert|exec=/nonexistent/cmd|exec: cannot run '/nonexistent/cmd': not an executable file" \
	"alert|exec=no-such-command-anywhere|exec: cannot run 'no-such-command-anywhere': not found in PATH" \
	"alert|rate=x|rate must be a number" \
	"prom|file=/nonexistent/dir/x.prom|cannot write /nonexistent/dir/x.prom" \
	"prom|every=0|every must be a number of seconds > 0" \
	"prom|ports=80,x|ports: 'x' is not a port" \
	"prom|by=node|by= takes container or pod, not 'node'" \
	"top|0|the argument is a number of rows" \
	"summary|2x|the argument is a number of rows" \
	"stacks|bogus|unknown argument 'bogus'"; do
	s=${c%%|*}
	rest=${c#*|}
	IN=/dev/null feed "bad-arg-$s" -s "$s" -- "${rest%%|*}"
	if [ "$rc" = 2 ] && [ "$(grep -c . "$T/bad-arg-$s.err")" = 1 ] &&
		grep -q "^tcpdrop: $s: ${rest#*|}" "$T/bad-arg-$s.err"; then
		pass "bad-arg $s ${rest%%|*}"
	else
		fail "bad-arg $s ${rest%%|*}" "exit $rc: $(cat "$T/bad-arg-$s.err")"
	fi
done

# Refused commands: one line, then a count (not a line per drop).
IN=$T/storm.txt feed spawn-refusals -s "$L/spawnmany.lua"
check_eq spawn-refusals-lines "1 1" "$(grep -c '^tcpdrop: cannot run /nonexistent/cmd' "$T/spawn-refusals.err") \
$(grep -c '^tcpdrop: 10049 more commands could not run in the last 10 s (the last: /nonexistent/cmd: No such file or directory)$' "$T/spawn-refusals.err")"

# A hook in an endless loop, interrupted from a signal handler (runtime__interrupt): the hook
# raises, done runs. Not for a loop compiled into one trace (see core/lua/bridge.h): that one
# runs until the signal's default action ends the process.
for m in interp:drop pcall:drop call:drop done:drop init:init jit:drop; do
	mode=${m%%:*}
	sed "s/^local mode = MODE/local mode = \"$mode\"/" "$L/loop.lua" >"$T/loop-$mode.lua"
	"$TESTBIN/interrupt" "$T/loop-$mode.lua" "${m#*:}" >"$T/loop-$mode.out" 2>"$T/loop-$mode.err"
	rc=$?
	if [ "$mode" = jit ]; then
		check_eq interrupt-jit-trace-not-seen 142 "$rc"
		continue
	fi
	check_eq "interrupt-$mode" "0 ${m#*:} returned 1|done ran, seen 1|done returned 0|" \
		"$rc $(tr '\n' '|' <"$T/loop-$mode.out")"
	check_grep "interrupt-$mode-said" "^tcpdrop: interrupted$" "$T/loop-$mode.err"
done
check_eq interrupt-done-too 2 "$(grep -c '^tcpdrop: interrupted$' "$T/loop-done.err")"

# --- Performance (issue 5): batches, no allocation per event ---------------------------------

feed bench -s "$L/bench.lua" --bench 1000000
secs=$(sed -n 's/^bench: 1000000 events in \([0-9.]*\) s.*/\1/p' "$T/bench.err")
kb=$(sed -n 's/^allocated \([0-9]*\) KB$/\1/p' "$T/bench.err")
if [ -n "$secs" ] && awk "BEGIN { exit !($secs < 0.1) }"; then
	pass "bench-1M-events-under-0.1s"
else
	fail "bench-1M-events-under-0.1s" "$(cat "$T/bench.err")"
fi
# Per batch of 1024 the runtime allocates a few bytes; per event would be 16 MB or more.
if [ -n "$kb" ] && [ "$kb" -lt 1000 ]; then
	pass bench-no-allocation-per-event
else
	fail bench-no-allocation-per-event "$(cat "$T/bench.err")"
fi
feed bench-count -e 'count(e.reason, e.dport)' --bench 1000000
secs=$(sed -n 's/^bench: 1000000 events in \([0-9.]*\) s.*/\1/p' "$T/bench-count.err")
if [ -n "$secs" ] && awk "BEGIN { exit !($secs < 0.5) }"; then
	pass "bench-count-1M-under-0.5s"
else
	fail "bench-count-1M-under-0.5s" "$(cat "$T/bench-count.err")"
fi
exit 0
