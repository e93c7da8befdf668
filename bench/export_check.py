#!/usr/bin/env python3
"""export_check.py DB CSV: checks a CSV export of the Invite Requests table (GET
/api/invite-requests/export, no filter) row by row against the SQLite table it was read from,
reading the CSV with Python's csv module. Every request must be there once, newest first, each
cell as docs/api.md (Exports) says: numbers as numbers, times also as ISO 8601 UTC, flags
true/false, text quoted with a ' before a leading = + - @ tab or CR. Run by export_bench."""
import csv
import datetime
import sqlite3
import sys

STATUS = {0: 'pending', 1: 'approved', 2: 'declined'}
COLS = ('r.id, r.chat_id, coalesce(c.title, \'\'), r.user_id, r.first_name, r.last_name, '
        'r.username, r.bio, r.invite_link, r.tg_date, r.status, r.created_at, r.decided_at, '
        'r.decided_by, r.decided_via, r.last_error, r.is_premium, r.language_code, r.is_scam, '
        'r.is_fake, r.rule_id, r.verdict, r.banned')


def text(s):
    return "'" + s if s[:1] in ('=', '+', '-', '@', '\t', '\r') else s


def utc(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ') if t else ''


def expected(r):
    (rid, chat, title, user, first, last, uname, bio, link, date, status, created, decided,
     by, via, error, premium, lang, scam, fake, rule, verdict, banned) = r
    flag = lambda v: 'true' if v else 'false'
    return [str(rid), str(chat), text(title), str(user), text(first), text(last), text(uname),
            text(bio), text(link), str(date), utc(date), STATUS[status], str(created), utc(created),
            str(decided) if decided else '', utc(decided), text(by), text(via), text(error),
            flag(premium), text(lang), flag(scam), flag(fake), str(rule) if rule else '',
            text(verdict), flag(banned)]


def main():
    db, path = sys.argv[1], sys.argv[2]
    con = sqlite3.connect(f'file:{db}?mode=ro', uri=True)
    table = con.execute(f'SELECT {COLS} FROM invite_requests r LEFT JOIN chats c '
                        'ON c.chat_id = r.chat_id ORDER BY r.id DESC')
    with open(path, encoding='utf-8-sig', newline='') as f:
        rows = csv.reader(f)
        header = next(rows)
        if header[:3] != ['id', 'chat_id', 'chat_title'] or len(header) != 26:
            sys.exit(f'export_check: unexpected header {header}')
        n = 0
        for want, got in zip(table, rows):
            if expected(want) != got:
                sys.exit(f'export_check: row {n} differs:\n  table  {expected(want)}\n  export {got}')
            n += 1
        if next(table, None) is not None or next(rows, None) is not None:
            sys.exit(f'export_check: the export and the table differ in length after {n} rows')
    print(f"export_check: {n} rows read back by Python's csv module, each equal to its row of the table")


main()
