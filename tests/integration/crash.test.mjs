// kill -9 of doorman in the middle of Approve All, restart: the job continues where it stopped
// and every request ends decided exactly once (issue 2, Proof).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tgJoinRequests } from '../lib/tgsim.mjs';
import { waitRecorded, waitJob, waitJobPart, counts, auditAll } from '../lib/api.mjs';
import { startStack } from '../lib/stacks.mjs';

const N = Number(process.env.CRASH_TEST_REQUESTS || 2000);

describe('crash in the middle of Approve All', () => {
    let s;
    before(async () => {
        // Latency makes the job take several seconds so the kill lands in the middle.
        s = await startStack({ tgsimOpts: { latencyMs: 4 }, world: { channels: 2, pending: 0 } });
        await s.tg.control('POST', '/control/join-requests', { chat_id: s.world.chatIds[0], count: N / 2, first_name: 'Bulk' });
        await s.tg.control('POST', '/control/join-requests', { chat_id: s.world.chatIds[1], count: N / 2, first_name: 'Bulk' });
        await waitRecorded(s.client, N, { timeoutMs: 120000 });
        const st = await s.client.post('/api/settings', { bot_rate: 1000 });
        assert.equal(st.status, 200, st.text);
    });
    after(async () => { await s?.cleanup(); });

    test(`kill -9 during Approve All of ${N}, restart, every request approved exactly once`, { timeout: 300000 }, async () => {
        const r = await s.client.post('/api/invite-requests/approve-all', {});
        assert.equal(r.status, 202, r.text);
        const id = r.json.job.id;
        assert.equal(r.json.job.total, N);
        const mid = await waitJobPart(s.client, id, N, 0.1, { timeoutMs: 120000 });
        await s.dm.kill();
        assert.ok(mid.done < N, `killed at ${mid.done}/${N}`);

        await s.restart();
        const job = (await waitJob(s.client, id, { timeoutMs: 240000 })).job;
        assert.equal(job.state, 'done', JSON.stringify(job));
        assert.equal(job.failed, 0);
        assert.equal(job.done + job.skipped, N, `done ${job.done} + skipped ${job.skipped} = total`);
        assert.ok(job.skipped <= 50, `only requests in flight at the kill may be skipped: ${job.skipped}`);

        const tg = await tgJoinRequests(s.tg);
        assert.equal(tg.length, N);
        const bad = tg.filter((x) => x.status !== 'approved' || x.decisions !== 1);
        assert.deepEqual(bad.slice(0, 5), [], `${bad.length} requests not approved exactly once`);
        const c = await counts(s.client);
        assert.equal(c.approved, N, `doorman agrees: ${JSON.stringify(c)}`);
        assert.equal(c.pending, 0);

        // One ok (or already_handled) audit entry per request, never two ok ones.
        const audit = (await auditAll(s.client)).filter((e) => e.job_id === id && e.action === 'approve');
        const okPer = new Map();
        for (const e of audit) if (e.result === 'ok') okPer.set(e.request_id, (okPer.get(e.request_id) || 0) + 1);
        const twice = [...okPer].filter(([, n]) => n > 1);
        assert.deepEqual(twice, [], 'no request approved twice according to the audit log');
        assert.equal(new Set(audit.map((e) => e.request_id)).size, N, 'every request has an audit entry');
    });
});
