// DNS rebinding (issue 10, item 6): a page on the attacker's name, once that name resolves to
// doorman's address, must not be answered. Only the public URL's host and the listen address are:
// any other Host gets 421 misdirected_request, on every path (the panel, the API, the webhook).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDoorman } from '../lib/doorman.mjs';
import { Client, httpFetch, rawHttp } from '../lib/api.mjs';
import { startStack } from '../lib/stacks.mjs';

const PATHS = [
    ['GET', '/'],
    ['GET', '/setup'],
    ['GET', '/api/health'],
    ['GET', '/api/setup'],
    ['GET', '/api/me'],
    ['POST', '/api/login'],
    ['POST', '/telegram/webhook'],
];

// The status doorman at base answers for path with the given Host header (null: none sent).
async function withHost(base, host, method = 'GET', path = '/api/health', from) {
    const headers = { 'content-type': 'application/json' };
    if (host !== null) headers.host = host;
    const body = method === 'POST' ? JSON.stringify({ name: 'admin', password: 'some password' }) : undefined;
    return httpFetch(base + path, { method, headers, body, localAddress: from });
}

async function assertMisdirected(base, host, what) {
    for (const [method, path] of PATHS) {
        const r = await withHost(base, host, method, path);
        const text = await r.text();
        assert.equal(r.status, 421, `${what}: Host ${JSON.stringify(host)} ${method} ${path} -> ${r.status} ${text.slice(0, 120)}`);
        assert.equal(JSON.parse(text).error.code, 'misdirected_request', text);
    }
}

async function assertAnswered(base, host, what) {
    const r = await withHost(base, host);
    assert.equal(r.status, 200, `${what}: Host ${JSON.stringify(host)} -> ${r.status} ${await r.text()}`);
}

function port(url) { return new URL(url).port; }

describe('Host: the default public URL (the listen address)', () => {
    let dm;
    before(async () => { dm = await startDoorman({}); });
    after(async () => { await dm?.stop(); });

    test('the listen address and loopback names are answered, case-insensitively', async () => {
        const p = port(dm.url);
        for (const h of [`127.0.0.1:${p}`, `localhost:${p}`, `LocalHost:${p}`, `[::1]:${p}`]) await assertAnswered(dm.url, h, 'default');
    });

    test('any other host, or another port, gets 421 on every path', async () => {
        const p = port(dm.url);
        const statuses = {};
        for (const h of [`evil.example:${p}`, 'evil.example', `127.0.0.1:${Number(p) + 1}`, '127.0.0.1',
            `localhost.evil.example:${p}`, `127.0.0.1.nip.io:${p}`, `${p}`, `[::1]`, `evil.example:${p}x`]) {
            statuses[h] = (await withHost(dm.url, h)).status;
        }
        console.log(`GET /api/health by Host: ${JSON.stringify(statuses)}`);
        await assertMisdirected(dm.url, `evil.example:${p}`, 'rebinding');
        for (const [h, s] of Object.entries(statuses)) assert.equal(s, 421, `Host ${h}`);
    });

    test('HTTP/1.0 without Host is answered; HTTP/1.1 without Host, or with two, is a 400', async () => {
        const p = Number(port(dm.url));
        const h10 = await rawHttp('127.0.0.1', p, 'GET /api/health HTTP/1.0\r\n\r\n');
        assert.match(h10, /^HTTP\/1\.[01] 200 /, h10.slice(0, 200));
        const none = await rawHttp('127.0.0.1', p, 'GET /api/health HTTP/1.1\r\nConnection: close\r\n\r\n');
        assert.match(none, /^HTTP\/1\.1 400 /, none.slice(0, 200));
        const two = await rawHttp('127.0.0.1', p, `GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nHost: evil.example\r\nConnection: close\r\n\r\n`);
        assert.match(two, /^HTTP\/1\.1 400 /, two.slice(0, 200));
        const h10evil = await rawHttp('127.0.0.1', p, 'GET /api/health HTTP/1.0\r\nHost: evil.example\r\n\r\n');
        assert.match(h10evil, /^HTTP\/1\.[01] 421 /, h10evil.slice(0, 200));
    });
});

