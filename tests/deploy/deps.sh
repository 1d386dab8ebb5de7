#!/bin/sh
# The Debian packages that the deploy suites (install, completion, deploy) check with: the real
# components, installed through contrib/deps.sh like the rest (a suite that lacks one fails).
# kubectl: Debian's kubernetes-client, unless a kubectl is installed already (Google's kubectl
# package ships /usr/bin/kubectl too, and dpkg refuses to let one overwrite the other).
kube=kubernetes-client
command -v kubectl >/dev/null 2>&1 && kube=
exec sh "$(dirname "$0")/../../contrib/deps.sh" -w deploy podman buildah runc catatonit jq $kube \
	yamllint mandoc bash-completion curl
