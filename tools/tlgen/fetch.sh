#!/bin/sh
# fetch.sh: unpacks the schemas pinned in tools/tlgen/schemas.json into tools/tlgen/schemas/<layer>/
# (api-schema.json, mtp-schema.json, raw-errors.json, binary/rsa-keys.js), each from its npm
# tarball (npm pack: the tarball alone, without dependencies) after checking the tarball's sha512
# against the pinned integrity. A layer already unpacked is kept. Prints nothing on success.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
node -e '
const s = require(process.argv[1]).layers;
for (const [layer, p] of Object.entries(s)) console.log(layer, p.package, p.dir || ".", p.integrity);
' "$here/schemas.json" | while read -r layer pkg dir integrity; do
    dest="$here/schemas/$layer"
    [ -f "$dest/.integrity" ] && [ "$(cat "$dest/.integrity")" = "$integrity" ] && continue
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack "$pkg" --silent --no-audit --no-fund >/dev/null)
    tgz=$(ls "$tmp"/*.tgz)
    got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
    if [ "$got" != "$integrity" ]; then
        echo "tlgen fetch: $pkg: tarball integrity $got is not the pinned $integrity" >&2
        rm -rf "$tmp"
        exit 1
    fi
    tar xzf "$tgz" -C "$tmp"
    rm -rf "$dest"
    mkdir -p "$dest/binary"
    for f in api-schema.json mtp-schema.json raw-errors.json binary/rsa-keys.js; do
        cp "$tmp/package/$dir/$f" "$dest/$f"
    done
    echo "$integrity" >"$dest/.integrity"
    rm -rf "$tmp"
done
