// Outgoing webhooks (issue 16 item 4): a receiver in this process checks every delivery's
// signature; events for new requests, decisions and jobs; a failing receiver's deliveries retried
// with backoff and shown in the delivery log; undelivered ones kept across a kill -9; bad URLs
// refused and nothing created; the Settings page's Webhooks card in Chromium. On SQLite, or
// PostgreSQL with DOORMAN_TEST_PG_URL, where two instances on one database also deliver each
// event once, and the second goes on when the first is killed.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import crypto from 'node:crypto';
import { makeTempDir, waitFor } from '../lib/processes.mjs';
import { addRequester, tgInjectFault, startTgsim, setupWorld, tgAddJoinRequests } from '../lib/tgsim.mjs';
import { PG_URL, dbUrlFor, startDoorman } from '../lib/doorman.mjs';
import { Client, waitRecorded, decide, listAll, counts } from '../lib/api.mjs';
import { startStack, adminStack, ADMIN } from '../lib/stacks.mjs';
import { signedInPage } from '../lib/browser.mjs';

// A local receiver: records each POST; answers `failNext` requests with 500 first.
function startReceiver() {
    const rec = { got: [], failNext: 0, failAll: false, secret: null };
    const server = http.createServer((req, res) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            if (rec.failAll || rec.failNext > 0) {
                if (rec.failNext > 0) rec.failNext--;
                res.writeHead(500).end('no');
                return;
            }
            rec.got.push({ headers: req.headers, body, json: JSON.parse(body) });
            res.writeHead(204).end();
        });
    });
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
        rec.url = `http://127.0.0.1:${server.address().port}/hook?token=abc`;
        rec.close = () => new Promise((r) => server.close(r));
        resolve(rec);
    }));
}

// The signature as docs/api.md says to verify it.
function verify(secret, headers, body) {
    const ts = headers['x-doorman-timestamp'];
    const want = 'sha256=' + crypto.createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex');
    const got = headers['x-doorman-signature'] || '';
    return got.length === want.length && crypto.timingSafeEqual(Buffer.from(got), Buffer.from(want));
}

