#!/bin/sh
# What each test guest runs (as /tcpdrop/guest.sh): the probe smoke test, then the live suite.
export TOP=/tcpdrop TCPDROP=/tcpdrop/tcpdrop TESTBIN=/tcpdrop/build/tests TMPDIR=/tmp
cd "$TOP" || exit 1

echo "== smoke"
sh tests/kernels/smoke.sh
echo "== coverage"; sh tests/coverage/run.sh
echo "== live"
if [ -f tests/live/run.sh ]; then
	sh tests/live/run.sh
else
	echo "NOTE tests/live/run.sh is not in this tree yet: live suite not run"
fi
echo "== kcount" && sh tests/kcount/run.sh