describe('Host: an explicit public URL', () => {
    let dm;
    before(async () => { dm = await startDoorman({ args: ['--public-url', 'https://Doorman.Example/'] }); });
    after(async () => { await dm?.stop(); });

    test('its host (default port or explicit 443) and the listen address are answered; other ports and names are not', async () => {
        for (const h of ['doorman.example', 'DOORMAN.EXAMPLE:443', `127.0.0.1:${port(dm.url)}`]) await assertAnswered(dm.url, h, 'public');
        for (const h of ['doorman.example:8443', 'doorman.example:80', 'doorman.example.evil.example', 'evil.example']) {
            assert.equal((await withHost(dm.url, h)).status, 421, `Host ${h}`);
        }
    });

    test('an https public URL: every answer carries Strict-Transport-Security (HSTS), a 421 too', async () => {
        for (const [host, path, status] of [['doorman.example', '/api/health', 200], ['doorman.example', '/', 200],
            ['doorman.example', '/api/me', 401], ['evil.example', '/api/health', 421]]) {
            const r = await withHost(dm.url, host, 'GET', path);
            assert.equal(r.status, status, `${host}${path}`);
            assert.equal(r.headers.get('strict-transport-security'), 'max-age=31536000', `${host}${path}`);
        }
    });
});

describe('Host: public URL with a port, listening on all addresses and on IPv6', () => {
    const started = [];
    after(async () => { for (const d of started) await d.stop(); });

    test('http://panel.example:8080 answers that host:port only', async () => {
        const dm = await startDoorman({ args: ['--public-url', 'http://panel.example:8080'] });
        started.push(dm);
        await assertAnswered(dm.url, 'panel.example:8080', 'public with port');
        assert.equal((await withHost(dm.url, 'panel.example:8080')).headers.get('strict-transport-security'), null, 'no HSTS over http');
        assert.equal((await withHost(dm.url, 'panel.example')).status, 421);
        assert.equal((await withHost(dm.url, 'panel.example:8081')).status, 421);
    });

    test('listening on 0.0.0.0: the address a request came to is answered', async () => {
        const dm = await startDoorman({ args: ['--listen', '0.0.0.0:0'] });
        started.push(dm);
        const p = port(dm.url);
        const at = `http://127.0.0.2:${p}`;
        await assertAnswered(at, `127.0.0.2:${p}`, 'wildcard listen');
        assert.equal((await withHost(at, `evil.example:${p}`)).status, 421);
    });

    test('listening on [::1]: [::1]:port and localhost are answered', async () => {
        const dm = await startDoorman({ args: ['--listen', '[::1]:0'] });
        started.push(dm);
        const p = port(dm.url);
        for (const h of [`[::1]:${p}`, `[0:0::1]:${p}`, `localhost:${p}`]) await assertAnswered(dm.url, h, 'IPv6 listen');
        assert.equal((await withHost(dm.url, `evil.example:${p}`)).status, 421);
    });
});

describe('Host: the webhook URL', () => {
    let s;
    before(async () => { s = await startStack({ world: { channels: 1, pending: 0 } }); });
    after(async () => { await s?.cleanup(); });

    test('the webhook URL\'s host reaches /telegram/webhook only', async () => {
        const r = await s.client.post('/api/settings', { mode: 'webhook', webhook_url: 'https://hook.example/telegram/webhook' });
        assert.equal(r.status, 200, r.text);
        // It gets to the bot (401: no secret), where another host is turned away.
        assert.equal((await withHost(s.dm.url, 'hook.example', 'POST', '/telegram/webhook')).status, 401);
        assert.equal((await withHost(s.dm.url, 'other.example', 'POST', '/telegram/webhook')).status, 421);
        // That host is not the panel's.
        for (const [method, path] of PATHS.filter(([, p]) => p !== '/telegram/webhook')) {
            assert.equal((await withHost(s.dm.url, 'hook.example', method, path)).status, 421, `${method} ${path}`);
        }
        const c = new Client(s.dm);
        assert.equal((await c.get('/api/health')).status, 200, 'the panel\'s own address still works');
    });
});
