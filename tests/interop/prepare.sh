# prepare.sh: sourced by check.sh and session_check.sh, which set $here (this folder) and $label
# (for messages): installs the GramJS pinned here (npm ci) when it is missing and makes $tmp, a
# temporary folder removed on exit.
if [ ! -f "$here/node_modules/telegram/package.json" ]; then
    echo "$label: installing GramJS (npm ci in tests/interop)"
    (cd "$here" && npm ci --no-audit --no-fund --silent)
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
