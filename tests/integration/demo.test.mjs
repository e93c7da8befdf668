// `doorman demo`: tgsim and doorman wired together, a demo bot, two channels, a few hundred
// pending requests and more arriving over time; the printed login works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../lib/processes.mjs';
import { startDemo } from '../lib/doorman.mjs';
import { Client } from '../lib/api.mjs';

test('doorman demo prints a working URL and login, with two channels and requests arriving', async () => {
    const demo = await startDemo();
    try {
        const client = new Client(demo.url);
        await client.login(demo.login.name, demo.login.password);
        const first = await waitFor(async () => {
            const j = await client.ok('/api/invite-requests?limit=5');
            return j.counts.pending >= 240 ? j : null;
        }, { timeoutMs: 30000, what: 'the demo requests to be recorded' });
        const chats = await client.ok('/api/chats');
        assert.deepEqual(chats.items.map((c) => c.title).sort(), ['Demo Chat', 'Demo News']);
        assert.ok(first.items.every((r) => r.first_name && r.chat_title), 'requests carry names and channel titles');
        // more arrive over time
        await waitFor(async () => {
            const j = await client.ok('/api/invite-requests?limit=1');
            return j.counts.total > first.counts.total;
        }, { timeoutMs: 20000, what: 'a new request to arrive in the demo' });
        // and deciding works through the demo bot
        const id = first.items[0].id;
        const r = await client.post('/api/invite-requests/approve', { request_ids: [id] });
        assert.equal(r.status, 202);
        await waitFor(async () => {
            const j = await client.ok(`/api/jobs/${r.json.job.id}`);
            return j.job.state === 'done' && j.job.done === 1;
        }, { timeoutMs: 20000, what: 'the demo approval to finish' });
    } finally {
        await demo.proc.stop();
    }
});
