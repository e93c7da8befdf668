// A few selected requests do not wait behind an Approve All of many: the runner lets the smaller
// job go first, then goes on with the big one, and both end with every request decided once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../lib/processes.mjs';
import { addRequester, tgJoinRequests } from '../lib/tgsim.mjs';
import { waitRecorded, waitJob } from '../lib/api.mjs';
import { startStack } from '../lib/stacks.mjs';

test('Approve Selected runs before a long Approve All finishes', { timeout: 180000 }, async () => {
    const s = await startStack({ tgsimOpts: { latencyMs: 20 }, world: { channels: 2, pending: 0 } });
    try {
        const [big, small] = s.world.chatIds;
        await s.tg.control('POST', '/control/join-requests', { chat_id: big, count: 400, first_name: 'Bulk' });
        await waitRecorded(s.client, 400, { timeoutMs: 60000 });
        assert.equal((await s.client.post('/api/settings', { bot_rate: 40 })).status, 200);

        const all = await s.client.post('/api/invite-requests/approve-all', { filter: { chat_id: big } });
        assert.equal(all.status, 202, all.text);
        await waitFor(async () => (await s.client.ok(`/api/jobs/${all.json.job.id}`)).job.done >= 20,
            { timeoutMs: 30000, what: 'the big job to be under way' });

        const who = await addRequester(s.tg, small, { first_name: 'Urgent' });
        const row = await waitFor(async () => {
            const j = await s.client.ok(`/api/invite-requests?chat_id=${small}`);
            return j.items.find((r) => r.user_id === who.user_id);
        }, { what: 'the urgent request to be recorded' });
        const one = await s.client.post('/api/invite-requests/approve', { request_ids: [row.id] });
        assert.equal(one.status, 202, one.text);
        const oneDone = (await waitJob(s.client, one.json.job.id, { timeoutMs: 20000 })).job;
        assert.equal(oneDone.done, 1);
        const bigNow = (await s.client.ok(`/api/jobs/${all.json.job.id}`)).job;
        assert.notEqual(bigNow.state, 'done', `the small job waited for the big one: ${JSON.stringify(bigNow)}`);

        const bigDone = (await waitJob(s.client, all.json.job.id, { timeoutMs: 120000 })).job;
        assert.equal(bigDone.state, 'done');
        assert.equal(bigDone.done + bigDone.skipped, 400);
        const tg = await tgJoinRequests(s.tg);
        const bad = tg.filter((r) => r.status !== 'approved' || r.decisions !== 1);
        assert.deepEqual(bad.slice(0, 5), [], `${bad.length} requests not approved exactly once`);
    } finally {
        await s.cleanup();
    }
});
