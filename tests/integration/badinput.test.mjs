// Bad input of every kind gets a clear 4xx JSON error and changes nothing (issue 2, Proof).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tgJoinRequests } from '../lib/tgsim.mjs';
import { waitRecorded, listAll, snapshot, Client } from '../lib/api.mjs';
import { startStack } from '../lib/stacks.mjs';

function assertError(r, status, code, what) {
    assert.equal(r.status, status, `${what}: expected ${status}, got ${r.status} ${r.text.slice(0, 300)}`);
    assert.ok(r.json && r.json.error, `${what}: JSON error body: ${r.text.slice(0, 300)}`);
    assert.equal(r.json.error.code, code, `${what}: ${r.text.slice(0, 300)}`);
    assert.ok(typeof r.json.error.message === 'string' && r.json.error.message.length > 0, `${what}: message`);
    assert.match(r.headers.get('content-type') || '', /application\/json/, `${what}: JSON content type`);
}

describe('bad input changes nothing', () => {
    let s, before0, tg0, ids;
    before(async () => {
        s = await startStack({ world: { channels: 2, pending: 6 } });
        await waitRecorded(s.client, 6);
        ids = (await listAll(s.client)).map((r) => r.id);
        before0 = await snapshot(s.client);
        tg0 = JSON.stringify(await tgJoinRequests(s.tg));
    });
    after(async () => {
        // Whatever was tried, doorman is alive and nothing changed, here or in Telegram.
        try {
            assert.equal((await s.client.get('/api/health')).status, 200);
            assert.deepEqual(await snapshot(s.client), before0, 'doorman state unchanged by bad input');
            assert.equal(JSON.stringify(await tgJoinRequests(s.tg)), tg0, 'nothing decided in Telegram');
        } finally {
            await s?.cleanup();
        }
    });

    const decisionPaths = ['approve', 'deny'].map((a) => `/api/invite-requests/${a}`);
    const allPaths = ['approve-all', 'deny-all'].map((a) => `/api/invite-requests/${a}`);

    test('malformed JSON -> 400 bad_json with line and column', async () => {
        for (const p of [...decisionPaths, ...allPaths, '/api/settings']) {
            for (const body of ['{"request_ids":[1,', '{request_ids:[1]}', '{"a":1}}', 'nul', '{"request_ids":[1]}\u0000']) {
                const r = await s.client.post(p, body);
                assertError(r, 400, 'bad_json', `${p} ${JSON.stringify(body)}`);
                assert.match(r.json.error.message, /line|column|position/i, 'message gives the position');
            }
        }
        const anon = new Client(s.dm);
        assertError(await anon.post('/api/login', '{"name":'), 400, 'bad_json', 'login');
        // Deep nesting and invalid UTF-8 do not crash the parser.
        assertError(await s.client.post(decisionPaths[0], '['.repeat(200000)), 400, 'bad_json', 'deep nesting');
        const badUtf8 = Buffer.concat([Buffer.from('{"request_ids":[1],"x":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
        const r = await s.client.post(decisionPaths[0], new Uint8Array(badUtf8));
        assert.equal(r.status, 400, `invalid UTF-8: ${r.text}`);
    });

    test('wrong types and values -> 400 bad_request naming the field', async () => {
        const cases = [
            [decisionPaths[0], {}, 'request_ids'],
            [decisionPaths[0], { request_ids: String(ids[0]) }, 'request_ids'],
            [decisionPaths[0], { request_ids: [String(ids[0])] }, 'request_ids'],
            [decisionPaths[0], { request_ids: [ids[0] + 0.5] }, 'request_ids'],
            [decisionPaths[0], { request_ids: [true] }, 'request_ids'],
            [decisionPaths[0], { request_ids: [null] }, 'request_ids'],
            [decisionPaths[0], { request_ids: [] }, 'request_ids'],
            [decisionPaths[1], { request_ids: Array.from({ length: 10001 }, (_, i) => i + 1) }, 'request_ids'],
            [decisionPaths[1], [ids[0]], null],
            [decisionPaths[1], JSON.stringify('a JSON string'), null],
            [allPaths[0], { filter: 'everything' }, 'filter'],
            [allPaths[0], { filter: { chat_id: 'abc' } }, 'chat_id'],
            [allPaths[1], { filter: { from: 'last week' } }, 'from'],
            [allPaths[1], { filter: { q: 42 } }, 'q'],
            ['/api/settings', { bot_rate: 'fast' }, 'bot_rate'],
            ['/api/settings', { mode: 3 }, 'mode'],
            ['/api/login', { name: 'admin' }, 'password'],
            ['/api/login', { name: ['admin'], password: 'x'.repeat(12) }, 'name'],
        ];
        const problems = [];
        for (const [p, body, field] of cases) {
            const r = await s.client.post(p, body);
            try {
                assertError(r, 400, 'bad_request', `${p} ${JSON.stringify(body).slice(0, 80)}`);
                if (field) assert.match(r.json.error.message, new RegExp(field), `message names ${field}: ${r.json.error.message}`);
            } catch (e) {
                problems.push(e.message.split('\n')[0]);
            }
        }
        assert.deepEqual(problems, [], 'every case answered 400 bad_request naming the field');
        // The login attempts above are not a session change: still logged in.
        assert.equal((await s.client.get('/api/me')).status, 200);
    });

    test('unknown ids -> 404 naming the first unknown id', async () => {
        for (const p of decisionPaths) {
            const r = await s.client.post(p, { request_ids: [ids[0], 987654321, 987654322] });
            assertError(r, 404, 'not_found', p);
            assert.match(r.json.error.message, /987654321/);
        }
        assertError(await s.client.get('/api/jobs/987654321'), 404, 'not_found', 'GET job');
        assertError(await s.client.post('/api/jobs/987654321/cancel', {}), 404, 'not_found', 'cancel job');
        assertError(await s.client.get('/api/no-such-thing'), 404, 'not_found', 'unknown endpoint');
    });

    test('bodies over 1 MiB -> 413 body_too_large', async () => {
        const big = JSON.stringify({ request_ids: [ids[0]], pad: 'x'.repeat(1024 * 1024 + 10) });
        for (const p of [decisionPaths[0], allPaths[0], '/api/settings']) {
            const r = await s.client.post(p, big);
            assertError(r, 413, 'body_too_large', p);
        }
        const anon = new Client(s.dm);
        assertError(await anon.post('/api/login', big), 413, 'body_too_large', 'login');
        // Just under the limit is not "too large" (the wrong type makes it a 400 that changes nothing).
        const near = JSON.stringify({ request_ids: 'not a list', pad: 'y'.repeat(1024 * 1024 - 50) });
        assert.ok(Buffer.byteLength(near) <= 1024 * 1024);
        const r = await s.client.post(decisionPaths[0], near);
        assertError(r, 400, 'bad_request', `a body of ${Buffer.byteLength(near)} bytes is within 1 MiB`);
    });

    test('missing CSRF -> 403 csrf', async () => {
        for (const p of [...decisionPaths, ...allPaths]) {
            const body = p.endsWith('-all') ? {} : { request_ids: [ids[0]] };
            assertError(await s.client.post(p, body, { csrf: false }), 403, 'csrf', p);
        }
        assertError(await s.client.post('/api/settings', { bot_rate: 1 }, { csrf: false }), 403, 'csrf', 'settings');
    });

    test('wrong content type -> 415 unsupported_media_type', async () => {
        for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', null]) {
            const r = await s.client.post(decisionPaths[0], JSON.stringify({ request_ids: [ids[0]] }), { contentType: ct });
            assertError(r, 415, 'unsupported_media_type', `content type ${ct}`);
        }
        const ok = await s.client.post('/api/settings', JSON.stringify({}), { contentType: 'application/json; charset=utf-8' });
        assert.equal(ok.status, 200, `application/json with a charset is JSON: ${ok.text}`);
    });

    test('no session -> 401 for every state-changing endpoint', async () => {
        const anon = new Client(s.dm);
        for (const p of [...decisionPaths, ...allPaths, '/api/settings', '/api/jobs/1/cancel']) {
            assertError(await anon.post(p, { request_ids: [ids[0]] }), 401, 'unauthorized', p);
        }
    });
});
