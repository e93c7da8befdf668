// The login throttle (issue 10, item 4): a full table never frees a live lock; the attempt is
// counted before the password is checked, so parallel guesses get no more checks than serial
// ones; malformed login bodies count against the address; and a browser where an admin logged in
// before (its device cookie) passes that name's lock, while the per-address limit still holds.
// Every client sends from a loopback address of its own (127.0.0.x) so addresses can be told
// apart. IPv6 keying by /64 is in tests/unit/http (one machine has no second IPv6 prefix).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeTempDir } from '../lib/processes.mjs';
import { startDoorman, createAdmin } from '../lib/doorman.mjs';
import { Client } from '../lib/api.mjs';

const PW = 'a long enough password';

// {status: how many} of responses or statuses.
function statusCounts(rs) {
    const n = {};
    for (const r of rs) {
        const s = typeof r === 'number' ? r : r.status;
        n[s] = (n[s] || 0) + 1;
    }
    return n;
}

async function adminDoorman(names, env = {}) {
    const dataDir = makeTempDir('doorman-throttle-');
    for (const n of names) assert.equal(createAdmin(dataDir, n, PW).status, 0);
    return startDoorman({ dataDir, env });
}

// Five wrong passwords for name from address `from`; returns the statuses.
async function lockName(dm, name, from) {
    const c = new Client(dm, { from });
    const out = [];
    for (let i = 0; i < 5; i++) out.push((await c.post('/api/login', { name, password: `wrong password ${i}` })).status);
    return out;
}

describe('a full throttle table', () => {
    let dm;
    before(async () => { dm = await adminDoorman(['admin'], { DOORMAN_LOGIN_THROTTLE_SLOTS: '16' }); });
    after(async () => { await dm?.stop(); });

    test('keeps a locked name locked and refuses new addresses and names until entries expire', async () => {
        assert.deepEqual(await lockName(dm, 'admin', '127.0.0.2'), [401, 401, 401, 401, 401]);
        const locked = await new Client(dm, { from: '127.0.0.2' }).post('/api/login', { name: 'admin', password: PW });
        assert.equal(locked.status, 429, `admin is locked: ${locked.text}`);

        // Wrong logins with other names, each from another address: far more keys than slots.
        const flood = [];
        for (let i = 0; i < 40; i++) {
            const r = await new Client(dm, { from: `127.0.0.${10 + i}` }).post('/api/login', { name: `other${i}`, password: 'wrong password' });
            flood.push(r.status);
        }
        console.log(`flood of 40 wrong logins on a 16-slot table: ${JSON.stringify(statusCounts(flood))}`);

        const again = await new Client(dm, { from: '127.0.0.2' }).post('/api/login', { name: 'admin', password: PW });
        console.log(`locked admin with the right password after the flood: ${again.status}`);
        assert.equal(again.status, 429, `the locked admin must stay locked however many keys come after: ${again.status} ${again.text}`);
        assert.ok(Number(again.headers.get('retry-after')) > 0, 'Retry-After');

        // Fail closed: once the table is full, a new key is refused rather than a live one freed.
        assert.deepEqual(flood.slice(0, 7), Array(7).fill(401), '7 logins (2 keys each) fill the 14 free slots');
        assert.deepEqual(flood.slice(7), Array(33).fill(429), 'then new addresses are refused');
        const fresh = await new Client(dm, { from: '127.0.0.200' }).post('/api/login', { name: 'admin', password: PW });
        assert.equal(fresh.status, 429, `a new address while the table is full: ${fresh.text}`);
        assert.ok(Number(fresh.headers.get('retry-after')) > 0, 'Retry-After says when a slot frees');
    });
});

describe('parallel wrong passwords', () => {
    let dm;
    before(async () => { dm = await adminDoorman(['admin', 'auditor']); });
    after(async () => { await dm?.stop(); });

    test('16 at once get exactly 5 password checks for a name', async () => {
        const a = new Client(dm, { from: '127.0.0.30' });
        await a.login('auditor', PW); // the first login does some set-up: not part of the race
        // From four addresses (four each, well under the address limit) at the same moment.
        const rs = await Promise.all(Array.from({ length: 16 }, (_, i) =>
            new Client(dm, { from: `127.0.0.${3 + (i % 4)}` }).post('/api/login', { name: 'admin', password: `wrong password ${i}` })));
        const n = statusCounts(rs);
        console.log(`16 parallel wrong passwords: ${JSON.stringify(n)}`);
        assert.deepEqual(n, { 401: 5, 429: 11 }, 'five checked (401), the rest refused unchecked (429)');
        const audit = await a.ok('/api/audit?limit=500');
        const failed = audit.items.filter((e) => e.action === 'login_failed' && e.admin === 'admin');
        assert.equal(failed.length, 5, 'five login_failed entries: one per password checked');
    });
});

