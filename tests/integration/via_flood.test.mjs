// Choosing who decides (issue 5, Proof): a FLOOD_WAIT in the middle of Approve Selected through a
// session. The account may make 12 calls per FLOOD_WINDOW (tgsim's window starts when the limit is set),
// so one of the 30 per-request calls meets FLOOD_WAIT_<about 15>: the job shows wait_until, waits
// it out by itself (the limit is lifted on Telegram's side meanwhile, doorman must still wait),
// and finishes with every request decided exactly once by that account.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tgFlood, tgMismatches } from '../lib/tgsim.mjs';
import { listAll, auditAll, waitJob } from '../lib/api.mjs';
import { startFloodedApproval, FLOOD_WINDOW } from '../lib/sessions.mjs';
import { startDeciderStack } from '../lib/stacks.mjs';

const N = 30;

describe('flood wait while deciding through a session', () => {
    let s, acc;
    before(async () => {
        // The session listens to its updates, as in production, and its calls under the flood limit
        // are all the job's: it made its getState before (startDeciderStack waits for it), and a
        // decision's update names no new requester, so it reads nothing.
        s = await startDeciderStack({ pending: N, name: 'floody', first_name: 'Floody' });
        acc = s.acc;
    });
    after(async () => { await s?.cleanup(); });

    test(`${N} approvals, FLOOD_WAIT mid-batch: wait_until shown, then done by itself, each decided once`, { timeout: 200000 }, async () => {
        const chat = s.world.chatIds[0];
        const rows = await listAll(s.client, { status: 'pending' });
        assert.equal(rows.length, N);
        const { jobId: id, paused } = await startFloodedApproval(s, { session: 'floody', accountId: acc.id, requestIds: rows.map((x) => x.id) });
        const now = Math.floor(Date.now() / 1000);
        assert.ok(paused.done > 0 && paused.done < N, `the wait came mid-batch: ${JSON.stringify(paused)}`);
        assert.ok(paused.wait_until > now, `wait_until ${paused.wait_until} is in the future (now ${now})`);
        assert.ok(paused.wait_until <= now + FLOOD_WINDOW + 2, `wait_until is Telegram's wait, about ${FLOOD_WINDOW} s: ${paused.wait_until - now}`);
        assert.ok(['running', 'queued'].includes(paused.state), paused.state);
        assert.equal(paused.failed, 0, 'a flood wait is not a failure');
        assert.equal(paused.via, 'floody');
        await tgFlood(s.tg, acc.id, { flood_limit: 0 });

        const seen = [];
        const fin = await waitJob(s.client, id, { timeoutMs: 150000, onPoll: (j) => seen.push(j) });
        const job = fin.job;
        assert.equal(job.state, 'done', JSON.stringify(fin));
        assert.deepEqual([job.total, job.done, job.skipped, job.failed], [N, N, 0, 0], JSON.stringify(fin));
        assert.equal(job.wait_until, null, 'no wait shown once done');
        assert.ok(job.finished_at >= paused.wait_until - 1, `finished ${job.finished_at}, before the wait ended ${paused.wait_until}`);
        assert.ok(seen.every((j) => j.done >= paused.done), 'progress never went back');
        assert.ok(seen.every((j) => j.done + j.skipped + j.failed <= j.total), 'progress within its total');

        assert.deepEqual(await tgMismatches(s.tg, chat, rows.map((x) => x.user_id), { status: 'approved', decided_by: acc.id, decisions: 1 }), []);
        const c = (await s.tg.control('GET', `/control/join-requests?chat_id=${chat}`)).counts;
        assert.equal(c.decided_more_than_once, 0);
        const now2 = await listAll(s.client);
        assert.ok(now2.every((x) => x.status === 'approved' && x.decided_via === 'floody'), JSON.stringify(now2.slice(0, 3)));
        const audit = (await auditAll(s.client)).filter((e) => e.job_id === id);
        assert.equal(audit.length, N, 'one audit entry per request, none for the flood-waited attempt');
        assert.ok(audit.every((e) => e.via === 'floody' && e.result === 'ok'), JSON.stringify(audit.filter((e) => e.result !== 'ok')));
    });
});
