#!/bin/sh
# Install what make bench needs from Debian, only what is missing; bpftrace if the archive has it.
deps="$(dirname "$0")/../contrib/deps.sh"
sh "$deps" -w bench linux-perf time iproute2 procps curl || exit 1
exec sh "$deps" -w bench -o bpftrace
