#!/bin/sh
# The Debian packages the owners suite resolves real containers with: podman (runc, buildah) and
# Docker (docker.io: dockerd, containerd), busybox-static for the images' one binary, jq to read
# what the engines say. Installed through contrib/deps.sh like the rest (a suite that lacks one
# fails).
exec sh "$(dirname "$0")/../../contrib/deps.sh" -w owners podman buildah runc busybox-static \
	docker.io jq