describe('outgoing webhooks', () => {
    let s, rec, hook;
    const ofKind = (k) => rec.got.filter((g) => g.json.kind === k);
    before(async () => {
        rec = await startReceiver();
        s = await startStack({ world: { channels: 1, pending: 0 }, doormanOpts: { env: { DOORMAN_WEBHOOK_RETRY_S: '1' } } });
    });
    after(async () => { await s?.cleanup(); await rec?.close(); });

    test('bad webhooks are refused with clear errors and nothing is created', async () => {
        const cases = [
            [{ url: 'ftp://example.com/x', events: ['request.new'] }, /http:\/\/ or https:\/\//],
            [{ url: 'not a url', events: ['request.new'] }, /spaces|URL/],
            [{ url: 'http://', events: ['request.new'] }, /URL with a host/],
            [{ url: 'https://example.com/' + 'x'.repeat(1100), events: ['request.new'] }, /url/],
            [{ url: rec.url, events: ['request.nope'] }, /events\[0\] is not an event kind/],
            [{ url: rec.url, events: [] }, /non-empty/],
            [{ url: rec.url }, /'events' is required/],
            [{ url: rec.url, events: ['request.new'], colour: 'red' }, /colour/],
            [{ url: 42, events: ['request.new'] }, /url/],
            [{ url: rec.url, events: ['test'] }, /events\[0\] is not an event kind/],
        ];
        for (const [body, msg] of cases) {
            const r = await s.client.post('/api/webhooks', body);
            assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 80)} -> ${r.text}`);
            assert.equal(r.json.error.code, 'bad_request');
            assert.match(r.json.error.message, msg);
        }
        const bad = await s.client.post('/api/alerts', { summary_hour: 24 });
        assert.equal(bad.status, 400, bad.text);
        assert.match(bad.json.error.message, /summary_hour must be/);
        const list = await s.client.get('/api/webhooks');
        assert.equal(list.status, 200);
        assert.deepEqual(list.json.items, []);
        assert.ok(list.json.events.includes('request.decided'));
        assert.ok(!list.json.events.includes('test'), 'a test is not subscribed to');
    });

    test('a webhook gets signed events for new requests, decisions and jobs', async () => {
        const r = await s.client.post('/api/webhooks', {
            url: rec.url, events: ['request.new', 'request.decided', 'job.finished', 'job.failed'],
        });
        assert.equal(r.status, 201, r.text);
        assert.match(r.json.secret, /^[0-9a-f]{64}$/);
        hook = r.json.webhook;
        rec.secret = r.json.secret;
        assert.deepEqual(hook.events, ['request.new', 'request.decided', 'job.finished', 'job.failed']);
        const list = await s.client.get('/api/webhooks');
        assert.equal(list.json.items.length, 1);
        assert.ok(!JSON.stringify(list.json).includes(rec.secret), 'the secret is shown once only');

        const chat = s.world.chatIds[0];
        const users = [];
        for (let i = 0; i < 3; i++) users.push(await addRequester(s.tg, chat, { first_name: `Hooked${i}` }));
        await waitRecorded(s.client, 3);
        await waitFor(() => ofKind('request.new').length >= 3, { what: '3 request.new deliveries' });
        for (const g of rec.got) {
            assert.ok(verify(rec.secret, g.headers, g.body), 'a valid signature');
            assert.ok(!verify('0'.repeat(64), g.headers, g.body), 'not valid with another secret');
            assert.equal(g.headers['x-doorman-event'], g.json.kind);
            assert.equal(g.headers['content-type'], 'application/json');
        }
        const news = ofKind('request.new').map((g) => g.json.request);
        assert.deepEqual(news.map((q) => q.user_id).sort(), users.map((u) => u.user_id).sort());
        assert.ok(news.every((q) => q.chat_id === chat && q.status === 'pending' && /^Hooked/.test(q.first_name)));

        const rows = await listAll(s.client, { status: 'pending' });
        const job = await decide(s.client, 'approve', { request_ids: [rows[0].id] });
        assert.equal(job.state, 'done');
        await waitFor(() => ofKind('request.decided').length === 1 && ofKind('job.finished').length === 1,
            { what: 'the decision and the job delivered' });
        const d = ofKind('request.decided')[0].json;
        assert.equal(d.result, 'approved');
        assert.equal(d.by, ADMIN.name);
        assert.equal(d.via, 'bot');
        assert.equal(d.request.id, rows[0].id);
        assert.equal(d.job_id, job.id);
        const j = ofKind('job.finished')[0].json.job;
        assert.equal(j.id, job.id);
        assert.equal(j.state, 'done');
        assert.equal(j.done, 1);
        const ids = rec.got.map((g) => g.json.id);
        assert.equal(new Set(ids).size, ids.length, 'each event delivered once');
    });

    test('a failing receiver is retried with backoff; the delivery log shows the attempts', async () => {
        const before = rec.got.length;
        rec.failNext = 2;
        const u = await addRequester(s.tg, s.world.chatIds[0], { first_name: 'Retried' });
        await waitFor(() => rec.got.length > before, { timeoutMs: 20000, what: 'the delivery after two failures' });
        assert.equal(rec.got.at(-1).json.request.user_id, u.user_id);
        assert.ok(verify(rec.secret, rec.got.at(-1).headers, rec.got.at(-1).body));
        // the receiver has it; doorman records the answer right after
        const log = await waitFor(async () => {
            const l = await s.client.get(`/api/webhooks/${hook.id}/deliveries?limit=10`);
            assert.equal(l.status, 200, l.text);
            return l.json.items[0].state !== 'pending' ? l : null;
        }, { what: 'the delivery recorded' });
        const last = log.json.items[0];
        assert.equal(last.event, 'request.new');
        assert.equal(last.state, 'delivered');
        assert.equal(last.attempts, 3);
        assert.equal(last.http_status, 204);
        assert.ok(log.json.items.slice(1).every((x) => x.state === 'delivered' && x.attempts === 1));
        const none = await s.client.get('/api/webhooks/999/deliveries');
        assert.equal(none.status, 404);
    });

    test('undelivered events survive a kill -9 and are delivered after the restart', async () => {
        rec.failAll = true;
        const u = await addRequester(s.tg, s.world.chatIds[0], { first_name: 'Survivor' });
        await waitFor(async () => {
            const log = await s.client.get(`/api/webhooks/${hook.id}/deliveries?limit=1`);
            const d = log.json.items[0];
            return d && d.event === 'request.new' && d.state === 'pending' && d.attempts >= 1 ? d : null;
        }, { what: 'a delivery that failed and waits' }).then((d) => {
            assert.match(d.error, /HTTP 500/);
            assert.ok(!d.error.includes('token=abc'), 'the URL is not in the error');
        });
        await s.restart({ kill: true });
        const before = rec.got.length;
        rec.failAll = false;
        await waitFor(() => rec.got.slice(before).some((g) => g.json.request?.user_id === u.user_id),
            { timeoutMs: 30000, what: 'the delivery after the restart' });
        assert.ok(!s.dm.stderr.includes('token=abc'), 'the URL is not logged');
        assert.ok(!s.dm.stderr.includes(rec.secret), 'the secret is not logged');
    });

    test('disabled, changed and removed webhooks; the alert settings', async () => {
        const before = rec.got.length;
        const t = await s.client.post(`/api/webhooks/${hook.id}/test`, {});
        assert.equal(t.status, 202, t.text);
        const got = await waitFor(() => rec.got.slice(before).find((g) => g.json.kind === 'test'), { what: 'the test delivery' });
        assert.equal(got.json.id, 0);
        assert.match(got.json.message, new RegExp(ADMIN.name));
        assert.ok(verify(rec.secret, got.headers, got.body));
        const off = await s.client.post(`/api/webhooks/${hook.id}/update`, { enabled: false });
        assert.equal(off.status, 200, off.text);
        assert.equal(off.json.webhook.enabled, false);
        assert.equal(off.json.secret, undefined);
        const offTest = await s.client.post(`/api/webhooks/${hook.id}/test`, {});
        assert.equal(offTest.status, 409, offTest.text);
        assert.match(offTest.json.error.message, /turned off/);
        const rot = await s.client.post(`/api/webhooks/${hook.id}/update`, { new_secret: true, events: ['job.failed'] });
        assert.match(rot.json.secret, /^[0-9a-f]{64}$/);
        assert.notEqual(rot.json.secret, rec.secret);
        assert.deepEqual(rot.json.webhook.events, ['job.failed']);
        const a = await s.client.post('/api/alerts', { backlog_threshold: 100, flood_wait_minutes: 3, summary_hour: 7 });
        assert.equal(a.status, 200, a.text);
        assert.deepEqual((await s.client.get('/api/alerts')).json,
            { backlog_threshold: 100, flood_wait_minutes: 3, summary_hour: 7 });
        const del = await s.client.post(`/api/webhooks/${hook.id}/delete`, {});
        assert.equal(del.status, 200, del.text);
        assert.equal((await s.client.post(`/api/webhooks/${hook.id}/delete`, {})).status, 404);
        assert.deepEqual((await s.client.get('/api/webhooks')).json.items, []);
    });

    test('alert events: the backlog over its threshold once per crossing, a wave the rules caught, the daily summary', async () => {
        const chat = s.world.chatIds[0];
        const r = await s.client.post('/api/webhooks', { url: rec.url, events: ['backlog.over', 'wave.caught', 'summary.daily'] });
        assert.equal(r.status, 201, r.text);
        const secret = r.json.secret;
        const pending = (await counts(s.client)).pending;
        const hour = new Date().getUTCHours();
        const a = await s.client.post('/api/alerts', { backlog_threshold: pending + 1, summary_hour: hour });
        assert.equal(a.status, 200, a.text);
        // the summary of the 24 hours before this hour (UTC) is due at once
        const sum = (await waitFor(() => ofKind('summary.daily')[0], { what: 'the daily summary' })).json;
        assert.equal(sum.to - sum.from, 86400);
        assert.equal(sum.to % 3600, 0);
        assert.equal(new Date(sum.to * 1000).getUTCHours(), hour);
        for (const k of ['recorded', 'approved', 'declined', 'pending']) assert.equal(typeof sum[k], 'number', k);

        for (let i = 0; i < 2; i++) await addRequester(s.tg, chat, { first_name: `Backlog${i}` });
        const over = (await waitFor(() => ofKind('backlog.over')[0], { what: 'backlog.over' })).json;
        assert.equal(over.threshold, pending + 1);
        assert.equal(over.pending, pending + 2);

        // a wave: more than 2 requests in the channel in 10 minutes, held by the rules
        const ok = async (p, body) => { const x = await s.client.post(p, body); assert.equal(x.status, 200, `${p}: ${x.text}`); };
        await ok('/api/rules', { chat_id: chat, name: 'hold waves', conditions: [{ type: 'wave', count: 2, minutes: 10, per: 'channel' }], action: 'hold' });
        await ok('/api/modes', { chat_id: chat, mode: 'rules' });
        for (let i = 0; i < 4; i++) await addRequester(s.tg, chat, { first_name: `Wave${i}` });
        const wave = (await waitFor(() => ofKind('wave.caught')[0], { what: 'wave.caught' })).json;
        assert.equal(wave.chat_id, chat);
        assert.equal(wave.rule, 'hold waves');
        assert.equal(wave.action, 'hold');
        assert.ok(wave.requests > 2, `requests in the wave: ${wave.requests}`);
        // every request of the wave was judged by the rule: still one wave alert, one backlog alert
        await waitFor(async () => (await listAll(s.client, { status: 'pending' })).filter((q) => /^Wave/.test(q.first_name) && q.verdict).length === 4,
            { what: 'the wave judged' });
        await waitFor(async () => (await s.client.get('/api/webhooks')).json.items.every((w) => w.pending === 0), { what: 'nothing waiting' });
        assert.equal(ofKind('wave.caught').length, 1);
        assert.equal(ofKind('backlog.over').length, 1);
        for (const g of [...ofKind('backlog.over'), ...ofKind('wave.caught'), ...ofKind('summary.daily')])
            assert.ok(verify(secret, g.headers, g.body));
        await ok('/api/modes', { chat_id: chat, mode: 'manual' });
        const del = await s.client.post(`/api/webhooks/${r.json.webhook.id}/delete`, {});
        assert.equal(del.status, 200, del.text);
    });

    test('a flood wait over M minutes is told, with the job it holds; a cancelled job too', async () => {
        const r = await s.client.post('/api/webhooks', { url: rec.url, events: ['flood_wait', 'job.finished'] });
        assert.equal(r.status, 201, r.text);
        const a = await s.client.post('/api/alerts', { flood_wait_minutes: 1 });
        assert.equal(a.status, 200, a.text);
        await tgInjectFault(s.tg, { method: 'approveChatJoinRequest', count: 1, error_code: 429, description: 'Too Many Requests: retry after 90', retry_after: 90 });
        const [one] = await listAll(s.client, { status: 'pending' });
        const started = await s.client.post('/api/invite-requests/approve', { request_ids: [one.id] });
        assert.equal(started.status, 202, started.text);
        const job = started.json.job;
        const flood = (await waitFor(() => ofKind('flood_wait')[0], { what: 'flood_wait' })).json;
        assert.equal(flood.seconds, 90);
        assert.equal(flood.account, 'bot');
        assert.equal(flood.job_id, job.id);
        assert.ok(verify(r.json.secret, ofKind('flood_wait')[0].headers, ofKind('flood_wait')[0].body));
        const c = await s.client.post(`/api/jobs/${job.id}/cancel`, {});
        assert.equal(c.status, 200, c.text);
        const fin = (await waitFor(() => ofKind('job.finished').find((g) => g.json.job.id === job.id), { what: 'the cancelled job told' })).json;
        assert.equal(fin.job.state, 'cancelled');
        assert.equal((await s.client.post(`/api/webhooks/${r.json.webhook.id}/delete`, {})).status, 200);
    });

    // A Telegram chat as the destination ("tg:<chat_id>"): the bot sends each event as plain text
    // (names from Telegram stay text), with the same retries and delivery log as a URL.
    test('alerts to a Telegram chat through the bot: tg:<chat_id>', async () => {
        const chat = s.world.chatIds[0];
        const bad = await s.client.post('/api/webhooks', { url: 'tg:abc', events: ['request.new'] });
        assert.equal(bad.status, 400, bad.text);
        assert.match(bad.json.error.message, /a Telegram chat is tg: and its id, like tg:-1001234567890/);
        const r = await s.client.post('/api/webhooks', { url: `tg:${chat}`, events: ['request.new'] });
        assert.equal(r.status, 201, r.text);
        const id = r.json.webhook.id;
        const sent = async () => (await s.tg.control('GET', `/control/bots/${s.world.botId}/messages`)).items
            .filter((m) => m.chat_id === chat && /doorman: request\.new/.test(m.text || m.params?.text || ''));
        await addRequester(s.tg, chat, { first_name: '<b>Chatty</b>' });
        let msgs;
        await waitFor(async () => (msgs = await sent()).some((m) => (m.text || m.params?.text).includes('<b>Chatty</b>')),
            { timeoutMs: 15000, what: 'the alert in the Telegram chat' });
        const m = msgs.find((x) => (x.text || x.params?.text).includes('<b>Chatty</b>'));
        assert.equal(m.params?.parse_mode, undefined, 'plain text: no parse mode');
        const log = await s.client.get(`/api/webhooks/${id}/deliveries`);
        assert.ok(log.json.items.some((d) => d.state === 'delivered'), JSON.stringify(log.json.items.slice(0, 3)));
        assert.equal((await s.client.post(`/api/webhooks/${id}/delete`, {})).status, 200);
    });

    test('the panel adds a webhook, shows its secret once and its delivery log', async () => {
        const { browser, page, seen } = await signedInPage(s.dm.url, ADMIN);
        try {
            await page.goto(`${s.dm.url}/#/settings`);
            const card = page.locator('.webhooks-card');
            await card.locator('input[name="webhook_target"]').fill('ftp://nowhere');
            await card.locator('button[type="submit"]').click();
            await card.locator('.form-error', { hasText: 'http:// or https://' }).waitFor();
            await card.locator('input[name="webhook_target"]').fill(rec.url);
            await card.locator('button[type="submit"]').click();
            const secret = (await card.locator('.secret-value').textContent()).trim();
            assert.match(secret, /^[0-9a-f]{64}$/);
            await card.locator('.webhooks-table tbody tr', { hasText: '/hook' }).waitFor();
            const before = rec.got.length;
            await addRequester(s.tg, s.world.chatIds[0], { first_name: 'Paneled' });
            await waitFor(() => rec.got.length > before, { what: 'a delivery to the webhook made in the panel' });
            assert.ok(verify(secret, rec.got.at(-1).headers, rec.got.at(-1).body), 'signed with the secret shown');
            await card.locator('button', { hasText: 'Deliveries' }).click();
            await card.locator('.deliveries-table tbody tr', { hasText: 'request.new' }).first().waitFor();
            await card.locator('.webhooks-table tbody tr', { hasText: '/hook' }).locator('button', { hasText: 'Send test' }).click();
            await waitFor(() => rec.got.some((g) => g.json.kind === 'test' && verify(secret, g.headers, g.body)), { what: 'the panel\'s test delivery' });
            // on a phone nothing is wider than the screen, the log and a long URL included
            await page.setViewportSize({ width: 390, height: 844 });
            assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'no sideways scrolling at 390 px');
            await page.setViewportSize({ width: 1280, height: 900 });
            await page.locator('.alerts-card input[name="backlog_threshold"]').fill('250');
            await page.locator('.alerts-card button[type="submit"]').click();
            await page.locator('.alerts-card .form-ok').waitFor();
            assert.equal((await s.client.get('/api/alerts')).json.backlog_threshold, 250);
            assert.deepEqual(seen.pageErrors, []);
            assert.deepEqual(seen.cspViolations, []);
        } finally {
            await browser.close();
        }
    });
});

