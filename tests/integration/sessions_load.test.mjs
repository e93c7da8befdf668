// Session Manager, Load Requests (issue 4): the permission check, the channel as @username,
// t.me link or -100 id, the default limit of 1,000 against "all", and a 3,000-request load that
// is idempotent with what the bot already recorded (Telegram's date and about text kept).
// The session listens to its updates, as in production: requests for a Load to find reach
// Telegram before the session administers their channel, so its updates tell it nothing of them.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../lib/processes.mjs';
import { tgCreateChannel, tgAddJoinRequests, tgCreateUser } from '../lib/tgsim.mjs';
import { counts, waitLoadJob, requestsOf } from '../lib/api.mjs';
import { newUserSession } from '../lib/sessions.mjs';
import { startSessionStack } from '../lib/stacks.mjs';

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

    // n pending requests in a channel, each from a new user with its own date and about text.
    // Returns Map user id -> what doorman is to record.
    async function addDated(ch, tag, n, base) {
        const want = new Map();
        for (let k = 0; k < n; k++) {
            // Telegram's marks of the user come with MTProto's user (for rules); no language
            const traits = { is_premium: k % 2 === 1, scam: k === 1, fake: k === 2 };
            const u = await tgCreateUser(s.tg, { first_name: `${tag}${k}`, username: `${tag}_u${k}`, bio: `about ${tag} ${k}`, language_code: 'de', ...traits });
            const date = base + k;
            await tgAddJoinRequests(s.tg, { chat_id: ch.id, user_id: u.id, date });
            want.set(u.id, { date, bio: `about ${tag} ${k}`, username: `${tag}_u${k}`, ...traits });
        }
        return want;
    }

    // A Load of channel (limit: the newest that many) records exactly `want`.
    async function loadAndCheck(channel, ch, want, limit) {
        const r = await s.client.post('/api/sessions/loader/load', { channel, ...(limit ? { limit } : {}) });
        assert.equal(r.status, 202, `${channel}: ${r.status} ${r.text}`);
        assert.equal(r.json.job.kind, 'load');
        assert.equal(r.json.job.via, 'loader');
        const job = await waitLoadJob(s.client, r.json.job.id);
        assert.equal(job.state, 'done', JSON.stringify(job));
        assert.equal(job.total, want.size);
        assert.equal(job.done, want.size);
        const rows = await requestsOf(s.client, ch.id);
        assert.equal(rows.length, want.size, `${channel}: ${JSON.stringify(rows).slice(0, 500)}`);
        for (const row of rows) {
            const w = want.get(row.user_id);
            assert.ok(w, `unexpected user ${row.user_id}`);
            assert.equal(row.status, 'pending');
            assert.equal(row.date, w.date, "Telegram's date");
            assert.equal(row.bio, w.bio, 'the about text');
            assert.equal(row.username, w.username);
            assert.deepEqual([row.is_premium, row.is_scam, row.is_fake, row.language_code], [w.is_premium, w.scam, w.fake, ''], `user ${row.user_id}'s marks`);
        }
    }

    test('channel as @username, then by its -100 id; another by t.me link: date and about kept', async () => {
        const a = await tgCreateChannel(s.tg, { title: 'By name', username: 'form_name_chan' });
        const older = await addDated(a, 'fb', 2, 1700000000); // left to the second load
        const want = await addDated(a, 'fa', 4, 1700000100);
        await makeAdmin(s.tg, a.id, acc.id, true);
        await loadAndCheck('@form_name_chan', a, want, 4);
        for (const [k, v] of older) want.set(k, v);
        await loadAndCheck(String(a.id), a, want);

        const b = await tgCreateChannel(s.tg, { title: 'By link', username: 'form_link_chan' });
        const wantB = await addDated(b, 'fl', 3, 1700000200);
        await makeAdmin(s.tg, b.id, acc.id, true);
        await loadAndCheck('https://t.me/form_link_chan', b, wantB);
    });

    test('channel as the -100 id of a channel this session has not met yet', async () => {
        const c = await tgCreateChannel(s.tg, { title: 'By id', username: 'form_id_chan' });
        const want = await addDated(c, 'fi', 3, 1700000300);
        await makeAdmin(s.tg, c.id, acc.id, true);
        await loadAndCheck(String(c.id), c, want);
    });

    test('default limit 1,000; "all" loads every pending request; no duplicates', { timeout: 120000 }, async () => {
        const ch = await tgCreateChannel(s.tg, { title: 'Big', username: 'big_chan' });
        await tgAddJoinRequests(s.tg, { chat_id: ch.id, count: 2500, first_name: 'Bulk', bio: 'bulk about' });
        await makeAdmin(s.tg, ch.id, acc.id, true);
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

        const r = await s.client.post('/api/sessions/loader/load', { channel: '@test_channel_1', limit: 'all' });
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
