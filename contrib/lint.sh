#!/bin/sh
# make lint: clang-format must agree with the tree, cppcheck must find nothing.
set -u
status=0
files=$(git ls-files 'core/*.c' 'core/*.h' 'bpf/*.c' 'bpf/*.h' 'bench/*.c' 'tests/*.c' 'tests/**/*.c')
if ! clang-format --dry-run --Werror $files; then
	echo "lint: clang-format disagrees (clang-format -i FILE)" >&2
	status=1
fi
if ! cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
	--inline-suppr --suppress=missingIncludeSystem --std=c11 -D__x86_64__ \
	$(git ls-files 'core/*.c' 'bench/*.c' 'tests/*.c' 'tests/**/*.c' | grep -v '\.bpf\.c$'); then
	echo "lint: cppcheck found problems" >&2
	status=1
fi
exit $status
