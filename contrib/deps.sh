#!/bin/sh
# Install the Debian packages tcpdrop needs to build, run and test; only what is missing.
set -eu

pkgs="make gcc clang llvm pkg-config bpftool libbpf-dev libelf-dev zlib1g-dev libbsd-dev
libluajit-5.1-dev luajit iproute2 nftables iptables tshark libpcap-dev procps kmod
libclang-rt-dev"

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "tcpdrop: missing packages:$missing (run as root, or: apt-get install$missing)" >&2
	exit 1
fi
echo "tcpdrop: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
