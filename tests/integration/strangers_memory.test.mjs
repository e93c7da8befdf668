// Memory held by strangers (issue 10, item 5): what someone without a login can make doorman keep.
// - Bodies before login are small: login and setup take 8 KiB (413 past it, the body never kept),
//   the webhook 64 KiB and nothing at all without its secret token (401), a logged-in route
//   without a valid session cookie answers 401 without keeping a byte of the body.
// - 200 connections from 4 addresses, each holding an unfinished body (login, setup, webhook, and
//   1 MiB to a logged-in route), and 4 parallel 1 MiB `{"x":[{},{},…]}` logins: doorman's resident
//   memory grows by less than GROWTH_BOUND_MB (docs/operations.md, Limits), and a normal client is
//   still served.
// - Connections from one address are limited (DOORMAN_HTTP_PER_IP, default 64): past it a new
//   connection is closed at once, while other addresses are served.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { Client, httpFetch } from '../lib/api.mjs';
import { waitFor } from '../lib/processes.mjs';
import { startStack, ADMIN } from '../lib/stacks.mjs';

const HOLDERS = 200;
const ADDRESSES = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5']; // 50 each, under 64
const PER_IP = 64;
const GROWTH_BOUND_MB = 24; // 200 × (MHD's 32 KiB connection pool + an 8 KiB body) ≈ 8 MB, and slack
const MiB = 1024 * 1024;

function memory(pid) {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)[1]);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

// A connection from `from` that sends `head` and `sent` bytes of a body, and keeps the rest back.
// Resolves once all of it is handed to the kernel; .closed says whether the server closed it.
function holder(port, from, head, sent) {
    return new Promise((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port, localAddress: from });
        s.info = { closed: false, data: '' };
        s.on('data', (d) => { s.info.data += d.toString('latin1'); });
        s.on('close', () => { s.info.closed = true; });
        s.on('error', () => { s.info.closed = true; });
        s.on('connect', () => {
            s.write(head);
            if (!sent) return resolve(s);
            const body = Buffer.alloc(sent);
            const pattern = Buffer.from('{"x":[' + '{},'.repeat(1000));
            for (let i = 0; i < sent; i += pattern.length) pattern.copy(body, i, 0, Math.min(pattern.length, sent - i));
            s.write(body, (e) => (e ? reject(e) : resolve(s)));
        });
    });
}

