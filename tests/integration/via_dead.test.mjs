// Choosing who decides (issue 5; docs/api.md "How the session's jobs behave"): a session whose key
// dies in the middle of a job fails the job with the reason; what was decided stays decided, the
// rest stays pending (in doorman and in Telegram), and the session is no longer offered.
// The death is placed mid-batch deterministically: the account may make 12 calls per 15 s, so the
// job pauses on FLOOD_WAIT with some requests decided; the key is revoked during the pause.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tgFlood, tgMismatches, tgRevoke } from '../lib/tgsim.mjs';
import { listAll, auditAll, waitJob } from '../lib/api.mjs';
import { listSessions, startFloodedApproval } from '../lib/sessions.mjs';
import { startDeciderStack } from '../lib/stacks.mjs';

const N = 30;

describe('a session dying while it decides', () => {
    let s, acc;
    before(async () => {
        // The session listens to its updates, as in production, and its calls under the flood limit
        // are all the job's: it made its getState before (startDeciderStack waits for it), and a
        // decision's update names no new requester, so it reads nothing.
        s = await startDeciderStack({ pending: N, name: 'doomed', first_name: 'Doomed' });
        acc = s.acc;
    });
    after(async () => { await s?.cleanup(); });

    test('key revoked mid-batch: the job fails with the reason, decided ones stay, the rest stay pending', { timeout: 200000 }, async () => {
        const chat = s.world.chatIds[0];
        const rows = await listAll(s.client, { status: 'pending' });
        assert.equal(rows.length, N);
        const { jobId: id, paused } = await startFloodedApproval(s, { session: 'doomed', accountId: acc.id, requestIds: rows.map((x) => x.id) });
        assert.ok(paused.done > 0 && paused.done < N, JSON.stringify(paused));
        await tgRevoke(s.tg, acc.id, 'SESSION_REVOKED');
        await tgFlood(s.tg, acc.id, { flood_limit: 0 });

        const fin = await waitJob(s.client, id, { timeoutMs: 150000 });
        const job = fin.job;
        assert.equal(job.state, 'failed', JSON.stringify(fin));
        assert.match(job.error, /invalid|SESSION_REVOKED|AUTH_KEY_UNREGISTERED/i, `the reason: ${job.error}`);
        assert.equal(job.wait_until, null);

        const tg = (await s.tg.control('GET', `/control/join-requests?chat_id=${chat}`)).items;
        const approved = tg.filter((t) => t.status === 'approved');
        assert.equal(approved.length, job.done, `what the job counts as done is what Telegram decided: ${JSON.stringify(job)}`);
        assert.ok(job.done >= paused.done, 'nothing decided before the pause is undone');
        assert.deepEqual(await tgMismatches(s.tg, chat, approved.map((t) => t.user_id), { decided_by: acc.id, decisions: 1 }), []);
        const now = await listAll(s.client);
        const byUser = new Map(now.map((x) => [x.user_id, x]));
        for (const t of tg) {
            const d = byUser.get(t.user_id);
            assert.equal(d.status, t.status, `doorman agrees with Telegram about ${t.user_id}`);
            if (t.status === 'approved') assert.equal(d.decided_via, 'doomed');
        }
        assert.ok(tg.some((t) => t.status === 'pending'), 'the requests not yet decided stay pending');

        const sess = (await listSessions(s.client, '/api/sessions')).find((x) => x.name === 'doomed');
        assert.equal(sess.status, 'invalid', JSON.stringify(sess));
        assert.ok(!(await listSessions(s.client, '/api/sessions/list')).some((x) => x.name === 'doomed'), 'no longer offered');
        const audit = (await auditAll(s.client)).filter((e) => e.job_id === id);
        assert.ok(audit.every((e) => e.via === 'doomed'));
        assert.equal(audit.filter((e) => e.result === 'ok').length, job.done);

        // a new decision through it is refused up front now
        const again = await s.client.post('/api/invite-requests/approve', { request_ids: [now.find((x) => x.status === 'pending').id], session_name: 'doomed' });
        assert.equal(again.status, 400, again.text);
        assert.match(again.json.error.message, /'doomed' is not active/);
    });
});
