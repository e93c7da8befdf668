# prepare.sh: sourced by check.sh and session_check.sh, which set $here (this folder) and $label
# (for messages): installs the GramJS and the mtcute pinned here (npm ci) when they are missing and
# makes $tmp, a temporary folder removed on exit.
if [ ! -f "$here/node_modules/telegram/package.json" ]; then
    echo "$label: installing GramJS (npm ci in tests/interop)"
    (cd "$here" && npm ci --no-audit --no-fund --silent)
fi
if [ ! -f "$here/mtcute/node_modules/@mtcute/node/package.json" ]; then
    echo "$label: installing mtcute (npm ci --ignore-scripts in tests/interop/mtcute)"
    (cd "$here/mtcute" && npm ci --ignore-scripts --no-audit --no-fund --silent)
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
