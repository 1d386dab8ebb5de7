#!/bin/sh
# image.sh IMAGE STATIC-BINARY VERSION: an OCI image FROM scratch with buildah, from local files
# only (no base image, no registry): the static tcpdrop as its entry point, nothing else.
set -eu
image=$1 bin=$2 version=$3
commit=$(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo unknown)
c=$(buildah from scratch)
trap 'buildah rm "$c" >/dev/null 2>&1 || true' EXIT
buildah copy --quiet --chmod 0755 "$c" "$bin" /usr/sbin/tcpdrop >/dev/null
buildah config --entrypoint '["/usr/sbin/tcpdrop"]' --cmd '' \
	--label org.opencontainers.image.title=tcpdrop \
	--label org.opencontainers.image.description="Trace the TCP packets the kernel drops" \
	--label "org.opencontainers.image.version=$version" \
	--label "org.opencontainers.image.revision=$commit" "$c"
buildah commit --quiet --rm "$c" "$image" >/dev/null
trap - EXIT
echo "image: $image ($(buildah inspect --format '{{.FromImageID}}' "$image" | cut -c1-12))"
