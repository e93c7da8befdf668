// Session Manager, Import / Export / Delete (issue 4): session files and strings made by tools we
// did not write (Debian's Telethon logs in to tgsim and saves its .session and StringSession;
// GramJS logs in to tgsim, with 2FA, and saves its StringSession; a GramJS StringSession packed
// from a Telethon key, Pyrogram files at schema versions 2, 3, 3-migrated and 7 and Pyrogram
// strings built by tests/interop/session_fixtures.py from the published schemas, all holding a
// key Telethon got from tgsim) are imported and then work; hostile uploads leave nothing behind;
// the export reads back in Python's sqlite3; delete with and without logging out on Telegram.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, readdirSync, existsSync, truncateSync, statSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir, runPython } from '../lib/processes.mjs';
import { tgAccount, newPhone } from '../lib/tgsim.mjs';
import {
    sessionsDir, sessionFiles, getSession, listSessions, newUserSession, mode, secretsIn,
    filesContaining, API_ID, API_HASH,
} from '../lib/sessions.mjs';
import {
    gramjsLogin, telethonLogins, pyrogramSession, gramjsString, readPyrogramFile, readStoredSession, INTEROP_DIR,
} from '../lib/interop.mjs';
import { startLowPortSessionStack } from '../lib/stacks.mjs';

const FILE_KINDS = ['telethon_file', 'pyrogram_v2', 'pyrogram_v3', 'pyrogram_v3_migrated', 'pyrogram_v7'];
const STRING_KINDS = ['telethon_string', 'gramjs_string', 'pyrogram_string', 'pyrogram_string_old32', 'pyrogram_string_old64'];
const HOSTILE_KEYED = ['truncated', 'trigger', 'view', 'traversal'];
const GRAMJS_2FA = 'gramjs-2fa-Pw';
const PYROGRAM_PEERS = "INSERT INTO peers(id, access_hash, type, username, phone_number, last_update_on) VALUES " +
    "(-1001234567890, 987654321, 'channel', 'somechan', NULL, 1), (-1009876543210, -5, 'supergroup', NULL, NULL, 1), " +
    "(4242, 77, 'user', 'someone', NULL, 1);";

// GramJS's StringSession: "1" + base64(dc u8, address length i16 BE, address, port i16 BE, key).
function parseGramjsString(str) {
    assert.equal(str[0], '1', 'GramJS string version 1');
    const b = Buffer.from(str.slice(1), 'base64');
    const alen = b.readInt16BE(1);
    return { dc: b[0], address: b.subarray(3, 3 + alen).toString(), port: b.readInt16BE(3 + alen), auth_key: b.subarray(5 + alen).toString('hex') };
}

// Files in the data dir that are not the database (whose WAL and journal change by themselves).
function dataFiles(dataDir) {
    const out = [];
    const walk = (d, rel) => {
        for (const e of readdirSync(d, { withFileTypes: true })) {
            const r = path.join(rel, e.name);
            if (e.isDirectory()) walk(path.join(d, e.name), r);
            else if (!/^doorman\.db/.test(e.name)) out.push(r);
        }
    };
    walk(dataDir, '');
    return out.sort();
}

