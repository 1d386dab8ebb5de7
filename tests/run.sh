#!/bin/sh
# make test: run every suite, count PASS/FAIL lines, end with "N passed, N failed".
# Suites: the unit test binaries, then tests/*/run.sh in name order. SUITES="a b" runs a subset;
# SKIP="a b" leaves some out (make check skips the qemu kernel matrix).
TOP=$(cd "$(dirname "$0")/.." && pwd)
export TOP
cd "$TOP" || exit 1
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_suite() {
	echo "== $1"
	shift
	"$@" 2>&1 | tee -a "$log" | grep -v '^PASS '
	true
}

want() {
	case " ${SKIP:-} " in *" $1 "*) return 1 ;; esac
	[ -z "${SUITES:-}" ] && return 0
	case " $SUITES " in *" $1 "*) return 0 ;; esac
	return 1
}

if want unit; then
	for t in build/tests/test_*; do
		[ -x "$t" ] && run_suite "unit $(basename "$t")" "$t"
	done
fi
for s in tests/*/run.sh; do
	suite=$(basename "$(dirname "$s")")
	want "$suite" || continue
	run_suite "$suite" sh "$s"
done

passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
