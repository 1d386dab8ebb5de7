#!/bin/sh
# Install what the kernel matrix needs beyond the build's own packages: qemu and a static busybox.
set -eu

pkgs="qemu-system-x86 busybox-static cpio xz-utils gzip iproute2 nftables"

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "test-kernels: missing packages:$missing (run as root, or: apt-get install$missing)" >&2
	exit 1
fi
echo "test-kernels: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
