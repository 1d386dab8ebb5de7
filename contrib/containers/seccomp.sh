#!/bin/sh
# seccomp.sh [DEFAULT-PROFILE] > tcpdrop-seccomp.json: the container engine's default seccomp
# profile, with bpf(2) allowed to a container that has CAP_BPF and perf_event_open(2) to one
# that has CAP_PERFMON. Some defaults (containers-common before 0.51, Debian 12's podman) allow
# them only with CAP_SYS_ADMIN; with this one tcpdrop runs without it:
#   podman run --cap-drop all --cap-add bpf,perfmon,syslog \
#       --security-opt seccomp=tcpdrop-seccomp.json ...
set -eu
jq '(.syscalls[] | select(.action == "SCMP_ACT_ERRNO" and ((.excludes.caps // []) |
	index("CAP_SYS_ADMIN"))) | .names) -= ["bpf", "perf_event_open"] |
	.syscalls += [{names: ["bpf"], action: "SCMP_ACT_ALLOW", includes: {caps: ["CAP_BPF"]}},
		{names: ["perf_event_open"], action: "SCMP_ACT_ALLOW",
		 includes: {caps: ["CAP_PERFMON"]}}]' "${1:-/usr/share/containers/seccomp.json}"