describe('malformed login bodies', () => {
    let dm;
    before(async () => { dm = await adminDoorman(['admin']); });
    after(async () => { await dm?.stop(); });

    test('count against the address: after 20, the right password from there gets 429', async () => {
        const c = new Client(dm, { from: '127.0.0.5' });
        const bad = [
            ['{"name":', 'application/json'],
            ['[1,2]', 'application/json'],
            ['{"name":"admin"}', 'application/json'],
            ['{"name":["admin"],"password":"xxxxxxxxxxxx"}', 'application/json'],
            ['name=admin&password=x', 'application/x-www-form-urlencoded'],
        ];
        const statuses = [];
        for (let i = 0; i < 20; i++) {
            const [body, ct] = bad[i % bad.length];
            statuses.push((await c.post('/api/login', body, { contentType: ct })).status);
        }
        assert.ok(statuses.every((s) => s === 400 || s === 415), `each malformed body is refused: ${statuses}`);
        const r = await c.post('/api/login', { name: 'admin', password: PW });
        console.log(`right password after 20 malformed bodies from the same address: ${r.status}`);
        assert.equal(r.status, 429, `20 malformed bodies lock the address: ${r.text}`);
        const more = await c.post('/api/login', '{"name":', { contentType: 'application/json' });
        assert.equal(more.status, 429, 'a locked address is refused before its body is read');
        // Another address is not affected, and neither is the name.
        const other = new Client(dm, { from: '127.0.0.6' });
        assert.equal((await other.post('/api/login', { name: 'admin', password: PW })).status, 200);
    });
});

describe('the device cookie', () => {
    let dm;
    before(async () => { dm = await adminDoorman(['admin', 'erin']); });
    after(async () => { await dm?.stop(); });

    test('a browser where the admin logged in before passes the name\'s lock; the address limit still applies', async () => {
        const browser = new Client(dm, { from: '127.0.0.7' });
        const first = await browser.login('admin', PW);
        const sc = first.setCookie.find((s) => s.startsWith('doorman_device='));
        assert.ok(sc, `a successful login sets doorman_device: ${JSON.stringify(first.setCookie)}`);
        const attrs = sc.split(';').slice(1).map((s) => s.trim().toLowerCase());
        for (const a of ['httponly', 'samesite=strict', 'path=/api/login']) assert.ok(attrs.includes(a), `${a} in ${sc}`);
        assert.ok(attrs.some((a) => /^max-age=\d+$/.test(a) && Number(a.slice(8)) >= 30 * 86400), `a long Max-Age in ${sc}`);
        await browser.post('/api/logout', {});
        assert.ok(browser.cookies.has('doorman_device'), 'logout keeps the device cookie');

        // Someone else locks the name.
        assert.deepEqual(await lockName(dm, 'admin', '127.0.0.8'), [401, 401, 401, 401, 401]);
        const stranger = new Client(dm, { from: '127.0.0.9' });
        assert.equal((await stranger.post('/api/login', { name: 'admin', password: PW })).status, 429, 'a browser without the cookie is locked out');

        // The admin's own browser still gets in.
        const back = await browser.post('/api/login', { name: 'admin', password: PW });
        console.log(`locked admin from the browser with its device cookie: ${back.status}`);
        assert.equal(back.status, 200, `the device cookie passes the name's lock: ${back.text}`);
        assert.equal((await browser.get('/api/me')).json.admin, 'admin');

        // A forged cookie, or one from a browser where another admin logged in, does not.
        const forged = new Client(dm, { from: '127.0.0.9' });
        forged.cookies.set('doorman_device', 'f'.repeat(64));
        assert.equal((await forged.post('/api/login', { name: 'admin', password: PW })).status, 429, 'forged cookie');
        const erins = new Client(dm, { from: '127.0.0.9' });
        await erins.login('erin', PW);
        assert.equal((await erins.post('/api/login', { name: 'admin', password: PW })).status, 429, 'another admin\'s device cookie');

        // The per-address limit still applies to the admin's browser.
        const busy = '127.0.0.11';
        const noise = new Client(dm, { from: busy });
        for (let i = 0; i < 20; i++) assert.equal((await noise.post('/api/login', { name: `x${i}`, password: 'wrong password' })).status, 401);
        const moved = new Client(dm, { from: busy });
        moved.cookies.set('doorman_device', browser.cookies.get('doorman_device'));
        assert.equal((await moved.post('/api/login', { name: 'admin', password: PW })).status, 429, 'address limit with the cookie');

        // Wrong passwords through the cookie are limited too: five, then the cookie is locked.
        const guesser = new Client(dm, { from: '127.0.0.12' });
        guesser.cookies.set('doorman_device', browser.cookies.get('doorman_device'));
        const tries = [];
        for (let i = 0; i < 6; i++) tries.push((await guesser.post('/api/login', { name: 'admin', password: `guess ${i} guess` })).status);
        assert.deepEqual(tries, [401, 401, 401, 401, 401, 429], 'five guesses per device cookie while the name is locked');
    });

    test('the device cookie is remembered across a restart', async () => {
        const browser = new Client(dm, { from: '127.0.0.13' });
        await browser.login('erin', PW);
        await dm.restart();
        assert.deepEqual(await lockName(dm, 'erin', '127.0.0.14'), [401, 401, 401, 401, 401]);
        assert.equal((await new Client(dm, { from: '127.0.0.15' }).post('/api/login', { name: 'erin', password: PW })).status, 429);
        const r = await browser.post('/api/login', { name: 'erin', password: PW });
        assert.equal(r.status, 200, `after a restart: ${r.text}`);
    });
});
