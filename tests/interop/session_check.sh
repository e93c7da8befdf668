#!/bin/sh
# session_check.sh: regenerates the session fixtures in tests/interop/sessions with their
# producers (Telethon from Debian's python3-telethon, GramJS from the npm telegram pinned here,
# Pyrogram's published schemas and formats with Python's sqlite3 and struct) and fails when they
# differ in content from the committed ones. It also opens doorman's committed export
# (sessions/doorman_export.session, written by tg_session_write_pyrogram; the unit test
# telegram_session rewrites it when DM_SESSION_EXPORT points there) with Python's sqlite3 and
# checks the Pyrogram v3 columns. The C unit tests read only the committed files.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
label="session check"
. "$here/prepare.sh"
/usr/bin/python3 "$here/session_fixtures.py" generate "$tmp"
node "$here/gramjs_session.js" > "$tmp/gramjs_string.txt"
mkdir -p "$tmp/committed"
for f in "$here"/sessions/*; do
    [ "$(basename "$f")" = doorman_export.session ] || cp "$f" "$tmp/committed/"
done
mkdir -p "$tmp/fresh" && mv "$tmp"/*.session "$tmp"/*.txt "$tmp/fresh/"
/usr/bin/python3 "$here/session_fixtures.py" compare "$tmp/committed" "$tmp/fresh"
/usr/bin/python3 "$here/session_fixtures.py" verify-export "$here/sessions/doorman_export.session" \
    2 34567 0 888 0 1700000300 8
echo "session check: fixtures reproduce (Telethon, GramJS, Pyrogram schemas 2, 3, 3 migrated, 7)"
