// Session Manager (issue 4, Proof): a FLOOD_WAIT in the middle of a 3,000-request load. The job
// shows wait_until (the countdown), waits it out by itself and finishes with exact counts.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tgFlood } from '../lib/tgsim.mjs';
import { waitLoadJob, requestsOf } from '../lib/api.mjs';
import { startFloodedLoad, FLOOD_WINDOW } from '../lib/sessions.mjs';
import { startSessionStack } from '../lib/stacks.mjs';

describe('flood wait in the middle of a load', () => {
    let s;
    // The session listens to its updates, as in production, and its calls under the flood limit are
    // all the load's: the requests reached Telegram before doorman had the session, and it made its
    // getState before the limit was set (startFloodedLoad).
    before(async () => { s = await startSessionStack(); });
    after(async () => { await s?.cleanup(); });

    test('3,000 requests, FLOOD_WAIT mid-way: wait_until shown, then done by itself', { timeout: 240000 }, async () => {
        const { account, ch, jobId, paused } = await startFloodedLoad(s, {
            session: 'flooder', title: 'Flooded', username: 'flooded_chan', channel: '@flooded_chan',
            requests: { first_name: 'Fl', bio: 'flood about', date: 1711111111 },
        });
        const now = Math.floor(Date.now() / 1000);
        assert.ok(paused.wait_until > now, `wait_until ${paused.wait_until} is in the future (now ${now})`);
        assert.ok(paused.wait_until <= now + FLOOD_WINDOW + 2, `wait_until is Telegram's wait, about ${FLOOD_WINDOW} s: ${paused.wait_until - now}`);
        assert.ok(['running', 'queued'].includes(paused.state), paused.state);
        assert.equal(paused.total, 3000);
        // the flood is over on Telegram's side; doorman must still wait its time and then go on
        await tgFlood(s.tg, account.id, { flood_limit: 0 });
        const seen = [];
        const job = await waitLoadJob(s.client, jobId, { timeoutMs: 150000, onPoll: (j) => seen.push(j) });
        assert.equal(job.state, 'done', JSON.stringify(job));
        assert.equal(job.total, 3000);
        assert.equal(job.done, 3000);
        assert.equal(job.wait_until, null, 'no wait shown once done');
        assert.ok(job.finished_at >= paused.wait_until - 1, `finished ${job.finished_at} not before the wait ended ${paused.wait_until}`);
        assert.ok(seen.every((j) => j.done >= paused.done), 'progress never went back');
        const rows = await requestsOf(s.client, ch.id);
        assert.equal(rows.length, 3000);
        assert.equal(new Set(rows.map((r) => r.user_id)).size, 3000, 'no duplicates');
        assert.ok(rows.every((r) => r.status === 'pending' && r.date === 1711111111 && r.bio === 'flood about'));
    });
});
