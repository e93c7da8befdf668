// Slow Telegram does not freeze the panel (issue 10, item 3).
// - With Telegram (tgsim's Bot API) answering every call after a latency, and more slow calls in
//   flight (preflights: getMe, then calls per channel) than doorman has HTTP pool threads (4),
//   /api/health, a login and the Invite Requests list are answered before any slow call returns,
//   and the slow calls then complete correctly.
// - A preflight that runs past its total deadline (DOORMAN_PREFLIGHT_DEADLINE_S) answers with what
//   it checked and names each channel it did not check (checked:false, a reason that says why).
// - Past the slow-call capacity (DOORMAN_HTTP_WORKERS running + DOORMAN_HTTP_WORK_QUEUE waiting)
//   the answer is 503 busy; stopping doorman while slow calls run answers the waiting one 503 and
//   lets the running one finish.
import { describe, test, beforeEach, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTgsim, setupWorld } from '../lib/tgsim.mjs';
import { startDoorman, createAdmin } from '../lib/doorman.mjs';
import { Client, waitRecorded } from '../lib/api.mjs';
import { makeTempDir, waitFor } from '../lib/processes.mjs';
import { ADMIN } from '../lib/stacks.mjs';

const POOL_THREADS = 4; // doorman's HTTP pool (core/config.c http_threads)
const CHANNELS = 3;
const LATENCY_MS = 2000; // per Bot API call: a preflight makes getMe, then at least one per channel
const SLOW = POOL_THREADS + 2;

async function setLatency(tg, ms) {
    const r = await tg.control('POST', '/control/config', { latency_ms: ms });
    assert.equal(r.latency_ms, ms, JSON.stringify(r));
}

async function calls(tg, method) {
    return (await tg.control('GET', '/control/stats')).calls[method] ?? 0;
}

// A doorman with an admin logged in and the bot configured, on tgsim tg with world w.
async function doorman(tg, w, env = {}) {
    const dataDir = makeTempDir('doorman-data-');
    const r = createAdmin(dataDir, ADMIN.name, ADMIN.password);
    assert.equal(r.status, 0, r.stderr);
    const dm = await startDoorman({ tgsim: tg, dataDir, env });
    const client = new Client(dm);
    await client.login(ADMIN.name, ADMIN.password);
    const s = await client.post('/api/settings', { bot_token: w.token });
    assert.equal(s.status, 200, s.text);
    return { dm, client };
}

// Starts fn() and records when it settled (performance.now()).
function timed(fn) {
    const t = { done: null };
    t.promise = fn().then((r) => { t.done = performance.now(); return r; });
    return t;
}