function post(path, length, port, extra = '') {
    return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${length}\r\n${extra}\r\n`;
}

describe('memory held by strangers', () => {
    let s, port, pid;
    const sockets = [];
    before(async () => {
        s = await startStack({ world: { channels: 1, pending: 0 } });
        port = Number(new URL(s.dm.url).port);
        pid = s.dm.proc.pid;
    });
    after(async () => {
        for (const k of sockets) k.destroy();
        await s?.cleanup();
    });

    test('bodies before login are small, and a logged-in route without a session reads none', async () => {
        const anon = new Client(s.dm);
        const big = JSON.stringify({ name: 'admin', password: 'x'.repeat(9000) });
        const r = await anon.post('/api/login', big);
        assert.equal(r.status, 413, r.text);
        assert.equal(r.json.error.code, 'body_too_large');
        assert.match(r.json.error.message, /larger than 8192 bytes/);
        const setup = await anon.post('/api/setup', big);
        assert.equal(setup.status, 413, setup.text);
        // a logged-in route: 401, not 413, for a body of any size
        const settings = await anon.post('/api/settings', JSON.stringify({ pad: 'y'.repeat(2 * MiB) }));
        assert.equal(settings.status, 401, settings.text);
        assert.equal(settings.json.error.code, 'unauthorized');
        // the webhook without its secret token
        const hook = await httpFetch(`${s.dm.url}/telegram/webhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'z'.repeat(100000) });
        assert.equal(hook.status, 401);
        // with a session the same route takes up to 1 MiB
        const ok = await s.client.post('/api/settings', `{"bot_rate": 5${' '.repeat(600 * 1024)}}`);
        assert.equal(ok.status, 200, ok.text);
        // and a normal login is still a few hundred bytes
        await new Client(s.dm).login(ADMIN.name, ADMIN.password);
    });

    test(`${HOLDERS} connections holding unfinished bodies, and 1 MiB logins, hold little memory`, async () => {
        for (let i = 0; i < 5; i++) await s.client.get('/api/invite-requests'); // warm
        // VmHWM from here on (a login's argon2id check alone takes 64 MiB for a moment)
        fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
        const before = memory(pid);
        const kinds = [
            [post('/api/login', 8000, port), 7000],
            [post('/api/setup', 8192, port), 8000],
            [post('/telegram/webhook', 60000, port), 50000],
            [post('/api/settings', MiB, port), MiB - 1000],
        ];
        const pending = [];
        for (let i = 0; i < HOLDERS; i++) {
            const [head, sent] = kinds[i % kinds.length];
            pending.push(holder(port, ADDRESSES[i % ADDRESSES.length], head, sent));
        }
        sockets.push(...(await Promise.all(pending)));
        // 4 parallel 1 MiB {"x":[{},{},…]} logins (before: 399 MB): refused as too large
        const nested = '{"x":[' + '{},'.repeat((MiB - 10) / 3) + '{}]}';
        const logins = await Promise.all([2, 3, 4, 5].map((n) => new Client(s.dm, { from: `127.0.0.${n + 10}` }).post('/api/login', nested)));
        for (const r of logins) assert.equal(r.status, 413, r.text);
        // doorman has read what it was sent when its memory stops changing
        let last = -1;
        await waitFor(() => {
            const m = memory(pid).rss;
            const still = Math.abs(m - last) < 0.25;
            last = m;
            return still;
        }, { intervalMs: 300, timeoutMs: 20000, what: "doorman's memory to settle" });
        const held = memory(pid);
        assert.equal(sockets.filter((k) => k.info.closed).length, 0, 'the holders are still connected');
        // a normal client is served meanwhile
        const list = await s.client.get('/api/invite-requests');
        assert.equal(list.status, 200, list.text);
        assert.equal((await s.client.get('/api/health')).status, 200);
        const grew = held.rss - before.rss, peak = held.hwm - before.rss;
        console.log(`VmRSS ${before.rss.toFixed(1)} MB before, ${held.rss.toFixed(1)} MB with ${HOLDERS} holders and 4 x 1 MiB logins ` +
            `(+${grew.toFixed(1)} MB; VmHWM ${held.hwm.toFixed(1)} MB)`);
        assert.ok(grew < GROWTH_BOUND_MB, `VmRSS grew by ${grew.toFixed(1)} MB (bound ${GROWTH_BOUND_MB} MB)`);
        assert.ok(peak < GROWTH_BOUND_MB, `VmHWM is ${peak.toFixed(1)} MB above the start (bound ${GROWTH_BOUND_MB} MB)`);
        for (const k of sockets.splice(0)) k.destroy();
    });

    test(`at most ${PER_IP} connections from one address; other addresses are served`, async () => {
        const from = '127.0.0.6';
        const held = [];
        for (let i = 0; i < PER_IP + 6; i++) held.push(await holder(port, from, '', 0));
        sockets.push(...held);
        await waitFor(() => held.filter((k) => k.info.closed).length >= 6, { what: 'the connections past the limit to be closed' });
        assert.equal(held.filter((k) => k.info.closed).length, 6, 'only those past the limit were closed');
        assert.ok(held.every((k) => k.info.data === ''), 'closed without an answer');
        const other = new Client(s.dm, { from: '127.0.0.7' });
        await other.login(ADMIN.name, ADMIN.password);
        assert.equal((await other.get('/api/invite-requests')).status, 200);
        const same = await httpFetch(`${s.dm.url}/api/health`, { localAddress: from }).catch((e) => e);
        assert.ok(same instanceof Error, 'a new connection from the full address is closed');
        for (const k of held.slice(0, 10)) k.destroy();
        await waitFor(async () => {
            const r = await httpFetch(`${s.dm.url}/api/health`, { localAddress: from }).catch(() => null);
            return r?.status === 200;
        }, { what: 'the address to be served again once its connections close' });
    });
});
