// The idle pass (DOORMAN_IDLE_S; app.h app_idle): every interval the store gives back what it
// keeps for speed (on SQLite: the page caches of free connections, and the readers not taken
// since the last pass are closed) and the allocator its free pages. Here every second, with a
// burst of lists between passes that opened several readers: after the passes that closed them,
// lists, searches, a decision and a new request all work as before (readers opened again).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../lib/processes.mjs';
import { addRequester } from '../lib/tgsim.mjs';
import { decide, listAll, waitRecorded } from '../lib/api.mjs';
import { startStack } from '../lib/stacks.mjs';

const PASS = /idle pass: (\d+) database connections closed/g;
const passes = (s) => [...s.dm.output.matchAll(PASS)].map((m) => Number(m[1]));
const SQLITE = !process.env.DOORMAN_TEST_PG_URL;

describe('the idle pass', () => {
    let s;
    before(async () => {
        s = await startStack({
            world: { channels: 1, pending: 30 },
            doormanOpts: { env: { DOORMAN_IDLE_S: '1', DOORMAN_LOG_LEVEL: 'debug' } },
        });
        await waitRecorded(s.client, 30);
    });
    after(async () => { await s?.cleanup(); });

    // 16 lists at once, each asking for the counts too, so that several readers are taken
    const burst = () => Promise.all(Array.from({ length: 16 }, (_, i) =>
        s.client.get(`/api/invite-requests?limit=5${i % 2 ? '&q=user' : ''}`)));

    test('lists, searches, decisions and recording work across passes that closed readers', async () => {
        for (const r of await burst()) assert.equal(r.status, 200, r.text);
        // two passes after the burst: the second closes the readers the first saw untaken
        // the passes after it: on SQLite one closes the readers the burst opened (a pass sees
        // them taken, the next untaken); PostgreSQL's pool stays as it is
        const seen = passes(s).length;
        const closedSince = () => passes(s).slice(seen).reduce((a, b) => a + b, 0);
        await waitFor(() => passes(s).length >= seen + 3 && (!SQLITE || closedSince() >= 1),
            { timeoutMs: 15000, what: `idle passes${SQLITE ? ' closing a reader' : ''}` });
        if (!SQLITE) assert.equal(closedSince(), 0);
        for (const r of await burst()) {
            assert.equal(r.status, 200, r.text);
            assert.ok(r.json.items.length > 0, r.text);
        }
        const [first] = await listAll(s.client, { status: 'pending' });
        const job = await decide(s.client, 'approve', { request_ids: [first.id] });
        assert.equal(job.done, 1, JSON.stringify(job));
        await addRequester(s.tg, s.world.chatIds[0], { first_name: 'After' });
        await waitRecorded(s.client, 31);
        const seen2 = passes(s).length;
        await waitFor(() => passes(s).length >= seen2 + 1, { timeoutMs: 10000, what: 'one more idle pass' });
        const all = await listAll(s.client);
        assert.equal(all.length, 31);
        assert.equal(all.find((r) => r.id === first.id).status, 'approved');
        assert.ok(all.some((r) => r.first_name === 'After'));
    });
});
