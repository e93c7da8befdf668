#!/bin/sh
# check.sh: fails when src/mtproto/tl/ is not what tools/tlgen produces from the newest schema
# pinned in tools/tlgen/schemas.json (the schema, the errors and the RSA keys).
# Fetches the pinned schemas (tools/tlgen/fetch.sh) when they are missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
"$here/fetch.sh"
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
[ $status -eq 0 ] && echo "tlgen check: src/mtproto/tl is fresh ($(sed -n 's/^#define TL_SCHEMA_VERSION "\(.*\)"$/\1/p' "$root/src/mtproto/tl/schema.h"))"
exit $status
