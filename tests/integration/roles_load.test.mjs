// A decider's Load Requests (issue 16): a decider loads pending requests through a session only
// in the channels assigned to it; another channel is a 403 naming it, asked before Telegram is
// asked about the session's rights there, with no job and nothing recorded; a viewer may not
// load at all. One stack: tgsim with data centres, two channels (A granted, B not) whose
// requests only Telegram knows, and a user session that administers both.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tgAddJoinRequests, tgCreateChannel, tgMakeAdmin } from '../lib/tgsim.mjs';
import { Client, requestsOf, waitLoadJob } from '../lib/api.mjs';
import { newUserSession } from '../lib/sessions.mjs';
import { startSessionStack } from '../lib/stacks.mjs';

const PW = 'a long enough password';

async function invite(s, name, role, channels) {
    const inv = await s.client.post('/api/admins/invite', { role, channels });
    assert.equal(inv.status, 200, inv.text);
    const c = new Client(s.dm);
    const ok = await c.post('/api/invite', { token: inv.json.link.split('#token=')[1], name, password: PW });
    assert.equal(ok.status, 200, ok.text);
    return c;
}

function assertForbidden(r, pattern, what) {
    assert.equal(r.status, 403, `${what}: ${r.text}`);
    assert.equal(r.json?.error?.code, 'forbidden', `${what}: ${r.text}`);
    assert.match(r.json.error.message, pattern, what);
}

describe('a decider loads requests only in its channels', () => {
    let s, A, B, decider, viewer;
    const jobsOf = async (c) => (await c.ok('/api/jobs?limit=100')).items.filter((j) => j.kind === 'load');
    before(async () => {
        s = await startSessionStack({ world: { channels: 2 }, configureBot: true });
        [A, B] = s.world.chatIds;
        const acc = (await newUserSession(s.client, s.tg, { name: 'loader', first_name: 'Loader' })).account;
        for (const chat of [A, B]) { // requests the bot never heard of, asked before the session was an admin
            await tgAddJoinRequests(s.tg, { chat_id: chat, count: 3, bot_updates: false });
            await tgMakeAdmin(s.tg, chat, acc.id, true);
        }
        decider = await invite(s, 'dee', 'decider', [A]);
        viewer = await invite(s, 'vic', 'viewer', [A, B]);
    });
    after(async () => { await s?.cleanup(); });

    test('another channel: 403 naming it, by id or by name, no job and nothing recorded', async () => {
        for (const channel of [String(B), '@test_channel_2']) {
            assertForbidden(await decider.post('/api/sessions/loader/load', { channel, limit: 'all' }),
                new RegExp(`channel ${B}, which is not among the channels assigned to you`), `load ${channel}`);
        }
        // a channel where the session has no right: the scope answers, not Telegram's rights
        const locked = await tgCreateChannel(s.tg, { title: 'Locked', username: 'locked_chan' });
        assertForbidden(await decider.post('/api/sessions/loader/load', { channel: '@locked_chan' }),
            new RegExp(`channel ${locked.id}`), 'load a channel of nobody\'s');
        assertForbidden(await viewer.post('/api/sessions/loader/load', { channel: String(A) }), /needs the decider role/, 'a viewer loads');
        assert.equal((await decider.post('/api/sessions/nobody/load', { channel: String(A) })).status, 404);
        assert.deepEqual(await jobsOf(s.client), [], 'no load job');
        assert.equal((await requestsOf(s.client, B)).length, 0, 'nothing recorded in B');
    });

    test('its channel: the job loads it, through a session the decider sees listed', async () => {
        const listed = (await decider.ok('/api/sessions/list')).items.map((x) => x.name);
        assert.deepEqual(listed, ['loader']);
        const r = await decider.post('/api/sessions/loader/load', { channel: String(A), limit: 'all' });
        assert.equal(r.status, 202, r.text);
        const job = await waitLoadJob(decider, r.json.job.id);
        assert.equal(job.state, 'done', JSON.stringify(job));
        assert.equal(job.done, 3);
        assert.equal(job.admin, 'dee');
        const inA = await requestsOf(decider, A);
        assert.equal(inA.filter((x) => x.status === 'pending').length, 3);
        assert.equal((await requestsOf(s.client, B)).length, 0, 'B still untouched');
        assert.deepEqual((await jobsOf(decider)).map((j) => j.id), [job.id]);
    });
});
