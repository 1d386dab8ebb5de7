#!/bin/sh
# Install what make bench needs from Debian, only what is missing; bpftrace if the archive has it.
set -u

need="linux-perf time iproute2 procps"
missing=""
for p in $need bpftrace; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "bench: missing packages:$missing (run as root, or: apt-get install$missing)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || exit 1
for p in $missing; do
	if [ "$p" = bpftrace ] && ! apt-cache show bpftrace >/dev/null 2>&1; then
		echo "bench: bpftrace is not in this Debian archive; its row will say so"
		continue
	fi
	echo "bench: installing $p"
	apt-get install -y -qq --no-install-recommends "$p" >/dev/null || {
		[ "$p" = bpftrace ] && continue
		echo "bench: cannot install $p" >&2
		exit 1
	}
done
exit 0