describe('slow Telegram', () => {
    let tg, w;
    const stop = [];
    // each test its own tgsim and world: a doorman takes the updates it reads
    beforeEach(async () => {
        tg = await startTgsim();
        stop.push(tg);
        w = await setupWorld(tg, { channels: CHANNELS, pending: 2 * CHANNELS });
    });
    after(async () => {
        for (const p of stop.reverse()) await p.stop();
    });

    test('health, login and the list are answered while more slow calls than pool threads wait on Telegram', async () => {
        const { dm, client } = await doorman(tg, w);
        stop.push(dm);
        await waitRecorded(client, 2 * CHANNELS);
        await setLatency(tg, LATENCY_MS);
        try {
            const getMe0 = await calls(tg, 'getMe');
            const slow = [];
            for (let i = 0; i < SLOW; i++)
                slow.push(timed(() => client.post('/api/invite-requests/preflight', { session_name: null, filter: {} })));
            // Every slow call has made its first Telegram call (getMe): all are in doorman at once,
            // each with at least one more call per channel, of LATENCY_MS each, to go ...
            await waitFor(async () => (await calls(tg, 'getMe')) - getMe0 >= SLOW,
                { timeoutMs: 20000, what: 'the slow calls to reach Telegram' });
            assert.ok(slow.every((t) => t.done === null), 'no slow call has returned yet');
            // ... and now the quick ones, one after another
            const fast = [];
            const t0 = performance.now();
            const health = await client.get('/api/health');
            fast.push(['GET /api/health', performance.now()]);
            assert.equal(health.status, 200, health.text);
            const other = new Client(dm, { from: '127.0.0.3' });
            await other.login(ADMIN.name, ADMIN.password);
            fast.push(['POST /api/login', performance.now()]);
            const list = await other.get('/api/invite-requests?status=pending');
            fast.push(['GET /api/invite-requests', performance.now()]);
            assert.equal(list.status, 200, list.text);
            assert.equal(list.json.items.length, 2 * CHANNELS);

            const answers = await Promise.all(slow.map((t) => t.promise));
            const firstSlow = Math.min(...slow.map((t) => t.done));
            console.log(`quick answers after ${fast.map(([what, at]) => `${what} ${Math.round(at - t0)} ms`).join(', ')}; ` +
                `the first of ${slow.length} slow calls returned after ${Math.round(firstSlow - t0)} ms`);
            for (const [what, at] of fast)
                assert.ok(at < firstSlow, `${what} was answered before any slow call returned`);
            for (const r of answers) {
                assert.equal(r.status, 200, r.text);
                assert.equal(r.json.deadline_exceeded, false, r.text);
                assert.equal(r.json.channels.length, CHANNELS, r.text);
                for (const c of r.json.channels) assert.ok(c.checked && c.can_decide, JSON.stringify(c));
            }
        } finally {
            await setLatency(tg, 0);
        }
    });

    test('a preflight past its deadline names the channels it did not check', async () => {
        const { dm, client } = await doorman(tg, w, { DOORMAN_PREFLIGHT_DEADLINE_S: '2' });
        stop.push(dm);
        await waitRecorded(client, 2 * CHANNELS);
        await setLatency(tg, 1000); // getMe 1 s, the first channel 2 s more: the rest are late
        let r;
        try {
            r = await client.post('/api/invite-requests/preflight', { session_name: null, filter: {} });
        } finally {
            await setLatency(tg, 0);
        }
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.deadline_exceeded, true, r.text);
        assert.equal(r.json.channels.length, CHANNELS, r.text);
        const late = r.json.channels.filter((c) => !c.checked);
        assert.ok(late.length >= 1, `some channels were not checked: ${r.text}`);
        for (const c of late) {
            assert.equal(c.can_decide, false);
            assert.match(c.title, /^Channel \d$/, 'a channel not checked is named');
            assert.match(c.reason, /Not checked: Telegram answered too slowly, and the check stops after 2 s/);
        }
        for (const c of r.json.channels.filter((x) => x.checked)) assert.equal(c.can_decide, true, JSON.stringify(c));
        // with Telegram quick again, the same preflight checks every channel
        const again = await client.post('/api/invite-requests/preflight', { session_name: null, filter: {} });
        assert.equal(again.json.deadline_exceeded, false, again.text);
        assert.ok(again.json.channels.every((c) => c.checked && c.can_decide), again.text);
    });

    test('past the slow-call capacity: 503 busy; a stop answers what waits and lets what runs finish', async () => {
        const { dm, client } = await doorman(tg, w, { DOORMAN_HTTP_WORKERS: '1', DOORMAN_HTTP_WORK_QUEUE: '1' });
        await waitRecorded(client, 2 * CHANNELS);
        await setLatency(tg, LATENCY_MS);
        try {
            const getMe0 = await calls(tg, 'getMe');
            const preflight = () => client.post('/api/invite-requests/preflight', { session_name: null, filter: {} });
            const running = preflight();
            await waitFor(async () => (await calls(tg, 'getMe')) > getMe0, { what: 'the first preflight to run' });
            // two more: one waits for the worker, the other is past the capacity (which is which
            // depends on which arrives first)
            const more = [timed(preflight), timed(preflight)];
            await waitFor(() => more.some((t) => t.done !== null), { what: 'one of them to be refused' });
            const refusedAt = more.findIndex((t) => t.done !== null);
            const refused = await more[refusedAt].promise;
            const waiting = more[1 - refusedAt].promise;
            assert.equal(refused.status, 503, refused.text);
            assert.equal(refused.json.error.code, 'busy', refused.text);
            assert.match(refused.json.error.message, /Too many slow requests/);
            assert.equal(refused.headers.get('retry-after'), '5');
            // the quick routes are not affected
            assert.equal((await client.get('/api/health')).status, 200);
            const stopped = dm.stop();
            const [ran, queued] = await Promise.all([running, waiting]);
            await stopped;
            assert.equal(queued.status, 503, queued.text);
            assert.match(queued.json.error.message, /shutting down/);
            assert.equal(ran.status, 200, `the running preflight finished: ${ran.text}`);
            assert.ok(ran.json.channels.every((c) => c.checked), ran.text);
        } finally {
            await setLatency(tg, 0);
        }
    });
});
