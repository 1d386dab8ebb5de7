#!/bin/sh
# Download and unpack one Debian kernel package into the cache, never touching the host's apt.
# usage: fetch.sh NAME PATTERN; prints the unpacked directory, or fails with one line why.
# The cache ($KERNEL_CACHE, default /var/cache/tcpdrop-kernels) keeps lists, debs and trees.
set -eu

name=$1
pattern=$2
cache=${KERNEL_CACHE:-/var/cache/tcpdrop-kernels}
apt_dir=$cache/apt
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
mirror=${DEBIAN_MIRROR:-http://deb.debian.org}

mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/sources.list.d" \
	"$apt_dir/preferences.d" "$cache/debs" "$cache/trees"

# Only the suites the matrix names; signed by the archive keys the host already trusts.
sources=$apt_dir/sources.list
cat >"$sources.new" <<SRC
deb [signed-by=$keyring] $mirror/debian bookworm main
deb [signed-by=$keyring] $mirror/debian bookworm-updates main
deb [signed-by=$keyring] $mirror/debian-security bookworm-security main
deb [signed-by=$keyring] $mirror/debian bullseye main
SRC
mv "$sources.new" "$sources"

apt_private() {
	"$@" -q -o Dir::Etc::SourceList="$sources" -o Dir::Etc::SourceParts="$apt_dir/sources.list.d" \
		-o Dir::Etc::Preferences="$apt_dir/preferences" \
		-o Dir::Etc::PreferencesParts="$apt_dir/preferences.d" \
		-o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache" \
		-o Dir::State::status=/dev/null -o APT::Get::List-Cleanup=0 \
		-o Debug::NoLocking=1
}

# Refresh the lists at most once every 12 hours (and once per matrix run: the stamp is shared).
stamp=$apt_dir/updated
offline=""
if [ -z "$(find "$stamp" -mmin -720 2>/dev/null)" ]; then
	# apt-get update exits 0 when an index could not be fetched: its W:/E: lines tell.
	if apt_private apt-get update >"$apt_dir/update.log" 2>&1 &&
		! grep -q '^[WE]: ' "$apt_dir/update.log"; then
		touch "$stamp"
	else
		offline=" (apt-get update failed: $(grep -m 1 '^[WE]: ' "$apt_dir/update.log"))"
		echo "fetch $name: apt-get update failed (see $apt_dir/update.log); using cached lists" >&2
	fi
fi

candidates=$(apt_private apt-cache pkgnames linux-image- 2>/dev/null | grep -E "$pattern" |
	sort -rV || true)
# Offline with nothing listed: fall back to whatever this name last unpacked.
if [ -z "$candidates" ]; then
	if [ -e "$cache/trees/$name.current" ]; then
		cat "$cache/trees/$name.current"
		exit 0
	fi
	echo "fetch $name: no package matches $pattern in the archive lists$offline" >&2
	exit 1
fi

for pkg in $candidates; do
	tree=$cache/trees/$pkg
	if [ -e "$tree/.unpacked" ]; then
		echo "$tree" >"$cache/trees/$name.current"
		echo "$tree"
		exit 0
	fi
	deb=$(find "$cache/debs" -name "${pkg}_*.deb" | head -n 1)
	if [ -z "$deb" ]; then
		if ! (cd "$cache/debs" && apt_private apt-get download "$pkg") \
			>"$cache/debs/$pkg.log" 2>&1; then
			echo "fetch $name: cannot download $pkg ($(tail -n 1 "$cache/debs/$pkg.log"))" >&2
			continue
		fi
		deb=$(find "$cache/debs" -name "${pkg}_*.deb" | head -n 1)
	fi
	rm -rf "$tree"
	mkdir -p "$tree"
	dpkg-deb -x "$deb" "$tree"
	touch "$tree/.unpacked"
	echo "$tree" >"$cache/trees/$name.current"
	echo "$tree"
	exit 0
done
echo "fetch $name: no package matching $pattern could be downloaded" >&2
exit 1
