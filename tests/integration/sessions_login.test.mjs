// Session Manager, creating sessions (issue 4): phone -> code -> (2FA) -> done against tgsim's
// data centres, every troubleshooting message of the login, a restart in the middle of a login,
// a migrated phone, flood waits, bot sessions, the lists, Check Status, a revoked session, and
// the secrets (API hash, codes) never coming back. Only public interfaces: doorman's HTTP API,
// tgsim's control API, and the files the contract promises (data/sessions/<name>.session).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir } from '../lib/processes.mjs';
import { tgCreateBot, tgAccount, tgLoginCode, tgFlood, tgRevoke, newPhone } from '../lib/tgsim.mjs';
import { RecordingClient } from '../lib/api.mjs';
import {
    loginStart, createUserSession, newUserSession, listSessions, getSession, sessionsDir,
    sessionFiles, mode, secretsIn, filesContaining, API_ID, API_HASH,
} from '../lib/sessions.mjs';
import { consumeLoginCode, readPyrogramFile, readStoredSession } from '../lib/interop.mjs';
import { startSessionStack, ADMIN } from '../lib/stacks.mjs';
import { writeFileSync } from 'node:fs';

function assertError(r, status, code, message) {
    assert.equal(r.status, status, `${status} expected: ${r.status} ${r.text}`);
    assert.equal(r.json?.error?.code, code, r.text);
    if (message !== undefined) assert.equal(r.json.error.message, message, r.text);
}

