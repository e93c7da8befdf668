// Exports (issue 15, item 2): GET /api/invite-requests/export and /api/audit/export as CSV
// (RFC 4180, UTF-8, optional BOM) and JSON Lines, under the list's filters; each parsed back and
// compared with what the list API answers for the same filter, row by row, on hostile names.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runPython } from '../lib/processes.mjs';
import { addRequester, tgAddJoinRequests } from '../lib/tgsim.mjs';
import { Client, listAll, auditAll, waitRecorded, decide } from '../lib/api.mjs';
import { startStack } from '../lib/stacks.mjs';

const D = (s) => Math.floor(Date.parse(s + 'Z') / 1000); // 'YYYY-MM-DDTHH:MM:SS' UTC -> Unix seconds

// Names a spreadsheet or a CSV reader could trip on: separators, quotes, line breaks, formulas
// (Telegram, and tgsim, allow no other control characters: tab and CR are in the unit test).
const HOSTILE = [
    { first_name: 'Comma, "Quote"', last_name: 'Line\nBreak', username: 'comma_q', bio: 'two\nlines, "quoted"', date: D('2024-02-01T08:00:00') },
    { first_name: '=HYPERLINK("http://evil.example","click")', last_name: '+1+2', username: 'formula_a', bio: '-5', date: D('2024-02-02T09:00:00') },
    { first_name: '@SUM(A1:A2)', last_name: '-minus', username: 'formula_b', bio: '\n=not a formula: a line break first', date: D('2024-02-03T10:00:00') },
    { first_name: 'Straße 🚀', last_name: 'Ünïcode ""', username: 'unicode_u', bio: 'a, b\n=c', invite_link: 'https://t.me/+AbC', date: D('2024-02-04T11:00:00'), is_premium: true, language_code: 'de' },
    { first_name: 'Plain', last_name: 'Person', username: 'plain_p', bio: '', date: D('2024-02-05T12:00:00') },
];
const BULK = 1150; // more than two of the export's 500-row pages

