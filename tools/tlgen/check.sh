#!/bin/sh
# check.sh: fails when src/mtproto/tl/ is not what tools/tlgen produces from the pinned @mtcute/tl
# (the schema, the errors and the RSA keys).
# Installs the pinned @mtcute/tl (npm ci) when tools/tlgen/node_modules is missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ ! -f "$here/node_modules/@mtcute/tl/package.json" ]; then
    echo "tlgen check: installing the pinned schema (npm ci in tools/tlgen)"
    (cd "$here" && npm ci --no-audit --no-fund --silent)
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
node "$here/tlgen.js" "$tmp" >/dev/null
status=0
for f in schema.h schema.c errors.c rsa_keys.h rsa_keys.c; do
    if ! cmp -s "$tmp/$f" "$root/src/mtproto/tl/$f"; then
        echo "tlgen check: src/mtproto/tl/$f is stale; run: node tools/tlgen/tlgen.js src/mtproto/tl" >&2
        diff -u "$root/src/mtproto/tl/$f" "$tmp/$f" | head -20 >&2 || true
        status=1
    fi
done
[ $status -eq 0 ] && echo "tlgen check: src/mtproto/tl is fresh (@mtcute/tl $(node -p "require('$here/node_modules/@mtcute/tl/package.json').version"))"
exit $status
