#!/bin/sh
# The man pages: generated (make man), mandoc -T lint clean, and in step with what they
# describe: every option of -h in tcpdrop(8) and every option it names in -h; every hook, event
# field and tcpdrop.* function of the running Lua side in tcpdrop-lua(7).
. "$(dirname "$0")/../lib.sh"

sh "$TOP/tests/deploy/deps.sh" || { fail man-deps "cannot install mandoc"; exit 1; }
MANDOC=$(command -v mandoc) || { fail man-setup "no mandoc"; exit 1; }
W=$(mktemp -d "$TMPDIR/tcpdrop-man.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
trap 'exit 1' INT TERM HUP

if ! make -s -C "$TOP" man > "$W/make.log" 2>&1; then
	fail man-build "make man: $(tail -3 "$W/make.log")"
	exit 1
fi
P8=$TOP/build/man/tcpdrop.8
P7=$TOP/build/man/tcpdrop-lua.7
pass man-build

"$MANDOC" -T lint "$P8" "$P7" > "$W/lint" 2>&1
if [ -s "$W/lint" ]; then
	fail man-lint "mandoc -T lint: $(head -5 "$W/lint")"
else
	pass man-lint
fi

# Options, as -h lists them and as the page's OPTIONS section tags them.
"$TCPDROP" -h | grep -o -- '^  \(-[A-Za-z0-9], \|    \)--[a-z0-9-]*' | tr -d ',' |
	tr ' ' '\n' | grep . | sort -u > "$W/help"
sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$P8" | grep -A1 '^\.TP' | grep '^\\fB' |
	grep -o '\\fB\\-[^\\]*\(\\-[^\\]*\)*\\fR' | sed 's/\\fB//; s/\\fR//; s/\\-/-/g' |
	sort -u > "$W/page"
check_file man-options-from-help "$W/help" "$W/page"
# Every option the page names anywhere (its prose, its examples) is one that -h lists.
sed 's/\\-/-/g' "$P8" | grep -o -- '--[a-z][a-z0-9-]*' | sort -u > "$W/named"
grep -v -x -F -f "$W/help" "$W/named" > "$W/unknown"
if [ -s "$W/unknown" ]; then
	fail man-options-named "tcpdrop(8) names options -h lacks: $(tr '\n' ' ' < "$W/unknown")"
else
	pass man-options-named
fi
# Exit codes: the page's; -h's too, once it lists them ("Exit status:"), the same ones.
sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$P8" | grep -A1 '^\.TP' | sed -n 's/^\.B \([0-9]\)$/\1/p' |
	tr '\n' ' ' > "$W/codes"
check_eq man-exit-status "0 1 2 " "$(cat "$W/codes")"
if "$TCPDROP" -h | grep -qi '^exit status'; then
	"$TCPDROP" -h | sed -n '/^[Ee]xit status/,/^$/p' | grep -o '\b[0-9]\b' | sort -u |
		tr '\n' ' ' > "$W/hcodes"
	check_eq man-exit-status-help "0 1 2 " "$(cat "$W/hcodes")"
else
	pass "man-exit-status-help: -h lists no exit status yet (core/cli); the page's are checked"
fi
# The page's version is the binary's.
v=$("$TCPDROP" --version | sed -n '1s/^tcpdrop \([^ ]*\).*/\1/p')
check_grep man-version "^\.TH TCPDROP 8 .* \"tcpdrop $v\"" "$P8"

# DROP REASONS: each reason --list-reasons describes on this kernel, with the same words.
sed -n '/^\.SH DROP REASONS/,/^\.SH /p' "$P8" | awk '
	/^\.TP/ { if (e != "") print e; e = ""; next }
	/^\./ { next }
	{ e = e (e == "" ? "" : " ") $0 }
	END { if (e != "") print e }' | sed -n 's/\\e/\\/g; s/\. MIB: .*$/./; s/^\\fB\(.*\)\\fR /\1|/p' > "$W/reasons.page"
"$TCPDROP" --list-reasons 2>/dev/null | grep -v ' no description yet$' |
	sed 's/^\([A-Z0-9_]*\( (tcpdrop)\)*\)  *[0-9]*  *\(.*\)$/\1|\3./' > "$W/reasons.want"
grep -v -x -F -f "$W/reasons.page" "$W/reasons.want" > "$W/reasons.missing"
n=$(grep -c . "$W/reasons.want")
if [ "$n" -lt 2 ]; then
	fail man-reasons "--list-reasons described $n reasons"
elif [ -s "$W/reasons.missing" ]; then
	fail man-reasons "$(grep -c . "$W/reasons.missing") of $n not in DROP REASONS: $(head -2 \
		"$W/reasons.missing")"
else
	pass "man-reasons: the $n reasons this kernel names and --list-reasons describes, the same words in tcpdrop(8) ($(grep -c . "$W/reasons.page") there)"
fi

# tcpdrop-lua(7): what the Lua side has, from the binary itself.
cat > "$W/names.lua" <<'LUA'
function init()
	for _, f in ipairs(tcpdrop.fields) do print("field e." .. f) end
	for k, v in pairs(tcpdrop) do
		if type(v) == "function" then print("func " .. k) end
	end
	tcpdrop.exit(0)
end
LUA
"$TCPDROP" -r "$TOP/tests/pcapng/cases/empty-stack.pcapng" -s "$W/names.lua" |
	grep -E '^(field|func) ' > "$W/names"
missing=""
n=0
while read -r kind name; do
	n=$((n + 1))
	case $kind in
	field) grep -qF "\\fB$name\\fR" "$P7" || grep -qF "\\fB$name," "$P7" ||
		grep -qF ", $name\\fR" "$P7" || missing="$missing $name" ;;
	func) grep -qF "tcpdrop.$name" "$P7" || grep -qF "\\fB$name(" "$P7" ||
		missing="$missing tcpdrop.$name" ;;
	esac
done < "$W/names"
for h in "init(args)" "filter(e)" "drop(e)" "tick(n)" "done(stats)"; do
	n=$((n + 1))
	grep -qF "\\fB$h\\fR" "$P7" || missing="$missing $h"
done
if [ "$n" -lt 40 ]; then
	fail man-lua-names "only $n names from the Lua side: $(head -3 "$W/names")"
elif [ -n "$missing" ]; then
	fail man-lua-names "tcpdrop-lua(7) lacks:$missing"
else
	pass "man-lua-names: $n hooks, fields and functions, each in tcpdrop-lua(7)"
fi

# Generated twice, the same page: nothing in it depends on when or where it was made.
sh "$TOP/docs/man/mkman.sh" tcpdrop-lua.7 "$TOP/docs/scripting.md" "$v" > "$W/again.7"
check_file man-reproducible "$P7" "$W/again.7"
