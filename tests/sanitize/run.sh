#!/bin/sh
# The unit, scripts, pcapfilter, pcapng (record and replay) and live suites again, against the
# ASan+UBSan build in build/san (tests/sanitize/sanitize.mk; brought up to date here). Each suite's
# lines come back prefixed "san "; a suite also FAILs when any process left a sanitizer report,
# whatever the suite made of its exit code or stderr. The live parts need root, as in their suites.
#
# LuaJIT needs nothing special: it takes memory from mmap with its own allocator, which ASan does
# not watch, and unwinds its errors in ways ASan follows. Leaks are errors, but for the test
# tools that return early on a failure the test wants (tests/sanitize/lsan.supp).
# SAN_SUITES narrows the list; FUZZ_SECONDS (default 1 here) bounds tests/pcapng's fuzz part,
# which runs the fuzz build of its own and is not what this suite is for.
. "$(dirname "$0")/../lib.sh"
SAN=$TOP/build/san
: "${SAN_SUITES:=unit scripts pcapfilter pcapng live}"
W=$(mktemp -d "$TMPDIR/tcpdrop-sanitize.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
# Reports from every process of the run, whoever it runs as (the live suite drops to nobody).
mkdir "$W/log" && chmod 1777 "$W/log" || exit 1

# Brought up to date every time: a stale build would test yesterday's code.
if ! make -s -C "$TOP" -j"$(nproc 2>/dev/null || echo 2)" sanitize-build >"$W/build.log" 2>&1 ||
	! [ -x "$SAN/tcpdrop" ]; then
	fail san-build "no $SAN/tcpdrop (make sanitize-build):"
	tail -20 "$W/build.log" | sed 's/^/    /'
	exit 0
fi
# An unsanitized binary would pass everything below and prove nothing.
if grep -q __asan_init "$SAN/tcpdrop" && grep -q __ubsan_handle_ "$SAN/tcpdrop"; then
	pass "san-build: $SAN/tcpdrop has ASan and UBSan"
else
	fail san-build "$SAN/tcpdrop is not built with ASan and UBSan (make clean sanitize-build)"
	exit 0
fi

ASAN_OPTIONS=log_path=$W/log/asan:detect_leaks=1:check_initialization_order=1:strict_string_checks=1
LSAN_OPTIONS=suppressions=$TOP/tests/sanitize/lsan.supp:print_suppressions=0
UBSAN_OPTIONS=log_path=$W/log/ubsan:print_stacktrace=1:halt_on_error=1
TCPDROP=$SAN/tcpdrop
TESTBIN=$SAN/tests
: "${FUZZ_SECONDS:=1}"
export ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS TCPDROP TESTBIN FUZZ_SECONDS

# reports SUITE: FAIL with the first reports when the suite's processes left any, else PASS.
reports() {
	set -- "$1" "$W"/log/*
	if [ -e "$2" ]; then
		name=$1
		shift
		fail "san $name: no sanitizer report" "$# report(s):"
		for r in "$@"; do
			grep -m1 -A12 'ERROR\|runtime error' "$r" | sed 's/^/    /'
		done | head -60
		mkdir -p "$W/seen" && mv "$@" "$W/seen/"
	else
		pass "san $1: no sanitizer report"
	fi
}

prefix() {
	sed -e 's/^PASS /PASS san /' -e 's/^FAIL /FAIL san /'
}

for s in $SAN_SUITES; do
	if [ "$s" = unit ]; then
		for t in "$SAN"/tests/test_*; do
			case $t in *.d) continue ;; esac
			"$t" 2>&1 | prefix
		done
	else
		sh "$TOP/tests/$s/run.sh" 2>&1 | prefix
	fi
	reports "$s"
done
