# Shared by every test suite (POSIX sh, busybox-compatible): report and compare.
# A suite prints one line per check: "PASS name" or "FAIL name: why"; tests/run.sh counts them.

: "${TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TCPDROP:=$TOP/tcpdrop}"
: "${TESTBIN:=$TOP/build/tests}"
: "${TMPDIR:=/tmp}"

pass() {
	echo "PASS $1"
}

fail() {
	name=$1
	shift
	echo "FAIL $name: $*"
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "expected [$2], got [$3]"
	fi
}

# check_file NAME EXPECTED_FILE ACTUAL_FILE: pass when identical, else show the diff.
check_file() {
	if cmp -s "$2" "$3"; then
		pass "$1"
	else
		fail "$1" "output differs from $2:"
		diff -u "$2" "$3" | head -40 | sed 's/^/    /'
	fi
}

# check_grep NAME PATTERN FILE: pass when the file has a line matching the basic regex.
check_grep() {
	if grep -q -- "$2" "$3"; then
		pass "$1"
	else
		fail "$1" "no line matches [$2] in $3:"
		head -20 "$3" | sed 's/^/    /'
	fi
}

# check_nogrep NAME PATTERN FILE: pass when no line matches.
check_nogrep() {
	if grep -q -- "$2" "$3"; then
		fail "$1" "a line matches [$2] in $3:"
		grep -- "$2" "$3" | head -5 | sed 's/^/    /'
	else
		pass "$1"
	fi
}
