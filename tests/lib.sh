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

# find_cmd NAME VERSION-OPTION PATTERN: the full path of the real tool. By path, because busybox
# sh runs its own applets before PATH, and busybox's ip has no netns.
find_cmd() {
	for d in $(echo "$PATH:/usr/sbin:/sbin:/usr/bin:/bin" | sed 's/:/ /g'); do
		if [ -x "$d/$1" ] && "$d/$1" "$2" 2>&1 | grep -q "$3"; then
			echo "$d/$1"
			return 0
		fi
	done
	return 1
}

# need_live SUITE "COMMANDS" FILE...: what a live suite needs before it starts: root, the real ip
# (set as $IP), each command on PATH and each file executable. Adds to $missing, which the suite
# may have begun. Else one FAIL line and status 1.
need_live() {
	suite=$1
	cmds=$2
	shift 2
	IP=$(find_cmd ip -V iproute2) || missing="${missing:-} ip(iproute2)"
	for c in $cmds; do
		command -v "$c" >/dev/null 2>&1 || missing="${missing:-} $c"
	done
	for f in "$@"; do
		[ -x "$f" ] || missing="${missing:-} $f"
	done
	if [ -n "${missing:-}" ]; then
		fail "$suite-setup" "missing:$missing (make tests-build builds the binaries)"
		return 1
	fi
	if [ "$(id -u)" != 0 ]; then
		fail "$suite-root" "the $suite suite must run as root (network namespaces, BPF)"
		return 1
	fi
}
