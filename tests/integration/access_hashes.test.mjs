// Access hashes as Telegram checks them (issue 11, item 5): tgsim refuses a wrong or zero access
// hash (CHANNEL_INVALID, PEER_ID_INVALID; 0 only from a bot to channels.getChannels), so doorman
// must find a channel named by its -100 id among the session's dialogs (messages.getDialogs,
// paged) when it has not met it by name: a private channel (no @username) behind 120 newer ones,
// loaded and then decided through a user session (the hash learned once, kept with the session
// in the store, so a restart does not page the dialogs again); a channel the account is not in
// is said so.
// tgsim's side against clients we did not write: interop.test.mjs and tests/unit/mtproto/tgsim_test.c.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tgCreateChannel, tgMakeAdmin, tgAddMember, tgAddJoinRequests } from '../lib/tgsim.mjs';
import { waitLoadJob, waitJob, requestsOf } from '../lib/api.mjs';
import { newUserSession } from '../lib/sessions.mjs';
import { startSessionStack } from '../lib/stacks.mjs';

const NEWER = 120; // channels made after the private one: it is on the second page of dialogs

async function dialogCalls(tg) {
    return (await tg.control('GET', '/control/stats')).calls['messages.getDialogs'] || 0;
}

describe('channels named by id', () => {
    let s, account, priv;
    before(async () => {
        s = await startSessionStack({ dcs: 2 });
        account = (await newUserSession(s.client, s.tg, { name: 'hasher' })).account;
        priv = await tgCreateChannel(s.tg, { title: 'Private room' });
        await tgMakeAdmin(s.tg, priv.id, account.id, true);
        await tgAddJoinRequests(s.tg, { chat_id: priv.id, count: 5, first_name: 'Priv', date: 1713333333 });
        for (let i = 0; i < NEWER; i++) {
            const ch = await tgCreateChannel(s.tg, { title: `Newer ${i}` });
            await tgAddMember(s.tg, ch.id, account.id);
        }
    });
    after(async () => { await s?.cleanup(); });

    test('Load Requests of a private channel by its -100 id: found among the dialogs', async () => {
        const calls0 = await dialogCalls(s.tg);
        const r = await s.client.post('/api/sessions/hasher/load', { channel: String(priv.id), limit: 'all' });
        assert.equal(r.status, 202, r.text);
        const job = await waitLoadJob(s.client, r.json.job.id);
        assert.equal(job.state, 'done', JSON.stringify(job));
        assert.equal(job.done, 5);
        assert.equal((await requestsOf(s.client, priv.id)).length, 5);
        assert.ok(await dialogCalls(s.tg) - calls0 >= 2, 'the dialogs were paged (the channel is on the second page)');
    });

    test('Approve through the session in that channel: its access hash, kept from the load', async () => {
        const calls0 = await dialogCalls(s.tg);
        const rows = await requestsOf(s.client, priv.id);
        const r = await s.client.post('/api/invite-requests/approve', { request_ids: [rows[0].id], session_name: 'hasher' });
        assert.equal(r.status, 202, r.text);
        const fin = await waitJob(s.client, r.json.job.id);
        assert.equal(fin.job.state, 'done', JSON.stringify(fin));
        assert.equal(fin.job.done, 1, JSON.stringify(fin.job));
        const tg = (await s.tg.control('GET', `/control/join-requests?chat_id=${priv.id}&user_id=${rows[0].user_id}`)).items;
        assert.equal(tg[0].status, 'approved');
        assert.equal(tg[0].decided_by, account.id);
        assert.equal(await dialogCalls(s.tg), calls0, 'the hash learned by the load: no dialogs paged again');
    });

    test('after a restart: the hash was kept with the session, no dialogs paged again', async () => {
        const calls0 = await dialogCalls(s.tg);
        await s.restart();
        const rows = (await requestsOf(s.client, priv.id)).filter((r) => r.status === 'pending');
        const r = await s.client.post('/api/invite-requests/deny', { request_ids: [rows[0].id], session_name: 'hasher' });
        assert.equal(r.status, 202, r.text);
        const fin = await waitJob(s.client, r.json.job.id);
        assert.equal(fin.job.done, 1, JSON.stringify(fin));
        const tg = (await s.tg.control('GET', `/control/join-requests?chat_id=${priv.id}&user_id=${rows[0].user_id}`)).items;
        assert.equal(tg[0].status, 'declined');
        assert.equal(await dialogCalls(s.tg), calls0, 'the stored hash: no dialogs paged after the restart');
    });

    test('a channel the account is not in: said so, nothing started', async () => {
        const other = await tgCreateChannel(s.tg, { title: 'Elsewhere' });
        const r = await s.client.post('/api/sessions/hasher/load', { channel: String(other.id), limit: 10 });
        assert.ok(r.status >= 400 && r.status < 500, r.text);
        assert.match(r.json.error.message, /this account is not in channel -100\d+\. Add it to the channel, or name the channel by its @username/);
    });
});
