#!/bin/sh
# PID 1 of a test guest: mount what tracing and netns need, load the network modules, run
# /tcpdrop/guest.sh with its output on the second serial port (ttyS1), then power off.
export PATH=/usr/sbin:/usr/bin HOME=/root TMPDIR=/tmp

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t bpf bpf /sys/fs/bpf
# The kernel's own module requests (nft expressions, conntrack, ...) go to busybox modprobe.
echo /sbin/modprobe >/proc/sys/kernel/modprobe
hostname guest
ip link set lo up

timeout=600
for w in $(cat /proc/cmdline); do
	case $w in
	tcpdrop.timeout=*) timeout=${w#tcpdrop.timeout=} ;;
	esac
done

out=/dev/ttyS1
[ -c "$out" ] || out=/dev/console
{
	echo "@@TCPDROP-BEGIN $(uname -r)"
	for m in veth nf_tables; do
		modprobe "$m" || echo "guest: modprobe $m failed"
	done
	# A path, not "sh": busybox applets exec their own applet for a bare name.
	cd /tcpdrop && timeout "$timeout" /bin/sh ./guest.sh
	echo "@@TCPDROP-END rc=$?"
} >"$out" 2>&1
sync
poweroff -f