// RFC 4180: records of fields; quoted fields may hold commas, quotes ("" inside) and CRLF/LF.
function parseCsv(text) {
    const rows = [];
    let row = [], field = '', i = 0, quoted = false, wasQuoted = false;
    while (i < text.length) {
        const c = text[i];
        if (quoted) {
            if (c === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
            if (c === '"') { quoted = false; i++; continue; }
            field += c; i++; continue;
        }
        if (c === '"' && field === '' && !wasQuoted) { quoted = true; wasQuoted = true; i++; continue; }
        if (c === ',') { row.push(field); field = ''; wasQuoted = false; i++; continue; }
        if (c === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; wasQuoted = false; i += 2; continue; }
        assert.ok(c !== '"' && c !== '\n' && c !== '\r', `CSV: a bare ${JSON.stringify(c)} outside quotes at ${i}`);
        field += c; i++;
    }
    assert.equal(row.length + field.length, 0, 'CSV: the last record ends with CRLF');
    return rows;
}

// What the CSV's cell of a list item's value must be (docs/api.md, Exports).
const neutral = (s) => (/^[=+\-@\t\r]/.test(s) ? `'${s}` : s);
const iso = (t) => (t ? new Date(t * 1000).toISOString().replace('.000Z', 'Z') : null);
function csvCell(v, text) {
    if (v === null) return '';
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (typeof v === 'number') return String(v);
    return text ? neutral(v) : v;
}
const UTC = { date_utc: 'date', created_at_utc: 'created_at', decided_at_utc: 'decided_at', at_utc: 'at' };
// A list item as the export writes it: the list's fields with the ISO twins of its times.
function exported(item, header) {
    const o = {};
    for (const k of header) o[k] = k in UTC ? iso(item[UTC[k]]) : item[k];
    return o;
}
// Text columns (neutralised in CSV): strings that are not statuses or ISO times.
const TEXT_COLS = new Set(['chat_title', 'first_name', 'last_name', 'username', 'bio', 'invite_link',
    'decided_by', 'decided_via', 'last_error', 'language_code', 'verdict', 'verification_answer', 'admin', 'action', 'via', 'result', 'detail']);

function checkCsv(text, items, what) {
    const rows = parseCsv(text);
    const header = rows.shift();
    assert.equal(rows.length, items.length, `${what}: as many rows as the list`);
    for (const [i, item] of items.entries()) {
        const want = exported(item, header);
        const got = Object.fromEntries(header.map((k, j) => [k, rows[i][j]]));
        const wantCells = Object.fromEntries(header.map((k) => [k, csvCell(want[k], TEXT_COLS.has(k))]));
        assert.deepEqual(got, wantCells, `${what}: row ${i} (id ${item.id})`);
    }
    return { header, rows };
}

function checkJsonl(text, items, what) {
    assert.ok(text === '' || text.endsWith('\n'), `${what}: every line ends with \\n`);
    const lines = text.split('\n').slice(0, -1).map((l) => JSON.parse(l));
    assert.equal(lines.length, items.length, `${what}: as many lines as the list`);
    for (const [i, item] of items.entries()) {
        const line = lines[i];
        const { date_utc, created_at_utc, decided_at_utc, at_utc, ...rest } = line;
        assert.deepEqual(rest, item, `${what}: line ${i} is the list's item`);
        for (const [k, v] of Object.entries({ date_utc, created_at_utc, decided_at_utc, at_utc }))
            if (k in line) assert.equal(v, iso(item[UTC[k]]), `${what}: line ${i} ${k}`);
    }
    return lines;
}

async function exportOf(client, path, query) {
    const r = await client.get(`${path}?${new URLSearchParams(query)}`);
    assert.equal(r.status, 200, `${path} ${JSON.stringify(query)} -> ${r.status} ${r.text.slice(0, 300)}`);
    return r;
}

async function bytesOf(client, path) {
    const res = await fetch(client.url + path, { headers: { cookie: client.cookieHeader() } });
    assert.equal(res.status, 200, path);
    return Buffer.from(await res.arrayBuffer());
}

describe('exports', () => {
    let s, people;
    before(async () => {
        s = await startStack({ world: { channels: 2, pending: 0 } });
        const [c1, c2] = s.world.chatIds;
        people = [];
        for (const [i, p] of HOSTILE.entries()) people.push(await addRequester(s.tg, i % 2 ? c2 : c1, p));
        await tgAddJoinRequests(s.tg, { chat_id: c1, count: BULK, first_name: 'Bulk', bio: 'many', date: D('2024-03-01T00:00:00') });
        await waitRecorded(s.client, HOSTILE.length + BULK, { timeoutMs: 60000 });
        // some decided, so decided_at/by/via are filled
        const [a, b] = (await listAll(s.client, { q: 'formula' })).map((r) => r.id);
        await decide(s.client, 'approve', { request_ids: [a] });
        await decide(s.client, 'deny', { request_ids: [b] });
    });
    after(async () => { await s?.cleanup(); });

    const FILTERS = () => [
        {},
        { status: 'pending' },
        { status: 'approved' },
        { chat_id: String(s.world.chatIds[1]) },
        { from: '2024-02-02', to: '2024-02-04' },
        { q: 'formula' },
        { q: 'straße', status: 'pending' },
        { from: '2030-01-01' }, // nothing
        { rule_id: '1' }, // the list's rule filter: no rule spoke here
    ];

    test('CSV parses back to exactly the rows the list answers, for each filter', async () => {
        for (const f of FILTERS()) {
            const items = await listAll(s.client, f);
            const r = await exportOf(s.client, '/api/invite-requests/export', { ...f, format: 'csv' });
            assert.match(r.headers.get('content-type'), /^text\/csv; charset=utf-8/);
            assert.match(r.headers.get('content-disposition'), /^attachment; filename="doorman-requests-\d{8}-\d{6}\.csv"$/);
            assert.ok(!r.text.startsWith('\uFEFF'), 'no BOM unless asked');
            const { header } = checkCsv(r.text, items, `csv ${JSON.stringify(f)}`);
            assert.deepEqual(header.slice(0, 4), ['id', 'chat_id', 'chat_title', 'user_id']);
            for (const k of ['date', 'date_utc', 'status', 'decided_at', 'decided_at_utc', 'decided_by', 'decided_via', 'is_premium', 'language_code'])
                assert.ok(header.includes(k), `the header names ${k}`);
        }
        const all = await listAll(s.client, {});
        assert.equal(all.length, HOSTILE.length + BULK);
    });

    test("Python's csv module reads the same rows", async () => {
        const bytes = await bytesOf(s.client, '/api/invite-requests/export?bom=1');
        const py = await runPython(
            'import csv, io, json, sys\n' +
            'text = sys.stdin.buffer.read().decode("utf-8-sig")\n' +
            'print(json.dumps(list(csv.reader(io.StringIO(text, newline="")))))\n',
            [], { input: bytes });
        const rows = JSON.parse(py);
        assert.deepEqual(rows, parseCsv(bytes.subarray(3).toString('utf8')));
        assert.equal(rows.length, HOSTILE.length + BULK + 1);
    });

    test('BOM only when asked; formula cells neutralised in CSV, kept in JSON Lines', async () => {
        const bytes = await bytesOf(s.client, '/api/invite-requests/export?format=csv&bom=1&q=formula_a');
        assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'a UTF-8 BOM first');
        const plain = await bytesOf(s.client, '/api/invite-requests/export?format=csv&bom=0&q=formula_a');
        assert.deepEqual(bytes.subarray(3), plain, 'the same bytes after it; none with bom=0');
        const rows = parseCsv(plain.toString('utf8'));
        const h = rows[0];
        const row = Object.fromEntries(h.map((k, j) => [k, rows[1][j]]));
        assert.equal(row.first_name, `'=HYPERLINK("http://evil.example","click")`);
        assert.equal(row.last_name, "'+1+2");
        assert.equal(row.bio, "'-5");
        const b = parseCsv((await exportOf(s.client, '/api/invite-requests/export', { q: 'formula_b' })).text);
        const rb = Object.fromEntries(b[0].map((k, j) => [k, b[1][j]]));
        assert.equal(rb.first_name, "'@SUM(A1:A2)");
        assert.equal(rb.last_name, "'-minus");
        assert.equal(rb.bio, '\n=not a formula: a line break first');
        assert.ok(Number(row.chat_id) < 0, 'numbers (negative chat ids) are not text: no quote');
        const j = (await exportOf(s.client, '/api/invite-requests/export', { format: 'jsonl', q: 'formula_a' })).text;
        assert.equal(JSON.parse(j).first_name, '=HYPERLINK("http://evil.example","click")', 'JSON Lines carries the text as it is');
    });

    test('JSON Lines: each line is the list item plus the ISO times, for each filter', async () => {
        for (const f of FILTERS()) {
            const items = await listAll(s.client, f);
            const r = await exportOf(s.client, '/api/invite-requests/export', { ...f, format: 'jsonl' });
            assert.match(r.headers.get('content-type'), /^application\/jsonl/);
            assert.match(r.headers.get('content-disposition'), /filename="doorman-requests-\d{8}-\d{6}\.jsonl"$/);
            const lines = checkJsonl(r.text, items, `jsonl ${JSON.stringify(f)}`);
            if (lines.length) assert.match(lines[0].date_utc, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        }
    });

    test('the audit log exports whole; every export is audited', async () => {
        const chat = s.world.chatIds[1];
        await exportOf(s.client, '/api/invite-requests/export', { format: 'jsonl', status: 'pending', chat_id: String(chat), q: 'x"y' });
        const csv = (await exportOf(s.client, '/api/audit/export', { format: 'csv', bom: '1' })).text;
        const jsonl = (await exportOf(s.client, '/api/audit/export', { format: 'jsonl' })).text;
        const audit = await auditAll(s.client);
        assert.equal(audit[0].action, 'export');
        assert.equal(audit[0].detail, 'audit jsonl');
        assert.equal(audit[1].detail, 'audit csv bom');
        assert.equal(audit[2].detail, `requests jsonl status=pending chat_id=${chat} q="x"y"`);
        assert.equal(audit[2].admin, 'admin');
        assert.ok(audit.some((a) => a.action === 'approve'), 'the decisions are in it');
        // each export read the log before its own entry was added
        checkCsv(csv.replace(/^\uFEFF/, ''), audit.slice(2), 'audit csv');
        checkJsonl(jsonl, audit.slice(1), 'audit jsonl');
    });

    test('bad parameters: 400 with the usual JSON error, nothing streamed, nothing audited', async () => {
        const before = (await auditAll(s.client)).length;
        const bad = [
            ['/api/invite-requests/export', 'format=xml', /format/],
            ['/api/invite-requests/export', 'bom=2', /bom/],
            ['/api/invite-requests/export', 'format=jsonl&bom=1', /CSV only/],
            ['/api/invite-requests/export', 'status=maybe', /status/],
            ['/api/invite-requests/export', 'chat_id=abc', /chat_id/],
            ['/api/invite-requests/export', 'from=yesterday', /from/],
            ['/api/invite-requests/export', `q=${'x'.repeat(200)}`, /'q' is too long/],
            ['/api/audit/export', 'format=csv2', /format/],
        ];
        for (const [p, q, re] of bad) {
            const r = await s.client.get(`${p}?${q}`);
            assert.equal(r.status, 400, `${p}?${q}`);
            assert.match(r.headers.get('content-type'), /^application\/json/);
            assert.equal(r.json.error.code, 'bad_request');
            assert.match(r.json.error.message, re);
            assert.equal(r.headers.get('content-disposition'), null);
        }
        assert.equal((await auditAll(s.client)).length, before, 'no export entry for refused exports');
    });

    test('logged out: 401', async () => {
        const anon = new Client(s.dm.url);
        for (const p of ['/api/invite-requests/export', '/api/audit/export?format=jsonl']) {
            const r = await anon.get(p);
            assert.equal(r.status, 401, p);
            assert.equal(r.json.error.code, 'unauthorized');
        }
    });
});
