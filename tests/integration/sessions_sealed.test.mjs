// Session files at rest (issue 10 item 7): data/sessions/<name>.session holds a Telegram auth key,
// the whole account, so it is sealed with the master key like the API hash in the database row.
// The key is known from outside doorman: Telethon (Debian's python3-telethon) logs in to tgsim
// and saves it; the session is imported as that Telethon string. Then:
// - the stored file holds no trace of the key, is no SQLite database, and opens with the master
//   key (data/secret.key) only;
// - a copy of data/ without secret.key (doorman makes a new one there) uses no session;
// - Export still hands out a plain Pyrogram v3 file with the key;
// - upgrade: a plain file as an older doorman wrote it is sealed at start, once, and still works
//   (Check Status against tgsim); a file that is no session is left as it is and named in the log.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, chmodSync, cpSync, rmSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir } from '../lib/processes.mjs';
import { tgAccount, newPhone } from '../lib/tgsim.mjs';
import { startDoormanDcs, dbUrlFor } from '../lib/doorman.mjs';
import { RecordingClient } from '../lib/api.mjs';
import { sessionsDir, sessionFiles, mode, API_ID, API_HASH } from '../lib/sessions.mjs';
import { telethonLogins, readPyrogramFile, readStoredSession } from '../lib/interop.mjs';
import { startSessionStack, ADMIN } from '../lib/stacks.mjs';

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0');
const PYROGRAM_V3_COLUMNS = ['dc_id', 'api_id', 'test_mode', 'auth_key', 'date', 'user_id', 'is_bot'];

// Every way the key could be in the bytes: raw (whole, or any aligned 32-byte piece), hex, base64.
function keyTraces(bytes, keyHex) {
    const key = Buffer.from(keyHex, 'hex');
    const found = [];
    if (bytes.includes(key)) found.push('raw key');
    for (let i = 0; i < key.length; i += 32) {
        if (bytes.includes(key.subarray(i, i + 32))) found.push(`raw bytes ${i}..${i + 31}`);
    }
    const text = bytes.toString('latin1').toLowerCase();
    if (text.includes(keyHex.slice(0, 64).toLowerCase())) found.push('hex');
    if (bytes.toString('latin1').includes(key.toString('base64').slice(0, 40))) found.push('base64');
    return found;
}

async function pythonOpens(file) {
    try {
        const db = await readPyrogramFile(file);
        return db.rows.length > 0 ? db : null;
    } catch {
        return null;
    }
}

