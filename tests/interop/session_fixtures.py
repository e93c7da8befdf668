#!/usr/bin/python3
"""Session fixtures made by tools we did not write, for the C tests of src/telegram/.

    session_fixtures.py generate DIR      writes every fixture into DIR
    session_fixtures.py compare A B       exits 1 when the fixtures in A and B differ in content
    session_fixtures.py verify-export F dc api_id test_mode user_id is_bot date key_seed
                                          checks that F is a Pyrogram schema-v3 file holding those

Run with /usr/bin/python3 (Debian's python3-telethon). Telethon makes its .session file and its
StringSession itself. Pyrogram is not packaged, so its files are built with sqlite3 from the
CREATE statements Pyrogram published for each schema version (pyrogram/storage/sqlite_storage.py
and file_storage.py; the fork kurigram for version 7), and its string sessions with struct from
the published formats. The GramJS string comes from gramjs_session.js. Auth keys are fake:
key(seed) = bytes((seed + i) % 256 for i in range(256)); never a real key.
"""
import base64
import os
import sqlite3
import struct
import sys


def key(seed):
    return bytes((seed + i) % 256 for i in range(256))


# Pyrogram 1.x (schema versions 1 and 2): sessions has no api_id.
PYROGRAM_V2 = """
CREATE TABLE sessions
(
    dc_id     INTEGER PRIMARY KEY,
    test_mode INTEGER,
    auth_key  BLOB,
    date      INTEGER NOT NULL,
    user_id   INTEGER,
    is_bot    INTEGER
);

CREATE TABLE peers
(
    id             INTEGER PRIMARY KEY,
    access_hash    INTEGER,
    type           INTEGER NOT NULL,
    username       TEXT,
    phone_number   TEXT,
    last_update_on INTEGER NOT NULL DEFAULT (CAST(STRFTIME('%s', 'now') AS INTEGER))
);

CREATE TABLE version
(
    number INTEGER PRIMARY KEY
);

CREATE INDEX idx_peers_id ON peers (id);
CREATE INDEX idx_peers_username ON peers (username);
CREATE INDEX idx_peers_phone_number ON peers (phone_number);

CREATE TRIGGER trg_peers_last_update_on
    AFTER UPDATE
    ON peers
BEGIN
    UPDATE peers
    SET last_update_on = CAST(STRFTIME('%s', 'now') AS INTEGER)
    WHERE id = NEW.id;
END;
"""

# Pyrogram 2.x (schema version 3): api_id second. A v2 file migrated by Pyrogram 2.x gets
# "ALTER TABLE sessions ADD api_id INTEGER" instead, so its api_id is the last column.
PYROGRAM_V3 = PYROGRAM_V2.replace(
    "    dc_id     INTEGER PRIMARY KEY,\n",
    "    dc_id     INTEGER PRIMARY KEY,\n    api_id    INTEGER,\n")

# kurigram (schema version 7): server_address and port in sessions, usernames and update_state
# tables, peers without username (v4 added usernames, v5 update_state, v6 an index, v7 the
# address columns).
PYROGRAM_V7 = """
CREATE TABLE sessions
(
    dc_id          INTEGER PRIMARY KEY,
    server_address TEXT,
    port           INTEGER,
    api_id         INTEGER,
    test_mode      INTEGER,
    auth_key       BLOB,
    date           INTEGER NOT NULL,
    user_id        INTEGER,
    is_bot         INTEGER
);

CREATE TABLE peers
(
    id             INTEGER PRIMARY KEY,
    access_hash    INTEGER,
    type           INTEGER NOT NULL,
    phone_number   TEXT,
    last_update_on INTEGER NOT NULL DEFAULT (CAST(STRFTIME('%s', 'now') AS INTEGER))
);

CREATE TABLE usernames
(
    id       INTEGER,
    username TEXT,
    FOREIGN KEY (id) REFERENCES peers(id)
);

CREATE TABLE update_state
(
    id   INTEGER PRIMARY KEY,
    pts  INTEGER,
    qts  INTEGER,
    date INTEGER,
    seq  INTEGER
);

CREATE TABLE version
(
    number INTEGER PRIMARY KEY
);

CREATE INDEX idx_peers_id ON peers (id);
CREATE INDEX idx_peers_phone_number ON peers (phone_number);
CREATE INDEX idx_usernames_id ON usernames (id);
CREATE INDEX idx_usernames_username ON usernames (username);

CREATE TRIGGER trg_peers_last_update_on
    AFTER UPDATE
    ON peers
BEGIN
    UPDATE peers
    SET last_update_on = CAST(STRFTIME('%s', 'now') AS INTEGER)
    WHERE id = NEW.id;
END;
"""

V3_COLUMNS = ["dc_id", "api_id", "test_mode", "auth_key", "date", "user_id", "is_bot"]


