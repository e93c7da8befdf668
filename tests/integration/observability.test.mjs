// Health, readiness, metrics and logs (issue 16, item 5): /healthz answers while doorman serves;
// /readyz turns 503 naming what is not ready when the Bot API fails or tgsim stops (and 200 again
// when it answers) and, on PostgreSQL, when the database refuses connections; /metrics is read by
// Prometheus' own parser (Debian python3-prometheus-client) and agrees with known counts after an
// Approve All; it needs the metrics token or an allowed address. With DOORMAN_LOG_FORMAT=json
// every line of standard error is a JSON object, and GET /api/logs lists the warnings.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runPython, waitFor } from '../lib/processes.mjs';
import { tgInjectFault } from '../lib/tgsim.mjs';
import { PG_URL, psql, dbUrlFor } from '../lib/doorman.mjs';
import { Client, httpFetch, waitRecorded, decide } from '../lib/api.mjs';
import { startStack } from '../lib/stacks.mjs';

const PENDING = 12; // over 2 channels
const TOKEN = 'metrics-token-0123456789abcdef';

// GET /metrics parsed by prometheus_client: {name: [{labels, value}]} of every sample.
const PARSER = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        out.setdefault(s.name, []).append({"labels": s.labels, "value": s.value})
print(json.dumps(out))
`;

async function parseMetrics(text) {
    return JSON.parse(await runPython(PARSER, [], { input: text }));
}

// The value of the sample `name` whose labels include `labels` (0 when there is none).
function sample(m, name, labels = {}) {
    const s = (m[name] || []).find((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v));
    return s ? s.value : 0;
}

async function readyz(dm, headers = {}) {
    const r = await httpFetch(dm.url + '/readyz', { headers });
    return { status: r.status, json: await r.json() };
}

describe('observability', () => {
    let s;
    before(async () => {
        s = await startStack({ world: { channels: 2, pending: PENDING }, doormanOpts: { env: { DOORMAN_LOG_FORMAT: 'json' } } });
        await waitRecorded(s.client, PENDING);
    });
    after(async () => { await s?.cleanup(); });

    test('/healthz answers 200 with any Host, no login, nothing else', async () => {
        for (const host of [undefined, 'probe.internal:9', 'localhost']) {
            const r = await httpFetch(s.dm.url + '/healthz', { headers: host ? { host } : {} });
            assert.equal(r.status, 200, `Host ${host}`);
            assert.deepEqual(await r.json(), { status: 'ok' });
            assert.equal(r.headers.get('cache-control'), 'no-store');
        }
        const post = await httpFetch(s.dm.url + '/healthz', { method: 'POST', body: '' });
        assert.equal(post.status, 405);
    });

    test('/readyz: 200 with every check fine, from any Host', async () => {
        const r = await waitFor(async () => {
            const x = await readyz(s.dm, { host: 'probe.internal' });
            return x.status === 200 ? x : null;
        }, { what: '/readyz 200', timeoutMs: 20000 });
        assert.equal(r.json.ready, true);
        assert.deepEqual(r.json.not_ready, []);
        for (const k of ['database', 'telegram', 'poller']) assert.equal(r.json.checks[k].ok, true, k);
    });

    test('/readyz: 503 naming telegram while the Bot API fails, 200 once it answers', async () => {
        await tgInjectFault(s.tg, { method: 'getUpdates', count: 2, error_code: 502, description: 'Bad Gateway' });
        const bad = await waitFor(async () => {
            const x = await readyz(s.dm);
            return x.status === 503 ? x : null;
        }, { what: '/readyz 503', timeoutMs: 20000, intervalMs: 20 });
        assert.deepEqual(bad.json.not_ready, ['telegram']);
        assert.equal(bad.json.error.code, 'not_ready');
        assert.match(bad.json.error.message, /telegram/);
        assert.equal(bad.json.checks.database.ok, true);
        // the faults run out: the next getUpdates answers (backoff 1+2 s)
        await waitFor(async () => (await readyz(s.dm)).status === 200, { what: '/readyz 200 again', timeoutMs: 40000, intervalMs: 200 });
    });

    test('/metrics: refused without the token from another address; 401 with a wrong token', async () => {
        const other = new Client(s.dm, { from: '127.0.0.7' });
        const r = await other.get('/metrics');
        assert.equal(r.status, 403, r.text);
        assert.equal(r.json.error.code, 'forbidden');
        const wrong = await other.get('/metrics', { headers: { authorization: 'Bearer nope-nope-nope-nope' } });
        assert.equal(wrong.status, 401, wrong.text);
        assert.match(wrong.json.error.message, /No metrics token is set/);

        const short = await s.client.post('/api/settings', { metrics_token: 'short' });
        assert.equal(short.status, 400, short.text);
        const set = await s.client.post('/api/settings', { metrics_token: TOKEN });
        assert.equal(set.status, 200, set.text);
        assert.equal(set.json.metrics_token_set, true);
        assert.ok(!set.text.includes(TOKEN), 'the token is never sent back');
        const still = await other.get('/metrics', { headers: { authorization: 'Bearer ' + TOKEN + 'x' } });
        assert.equal(still.status, 401, still.text);
        assert.match(still.json.error.message, /Wrong metrics token/);
        const ok = await other.get('/metrics', { headers: { authorization: 'Bearer ' + TOKEN } });
        assert.equal(ok.status, 200, ok.text);
        assert.match(ok.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
        // another host name is refused as for the panel (421), the token or not
        const foreign = await httpFetch(s.dm.url + '/metrics', { headers: { host: 'evil.example' } });
        assert.equal(foreign.status, 421);
    });

    test('/metrics after an Approve All: decisions, requests per channel, jobs, flood pauses, HTTP', async () => {
        const before = await parseMetrics((await s.client.get('/metrics')).text);
        assert.equal(sample(before, 'doorman_ratelimit_pauses_total'), 0);
        // one flood wait on the way: one pause, every request still approved once
        await tgInjectFault(s.tg, { method: 'approveChatJoinRequest', count: 1, error_code: 429, description: 'Too Many Requests: retry after 1', retry_after: 1 });
        const job = await decide(s.client, 'approve-all', {});
        assert.equal(job.state, 'done');
        assert.equal(job.done, PENDING);
        const r = await s.client.get('/metrics'); // from 127.0.0.1: allowed by default
        assert.equal(r.status, 200, r.text);
        const m = await parseMetrics(r.text);
        const done = { account: 'bot', action: 'approve', result: 'done' };
        assert.equal(sample(m, 'doorman_decisions_total', done) - sample(before, 'doorman_decisions_total', done), PENDING);
        assert.equal(sample(m, 'doorman_decisions_total', { result: 'failed' }), 0);
        for (const chat of s.world.chatIds) {
            assert.equal(sample(m, 'doorman_join_requests', { chat_id: String(chat), status: 'approved' }), PENDING / 2, `chat ${chat}`);
            assert.equal(sample(m, 'doorman_join_requests', { chat_id: String(chat), status: 'pending' }), 0);
        }
        assert.equal(sample(m, 'doorman_jobs', { state: 'queued' }), 0);
        assert.equal(sample(m, 'doorman_jobs', { state: 'running' }), 0);
        assert.equal(sample(m, 'doorman_database_up'), 1);
        assert.equal(sample(m, 'doorman_ratelimit_pauses_total'), 1);
        assert.equal(sample(m, 'doorman_store_errors_total', { kind: 'database' }), 0);
        // the answers counted so far include the 403 and the 401s of the test before
        assert.ok(sample(m, 'doorman_http_responses_total', { code: '2xx' }) > 10);
        assert.ok(sample(m, 'doorman_http_responses_total', { code: '4xx' }) >= 3);
        const count = sample(m, 'doorman_http_response_seconds_count');
        assert.equal(sample(m, 'doorman_http_response_seconds_bucket', { le: '+Inf' }), count);
        assert.ok(count >= sample(m, 'doorman_http_responses_total', { code: '2xx' }));
    });

    test('GET /api/logs: the warnings, newest first, for logged-in admins only', async () => {
        // the Bot API fault and the foreign Host of the tests before were logged as warnings
        const r = await s.client.get('/api/logs');
        assert.equal(r.status, 200, r.text);
        const items = r.json.items;
        assert.ok(items.length >= 2, r.text);
        for (const e of items) {
            assert.ok(['warn', 'error'].includes(e.level), JSON.stringify(e));
            assert.equal(typeof e.component, 'string');
            assert.equal(typeof e.at, 'number');
        }
        const fault = items.findIndex((e) => e.component === 'bot' && /Bad Gateway/.test(e.message));
        const host = items.findIndex((e) => e.component === 'http' && /evil\.example/.test(e.message));
        assert.ok(fault >= 0 && host >= 0, r.text);
        assert.ok(host < fault, 'newest first');
        assert.ok(!r.text.includes(s.world.token), 'no bot token');
        const anon = await new Client(s.dm).get('/api/logs');
        assert.equal(anon.status, 401);
    });

    test('DOORMAN_LOG_FORMAT=json: every line of standard error is one JSON object', () => {
        const lines = s.dm.stderr.split('\n').filter((l) => l !== '');
        assert.ok(lines.length > 3, s.dm.stderr);
        for (const l of lines) {
            const o = JSON.parse(l);
            assert.deepEqual(Object.keys(o), ['ts', 'level', 'component', 'msg'], l);
            assert.match(o.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
            assert.ok(['debug', 'info', 'warn', 'error'].includes(o.level), l);
        }
        assert.ok(lines.some((l) => /"msg":"listening on http:/.test(l)));
        assert.ok(!s.dm.stderr.includes(s.world.token), 'no bot token');
    });

    test('/readyz: 503 naming telegram once tgsim stops', async () => {
        await s.tg.stop();
        const bad = await waitFor(async () => {
            const x = await readyz(s.dm);
            return x.status === 503 ? x : null;
        }, { what: '/readyz 503 without tgsim', timeoutMs: 20000, intervalMs: 100 });
        assert.ok(bad.json.not_ready.includes('telegram'), JSON.stringify(bad.json));
        assert.equal(bad.json.checks.database.ok, true);
        // alive all the same
        assert.equal((await httpFetch(s.dm.url + '/healthz')).status, 200);
    });
});

describe('observability on PostgreSQL', { skip: PG_URL ? false : 'needs DOORMAN_TEST_PG_URL (PostgreSQL)' }, () => {
    let s, dbName;
    before(async () => {
        s = await startStack({ world: { channels: 1, pending: 2 } });
        await waitRecorded(s.client, 2);
        dbName = new URL(dbUrlFor(s.dm.dataDir)).pathname.slice(1);
    });
    after(async () => {
        if (dbName) psql(PG_URL, `ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`);
        await s?.cleanup();
    });

    test('/readyz: 503 naming the database while it refuses connections, 200 after', async () => {
        await waitFor(async () => (await readyz(s.dm)).status === 200, { what: '/readyz 200', timeoutMs: 20000 });
        psql(PG_URL, `ALTER DATABASE ${dbName} ALLOW_CONNECTIONS false`);
        psql(PG_URL, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${dbName}'`);
        const bad = await waitFor(async () => {
            const x = await readyz(s.dm);
            return x.status === 503 && x.json.not_ready.includes('database') ? x : null;
        }, { what: '/readyz 503 naming the database', timeoutMs: 20000, intervalMs: 100 });
        assert.equal(bad.json.checks.database.ok, false);
        const m = await parseMetrics((await s.client.get('/metrics')).text);
        assert.equal(sample(m, 'doorman_database_up'), 0);
        assert.ok(sample(m, 'doorman_store_errors_total', { kind: 'unavailable' }) > 0);
        psql(PG_URL, `ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`);
        await waitFor(async () => (await readyz(s.dm)).status === 200, { what: '/readyz 200 again', timeoutMs: 40000, intervalMs: 200 });
    });
});
