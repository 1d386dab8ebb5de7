#!/bin/sh
# Install Debian packages, only those missing: with no arguments, what tcpdrop needs to build,
# run and test; else the packages named (the kernel matrix and the benchmark name their own).
# usage: deps.sh [-w WHO] [-o] [PACKAGE...]   (-o: the packages are optional: skip any the
# archive lacks, instead of failing)
set -eu

who=tcpdrop
optional=0
while getopts w:o o; do
	case $o in
	w) who=$OPTARG ;;
	o) optional=1 ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
pkgs=${*:-"make gcc clang llvm pkg-config bpftool libbpf-dev libelf-dev zlib1g-dev libbsd-dev
libluajit-5.1-dev luajit iproute2 nftables iptables tshark libpcap-dev procps kmod
libclang-rt-dev libmicrohttpd-dev"}

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "$who: missing packages:$missing (run as root, or: apt-get install$missing)" >&2
	exit 1
fi
echo "$who: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
if [ $optional = 1 ]; then
	for p in $missing; do
		apt-cache show "$p" >/dev/null 2>&1 ||
			{ echo "$who: $p is not in this Debian archive"; continue; }
		apt-get install -y -qq --no-install-recommends "$p" >/dev/null
	done
	exit 0
fi
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
