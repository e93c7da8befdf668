// Setup link, `doorman admin add`, login, throttling, logout, cookies and CSRF (issue 2, item 4).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor, makeTempDir } from '../lib/processes.mjs';
import { startDoorman, createAdmin, setupTokenFrom } from '../lib/doorman.mjs';
import { Client } from '../lib/api.mjs';

const PW = 'a long enough password';

function assertError(r, status, code) {
    assert.equal(r.status, status, `expected ${status} ${code}, got ${r.status} ${r.text}`);
    assert.ok(r.json && r.json.error, `error body is JSON {"error":…}: ${r.text}`);
    assert.equal(r.json.error.code, code, `error code: ${r.text}`);
    assert.equal(typeof r.json.error.message, 'string');
    assert.ok(r.json.error.message.length > 0, 'error message is a sentence');
}

describe('first start: the one-time setup link', () => {
    let dm;
    before(async () => { dm = await startDoorman({}); });
    after(async () => { await dm?.stop(); });

    test('prints a setup link, needs_setup is true, wrong token is refused, right one creates the admin once', async () => {
        const token = await waitFor(() => setupTokenFrom(dm.output), { what: 'a "/setup#token=" line on the console' });
        const c = new Client(dm);
        const s = await c.get('/api/setup');
        assert.equal(s.status, 200);
        assert.equal(s.json.needs_setup, true);

        // No default password: nothing logs in before setup.
        for (const [name, password] of [['admin', 'admin123'], ['admin', 'admin']]) {
            const l = await c.post('/api/login', { name, password });
            assert.equal(l.status, 401, `login ${name}/${password} before setup must fail: ${l.text}`);
        }

        const wrong = await c.post('/api/setup', { token: token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA'), name: 'root', password: PW });
        assertError(wrong, 403, 'forbidden');
        assert.equal((await c.get('/api/setup')).json.needs_setup, true, 'a refused setup changes nothing');

        // A bad password is refused without using up the token.
        const short = await c.post('/api/setup', { token, name: 'root', password: 'short' });
        assertError(short, 400, 'bad_request');
        assert.equal((await c.get('/api/setup')).json.needs_setup, true);

        const ok = await c.post('/api/setup', { token, name: 'root', password: PW });
        assert.equal(ok.status, 200, ok.text);
        assert.equal(ok.json.admin, 'root');
        assert.equal(typeof ok.json.csrf_token, 'string');
        assert.ok(c.cookies.has('doorman_session'), 'setup logs in (sets doorman_session)');
        const me = await c.get('/api/me');
        assert.equal(me.status, 200, me.text);
        assert.equal(me.json.admin, 'root');
        assert.equal((await c.get('/api/setup')).json.needs_setup, false);

        // The token is one-time, and an admin now exists.
        const again = await new Client(dm).post('/api/setup', { token, name: 'other', password: PW });
        assert.ok([403, 409].includes(again.status), `second setup must be refused: ${again.status} ${again.text}`);
        const other = await new Client(dm).post('/api/login', { name: 'other', password: PW });
        assert.equal(other.status, 401, 'the refused second setup created no admin');

        // The password never shows on the console.
        assert.ok(!dm.output.includes(PW), 'password not in doorman output');
    });

    test('no setup link once an admin exists (restart)', async () => {
        await dm.restart();
        const c = new Client(dm);
        assert.equal((await c.get('/api/setup')).json.needs_setup, false);
        assert.equal(setupTokenFrom(dm.proc.out), null, 'no setup link printed when an admin exists');
    });
});

describe('doorman admin add, login, logout, cookies, CSRF', () => {
    let dm, dataDir;
    before(async () => {
        dataDir = makeTempDir('doorman-auth-');
        const r = createAdmin(dataDir, 'alice', PW);
        assert.equal(r.status, 0, `admin add: ${r.stderr}`);
        assert.ok(!(r.stdout + r.stderr).includes(PW), 'admin add does not echo the password');
        dm = await startDoorman({ dataDir });
    });
    after(async () => { await dm?.stop(); });

    test('admin add refuses bad names and short passwords, and a duplicate', () => {
        for (const [name, pw] of [['bad name', PW], ['x'.repeat(65), PW], ['', PW], ['bob', 'short'], ['alice', PW]]) {
            const r = createAdmin(dataDir, name, pw);
            assert.notEqual(r.status, 0, `admin add ${JSON.stringify(name)} with ${pw.length}-byte password must fail`);
            assert.ok(r.stderr.trim().length > 0, 'says why on stderr');
            assert.ok(!(r.stdout + r.stderr).includes(PW), 'no password echoed');
        }
    });

    test('login: right password gives a session cookie with HttpOnly, SameSite=Strict, Path=/, 7 days', async () => {
        const c = new Client(dm);
        const r = await c.login('alice', PW);
        assert.equal(r.json.admin, 'alice');
        assert.ok(r.json.csrf_token && r.json.csrf_token.length >= 16, 'csrf token present');
        const sc = r.setCookie.find((s) => s.startsWith('doorman_session='));
        assert.ok(sc, `Set-Cookie doorman_session: ${JSON.stringify(r.setCookie)}`);
        const attrs = sc.split(';').slice(1).map((s) => s.trim().toLowerCase());
        assert.ok(attrs.includes('httponly'), `HttpOnly in ${sc}`);
        assert.ok(attrs.includes('samesite=strict'), `SameSite=Strict in ${sc}`);
        assert.ok(attrs.includes('path=/'), `Path=/ in ${sc}`);
        assert.ok(attrs.includes('max-age=604800'), `Max-Age=604800 in ${sc}`);
        const me = await c.get('/api/me');
        assert.equal(me.status, 200);
        assert.equal(me.json.admin, 'alice');
        assert.equal(me.json.csrf_token, r.json.csrf_token);
    });

    test('login: wrong password and unknown name get the same 401', async () => {
        const c = new Client(dm);
        const a = await c.post('/api/login', { name: 'alice', password: 'wrong password 1' });
        const b = await c.post('/api/login', { name: 'nobody', password: 'wrong password 1' });
        assertError(a, 401, 'unauthorized');
        assertError(b, 401, 'unauthorized');
        assert.equal(a.json.error.message, b.json.error.message, 'one message for both');
        assert.equal(a.setCookie.length, 0, 'no cookie on failure');
    });

    test('absent, forged and logged-out cookies get 401', async () => {
        const anon = new Client(dm);
        for (const p of ['/api/me', '/api/invite-requests', '/api/settings', '/api/jobs', '/api/audit', '/api/chats']) {
            assertError(await anon.get(p), 401, 'unauthorized');
        }
        assert.equal((await anon.get('/api/health')).status, 200);
        const forged = new Client(dm);
        forged.cookies.set('doorman_session', 'A'.repeat(43));
        assertError(await forged.get('/api/me'), 401, 'unauthorized');

        const c = new Client(dm);
        await c.login('alice', PW);
        const old = c.cookies.get('doorman_session');
        const lo = await c.post('/api/logout', {});
        assert.equal(lo.status, 200, lo.text);
        assert.ok(!c.cookies.has('doorman_session'), 'logout clears the cookie');
        const replay = new Client(dm);
        replay.cookies.set('doorman_session', old);
        assertError(await replay.get('/api/me'), 401, 'unauthorized');
    });

    test('missing or wrong CSRF token gets 403 and changes nothing', async () => {
        const c = new Client(dm);
        await c.login('alice', PW);
        const before = await c.ok('/api/settings');
        const noCsrf = await c.post('/api/logout', {}, { csrf: false });
        assertError(noCsrf, 403, 'csrf');
        assert.equal((await c.get('/api/me')).status, 200, 'session still alive after a refused logout');

        const s = await c.post('/api/settings', { bot_rate: 7 }, { csrf: false });
        assertError(s, 403, 'csrf');
        const real = c.csrf;
        c.csrf = real.slice(0, -1) + (real.endsWith('x') ? 'y' : 'x');
        assertError(await c.post('/api/settings', { bot_rate: 7 }), 403, 'csrf');
        c.csrf = real;
        assert.deepEqual(await c.ok('/api/settings'), before, 'settings unchanged');

        // The CSRF token belongs to its session: another session's token does not work.
        const d = new Client(dm);
        await d.login('alice', PW);
        const dTok = d.csrf;
        d.csrf = c.csrf;
        if (dTok !== c.csrf) assertError(await d.post('/api/logout', {}), 403, 'csrf');
    });

    test('throttling: after 5 failures for a name, 429 with Retry-After even with the right password', async () => {
        // A second admin to throttle, so alice stays usable.
        assert.equal(createAdmin(dataDir, 'carol', PW).status, 0);
        const c = new Client(dm);
        for (let i = 0; i < 5; i++) {
            assertError(await c.post('/api/login', { name: 'carol', password: `wrong password ${i}` }), 401, 'unauthorized');
        }
        const t = await c.post('/api/login', { name: 'carol', password: PW });
        assertError(t, 429, 'too_many_attempts');
        const ra = Number(t.headers.get('retry-after'));
        assert.ok(Number.isFinite(ra) && ra > 0, `Retry-After header: ${t.headers.get('retry-after')}`);
        assert.ok(!c.cookies.has('doorman_session'), 'no session while throttled');
        // Another name from the same IP still logs in (5 failures < 20 per IP).
        const a = new Client(dm);
        await a.login('alice', PW);
        // The audit log recorded the failures and the login.
        const audit = await a.ok('/api/audit?limit=500');
        const failed = audit.items.filter((e) => e.action === 'login_failed');
        assert.ok(failed.length >= 5, `login_failed audit entries: ${failed.length}`);
        assert.ok(audit.items.some((e) => e.action === 'login' && e.admin === 'alice'), 'login audited');
        assert.ok(!JSON.stringify(audit).includes('wrong password'), 'attempted passwords are not in the audit log');
    });
});

describe('throttling per IP', () => {
    let dm, dataDir;
    before(async () => {
        dataDir = makeTempDir('doorman-auth-ip-');
        assert.equal(createAdmin(dataDir, 'dave', PW).status, 0);
        dm = await startDoorman({ dataDir });
    });
    after(async () => { await dm?.stop(); });

    test('after 20 failures from one IP (different names), 429 for every name', async () => {
        const c = new Client(dm);
        for (let i = 0; i < 20; i++) {
            const r = await c.post('/api/login', { name: `name${i}`, password: 'wrong password!' });
            assertError(r, 401, 'unauthorized');
        }
        const t = await c.post('/api/login', { name: 'dave', password: PW });
        assertError(t, 429, 'too_many_attempts');
        assert.ok(Number(t.headers.get('retry-after')) > 0);
    });
});
