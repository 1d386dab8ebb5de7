#!/bin/sh
# Build a test guest's initramfs: busybox, the kernel's network modules, ip/nft with their
# libraries, and the payload (static tcpdrop, test suites, helpers) under /tcpdrop.
# usage: initramfs.sh KERNEL-TREE PAYLOAD-DIR OUT.cpio.gz
set -eu

tree=$1
payload=$2
out=$3
here=$(cd "$(dirname "$0")" && pwd)
# Host commands the suites need that busybox lacks or does poorly (ip netns, nft), and dash:
# Debian's static busybox sh runs its own applets ahead of PATH (its `ip` has no netns), so
# the guest's sh is dash and busybox only provides the other commands.
: "${GUEST_HOST_CMDS:=ip nft tc ss dash}"

ver=$(basename "$(find "$tree/lib/modules" "$tree/usr/lib/modules" -mindepth 1 -maxdepth 1 \
	-type d 2>/dev/null | head -n 1)")
[ -n "$ver" ] || { echo "initramfs: no modules in $tree" >&2; exit 1; }
moddir=$(find "$tree/lib/modules" "$tree/usr/lib/modules" -mindepth 1 -maxdepth 1 \
	-name "$ver" 2>/dev/null | head -n 1)

root=$(mktemp -d "${TMPDIR:-/tmp}/tcpdrop-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT

# Merged /usr, like the host, so that library paths from ldd hold as they are.
mkdir -p "$root/usr/bin" "$root/usr/sbin" "$root/usr/lib" "$root/usr/lib64" "$root/etc" \
	"$root/proc" "$root/sys" "$root/dev" "$root/run" "$root/tmp" "$root/root"
for d in bin sbin lib lib64; do
	ln -s "usr/$d" "$root/$d"
done
mkdir -p "$root/var"
ln -s ../run "$root/var/run"
ln -s ../tmp "$root/var/tmp"

# busybox must be the static one: nothing else in the guest provides a libc for it.
bb=$(command -v busybox) || { echo "initramfs: no busybox (sh tests/kernels/deps.sh installs busybox-static)" >&2; exit 1; }
if ldd "$bb" >/dev/null 2>&1; then
	echo "initramfs: $bb is not static (install busybox-static)" >&2
	exit 1
fi
cp "$bb" "$root/usr/bin/busybox"

copy_with_libs() {
	src=$1
	dst=$2
	cp -L "$src" "$root$dst"
	ldd "$src" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

for c in $GUEST_HOST_CMDS; do
	p=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v "$c") ||
		{ echo "initramfs: $c not found on the host" >&2; exit 1; }
	copy_with_libs "$p" "/usr/sbin/$c"
done
# Every busybox applet the host commands do not replace.
for a in $("$bb" --list); do
	[ -e "$root/usr/sbin/$a" ] || [ -e "$root/usr/bin/$a" ] || ln -s busybox "$root/usr/bin/$a"
done
ln -sf ../bin/modprobe "$root/usr/sbin/modprobe"
ln -sf ../sbin/dash "$root/usr/bin/sh"

cp /etc/protocols /etc/services "$root/etc/" 2>/dev/null || true
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files\nservices: files\nprotocols: files\n' \
	>"$root/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$root/etc/hosts"

# Network modules (netfilter, sched, ...) and what they depend on; decompressed, because
# busybox modprobe reads plain .ko, and indexed by busybox depmod as the guest expects.
mkdir -p "$root/lib/modules/$ver"
(
	cd "$moddir"
	find kernel/net kernel/lib kernel/crypto kernel/drivers/net/veth.ko* \
		kernel/drivers/net/dummy.ko* kernel/drivers/net/ifb.ko* 2>/dev/null |
		cpio -pdm --quiet "$root/lib/modules/$ver"
	cp modules.builtin modules.order "$root/lib/modules/$ver/"
)
find "$root/lib/modules/$ver" -name '*.ko.xz' -exec xz -d {} +
find "$root/lib/modules/$ver" -name '*.ko.zst' -exec sh -c 'for f; do zstd -q -d --rm "$f"; done' \
	sh {} +
sed -i 's/\.ko\.\(xz\|zst\)$/.ko/' "$root/lib/modules/$ver/modules.order"
"$bb" depmod -b "$root" "$ver"

cp "$here/init.sh" "$root/init"
chmod 755 "$root/init"
mkdir -p "$root/tcpdrop"
cp -a "$payload/." "$root/tcpdrop/"

# mktemp made the root 0700; the guest's / must let unprivileged tests (not-root checks) in.
chmod 755 "$root"
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
