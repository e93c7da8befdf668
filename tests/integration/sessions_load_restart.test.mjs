// Session Manager (issue 4, Proof): kill -9 of doorman in the middle of a 3,000-request load
// (held there by a FLOOD_WAIT so the kill lands mid-way every time); after the restart the job
// resumes by itself and ends with exact counts and no duplicates.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tgFlood } from '../lib/tgsim.mjs';
import { waitLoadJob, requestsOf } from '../lib/api.mjs';
import { startFloodedLoad } from '../lib/sessions.mjs';
import { startSessionStack } from '../lib/stacks.mjs';

describe('restart in the middle of a load', () => {
    let s;
    // The session listens to its updates, as in production, and its calls under the flood limit are
    // all the load's: the requests reached Telegram before doorman had the session, and it made its
    // getState before the limit was set (startFloodedLoad). After the restart it catches up with
    // getDifference (meeting the flood wait too, if the limit is still on, and trying again later).
    before(async () => { s = await startSessionStack(); });
    after(async () => { await s?.cleanup(); });

    test('3,000 requests, kill -9 mid-way, restart: resumes, exact counts, no duplicates', { timeout: 240000 }, async () => {
        const { account, ch, jobId, paused } = await startFloodedLoad(s, {
            session: 'restarter', title: 'Restarted', username: 'restart_chan', channel: `https://t.me/restart_chan`,
            requests: { first_name: 'Rs', bio: 'restart about', date: 1712222222 },
        });
        const before2 = await requestsOf(s.client, ch.id);
        assert.ok(before2.length > 0 && before2.length < 3000, `part of the load was recorded before the kill: ${before2.length}`);
        await s.restart({ kill: true });
        await tgFlood(s.tg, account.id, { flood_limit: 0 });

        const job = await waitLoadJob(s.client, jobId, { timeoutMs: 150000 });
        assert.equal(job.state, 'done', JSON.stringify(job));
        assert.equal(job.total, 3000);
        assert.equal(job.done, 3000, `exact count after the restart (was ${paused.done} at the kill)`);
        const rows = await requestsOf(s.client, ch.id);
        assert.equal(rows.length, 3000);
        assert.equal(new Set(rows.map((r) => r.user_id)).size, 3000, 'no duplicates');
        assert.ok(rows.every((r) => r.status === 'pending' && r.date === 1712222222 && r.bio === 'restart about'));
        const mine = (await s.client.ok('/api/jobs?limit=500')).items.filter((j) => j.kind === 'load');
        assert.equal(mine.length, 1, 'the same job resumed; no second load job');
    });
});