describe('import, export and delete of sessions', () => {
    let s, work;
    const made = {}; // kind -> {account, login, body}
    before(async () => {
        // DC ports below 32768: GramJS's StringSession.save() writes the port as a signed 16-bit number
        s = await startLowPortSessionStack({});
        work = makeTempDir('import-');
        const kinds = [...FILE_KINDS, ...STRING_KINDS, ...HOSTILE_KEYED];
        const specs = [];
        for (const [i, kind] of kinds.entries()) {
            const phone = newPhone();
            const dc = i % 3 === 2 ? 2 : 1; // some on DC 2
            const account = await tgAccount(s.tg, { phone, first_name: `Imp${i}`, username: `imp_${kind}`.slice(0, 32), dc });
            made[kind] = { account, phone, dc };
            specs.push({ phone, dc, file: kind === 'telethon_file' ? path.join(work, 'telethon_made.session') : undefined });
        }
        const logins = await telethonLogins(s.tg, specs);
        for (const [i, kind] of kinds.entries()) {
            const l = logins[i];
            const m = made[kind];
            m.login = l;
            assert.equal(l.user_id, m.account.id);
            const base = { dc: l.dc, user_id: l.user_id, auth_key: l.auth_key };
            if (kind === 'telethon_file') m.body = { file: readFileSync(l.telethon_file).toString('base64') };
            else if (kind === 'telethon_string') m.body = { string: l.telethon_string };
            else if (kind === 'gramjs_string') m.body = { string: await gramjsString({ dc: l.dc, port: l.port, auth_key: l.auth_key }) };
            else if (kind.startsWith('pyrogram_string')) {
                m.body = { string: (await pyrogramSession(kind.replace('pyrogram_', ''), base)).string };
            } else if (kind.startsWith('pyrogram_v')) {
                const f = path.join(work, `${kind}.session`);
                // Pyrogram's peers rows: two channels (a broadcast and a supergroup) and a user
                const extraSql = kind === 'pyrogram_v3' ? PYROGRAM_PEERS : '';
                await pyrogramSession(kind.replace('pyrogram_', ''), { ...base, file: f, extraSql });
                m.body = { file: readFileSync(f).toString('base64') };
            } else {
                // hostile files that would otherwise be valid, with a key tgsim knows
                const f = path.join(work, `${kind}.session`);
                const extraSql = {
                    trigger: 'CREATE TRIGGER evil AFTER INSERT ON version BEGIN DELETE FROM sessions; END;',
                    view: 'ALTER TABLE sessions RENAME TO real_sessions; CREATE VIEW sessions AS SELECT * FROM real_sessions;',
                }[kind] || '';
                await pyrogramSession('v3', { ...base, file: f, extraSql });
                if (kind === 'truncated') truncateSync(f, Math.floor(statSync(f).size / 2));
                m.body = { file: readFileSync(f).toString('base64') };
            }
        }
        // GramJS logs in itself (code from tgsim's control API, then the 2FA password) and saves
        const phone = newPhone();
        const account = await tgAccount(s.tg, { phone, first_name: 'ImpGramJS', username: 'imp_gramjs_login', dc: 2, password: GRAMJS_2FA });
        const g = await gramjsLogin(s.tg, { phone, dc: 2, password: GRAMJS_2FA });
        made.gramjs_login = { account, phone, dc: 2, gramjs: g, login: { dc: g.dc, user_id: g.me.id, auth_key: g.auth_key }, body: { string: g.session } };
    });
    after(async () => { await s?.cleanup(); });

    for (const kind of [...FILE_KINDS, ...STRING_KINDS]) {
        test(`import ${kind}: verified, stored as Pyrogram v3 with the same key, then works`, async () => {
            const m = made[kind];
            const name = `imp_${kind}`;
            const r = await s.client.post('/api/sessions/import', { name, api_id: API_ID, api_hash: API_HASH, phone: m.phone, ...m.body });
            assert.equal(r.status, 201, `${kind}: ${r.status} ${r.text}`);
            assert.equal(r.json.session.name, name);
            assert.equal(r.json.session.type, 'user');
            assert.equal(r.json.session.dc_id, m.login.dc);
            assert.equal(r.json.session.account?.id, m.account.id, 'verified by users.getUsers(self)');
            const file = path.join(sessionsDir(s.dataDir), `${name}.session`);
            assert.equal(mode(file).toString(8), '600');
            const db = await readStoredSession(s.dataDir, name);
            assert.deepEqual(db.columns, ['dc_id', 'api_id', 'test_mode', 'auth_key', 'date', 'user_id', 'is_bot']);
            assert.deepEqual(db.version, [3]);
            assert.equal(db.rows[0].auth_key, m.login.auth_key, 'the imported key, byte for byte');
            assert.equal(db.rows[0].dc_id, m.login.dc);
            assert.equal(db.rows[0].user_id, m.account.id);
            assert.equal(db.rows[0].api_id, API_ID);
            const chk = await s.client.post(`/api/sessions/${name}/check`, {});
            assert.equal(chk.status, 200, chk.text);
            assert.equal(chk.json.session.status, 'active');
            assert.equal(chk.json.session.account.username, `imp_${kind}`.slice(0, 32));
        });
    }

    test('import a StringSession GramJS saved after logging in to tgsim: Check Status works, export holds its key', async () => {
        const m = made.gramjs_login;
        assert.equal(m.gramjs.password_needed, true, 'GramJS went through 2FA');
        assert.equal(m.login.user_id, m.account.id);
        assert.deepEqual(parseGramjsString(m.body.string),
            { dc: 2, address: '127.0.0.1', port: s.tg.dcPorts[2], auth_key: m.login.auth_key }, 'GramJS saved its real DC, address, port and key');
        const r = await s.client.post('/api/sessions/import', { name: 'imp_gramjs_login', api_id: API_ID, api_hash: API_HASH, phone: m.phone, ...m.body });
        assert.equal(r.status, 201, r.text);
        assert.equal(r.json.session.type, 'user');
        assert.equal(r.json.session.dc_id, 2);
        assert.equal(r.json.session.account?.id, m.account.id);
        const chk = await s.client.post('/api/sessions/imp_gramjs_login/check', {});
        assert.equal(chk.status, 200, chk.text);
        assert.equal(chk.json.session.status, 'active');
        assert.equal(chk.json.session.account.id, m.account.id);
        assert.equal(chk.json.session.account.username, 'imp_gramjs_login');
        const exp = await s.client.getBytes('/api/sessions/imp_gramjs_login/export');
        assert.equal(exp.status, 200);
        const f = path.join(work, 'exported_gramjs_login.session');
        writeFileSync(f, exp.body);
        const db = await readPyrogramFile(f);
        assert.deepEqual(db.columns, ['dc_id', 'api_id', 'test_mode', 'auth_key', 'date', 'user_id', 'is_bot']);
        assert.deepEqual(db.version, [3]);
        const row = db.rows[0];
        assert.deepEqual({ dc_id: row.dc_id, api_id: row.api_id, test_mode: row.test_mode, len: row.auth_key_len, key: row.auth_key, user_id: row.user_id, is_bot: row.is_bot },
            { dc_id: 2, api_id: API_ID, test_mode: 0, len: 256, key: m.login.auth_key, user_id: m.account.id, is_bot: 0 });
    });

    let diag = () => {};
    async function assertRejected(name, body, { status = 400, why }) {
        const filesBefore = dataFiles(s.dataDir);
        const r = await s.client.post('/api/sessions/import', { name, api_id: API_ID, api_hash: API_HASH, phone: '+15550001111', ...body });
        assert.equal(r.status, status, `${why}: ${r.status} ${r.text.slice(0, 300)}`);
        assert.equal(typeof r.json?.error?.message, 'string', 'a clear error message');
        assert.ok(r.json.error.message.length > 5);
        diag(`${why}: ${r.status} ${r.json.error.code}: ${r.json.error.message}`);
        assert.deepEqual(dataFiles(s.dataDir), filesBefore, `${why}: no file left behind`);
        assert.ok(!(await listSessions(s.client)).some((x) => x.name === name), `${why}: no row`);
        return r;
    }

    test('hostile uploads: each a clear 4xx and nothing left behind', async (t) => {
        diag = (m) => t.diagnostic(m);
        await assertRejected('h_notsqlite', { file: Buffer.from('this is not a SQLite database, just some text\n'.repeat(20)).toString('base64') }, { why: 'not SQLite' });
        await assertRejected('h_empty', { file: '' }, { why: 'empty file' });
        await assertRejected('h_truncated', made.truncated.body, { why: 'truncated SQLite' });
        const wrong = path.join(work, 'wrong_schema.session');
        await runPython(`import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nc.execute('CREATE TABLE foo (x INTEGER)')\nc.execute('INSERT INTO foo VALUES (1)')\nc.commit()\n`, [wrong]);
        await assertRejected('h_schema', { file: readFileSync(wrong).toString('base64') }, { why: 'wrong schema' });
        await assertRejected('h_trigger', made.trigger.body, { why: 'SQLite with a foreign trigger' });
        await assertRejected('h_view', made.view.body, { why: 'SQLite whose sessions table is a view' });
        await assertRejected('h_string', { string: 'definitely-not-a-session-string' }, { why: 'garbage string session' });
        const big = await assertRejected('h_big', { file: Buffer.alloc(2 * 1024 * 1024, 7).toString('base64') }, { status: 413, why: 'a body over 1 MiB' });
        assert.equal(big.json.error.code, 'body_too_large');
        // a valid file under a hostile name
        const trav = await assertRejected('../../etc/x', made.traversal.body, { why: 'name ../../etc/x' });
        assert.equal(trav.json.error.code, 'bad_request');
        for (const p of ['../../etc/x', '../../etc/x.session']) {
            assert.ok(!existsSync(path.resolve(sessionsDir(s.dataDir), p)), `${p} was not written`);
        }
        assert.ok(!existsSync(path.resolve(s.dataDir, '..', 'etc')), 'nothing outside the data dir');
        await assertRejected('a'.repeat(65), made.traversal.body, { why: 'a 65-character name' });
        // the key of the rejected file is still good: the same file under a proper name imports
        const ok = await s.client.post('/api/sessions/import', { name: 'after_hostile', api_id: API_ID, api_hash: API_HASH, phone: made.traversal.phone, ...made.traversal.body });
        assert.equal(ok.status, 201, ok.text);
    });

    test('an existing name is 409 and the existing session is untouched', async () => {
        const file = path.join(sessionsDir(s.dataDir), 'imp_pyrogram_v3.session');
        const bytes = readFileSync(file);
        // the committed fixture (a fake key): the name is refused before anything else
        const fixture = readFileSync(path.join(INTEROP_DIR, 'sessions', 'pyrogram_v3.session')).toString('base64');
        const r = await s.client.post('/api/sessions/import', { name: 'imp_pyrogram_v3', api_id: API_ID, api_hash: API_HASH, phone: made.pyrogram_v3.phone, file: fixture });
        assert.equal(r.status, 409, r.text);
        assert.equal(r.json.error.code, 'conflict');
        assert.ok(readFileSync(file).equals(bytes));
    });

    test('committed fixtures whose keys tgsim never made: verified by connecting, refused, nothing stored', async (t) => {
        diag = (m) => t.diagnostic(m);
        for (const f of ['pyrogram_v3.session', 'pyrogram_v2.session', 'telethon.session']) {
            const file = readFileSync(path.join(INTEROP_DIR, 'sessions', f)).toString('base64');
            await assertRejected(`fx_${f.replace('.session', '')}`, { file }, { why: `fixture ${f} with a key Telegram does not know` });
        }
        const str = readFileSync(path.join(INTEROP_DIR, 'sessions', 'pyrogram_string.txt'), 'utf8').trim();
        await assertRejected('fx_pyrogram_string', { string: str }, { why: 'fixture pyrogram_string.txt with an unknown key' });
    });

    test('export of an imported session reads back in Python sqlite3 with the Pyrogram v3 columns', async () => {
        const m = made.telethon_string;
        const r = await s.client.getBytes('/api/sessions/imp_telethon_string/export');
        assert.equal(r.status, 200);
        const f = path.join(work, 'exported_telethon.session');
        writeFileSync(f, r.body);
        const db = await readPyrogramFile(f);
        assert.deepEqual(db.tables, ['peers', 'sessions', 'version']);
        assert.deepEqual(db.columns, ['dc_id', 'api_id', 'test_mode', 'auth_key', 'date', 'user_id', 'is_bot']);
        const row = db.rows[0];
        assert.deepEqual({ dc_id: row.dc_id, api_id: row.api_id, test_mode: row.test_mode, len: row.auth_key_len, key: row.auth_key, user_id: row.user_id, is_bot: row.is_bot },
            { dc_id: m.login.dc, api_id: API_ID, test_mode: 0, len: 256, key: m.login.auth_key, user_id: m.account.id, is_bot: 0 });
    });

    test("the channels an imported Pyrogram file knew go out again in its export's peers table", async () => {
        const r = await s.client.getBytes('/api/sessions/imp_pyrogram_v3/export');
        assert.equal(r.status, 200);
        const f = path.join(work, 'exported_pyrogram_v3.session');
        writeFileSync(f, r.body);
        const db = await readPyrogramFile(f);
        assert.deepEqual(db.peers, [[-1009876543210, -5, 'channel'], [-1001234567890, 987654321, 'channel']]);
        assert.equal(db.rows[0].auth_key, made.pyrogram_v3.login.auth_key);
    });

    test('delete without logout: file and row gone, the authorization still works elsewhere', async () => {
        await newUserSession(s.client, s.tg, { name: 'del_keep' });
        const phone = (await getSession(s.client, 'del_keep')).phone;
        const exp = await s.client.getBytes('/api/sessions/del_keep/export');
        assert.equal(exp.status, 200);
        const r = await s.client.post('/api/sessions/del_keep/delete', { logout: false });
        assert.equal(r.status, 200, r.text);
        assert.ok(!sessionFiles(s.dataDir).includes('del_keep.session'));
        assert.equal(await getSession(s.client, 'del_keep'), null);
        const again = await s.client.post('/api/sessions/del_keep/delete', { logout: false });
        assert.equal(again.status, 404, again.text);
        const imp = await s.client.post('/api/sessions/import', { name: 'del_keep_back', api_id: API_ID, api_hash: API_HASH, phone, file: exp.body.toString('base64') });
        assert.equal(imp.status, 201, `the key was not logged out: ${imp.text}`);
    });

    test('delete with logout: file and row gone, and tgsim ended the authorization', async () => {
        await newUserSession(s.client, s.tg, { name: 'del_out' });
        const phone = (await getSession(s.client, 'del_out')).phone;
        const exp = await s.client.getBytes('/api/sessions/del_out/export');
        const r = await s.client.post('/api/sessions/del_out/delete', { logout: true });
        assert.equal(r.status, 200, r.text);
        assert.ok(!sessionFiles(s.dataDir).includes('del_out.session'));
        assert.equal(await getSession(s.client, 'del_out'), null);
        // the exported key no longer works on Telegram: importing it fails and leaves nothing
        const filesBefore = dataFiles(s.dataDir);
        const imp = await s.client.post('/api/sessions/import', { name: 'del_out_back', api_id: API_ID, api_hash: API_HASH, phone, file: exp.body.toString('base64') });
        assert.equal(imp.status, 400, imp.text);
        assert.equal(imp.json.error.code, 'session_invalid', imp.text);
        assert.deepEqual(dataFiles(s.dataDir), filesBefore);
        assert.equal(await getSession(s.client, 'del_out_back'), null);
    });

    test('the API hash is in no answer, not in doorman\'s output, not in plain text on disk', async () => {
        assert.ok(s.client.transcript.length > 20);
        assert.deepEqual(secretsIn(s.client.transcript.join('\n'), [API_HASH]), []);
        assert.deepEqual(secretsIn(s.dm.output, [API_HASH]), []);
        assert.deepEqual(filesContaining(s.dataDir, API_HASH), []);
        // no auth key either: the hex of every key we imported
        const all = s.client.transcript.join('\n') + s.dm.output;
        for (const m of Object.values(made)) assert.ok(!all.includes(m.login.auth_key.slice(0, 64)), 'an auth key came back');
        assert.equal(mode(sessionsDir(s.dataDir)).toString(8), '700');
    });
});
