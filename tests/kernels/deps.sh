#!/bin/sh
# Install what the kernel matrix needs beyond the build's own packages: qemu and a static busybox.
exec sh "$(dirname "$0")/../../contrib/deps.sh" -w test-kernels \
	qemu-system-x86 busybox-static cpio xz-utils gzip iproute2 nftables
