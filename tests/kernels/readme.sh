#!/bin/sh
# Put the support table (support.md, from the last matrix run) into the README between its markers.
# usage: readme.sh SUPPORT.md README.md
set -eu
table=$1
readme=$2
grep -q '^<!-- kernel-support -->$' "$readme" || exit 0
tmp=$readme.new
awk -v table="$table" '
	/^<!-- kernel-support -->$/ { print; while ((getline line < table) > 0) print line; skip = 1; next }
	/^<!-- \/kernel-support -->$/ { skip = 0 }
	!skip { print }
' "$readme" >"$tmp"
mv "$tmp" "$readme"