describe('session login flows', () => {
    let s;
    const codesSeen = [];
    before(async () => { s = await startSessionStack({ world: { channels: 1 } }); });
    after(async () => { await s?.cleanup(); });

    test('phone -> code -> done: the session is stored, listed, 0600 in a 0700 dir', async () => {
        const phone = newPhone();
        const acc = await tgAccount(s.tg, { phone, first_name: 'Ann', last_name: 'Lee', username: 'ann_login' });
        const r = await loginStart(s.client, { name: 'ann', phone });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.state, 'code_sent');
        assert.equal(typeof r.json.login_id, 'string');
        assert.ok(r.json.login_id.length >= 16, 'an unguessable login id');
        assert.ok(r.json.expires_at > Date.now() / 1000, 'expires in the future');
        const g = await s.client.get(`/api/sessions/login/${encodeURIComponent(r.json.login_id)}`);
        assert.equal(g.status, 200, g.text);
        assert.equal(g.json.state, 'code_sent');
        assert.equal(g.json.name, 'ann');

        const { code } = await tgLoginCode(s.tg, phone);
        codesSeen.push(code);
        const c = await s.client.post('/api/sessions/login/code', { login_id: r.json.login_id, code });
        assert.equal(c.status, 200, c.text);
        assert.equal(c.json.state, 'done');
        const ses = c.json.session;
        assert.equal(ses.name, 'ann');
        assert.equal(ses.type, 'user');
        assert.equal(ses.api_id, API_ID);
        assert.equal(ses.dc_id, 1);
        assert.equal(ses.account?.id, acc.id, JSON.stringify(ses));
        assert.equal(ses.account.is_bot, false);

        const file = path.join(sessionsDir(s.dataDir), 'ann.session');
        assert.ok(existsSync(file), `${file} exists`);
        assert.equal(mode(file).toString(8), '600');
        assert.equal(mode(sessionsDir(s.dataDir)).toString(8), '700');
        const f = await readStoredSession(s.dataDir, 'ann');
        assert.equal(f.rows.length, 1);
        assert.equal(f.rows[0].dc_id, 1);
        assert.equal(f.rows[0].user_id, acc.id);
        assert.equal(f.rows[0].auth_key_len, 256);

        const all = await listSessions(s.client);
        assert.ok(all.some((x) => x.name === 'ann'), JSON.stringify(all));
        // the login is over: its id is gone
        const again = await s.client.post('/api/sessions/login/code', { login_id: r.json.login_id, code });
        assertError(again, 404, 'login_not_found', 'Session not found. Please start over.');
    });

    test('a taken name is 409 before any code is sent', async () => {
        const phone = newPhone();
        await tgAccount(s.tg, { phone });
        await createUserSession(s.client, s.tg, { name: 'taken', phone });
        const before2 = (await tgLoginCode(s.tg, phone)).phone_code_hash;
        const r = await loginStart(s.client, { name: 'taken', phone });
        assert.equal(r.status, 409, r.text);
        assert.equal(r.json.error.code, 'conflict');
        assert.equal((await tgLoginCode(s.tg, phone)).phone_code_hash, before2, 'no new code was sent');
    });

    test('2FA: code -> password_needed (with hint) -> password -> done', async () => {
        const phone = newPhone();
        const acc = await tgAccount(s.tg, { phone, first_name: 'Tfa', password: 'hunter2-cloud' });
        const r = await loginStart(s.client, { name: 'tfa', phone });
        assert.equal(r.status, 200, r.text);
        const { code } = await tgLoginCode(s.tg, phone);
        codesSeen.push(code);
        const c = await s.client.post('/api/sessions/login/code', { login_id: r.json.login_id, code });
        assert.equal(c.status, 200, c.text);
        assert.equal(c.json.state, 'password_needed');
        assert.equal(typeof c.json.hint, 'string');
        const g = await s.client.get(`/api/sessions/login/${encodeURIComponent(r.json.login_id)}`);
        assert.equal(g.json.state, 'password_needed', g.text);

        const bad = await s.client.post('/api/sessions/login/password', { login_id: r.json.login_id, password: 'wrong-password' });
        assertError(bad, 400, 'invalid_password', 'Invalid 2FA password');
        assert.equal(await getSession(s.client, 'tfa'), null, 'no session after a wrong password');

        const p = await s.client.post('/api/sessions/login/password', { login_id: r.json.login_id, password: 'hunter2-cloud' });
        assert.equal(p.status, 200, p.text);
        assert.equal(p.json.state, 'done');
        assert.equal(p.json.session.account?.id, acc.id);
        assert.ok(existsSync(path.join(sessionsDir(s.dataDir), 'tfa.session')));
    });

    test('wrong code -> "Invalid verification code", then the right code still works', async () => {
        const phone = newPhone();
        await tgAccount(s.tg, { phone });
        const r = await loginStart(s.client, { name: 'wrongcode', phone });
        assert.equal(r.status, 200, r.text);
        const { code } = await tgLoginCode(s.tg, phone);
        const wrong = code === '00000' ? '11111' : '00000';
        const c = await s.client.post('/api/sessions/login/code', { login_id: r.json.login_id, code: wrong });
        assertError(c, 400, 'invalid_code', 'Invalid verification code');
        assert.equal(await getSession(s.client, 'wrongcode'), null);
        const ok = await s.client.post('/api/sessions/login/code', { login_id: r.json.login_id, code });
        assert.equal(ok.status, 200, ok.text);
        assert.equal(ok.json.state, 'done');
    });

    test('expired code (used up by another client) -> "Verification code expired. Please start over."', async () => {
        const phone = newPhone();
        await tgAccount(s.tg, { phone });
        const r = await loginStart(s.client, { name: 'expired', phone });
        assert.equal(r.status, 200, r.text);
        const { code } = await tgLoginCode(s.tg, phone);
        // tgsim cannot age a code; Telethon signing in with the same code and hash uses it up,
        // after which tgsim answers PHONE_CODE_EXPIRED, as Telegram does.
        assert.equal(await consumeLoginCode(s.tg, { phone }), 'signed_in');
        assert.equal((await tgLoginCode(s.tg, phone)).used, true);
        const c = await s.client.post('/api/sessions/login/code', { login_id: r.json.login_id, code });
        assertError(c, 400, 'code_expired', 'Verification code expired. Please start over.');
        assert.equal(await getSession(s.client, 'expired'), null);
        assert.ok(!sessionFiles(s.dataDir).includes('expired.session'));
    });

    test('unknown login id -> 404 "Session not found. Please start over."', async () => {
        const bogus = 'f'.repeat(64);
        assertError(await s.client.get(`/api/sessions/login/${bogus}`), 404, 'login_not_found', 'Session not found. Please start over.');
        assertError(await s.client.post('/api/sessions/login/code', { login_id: bogus, code: '12345' }),
            404, 'login_not_found', 'Session not found. Please start over.');
        assertError(await s.client.post('/api/sessions/login/password', { login_id: bogus, password: 'whatever-pass' }),
            404, 'login_not_found', 'Session not found. Please start over.');
    });

    test('a login survives a doorman restart and continues in a second tab with the same login_id', async () => {
        const phone = newPhone();
        const acc = await tgAccount(s.tg, { phone, password: 'restart-2fa' });
        const r = await loginStart(s.client, { name: 'survivor', phone });
        assert.equal(r.status, 200, r.text);
        await s.restart();
        // a second tab: another panel login of the same admin
        const tab2 = new RecordingClient(s.dm);
        await tab2.login(ADMIN.name, ADMIN.password);
        const g = await tab2.get(`/api/sessions/login/${encodeURIComponent(r.json.login_id)}`);
        assert.equal(g.status, 200, g.text);
        assert.equal(g.json.state, 'code_sent');
        assert.equal(g.json.name, 'survivor');
        const { code } = await tgLoginCode(s.tg, phone);
        const c = await tab2.post('/api/sessions/login/code', { login_id: r.json.login_id, code });
        assert.equal(c.status, 200, c.text);
        assert.equal(c.json.state, 'password_needed');
        await s.restart({ kill: true });
        const p = await s.client.post('/api/sessions/login/password', { login_id: r.json.login_id, password: 'restart-2fa' });
        assert.equal(p.status, 200, p.text);
        assert.equal(p.json.state, 'done');
        assert.equal(p.json.session.account?.id, acc.id);
        s.client.transcript.push(...tab2.transcript);
    });

    test('a phone homed on DC 2: PHONE_MIGRATE_2 is followed, the session lives on DC 2 and works', async () => {
        const phone = newPhone();
        const acc = await tgAccount(s.tg, { phone, first_name: 'Mig', dc: 2 });
        const r = await loginStart(s.client, { name: 'migrated', phone });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.state, 'code_sent');
        const { code } = await tgLoginCode(s.tg, phone);
        const c = await s.client.post('/api/sessions/login/code', { login_id: r.json.login_id, code });
        assert.equal(c.status, 200, c.text);
        assert.equal(c.json.session.dc_id, 2);
        const chk = await s.client.post('/api/sessions/migrated/check', {});
        assert.equal(chk.status, 200, chk.text);
        assert.equal(chk.json.session.status, 'active');
        assert.equal(chk.json.session.account.id, acc.id);
        const f = await readStoredSession(s.dataDir, 'migrated');
        assert.equal(f.rows[0].dc_id, 2);
    });

    test('FLOOD_WAIT on sendCode -> 429 "Flood wait: please wait X seconds", nothing stored', async () => {
        const phone = newPhone();
        const acc = await tgAccount(s.tg, { phone });
        await tgFlood(s.tg, acc.id, { wait: 347, count: 1 });
        const r = await loginStart(s.client, { name: 'flooded', phone });
        assertError(r, 429, 'flood_wait', 'Flood wait: please wait 347 seconds');
        assert.equal(r.json.error.retry_after, 347);
        assert.equal((await tgFlood(s.tg, acc.id, {})).flood_wait_pending, 0, 'the flood met sendCode');
        assert.equal(await getSession(s.client, 'flooded'), null);
        // the flood is over: the same name is free and the login goes through
        await createUserSession(s.client, s.tg, { name: 'flooded', phone });
    });

    test('bot session via bot token: created, listed as a bot, check works; a bad token stores nothing', async () => {
        const bot = await tgCreateBot(s.tg, { username: 'sess_login_bot', first_name: 'SessBot' });
        const r = await s.client.post('/api/sessions/bot', { name: 'botsess', api_id: API_ID, api_hash: API_HASH, bot_token: bot.token });
        assert.equal(r.status, 201, r.text);
        assert.equal(r.json.session.type, 'bot');
        assert.equal(r.json.session.account?.id, bot.id);
        assert.equal(r.json.session.account.is_bot, true);
        assert.ok(!r.text.includes(bot.token.split(':')[1]), 'the bot token does not come back');
        const chk = await s.client.post('/api/sessions/botsess/check', {});
        assert.equal(chk.status, 200, chk.text);
        assert.equal(chk.json.session.status, 'active');
        assert.equal(chk.json.session.account.username, 'sess_login_bot');
        const f = await readStoredSession(s.dataDir, 'botsess');
        assert.equal(f.rows[0].is_bot, 1);
        assert.equal(f.rows[0].user_id, bot.id);

        const bad = await s.client.post('/api/sessions/bot', { name: 'badbot', api_id: API_ID, api_hash: API_HASH, bot_token: '123:not-a-token' });
        assert.ok(bad.status >= 400 && bad.status < 500, `${bad.status} ${bad.text}`);
        assert.equal(await getSession(s.client, 'badbot'), null);
        assert.ok(!sessionFiles(s.dataDir).some((f2) => f2.startsWith('badbot')), sessionFiles(s.dataDir).join(','));
    });

    test('Check Status fills the account; /api/sessions/list shows only active sessions', async () => {
        const { account } = await newUserSession(s.client, s.tg, { name: 'checked', first_name: 'Cara', last_name: 'Check', username: 'cara_check' });
        const before2 = Math.floor(Date.now() / 1000) - 1;
        const chk = await s.client.post('/api/sessions/checked/check', {});
        assert.equal(chk.status, 200, chk.text);
        const ses = chk.json.session;
        assert.equal(ses.status, 'active');
        assert.ok(ses.last_check_at >= before2, `last_check_at ${ses.last_check_at}`);
        assert.deepEqual(
            { id: ses.account.id, first_name: ses.account.first_name, last_name: ses.account.last_name, username: ses.account.username, is_bot: ses.account.is_bot, premium: ses.account.premium },
            { id: account.id, first_name: 'Cara', last_name: 'Check', username: 'cara_check', is_bot: false, premium: false });
        assert.equal(ses.account.phone.replace(/\D/g, ''), account.phone.replace(/\D/g, ''));
        const listed = await getSession(s.client, 'checked');
        assert.equal(listed.status, 'active');
        assert.equal(listed.last_check_at, ses.last_check_at);

        const active = await listSessions(s.client, '/api/sessions/list');
        const all = await listSessions(s.client);
        assert.ok(active.some((x) => x.name === 'checked'));
        assert.ok(active.every((x) => x.status === 'active'), JSON.stringify(active.map((x) => [x.name, x.status])));
        assert.deepEqual(active.map((x) => x.name).sort(), all.filter((x) => x.status === 'active').map((x) => x.name).sort());
        // unknown session
        const nf = await s.client.post('/api/sessions/nosuchsession/check', {});
        assert.equal(nf.status, 404, nf.text);
    });

    test('a revoked session: check -> invalid with the reason; using it -> "Session is invalid"', async () => {
        const { account } = await newUserSession(s.client, s.tg, { name: 'revoked' });
        const ok = await s.client.post('/api/sessions/revoked/check', {});
        assert.equal(ok.json?.session?.status, 'active', ok.text);
        await tgRevoke(s.tg, account.id, 'SESSION_REVOKED');
        const chk = await s.client.post('/api/sessions/revoked/check', {});
        // docs/api.md: a revoked key is a result, not an error
        assert.equal(chk.status, 200, chk.text);
        assert.equal(chk.json.session.status, 'invalid', chk.text);
        assert.equal(chk.json.session.last_error, 'Session is invalid');
        const listed = await getSession(s.client, 'revoked');
        assert.equal(listed.status, 'invalid');
        assert.match(listed.status_reason, /SESSION_REVOKED|AUTH_KEY_UNREGISTERED/, 'the reason Telegram gave');
        assert.ok(listed.last_check_at > 0);
        const active = await listSessions(s.client, '/api/sessions/list');
        assert.ok(!active.some((x) => x.name === 'revoked'), 'an invalid session is not offered');
        const load = await s.client.post('/api/sessions/revoked/load', { channel: '@test_channel_1' });
        assertError(load, 400, 'session_invalid', 'Session is invalid');
    });

    test('export: Pyrogram v3 columns read back with Python sqlite3', async () => {
        const { account } = await newUserSession(s.client, s.tg, { name: 'exported' });
        const r = await s.client.getBytes('/api/sessions/exported/export');
        assert.equal(r.status, 200);
        assert.match(r.headers.get('content-type') || '', /application\/octet-stream/);
        assert.match(r.headers.get('content-disposition') || '', /attachment/);
        const f = path.join(makeTempDir('export-'), 'exported.session');
        writeFileSync(f, r.body);
        const db = await readPyrogramFile(f);
        assert.deepEqual(db.columns, ['dc_id', 'api_id', 'test_mode', 'auth_key', 'date', 'user_id', 'is_bot']);
        assert.deepEqual(db.version, [3]);
        assert.equal(db.rows.length, 1);
        const row = db.rows[0];
        assert.equal(row.dc_id, 1);
        assert.equal(row.api_id, API_ID);
        assert.equal(row.test_mode, 0);
        assert.equal(row.auth_key_len, 256);
        assert.equal(row.user_id, account.id);
        assert.equal(row.is_bot, 0);
        // the same key as the stored file
        const stored = await readStoredSession(s.dataDir, 'exported');
        assert.equal(stored.rows[0].auth_key, row.auth_key);
    });

    test('secrets: the API hash and login codes are in no answer, no output, and not in plain text on disk', async () => {
        const all = s.client.transcript.join('\n');
        assert.ok(s.client.transcript.length > 20, 'the transcript covers the flows above');
        assert.deepEqual(secretsIn(all, [API_HASH]), [], 'the API hash never came back');
        for (const code of codesSeen) {
            assert.ok(!new RegExp(`"${code}"`).test(all), `login code ${code} never came back as a value`);
        }
        assert.deepEqual(secretsIn(s.dm.output, [API_HASH]), [], "the API hash is not in doorman's output");
        assert.deepEqual(filesContaining(s.dataDir, API_HASH), [], 'no file in the data dir holds the API hash in plain text');
    });
});