describe('two instances on one PostgreSQL database deliver each event once', { skip: PG_URL ? false : 'needs DOORMAN_TEST_PG_URL (PostgreSQL)' }, () => {
    let s, b, rec;
    const env = { DOORMAN_SECRET_KEY: crypto.randomBytes(32).toString('hex'), DOORMAN_WEBHOOK_RETRY_S: '1' };
    before(async () => {
        rec = await startReceiver();
        const tg = await startTgsim();
        const w = await setupWorld(tg, { channels: 1 });
        const dirA = makeTempDir('doorman-a-');
        const db = dbUrlFor(dirA);
        s = await adminStack({
            tg, world: w, dataDir: dirA, configureBot: true,
            startDoorman: () => startDoorman({ tgsim: tg, dataDir: dirA, env }),
        });
        const r = await s.client.post('/api/webhooks', { url: rec.url, events: ['request.new'] });
        assert.equal(r.status, 201, r.text);
        rec.secret = r.json.secret;
        b = await startDoorman({ tgsim: tg, dataDir: makeTempDir('doorman-b-'), dbUrl: db, env });
    });
    after(async () => {
        const errs = [];
        for (const stop of [() => b?.stop(), () => s?.dm.kill(), () => s?.tg.stop(), () => rec?.close()]) {
            try { await stop(); } catch (e) { errs.push(e); }
        }
        if (errs.length) throw errs[0];
    });

    test('each event once from either; the other delivers after a kill -9', { timeout: 120000 }, async () => {
        const chat = s.world.chatIds[0];
        await tgAddJoinRequests(s.tg, { chat_id: chat, count: 30, first_name: 'Twice' });
        await waitFor(() => rec.got.length >= 30, { timeoutMs: 30000, what: '30 deliveries' });
        // recorded as delivered (a kill between an answer and its record would send it again)
        await waitFor(async () => (await s.client.get('/api/webhooks')).json.items[0].pending === 0, { what: 'all 30 recorded' });
        await s.dm.kill();
        await tgAddJoinRequests(s.tg, { chat_id: chat, count: 10, first_name: 'After' });
        const cb = new Client(b);
        await cb.login(ADMIN.name, ADMIN.password);
        await waitFor(() => rec.got.length >= 40, { timeoutMs: 60000, what: '10 more deliveries from the other instance' });
        await waitFor(async () => (await cb.get('/api/webhooks')).json.items[0].pending === 0, { what: 'nothing waiting' });
        const ids = rec.got.map((g) => g.json.id);
        assert.equal(ids.length, 40, `deliveries: ${ids.length}`);
        assert.equal(new Set(ids).size, 40, 'no event delivered twice');
        assert.equal(new Set(rec.got.map((g) => g.json.request.user_id)).size, 40);
        assert.ok(rec.got.every((g) => verify(rec.secret, g.headers, g.body)));
    });
});
