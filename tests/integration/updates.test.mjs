// A session learns of join requests from Telegram's updates (issue 11 item 2): with no bot in the
// channel and no Load, a request arriving in tgsim is recorded through the session's pushed
// updatePendingJoinRequests (an update that only tells of decisions reads nothing; one that counts
// more pending than doorman has reads the channel); 1,000 unrelated updates pushed while the session loads and decides
// change nothing (no gap is seen, no getDifference asked); a restart between updates resumes by
// getDifference from the stored state; a gap past Telegram's limit (differenceTooLong) is met by
// reading the channel again; a bot session is pushed the request itself (updateBotChatInviteRequester)
// and records it. One stack; both backends (DOORMAN_TEST_PG_URL).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../lib/processes.mjs';
import { requestsOf, decide, waitLoadJob } from '../lib/api.mjs';
import { newUserSession, newBotSession } from '../lib/sessions.mjs';
import { startSessionStack } from '../lib/stacks.mjs';
import { tgCreateChannel, tgMakeAdmin } from '../lib/tgsim.mjs';

describe('sessions listen to updates', () => {
    let s, acc, ch;
    const upd = () => s.tg.control('GET', `/control/accounts/${acc.id}/updates`);
    const ask = (body) => s.tg.control('POST', '/control/join-requests', { chat_id: ch.id, ...body });
    const recorded = (n, what) => waitFor(async () => {
        const rows = await requestsOf(s.client, ch.id);
        return rows.length >= n ? rows : null;
    }, { timeoutMs: 15000, what });

    before(async () => {
        s = await startSessionStack({ doormanEnv: { DOORMAN_SESSION_UPDATES: '1' } });
        acc = (await newUserSession(s.client, s.tg, { name: 'listener', first_name: 'Listener' })).account;
        ch = await s.tg.control('POST', '/control/channels', {
            title: 'No bot here', username: 'updates_chan', admins: [{ id: acc.id, can_invite_users: true }],
        });
        // the session listens once it is active (its login checked it)
        await waitFor(() => /session listener: listening to its updates/.test(s.dm.output), { timeoutMs: 10000, what: 'the listener' });
    });
    after(async () => { await s?.cleanup(); });

    test('a request arriving in tgsim is recorded through the session, without any Load', async () => {
        const t0 = Date.now();
        const r = await ask({ count: 3, first_name: 'Pushed', bio: 'came by update' });
        const rows = await recorded(3, 'the 3 requests recorded from the update');
        assert.deepEqual(rows.map((x) => x.user_id).sort(), [r.first_user_id, r.first_user_id + 1, r.first_user_id + 2]);
        assert.ok(rows.every((x) => x.status === 'pending' && x.bio === 'came by update'));
        assert.ok(Date.now() - t0 < 10000);
        const jobs = (await s.client.ok('/api/jobs?limit=50')).items;
        assert.equal(jobs.length, 0, 'no Load job did it');
    });

    // Every decision in the channel pushes updatePendingJoinRequests too (a new pending count):
    // reading the channel for each would spend the account's flood limit for nothing.
    test('an update that names no new requester (decisions) reads nothing; a new request is still read', async () => {
        const importers = async () => (await s.tg.control('GET', '/control/stats')).calls['messages.getChatInviteImporters'] || 0;
        const d = await ask({ count: 2, first_name: 'ToDecide' });
        await recorded(5, 'the 2 requests to decide');
        const c0 = await importers();
        for (const user_id of [d.first_user_id, d.last_user_id]) { // declined in the Telegram app by the session's account
            await s.tg.control('POST', '/control/join-requests/decide', { chat_id: ch.id, user_id, by: acc.id, approve: false });
        }
        const r = await ask({ count: 1, first_name: 'AfterDecisions' });
        await waitFor(async () => (await requestsOf(s.client, ch.id)).some((x) => x.user_id === r.first_user_id),
            { timeoutMs: 10000, what: 'the request after the decisions' });
        assert.equal(await importers() - c0, 1, 'one read of the channel, for the new requester; none for the two decisions');
    });

    // The recent requesters are only the latest few: an update whose recent requesters doorman
    // all has, but that counts more pending than doorman has, still reads the channel.
    test('an update counting more pending than doorman has reads the channel, its recent requesters known', async () => {
        const ch2 = await tgCreateChannel(s.tg, { title: 'Counted', username: 'counted_chan' });
        const old = await s.tg.control('POST', '/control/join-requests', { chat_id: ch2.id, count: 3, first_name: 'Older', date: 1712340000 });
        const recent = await s.tg.control('POST', '/control/join-requests', { chat_id: ch2.id, count: 5, first_name: 'Newer', date: 1712345678 });
        await tgMakeAdmin(s.tg, ch2.id, acc.id, true);
        // doorman learns the 5 newest (Telegram's recent requesters) by a Load limited to them
        const r = await s.client.post('/api/sessions/listener/load', { channel: '@counted_chan', limit: 5 });
        assert.equal(r.status, 202, r.text);
        assert.equal((await waitLoadJob(s.client, r.json.job.id)).state, 'done');
        assert.equal((await requestsOf(s.client, ch2.id)).length, 5);
        // a decision in the app: the update names 4 known recent requesters, and 7 pending
        await s.tg.control('POST', '/control/join-requests/decide', { chat_id: ch2.id, user_id: recent.first_user_id, by: acc.id, approve: true });
        const rows = await waitFor(async () => {
            const all = await requestsOf(s.client, ch2.id);
            return all.length >= 8 ? all : null;
        }, { timeoutMs: 15000, what: 'the 3 older requests, read because of the count' });
        const olderIds = rows.filter((x) => x.first_name === 'Older').map((x) => x.user_id).sort();
        assert.deepEqual(olderIds, [old.first_user_id, old.first_user_id + 1, old.first_user_id + 2]);
    });

    test('1,000 unrelated updates while the session loads and decides disturb nothing', async () => {
        await ask({ count: 150, first_name: 'Bulk', bot_updates: false }); // only a Load finds these
        const before = await upd();
        const noise = s.tg.control('POST', `/control/accounts/${acc.id}/updates`, { count: 1000 });
        const r = await s.client.post('/api/sessions/listener/load', { channel: '@updates_chan', limit: 'all' });
        assert.equal(r.status, 202, r.text);
        const rows0 = await requestsOf(s.client, ch.id);
        const first = rows0.find((x) => x.first_name === 'Pushed');
        const job = await decide(s.client, 'approve', { request_ids: [first.id], session_name: 'listener' });
        assert.equal(job.state, 'done', JSON.stringify(job));
        assert.equal((await noise).pts, before.pts + 1000);
        const load = await waitLoadJob(s.client, r.json.job.id);
        assert.equal(load.state, 'done', JSON.stringify(load));
        const rows = await recorded(156, 'the loaded requests');
        assert.equal(rows.length, 156);
        // after the noise a new request still comes through the updates
        const late = await ask({ count: 1, first_name: 'Late' });
        await waitFor(async () => (await requestsOf(s.client, ch.id)).some((x) => x.user_id === late.first_user_id),
            { timeoutMs: 10000, what: 'the request after the noise' });
        const after2 = await upd();
        assert.equal(after2.difference_calls, before.difference_calls, 'no gap seen: no getDifference');
        const tgReq = await s.tg.control('GET', `/control/join-requests?chat_id=${ch.id}&user_id=${first.user_id}`);
        assert.equal(tgReq.items[0].status, 'approved');
    });

    test('a restart between updates resumes by getDifference from the stored state', async () => {
        const n0 = (await requestsOf(s.client, ch.id)).length;
        await s.dm.stop();
        const d0 = (await upd()).difference_calls;
        const r = await ask({ count: 2, first_name: 'WhileDown' });
        await s.restart();
        const rows = await recorded(n0 + 2, 'the requests made while doorman was down');
        assert.ok(rows.some((x) => x.user_id === r.first_user_id) && rows.some((x) => x.user_id === r.first_user_id + 1));
        assert.ok((await upd()).difference_calls > d0, 'caught up by getDifference');
    });

    test('differenceTooLong: the channel is read again', async () => {
        const n0 = (await requestsOf(s.client, ch.id)).length;
        await s.dm.stop();
        const t0 = (await upd()).too_long;
        await s.tg.control('POST', '/control/config', { difference_too_long: 5 });
        await s.tg.control('POST', `/control/accounts/${acc.id}/updates`, { count: 20 });
        const r = await ask({ count: 2, first_name: 'TooLong' });
        try {
            await s.restart();
            const rows = await recorded(n0 + 2, 'the requests read again after differenceTooLong');
            assert.ok(rows.some((x) => x.user_id === r.first_user_id));
            assert.equal((await upd()).too_long, t0 + 1);
        } finally {
            await s.tg.control('POST', '/control/config', { difference_too_long: 0 });
        }
    });

    test('a bot session: a join request comes as updateBotChatInviteRequester, recorded with its link', async () => {
        const { bot } = await newBotSession(s.client, s.tg, { name: 'botlistener', username: 'listening_bot' });
        const bch = await s.tg.control('POST', '/control/channels', {
            title: 'Only a bot session', username: 'bot_updates_chan', admins: [{ id: bot.id, can_invite_users: true }],
        });
        await waitFor(() => /session botlistener: listening to its updates/.test(s.dm.output), { timeoutMs: 10000, what: 'the bot listener' });
        const u = await s.tg.control('POST', '/control/users', { first_name: 'Botseen', last_name: 'Applicant', username: 'botseen_user', bio: 'pushed to a bot' });
        await s.tg.control('POST', '/control/join-requests', { chat_id: bch.id, user_id: u.id, invite_link: 'https://t.me/+BotLink' });
        const rows = await waitFor(async () => {
            const r = await requestsOf(s.client, bch.id);
            return r.length ? r : null;
        }, { timeoutMs: 15000, what: 'the request pushed to the bot session' });
        assert.equal(rows.length, 1);
        assert.deepEqual([rows[0].user_id, rows[0].first_name, rows[0].last_name, rows[0].username, rows[0].bio, rows[0].invite_link, rows[0].status],
            [u.id, 'Botseen', 'Applicant', 'botseen_user', 'pushed to a bot', 'https://t.me/+BotLink', 'pending']);
    });
});
