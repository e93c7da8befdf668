// Session Manager, Load Requests (issue 4): the permission check, the channel as @username,
// t.me link or -100 id, the default limit of 1,000 against "all", and a 3,000-request load that
// is idempotent with what the bot already recorded (Telegram's date and about text kept).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tgCreateChannel, tgAddJoinRequests, tgCreateUser, waitFor, counts } from '../lib/harness.mjs';
import { startSessionStack, newUserSession, waitLoadJob, requestsOf } from '../lib/mtproto.mjs';

async function makeAdmin(tg, chatId, userId, can = true) {
    return tg.control('POST', `/control/channels/${chatId}/admins`, { id: userId, can_invite_users: can });
}

async function loadJobs(client) {
    return (await client.ok('/api/jobs?limit=500')).items.filter((j) => j.kind === 'load');
}

function assertNoDuplicates(rows) {
    const users = rows.map((r) => r.user_id);
    assert.equal(new Set(users).size, users.length, `${users.length - new Set(users).size} duplicate requests`);
}

describe('load requests through a session', () => {
    let s, acc;
    before(async () => {
        s = await startSessionStack({ world: { channels: 1 }, configureBot: true });
        acc = (await newUserSession(s.client, s.tg, { name: 'loader', first_name: 'Loader' })).account;
    });
    after(async () => { await s?.cleanup(); });

    test('no admin right, or admin without invite-users: 403 "You don\'t have permission to view join requests", no job', async () => {
        const ch = await tgCreateChannel(s.tg, { title: 'Locked', username: 'locked_chan' });
        await tgAddJoinRequests(s.tg, { chat_id: ch.id, count: 3 });
        const jobsBefore = (await loadJobs(s.client)).length;
        for (const stage of ['not an admin', 'admin without can_invite_users']) {
            if (stage !== 'not an admin') await makeAdmin(s.tg, ch.id, acc.id, false);
            const r = await s.client.post('/api/sessions/loader/load', { channel: '@locked_chan' });
            assert.equal(r.status, 403, `${stage}: ${r.status} ${r.text}`);
            assert.equal(r.json.error.code, 'no_permission');
            assert.equal(r.json.error.message, "You don't have permission to view join requests");
        }
        assert.equal((await loadJobs(s.client)).length, jobsBefore, 'no load job was created');
        assert.equal((await requestsOf(s.client, ch.id)).length, 0);
    });

    test('an unknown channel or session is a 4xx, no job', async () => {
        const jobsBefore = (await loadJobs(s.client)).length;
        const r = await s.client.post('/api/sessions/loader/load', { channel: '@no_such_channel_here' });
        assert.ok(r.status >= 400 && r.status < 500, `${r.status} ${r.text}`);
        const r2 = await s.client.post('/api/sessions/nobody/load', { channel: '@test_channel_1' });
        assert.equal(r2.status, 404, r2.text);
        assert.equal((await loadJobs(s.client)).length, jobsBefore);
    });

    test('channel as -100 id, @username and t.me link: each loads its pending requests with date and about', async () => {
        const forms = [];
        for (const [i, kind] of ['id', 'username', 'link'].entries()) {
            const ch = await tgCreateChannel(s.tg, { title: `Form ${kind}`, username: `form_${kind}_chan` });
            await makeAdmin(s.tg, ch.id, acc.id, true);
            const want = new Map();
            for (let k = 0; k < 4; k++) {
                const u = await tgCreateUser(s.tg, { first_name: `F${i}${k}`, username: `form_${kind}_u${k}`, bio: `about ${kind} ${k}` });
                const date = 1700000000 + i * 1000 + k;
                await tgAddJoinRequests(s.tg, { chat_id: ch.id, user_id: u.id, date });
                want.set(u.id, { date, bio: `about ${kind} ${k}`, username: `form_${kind}_u${k}` });
            }
            const channel = kind === 'id' ? String(ch.id) : kind === 'username' ? '@form_username_chan' : 'https://t.me/form_link_chan';
            forms.push({ kind, ch, want, channel });
        }
        for (const f of forms) {
            const r = await s.client.post('/api/sessions/loader/load', { channel: f.channel });
            assert.equal(r.status, 202, `${f.kind} ${f.channel}: ${r.status} ${r.text}`);
            assert.equal(r.json.job.kind, 'load');
            assert.equal(r.json.job.via, 'loader');
            const job = await waitLoadJob(s.client, r.json.job.id);
            assert.equal(job.state, 'done', JSON.stringify(job));
            assert.equal(job.total, 4);
            assert.equal(job.done, 4);
            const rows = await requestsOf(s.client, f.ch.id);
            assert.equal(rows.length, 4, `${f.kind}: ${JSON.stringify(rows)}`);
            for (const row of rows) {
                const w = f.want.get(row.user_id);
                assert.ok(w, `unexpected user ${row.user_id}`);
                assert.equal(row.status, 'pending');
                assert.equal(row.date, w.date, "Telegram's date");
                assert.equal(row.bio, w.bio, 'the about text');
                assert.equal(row.username, w.username);
            }
        }
    });

    test('default limit 1,000; "all" loads every pending request; no duplicates', { timeout: 120000 }, async () => {
        const ch = await tgCreateChannel(s.tg, { title: 'Big', username: 'big_chan' });
        await makeAdmin(s.tg, ch.id, acc.id, true);
        await tgAddJoinRequests(s.tg, { chat_id: ch.id, count: 2500, first_name: 'Bulk', bio: 'bulk about' });
        const r = await s.client.post('/api/sessions/loader/load', { channel: '@big_chan' });
        assert.equal(r.status, 202, r.text);
        const job = await waitLoadJob(s.client, r.json.job.id);
        assert.equal(job.state, 'done', JSON.stringify(job));
        assert.equal(job.total, 1000);
        assert.equal(job.done, 1000);
        let rows = await requestsOf(s.client, ch.id);
        assert.equal(rows.length, 1000);
        assertNoDuplicates(rows);

        const r2 = await s.client.post('/api/sessions/loader/load', { channel: '@big_chan', limit: 'all' });
        assert.equal(r2.status, 202, r2.text);
        const job2 = await waitLoadJob(s.client, r2.json.job.id);
        assert.equal(job2.state, 'done', JSON.stringify(job2));
        assert.equal(job2.total, 2500);
        assert.equal(job2.done, 2500);
        rows = await requestsOf(s.client, ch.id);
        assert.equal(rows.length, 2500);
        assertNoDuplicates(rows);
        assert.ok(rows.every((x) => x.status === 'pending' && x.bio === 'bulk about'));

        const r3 = await s.client.post('/api/sessions/loader/load', { channel: '@big_chan', limit: 1234 });
        assert.equal(r3.status, 202, r3.text);
        assert.equal((await waitLoadJob(s.client, r3.json.job.id)).total, 1234);
        for (const bad of [0, -5, 'some', 1.5]) {
            const rb = await s.client.post('/api/sessions/loader/load', { channel: '@big_chan', limit: bad });
            assert.equal(rb.status, 400, `limit ${JSON.stringify(bad)}: ${rb.status} ${rb.text}`);
        }
    });

    test('3,000 requests the bot recorded first: the load adds no duplicate and keeps what the bot saw', { timeout: 180000 }, async () => {
        const chatId = s.world.chatIds[0]; // the bot is its admin: it receives every request
        await makeAdmin(s.tg, chatId, acc.id, true);
        const date = 1710000000;
        const special = await tgCreateUser(s.tg, { first_name: 'Linky', username: 'linky_user', bio: 'came by link' });
        await tgAddJoinRequests(s.tg, { chat_id: chatId, user_id: special.id, invite_link: 'https://t.me/+Special', date: date + 50 });
        await tgAddJoinRequests(s.tg, { chat_id: chatId, count: 2999, first_name: 'Botseen', bio: 'seen by the bot', date });
        await waitFor(async () => (await counts(s.client, { chat_id: chatId })).total >= 3000,
            { timeoutMs: 120000, intervalMs: 200, what: 'the bot to record 3,000 requests' });
        const bySeen = await requestsOf(s.client, chatId);
        assert.equal(bySeen.length, 3000);
        const idsBefore = new Map(bySeen.map((x) => [x.user_id, x.id]));

        const r = await s.client.post('/api/sessions/loader/load', { channel: String(chatId), limit: 'all' });
        assert.equal(r.status, 202, r.text);
        const job = await waitLoadJob(s.client, r.json.job.id, { timeoutMs: 120000 });
        assert.equal(job.state, 'done', JSON.stringify(job));
        assert.equal(job.total, 3000);
        assert.equal(job.done, 3000, 'done counts requests recorded, new or already known');
        const rows = await requestsOf(s.client, chatId);
        assert.equal(rows.length, 3000, 'no duplicates');
        assertNoDuplicates(rows);
        for (const row of rows) {
            assert.equal(row.id, idsBefore.get(row.user_id), 'the same rows as the bot recorded');
            assert.equal(row.status, 'pending');
        }
        const sp = rows.find((x) => x.user_id === special.id);
        assert.equal(sp.invite_link, 'https://t.me/+Special', 'the invite link the bot saw is kept');
        assert.equal(sp.date, date + 50);
        assert.equal(sp.bio, 'came by link');
        assert.ok(rows.filter((x) => x.user_id !== special.id).every((x) => x.date === date && x.bio === 'seen by the bot'));
    });
});
