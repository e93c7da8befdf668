// Jobs against Telegram's failures: 5xx retried, a permanent 400 recorded per request, 429
// retry_after honoured (issue 2, item 6).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../lib/processes.mjs';
import { tgRequestMap, tgInjectFault } from '../lib/tgsim.mjs';
import { listAll, waitRecorded, decide, waitJob } from '../lib/api.mjs';
import { startStack } from '../lib/stacks.mjs';

const key = (r) => `${r.chat_id}/${r.user_id}`;

describe('jobs and Telegram faults', () => {
    let s;
    before(async () => {
        s = await startStack({ world: { channels: 1, pending: 16 } });
        await waitRecorded(s.client, 16);
    });
    after(async () => { await s?.cleanup(); });

    async function takePending(n) {
        return (await listAll(s.client, { status: 'pending' })).slice(0, n);
    }

    test('500 Internal Server Error is retried, then the request is decided once', async () => {
        const rows = await takePending(2);
        await tgInjectFault(s.tg, { method: 'approveChatJoinRequest', count: 2, error_code: 500, description: 'Internal Server Error' });
        const job = await decide(s.client, 'approve', { request_ids: rows.map((r) => r.id) }, { timeoutMs: 60000 });
        assert.equal(job.state, 'done');
        assert.deepEqual([job.done, job.skipped, job.failed], [2, 0, 0]);
        const tg = await tgRequestMap(s.tg);
        for (const r of rows) {
            assert.equal(tg.get(key(r)).status, 'approved');
            assert.equal(tg.get(key(r)).decisions, 1);
        }
    });

    test('a permanent 400 fails that item only, with the error in GET /api/jobs/{id} and on the request', async () => {
        const rows = await takePending(3);
        await tgInjectFault(s.tg, { method: 'declineChatJoinRequest', count: 1, error_code: 400, description: 'Bad Request: USER_CHANNELS_TOO_MUCH' });
        const r = await s.client.post('/api/invite-requests/deny', { request_ids: rows.map((x) => x.id) });
        assert.equal(r.status, 202, r.text);
        const fin = await waitJob(s.client, r.json.job.id, { timeoutMs: 60000 });
        const job = fin.job;
        assert.equal(job.state, 'done', 'a job with failed items still finishes');
        assert.deepEqual([job.total, job.done, job.skipped, job.failed], [3, 2, 0, 1]);
        assert.equal(fin.errors.length, 1);
        const e = fin.errors[0];
        assert.match(e.error, /USER_CHANNELS_TOO_MUCH/);
        const failedRow = rows.find((x) => x.id === e.request_id);
        assert.ok(failedRow, `errors name one of the job's requests: ${JSON.stringify(e)}`);
        assert.equal(e.user_id, failedRow.user_id);
        const tg = await tgRequestMap(s.tg);
        assert.equal(tg.get(key(failedRow)).status, 'pending', 'the failed one is still pending in Telegram');
        assert.equal(tg.get(key(failedRow)).decisions, 0);
        for (const x of rows.filter((y) => y !== failedRow)) {
            assert.equal(tg.get(key(x)).status, 'declined');
            assert.equal(tg.get(key(x)).decisions, 1);
        }
        const now = (await listAll(s.client)).find((x) => x.id === failedRow.id);
        assert.equal(now.status, 'pending');
        assert.match(now.last_error, /USER_CHANNELS_TOO_MUCH/, 'the request shows its error');
        const audit = (await s.client.ok('/api/audit?limit=500')).items;
        const ae = audit.find((a) => a.request_id === failedRow.id && a.job_id === job.id);
        assert.ok(ae, 'the failed attempt is audited');
        assert.equal(ae.result, 'error');
        assert.match(ae.detail, /USER_CHANNELS_TOO_MUCH/);
    });

    test('429 retry_after: the job waits (wait_until set), then finishes; nothing decided twice', async () => {
        const rows = await takePending(4);
        await tgInjectFault(s.tg, { method: 'approveChatJoinRequest', count: 1, error_code: 429, description: 'Too Many Requests: retry after 3', retry_after: 3 });
        const t0 = Date.now();
        const r = await s.client.post('/api/invite-requests/approve', { request_ids: rows.map((x) => x.id) });
        assert.equal(r.status, 202, r.text);
        const id = r.json.job.id;
        const waiting = await waitFor(async () => {
            const j = (await s.client.ok(`/api/jobs/${id}`)).job;
            return j.wait_until ? j : null;
        }, { timeoutMs: 10000, intervalMs: 50, what: 'the job to show wait_until' });
        assert.ok(waiting.wait_until >= Math.floor(t0 / 1000) + 2, `wait_until ${waiting.wait_until} is about retry_after from now`);
        assert.ok(['running', 'queued'].includes(waiting.state));
        // The limit holds for the whole bot: a decline job started now does not call Telegram
        // before the wait is over either.
        const others = (await takePending(6)).filter((x) => !rows.some((y) => y.id === x.id)).slice(0, 2);
        const statsBefore = (await s.tg.control('GET', '/control/stats')).calls.declineChatJoinRequest || 0;
        const other = await s.client.post('/api/invite-requests/deny', { request_ids: others.map((x) => x.id) });
        assert.equal(other.status, 202, other.text);
        const job = (await waitJob(s.client, id, { timeoutMs: 60000 })).job;
        const otherJob = (await waitJob(s.client, other.json.job.id, { timeoutMs: 60000 })).job;
        assert.equal(otherJob.state, 'done');
        assert.equal(otherJob.done, 2);
        assert.ok(otherJob.finished_at >= waiting.wait_until - 1,
            `the decline job finished at ${otherJob.finished_at}, before the bot's wait ended at ${waiting.wait_until}`);
        const statsAfter = (await s.tg.control('GET', '/control/stats')).calls.declineChatJoinRequest || 0;
        assert.equal(statsAfter - statsBefore, 2, 'two decline calls, none refused by the rate limit');
        assert.equal(job.state, 'done');
        assert.ok(Date.now() - t0 >= 2500, 'the job honoured retry_after before continuing');
        assert.deepEqual([job.done, job.skipped, job.failed], [4, 0, 0]);
        assert.equal(job.wait_until, null, 'wait_until cleared when done');
        const tg = await tgRequestMap(s.tg);
        for (const x of rows) assert.equal(tg.get(key(x)).decisions, 1);
    });

    test('cancel: a waiting job can be cancelled; a finished one gets 409', async () => {
        const rows = await takePending(2);
        await tgInjectFault(s.tg, { method: 'approveChatJoinRequest', count: 1, error_code: 429, description: 'Too Many Requests: retry after 30', retry_after: 30 });
        const r = await s.client.post('/api/invite-requests/approve', { request_ids: rows.map((x) => x.id) });
        const id = r.json.job.id;
        await waitFor(async () => (await s.client.ok(`/api/jobs/${id}`)).job.wait_until, { what: 'the job to wait' });
        const c = await s.client.post(`/api/jobs/${id}/cancel`, {});
        assert.equal(c.status, 200, c.text);
        const job = (await waitJob(s.client, id)).job;
        assert.equal(job.state, 'cancelled');
        const again = await s.client.post(`/api/jobs/${id}/cancel`, {});
        assert.equal(again.status, 409, again.text);
        assert.equal(again.json.error.code, 'conflict');
        const tg = await tgRequestMap(s.tg);
        for (const x of rows) assert.equal(tg.get(key(x)).status, 'pending', 'cancelled before deciding');
        assert.equal((await s.client.get('/api/jobs/999999')).status, 404);
    });
});