def pyrogram_file(path, schema, version, row, migrate_api_id=None):
    """row: the sessions row in the schema's column order."""
    if os.path.exists(path):
        os.remove(path)
    conn = sqlite3.connect(path)
    with conn:
        conn.executescript(schema)
        conn.execute("INSERT INTO version VALUES (?)", (version,))
        conn.execute("INSERT INTO sessions VALUES (%s)" % ", ".join("?" * len(row)), row)
        conn.execute("INSERT INTO peers (id, access_hash, type, phone_number, last_update_on) "
                     "VALUES (?, ?, ?, ?, ?)", (42, 4242, 1 if version < 7 else "user", None,
                                                1700000000))
    if migrate_api_id is not None:  # what Pyrogram 2.x's FileStorage.update() does to a v2 file
        with conn:
            conn.execute("ALTER TABLE sessions ADD api_id INTEGER")
            conn.execute("UPDATE sessions SET api_id = ?", (migrate_api_id,))
            conn.execute("UPDATE version SET number = 3")
    with conn:
        conn.execute("VACUUM")
    conn.close()


def pyrogram_string(fmt, *fields):
    return base64.urlsafe_b64encode(struct.pack(fmt, *fields)).decode().rstrip("=")


def generate(out):
    from telethon.crypto import AuthKey
    from telethon.sessions import SQLiteSession, StringSession

    os.makedirs(out, exist_ok=True)

    def put(name, text):
        with open(os.path.join(out, name), "w") as f:
            f.write(text + "\n")

    # Telethon's own SQLiteSession and StringSession.
    path = os.path.join(out, "telethon.session")
    if os.path.exists(path):
        os.remove(path)
    s = SQLiteSession(path)
    s.set_dc(2, "149.154.167.51", 443)
    s.auth_key = AuthKey(key(1))
    s.save()
    s.close()
    s = StringSession()
    s.set_dc(4, "149.154.167.91", 443)
    s.auth_key = AuthKey(key(2))
    put("telethon_string.txt", s.save())
    s = StringSession()
    s.set_dc(2, "2001:67c:4e8:f002::a", 8443)
    s.auth_key = AuthKey(key(3))
    put("telethon_string_ipv6.txt", s.save())

    # Pyrogram files, from the published schemas.
    pyrogram_file(os.path.join(out, "pyrogram_v2.session"), PYROGRAM_V2, 2,
                  (2, 0, key(5), 1700000000, 123456789, 0))
    pyrogram_file(os.path.join(out, "pyrogram_v3.session"), PYROGRAM_V3, 3,
                  (1, 12345, 0, key(6), 1700000100, 5000000001, 1))
    pyrogram_file(os.path.join(out, "pyrogram_v3_migrated.session"), PYROGRAM_V2, 2,
                  (3, 1, key(7), 1700000200, 777, 0), migrate_api_id=23456)
    pyrogram_file(os.path.join(out, "pyrogram_v7.session"), PYROGRAM_V7, 7,
                  (2, "149.154.167.51", 443, 34567, 0, key(8), 1700000300, 888, 0))

    # Pyrogram string sessions, from the published struct formats.
    put("pyrogram_string.txt", pyrogram_string(">BI?256sQ?", 2, 45678, False, key(9), 999, False))
    put("pyrogram_string_old32.txt", pyrogram_string(">B?256sI?", 5, True, key(10), 1001, True))
    put("pyrogram_string_old64.txt", pyrogram_string(">B?256sQ?", 4, False, key(11), 6000000002,
                                                     False))


def content(path):
    """A file's content independent of how SQLite laid out its pages."""
    if not path.endswith(".session"):
        return open(path, "rb").read()
    conn = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    schema = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").fetchall()
    rows = {t: conn.execute("SELECT * FROM %s ORDER BY rowid" % t).fetchall()
            for (kind, t, _, _) in schema if kind == "table"}
    conn.close()
    return (schema, rows)


def compare(a, b):
    status = 0
    names = sorted(set(os.listdir(a)) | set(os.listdir(b)))
    for n in names:
        pa, pb = os.path.join(a, n), os.path.join(b, n)
        if not (os.path.exists(pa) and os.path.exists(pb)):
            print("session fixtures: %s is in only one of the two" % n, file=sys.stderr)
            status = 1
        elif content(pa) != content(pb):
            print("session fixtures: %s differs from what its producer makes now" % n,
                  file=sys.stderr)
            status = 1
    return status


def verify_export(path, dc, api_id, test_mode, user_id, is_bot, date, seed):
    """Opens doorman's export as Pyrogram 2.x would and checks every column."""
    conn = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    tables = sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'"))
    assert tables == ["peers", "sessions", "version"], tables
    cols = [r[1] for r in conn.execute("PRAGMA table_info(sessions)")]
    assert cols == V3_COLUMNS, cols
    peers = [r[1] for r in conn.execute("PRAGMA table_info(peers)")]
    assert peers == ["id", "access_hash", "type", "username", "phone_number", "last_update_on"], peers
    assert conn.execute("SELECT number FROM version").fetchall() == [(3,)]
    rows = conn.execute("SELECT %s FROM sessions" % ", ".join(V3_COLUMNS)).fetchall()
    want = (dc, api_id or None, test_mode, key(seed), date, user_id or None, is_bot)
    assert rows == [want], (rows[0][:3], rows[0][4:])
    conn.close()
    print("export %s: Pyrogram v3 columns %s, version 3, row as expected" % (path, ",".join(cols)))


def main(argv):
    if len(argv) == 3 and argv[1] == "generate":
        generate(argv[2])
        return 0
    if len(argv) == 4 and argv[1] == "compare":
        return compare(argv[2], argv[3])
    if len(argv) == 10 and argv[1] == "verify-export":
        verify_export(argv[2], *(int(x) for x in argv[3:]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
