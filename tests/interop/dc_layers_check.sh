#!/bin/sh
# dc_layers_check.sh: fails when src/sim/dc_layers.c (tgsim's definitions for older layers) is not
# what tests/interop/dc_layers_gen.py prints from the pinned GramJS, Debian's Telethon and the
# schemas pinned in tools/tlgen/schemas.json. Installs GramJS (npm ci) and the schemas
# (tools/tlgen/fetch.sh) when they are missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
label="dc_layers check"
. "$here/prepare.sh"
"$root/tools/tlgen/fetch.sh"
/usr/bin/python3 "$here/dc_layers_gen.py" > "$tmp/dc_layers.c"
if ! cmp -s "$tmp/dc_layers.c" "$root/src/sim/dc_layers.c"; then
    echo "$label: src/sim/dc_layers.c is stale; run: tests/interop/dc_layers_gen.py > src/sim/dc_layers.c" >&2
    diff -u "$root/src/sim/dc_layers.c" "$tmp/dc_layers.c" | head -20 >&2 || true
    exit 1
fi
echo "$label: src/sim/dc_layers.c is fresh"
