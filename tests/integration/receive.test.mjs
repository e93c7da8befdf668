// The bot receives chat_join_request updates by long polling and records each one once, across
// restarts and a kill -9 (issue 2, item 5).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../lib/processes.mjs';
import { addRequester } from '../lib/tgsim.mjs';
import { listAll, counts, waitRecorded, decide } from '../lib/api.mjs';
import { startStack } from '../lib/stacks.mjs';

function key(r) { return `${r.chat_id}/${r.user_id}`; }

function assertUnique(items) {
    const seen = new Map();
    for (const r of items) {
        assert.ok(!seen.has(key(r)), `request ${key(r)} recorded twice: ids ${seen.get(key(r))} and ${r.id}`);
        seen.set(key(r), r.id);
    }
}

describe('receiving join requests (polling)', () => {
    let s;
    const startedAt = Math.floor(Date.now() / 1000) - 5;
    before(async () => { s = await startStack({ world: { channels: 2, pending: 6 } }); });
    after(async () => { await s?.cleanup(); });

    test('requests made in Telegram appear with names, username, bio, invite link, date and chat title', async () => {
        const extra = await addRequester(s.tg, s.world.chatIds[1], {
            first_name: 'Zoë', last_name: 'Ünïcode 🚪', username: 'zoe_u', bio: 'line one\nline "two"', invite_link: 'https://t.me/+TestLink123',
        });
        await waitRecorded(s.client, 7);
        const items = await listAll(s.client);
        assert.equal(items.length, 7);
        assertUnique(items);
        for (const u of s.world.users) {
            const r = items.find((i) => i.user_id === u.user_id);
            assert.ok(r, `request of user ${u.user_id} listed`);
            assert.equal(r.chat_id, u.chat_id);
            assert.equal(r.first_name, u.first_name);
            assert.equal(r.last_name, u.last_name);
            assert.equal(r.username, u.username);
            assert.equal(r.bio, u.bio);
            assert.equal(r.status, 'pending');
            assert.equal(r.decided_at, null);
            assert.equal(typeof r.id, 'number');
            assert.ok(r.date >= startedAt && r.date <= Date.now() / 1000 + 5, `Telegram's date ${r.date}`);
            assert.ok(r.created_at >= startedAt, `created_at ${r.created_at}`);
            const chatIdx = s.world.chatIds.indexOf(u.chat_id);
            assert.equal(r.chat_title, `Channel ${chatIdx + 1}`, 'title from getChat');
        }
        const z = items.find((i) => i.user_id === extra.user_id);
        assert.equal(z.first_name, 'Zoë');
        assert.equal(z.last_name, 'Ünïcode 🚪');
        assert.equal(z.bio, 'line one\nline "two"');
        assert.equal(z.invite_link, 'https://t.me/+TestLink123');
        assert.equal(z.username, 'zoe_u');

        const chats = await s.client.ok('/api/chats');
        const byId = new Map(chats.items.map((c) => [c.chat_id, c]));
        for (const [i, id] of s.world.chatIds.entries()) {
            assert.ok(id < 0, `channel ids are negative: ${id}`);
            assert.equal(byId.get(id)?.title, `Channel ${i + 1}`);
        }
        const st = await s.client.ok('/api/settings');
        assert.ok(st.bot.last_update_at >= startedAt, `settings.bot.last_update_at ${st.bot.last_update_at}`);
        // Polling asks for join requests, and the button presses and private messages of DM
        // challenges (verify_dm.test.mjs).
        const hook = await s.tg.control('GET', `/control/webhooks/${s.world.botId}`);
        assert.deepEqual(hook.allowed_updates, ['chat_join_request', 'callback_query', 'message'], `allowed_updates: ${JSON.stringify(hook.allowed_updates)}`);
    });

    test('a restart records nothing twice and loses nothing', async () => {
        const before = (await listAll(s.client)).map((r) => `${r.id}:${key(r)}`).sort();
        await s.restart();
        // New requests after the restart are received by the new process.
        const u = await addRequester(s.tg, s.world.chatIds[0], { first_name: 'After', username: 'after_restart' });
        await waitFor(async () => (await listAll(s.client)).some((r) => r.user_id === u.user_id),
            { what: 'the request made after the restart to be recorded' });
        const afterItems = await listAll(s.client);
        assertUnique(afterItems);
        const afterKeys = afterItems.filter((r) => r.user_id !== u.user_id).map((r) => `${r.id}:${key(r)}`).sort();
        assert.deepEqual(afterKeys, before, 'the same requests with the same ids');
        assert.equal((await counts(s.client)).total, before.length + 1);
    });

    test('kill -9 while updates flow: every request recorded exactly once after restart', async () => {
        const c0 = (await counts(s.client)).total;
        const N = 400;
        const made = [];
        let killed = false;
        const producer = (async () => {
            for (let i = 0; i < N; i++) {
                made.push(await addRequester(s.tg, s.world.chatIds[i % 2], { first_name: `Flow${i}`, username: `flow_${i}` }));
            }
        })();
        // Kill once some, but not all, have been recorded.
        await waitFor(async () => (await counts(s.client)).total >= c0 + 20, { what: 'the first 20 flowing requests recorded' });
        const madeAtKill = made.length;
        await s.dm.kill();
        killed = true;
        assert.ok(madeAtKill < N, `the kill landed while requests were still being made (${madeAtKill}/${N})`);
        await s.restart();
        await producer;
        assert.ok(killed);
        await waitRecorded(s.client, c0 + N, { timeoutMs: 60000 });
        const items = await listAll(s.client);
        assertUnique(items);
        assert.equal(items.length, c0 + N, 'nothing recorded twice');
        const users = new Set(items.map((r) => r.user_id));
        for (const m of made) assert.ok(users.has(m.user_id), `request of ${m.first_name} (${m.user_id}) lost`);
        // Channel titles come through a cache: hundreds of requests, a few getChat calls.
        const stats = await s.tg.control('GET', '/control/stats');
        const getChat = stats.calls.getChat || 0;
        assert.ok(getChat <= 4 * s.world.chatIds.length, `getChat called ${getChat} times for ${items.length} requests in ${s.world.chatIds.length} chats`);
    });

    test('after a decline the same user may ask again: a new pending row, the old one kept', async () => {
        const u = s.world.users[0];
        const row = (await listAll(s.client)).find((x) => x.user_id === u.user_id && x.chat_id === u.chat_id);
        const job = await decide(s.client, 'deny', { request_ids: [row.id] });
        assert.equal(job.state, 'done');
        const c0 = await counts(s.client);
        await s.tg.control('POST', '/control/join-requests', { chat_id: u.chat_id, user_id: u.user_id });
        await waitFor(async () => (await counts(s.client)).total === c0.total + 1, { what: 'the second request to be recorded' });
        const rows = (await listAll(s.client)).filter((x) => x.user_id === u.user_id && x.chat_id === u.chat_id);
        assert.deepEqual(rows.map((x) => x.status).sort(), ['declined', 'pending']);
        assert.ok(rows.find((x) => x.status === 'pending').id > row.id, 'the new request is a new row');
        // A restart (redelivery) still does not duplicate either.
        await s.restart();
        const again = await counts(s.client);
        assert.equal(again.total, c0.total + 1);
    });
});
