#!/bin/sh
# image.sh IMAGE STATIC-BINARY VERSION: an OCI image FROM scratch with buildah, from local files
# only (no base image, no registry): the static tcpdrop as its entry point, and the two lines of
# /etc/passwd and /etc/group that --user nobody looks up (the DaemonSet runs it so).
set -eu
image=$1 bin=$2 version=$3
commit=$(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo unknown)
c=$(buildah from scratch)
trap 'buildah rm "$c" >/dev/null 2>&1 || true' EXIT
buildah copy --quiet --chmod 0755 "$c" "$bin" /usr/sbin/tcpdrop >/dev/null
etc=$(mktemp -d)
trap 'rm -rf "$etc"; buildah rm "$c" >/dev/null 2>&1 || true' EXIT
echo 'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin' > "$etc/passwd"
echo 'nogroup:x:65534:' > "$etc/group"
buildah copy --quiet --chmod 0644 "$c" "$etc/passwd" "$etc/group" /etc/ >/dev/null
buildah config --entrypoint '["/usr/sbin/tcpdrop"]' --cmd '' \
	--label org.opencontainers.image.title=tcpdrop \
	--label org.opencontainers.image.description="Trace the TCP packets the kernel drops" \
	--label "org.opencontainers.image.version=$version" \
	--label "org.opencontainers.image.revision=$commit" "$c"
buildah commit --quiet --rm "$c" "$image" >/dev/null
trap - EXIT
rm -rf "$etc"
echo "image: $image ($(buildah inspect --format '{{.FromImageID}}' "$image" | cut -c1-12))"