describe('session files are sealed with the master key', () => {
    let s, work;
    const m = {}; // name -> {account, login}
    before(async () => {
        s = await startSessionStack({});
        work = makeTempDir('sealed-');
        const names = ['sealed', 'old'];
        const specs = [];
        for (const [i, name] of names.entries()) {
            const phone = newPhone();
            const account = await tgAccount(s.tg, { phone, first_name: `Seal${i}`, username: `seal_${name}`, dc: 1 + i });
            m[name] = { account, phone };
            specs.push({ phone, dc: 1 + i });
        }
        const logins = await telethonLogins(s.tg, specs);
        for (const [i, name] of names.entries()) {
            m[name].login = logins[i];
            assert.equal(logins[i].user_id, m[name].account.id);
            const r = await s.client.post('/api/sessions/import', {
                name, api_id: API_ID, api_hash: API_HASH, phone: m[name].phone, string: logins[i].telethon_string,
            });
            assert.equal(r.status, 201, `import ${name}: ${r.status} ${r.text}`);
        }
    });
    after(async () => { await s?.cleanup(); });

    test('the file on disk holds no auth key and is no SQLite database; the master key opens it', async () => {
        const file = path.join(sessionsDir(s.dataDir), 'sealed.session');
        const bytes = readFileSync(file);
        const keyHex = m.sealed.login.auth_key;
        console.log(`sessions/sealed.session: ${bytes.length} bytes, starts ${JSON.stringify(bytes.subarray(0, 16).toString('latin1'))}, `
            + `auth key traces: ${JSON.stringify(keyTraces(bytes, keyHex))}, `
            + `opens as a Pyrogram file without the master key: ${!!(await pythonOpens(file))}`);
        assert.equal(mode(file).toString(8), '600');
        assert.equal(mode(sessionsDir(s.dataDir)).toString(8), '700');
        assert.deepEqual(keyTraces(bytes, keyHex), [], 'the auth key is in the session file');
        assert.ok(!bytes.subarray(0, 16).equals(SQLITE_MAGIC), 'the session file is a plain SQLite database');
        assert.equal(await pythonOpens(file), null, 'Python sqlite3 read the session without the master key');
        // with data/secret.key it is the Pyrogram v3 file doorman always kept
        const db = await readStoredSession(s.dataDir, 'sealed');
        assert.deepEqual(db.columns, PYROGRAM_V3_COLUMNS);
        assert.deepEqual(db.version, [3]);
        assert.equal(db.rows[0].auth_key, keyHex);
        assert.equal(db.rows[0].dc_id, 1);
        assert.equal(db.rows[0].user_id, m.sealed.account.id);
    });

    test('Export still hands out a plain Pyrogram v3 file with the key', async () => {
        const r = await s.client.getBytes('/api/sessions/sealed/export');
        assert.equal(r.status, 200);
        assert.ok(r.body.subarray(0, 16).equals(SQLITE_MAGIC));
        const f = path.join(work, 'exported.session');
        writeFileSync(f, r.body);
        const db = await readPyrogramFile(f);
        assert.deepEqual(db.columns, PYROGRAM_V3_COLUMNS);
        assert.deepEqual(db.version, [3]);
        assert.deepEqual({ dc_id: db.rows[0].dc_id, api_id: db.rows[0].api_id, key: db.rows[0].auth_key, user_id: db.rows[0].user_id },
            { dc_id: 1, api_id: API_ID, key: m.sealed.login.auth_key, user_id: m.sealed.account.id });
    });

    test('a copy of data/ without secret.key uses no session', async () => {
        await s.dm.stop();
        const copy = makeTempDir('sealed-copy-');
        cpSync(s.dataDir, copy, { recursive: true });
        rmSync(path.join(copy, 'secret.key'));
        // the same database: on SQLite the copy's own file, on PostgreSQL the original's
        const other = await startDoormanDcs({ tg: s.tg, dataDir: copy, dbUrl: dbUrlFor(s.dataDir) });
        try {
            const c = new RecordingClient(other);
            await c.login(ADMIN.name, ADMIN.password);
            const chk = await c.post('/api/sessions/sealed/check', {});
            console.log(`Check Status from the copy without secret.key: ${chk.status} ${chk.text.slice(0, 300)}`);
            assert.notEqual(chk.json?.session?.status, 'active', 'the copy used the account');
            assert.ok(chk.status >= 400, `${chk.status} ${chk.text}`);
            const exp = await c.getBytes('/api/sessions/sealed/export');
            assert.ok(exp.status >= 400, `the copy exported the session: ${exp.status}`);
            assert.deepEqual(keyTraces(exp.body, m.sealed.login.auth_key), []);
        } finally {
            await other.stop();
            await s.restart();
        }
    });

    test('upgrade: a plain file an older doorman wrote is sealed at start, once, and still works', async () => {
        const dir = sessionsDir(s.dataDir);
        const file = path.join(dir, 'old.session');
        const exp = await s.client.getBytes('/api/sessions/old/export');
        assert.equal(exp.status, 200);
        await s.dm.stop();
        // what doorman wrote before sealing: the Pyrogram v3 file itself, 0600
        writeFileSync(file, exp.body);
        chmodSync(file, 0o600);
        assert.ok((await pythonOpens(file)) !== null);
        // a file that is no session: left alone, named in the log
        const junk = Buffer.concat([SQLITE_MAGIC, Buffer.alloc(200, 7)]);
        writeFileSync(path.join(dir, 'junk.session'), junk, { mode: 0o600 });
        const before = sessionFiles(s.dataDir);
        const outBefore = s.dm.output.length;
        await s.restart();
        const out = s.dm.output.slice(outBefore);
        console.log(`start after putting a plain file in: ${out.split('\n').filter((l) => /session/i.test(l)).join(' | ')}`);
        assert.match(out, /sealed 1 plain session file/);
        assert.match(out, /sessions\/junk\.session[^\n]*left as it is/);
        assert.deepEqual(sessionFiles(s.dataDir), before, 'no file added or removed (no temporary left)');
        assert.ok(readFileSync(path.join(dir, 'junk.session')).equals(junk), 'the unreadable file is untouched');
        const sealed = readFileSync(file);
        assert.equal(mode(file).toString(8), '600');
        assert.deepEqual(keyTraces(sealed, m.old.login.auth_key), []);
        assert.equal(await pythonOpens(file), null);
        const chk = await s.client.post('/api/sessions/old/check', {});
        assert.equal(chk.status, 200, chk.text);
        assert.equal(chk.json.session.status, 'active');
        assert.equal(chk.json.session.account.id, m.old.account.id);
        const again = await s.client.getBytes('/api/sessions/old/export');
        assert.ok(again.body.equals(exp.body), 'Export hands out the same Pyrogram file as before');
        // once: the next start finds nothing to convert and rewrites nothing
        const outBefore2 = s.dm.output.length;
        await s.restart();
        const out2 = s.dm.output.slice(outBefore2);
        assert.doesNotMatch(out2, /sealed \d+ plain session file/);
        assert.ok(readFileSync(file).equals(sealed), 'the sealed file was rewritten');
        assert.deepEqual(readdirSync(dir).sort(), before);
    });
});
