#!/bin/sh
# The libFuzzer targets (clang, libclang-rt-dev), each run a bounded time from its seeds in the
# tree: fuzz_pcapng (fuzz/fuzz.mk) on fuzz/corpus, fuzz_opts and fuzz_script (fuzz/extra.mk) on
# fuzz/corpus-opts and fuzz/corpus-script, the latter with every shipped and test script besides.
# PASS when a run ends without a crash, a leak or a timeout; else FAIL, naming the input that did
# it, kept in build/fuzz/artifacts/ (turn it into a test where the bug is fixed).
# FUZZ_EACH_SECONDS (default 20) bounds each target; they run at once, so the suite takes about
# that long after the build.
. "$(dirname "$0")/../lib.sh"
: "${FUZZ_EACH_SECONDS:=20}"
FB=$TOP/build/fuzz
ART=$FB/artifacts
W=$(mktemp -d "$TMPDIR/tcpdrop-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT

if ! command -v clang >/dev/null 2>&1; then
	fail fuzz-build "no clang (sh contrib/deps.sh installs it)"
	exit 0
fi
if make -s -C "$TOP" -j"$(nproc 2>/dev/null || echo 2)" build/fuzz/fuzz_pcapng fuzz-extra \
	>"$W/build.log" 2>&1; then
	pass fuzz-build
else
	fail fuzz-build "make build/fuzz/fuzz_pcapng fuzz-extra:"
	grep -v '^  [A-Z-]* ' "$W/build.log" | tail -20 | sed 's/^/    /'
	exit 0
fi
mkdir -p "$ART" || exit 1

# Scripts as fuzz_script reads them: its first byte '0' says the rest is a -s file.
mkdir "$W/scripts"
for s in "$TOP"/scripts/*.lua "$TOP"/tests/scripts/lua/*.lua; do
	{ printf 0 && cat "$s"; } >"$W/scripts/$(basename "$(dirname "$s")")-$(basename "$s")"
done

# fuzz NAME SEEDS...: run build/fuzz/NAME in the background, new inputs in $W/NAME.
fuzz() {
	name=$1
	shift
	mkdir "$W/$name"
	"$FB/$name" -max_total_time="$FUZZ_EACH_SECONDS" -close_fd_mask=3 -timeout=10 \
		-rss_limit_mb=2048 -artifact_prefix="$ART/$name-" "$W/$name" "$@" \
		>"$W/$name.log" 2>&1 &
	echo $! >"$W/$name.pid"
}

# verdict NAME: PASS with the number of runs, or FAIL with the input that broke it.
verdict() {
	name=$1
	wait "$(cat "$W/$name.pid")"
	rc=$?
	runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$W/$name.log")
	if [ "$rc" = 0 ] && [ -n "$runs" ]; then
		pass "fuzz $name ${FUZZ_EACH_SECONDS}s ($runs runs)"
		return
	fi
	input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$W/$name.log" | tail -1)
	fail "fuzz $name ${FUZZ_EACH_SECONDS}s" "exit $rc, input ${input:-not written}:"
	grep -A15 'ERROR\|runtime error\|SUMMARY' "$W/$name.log" | head -30 | sed 's/^/    /'
}

fuzz fuzz_pcapng "$TOP/fuzz/corpus"
fuzz fuzz_opts "$TOP/fuzz/corpus-opts"
fuzz fuzz_script "$TOP/fuzz/corpus-script" "$W/scripts"
for name in fuzz_pcapng fuzz_opts fuzz_script; do
	verdict $name
done
