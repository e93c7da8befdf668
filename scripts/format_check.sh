#!/bin/sh
# format_check.sh: fails when a C file of the project is not as .clang-format lays it out
# (`make format` fixes them). Generated files (marked "do not edit") are left as generated.
set -eu
cd "$(dirname "$0")/.."
status=0
for f in $(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h' 'tools/*.c' 'bench/*.c'); do
    grep -q 'do not edit' "$f" && continue
    if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
        echo "format check: $f is not formatted; run: make format" >&2
        status=1
    fi
done
[ $status -eq 0 ] && echo "format check: every C file is formatted"
exit $status
