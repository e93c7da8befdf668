#!/bin/sh
# dc_layers_check.sh: fails when src/sim/dc_layers.c (tgsim's definitions for older layers) is not
# what tests/interop/dc_layers_gen.py prints from the pinned GramJS, Debian's Telethon and the
# pinned @mtcute/tl schema. Installs GramJS and the schema (npm ci) when they are missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
label="dc_layers check"
. "$here/prepare.sh"
if [ ! -f "$root/tools/tlgen/node_modules/@mtcute/tl/package.json" ]; then
    echo "$label: installing the pinned schema (npm ci in tools/tlgen)"
    (cd "$root/tools/tlgen" && npm ci --no-audit --no-fund --silent)
fi
/usr/bin/python3 "$here/dc_layers_gen.py" > "$tmp/dc_layers.c"
if ! cmp -s "$tmp/dc_layers.c" "$root/src/sim/dc_layers.c"; then
    echo "$label: src/sim/dc_layers.c is stale; run: tests/interop/dc_layers_gen.py > src/sim/dc_layers.c" >&2
    diff -u "$root/src/sim/dc_layers.c" "$tmp/dc_layers.c" | head -20 >&2 || true
    exit 1
fi
echo "$label: src/sim/dc_layers.c is fresh"
