#!/bin/sh
# check.sh: regenerates the interop vectors with GramJS (npm telegram, pinned here) and Telethon
# (Debian python3-telethon) and fails when they differ from the committed tests/interop/vectors/.
# The C unit tests read only the committed files, so they need neither node nor python.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
label="interop check"
. "$here/prepare.sh"
node "$here/gramjs_vectors.js" > "$tmp/gramjs_tl.json"
/usr/bin/python3 "$here/telethon_vectors.py" > "$tmp/telethon_crypto.json"
status=0
for f in gramjs_tl.json telethon_crypto.json; do
    if ! cmp -s "$tmp/$f" "$here/vectors/$f"; then
        echo "interop check: tests/interop/vectors/$f differs from what its producer prints now" >&2
        diff -u "$here/vectors/$f" "$tmp/$f" | head -20 >&2 || true
        status=1
    fi
done
[ $status -eq 0 ] && echo "interop check: vectors reproduce (GramJS, Telethon)"
exit $status
