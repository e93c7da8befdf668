// Deciding by itself, durably (issue 13, "Durable"): delayed approvals are in the database with
// their due times and survive a kill -9 (each decided once, not before its time); paced approvals
// go out at most K an hour, oldest first (checked on tgsim's decision times); a request an admin
// decided while its approval waited is not decided again. Runs on PostgreSQL too.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { addRequester, tgJoinRequests } from '../lib/tgsim.mjs';
import { decide, listAll, waitRecorded } from '../lib/api.mjs';
import { waitFor } from '../lib/processes.mjs';
import { startStack } from '../lib/stacks.mjs';

describe('delayed and paced decisions', () => {
    let s, delayed, paced, changed;
    before(async () => {
        s = await startStack({ world: { channels: 3, pending: 0 } });
        [delayed, paced, changed] = s.world.chatIds;
    });
    after(async () => { await s?.cleanup(); });

    const ok = async (p, body) => {
        const r = await s.client.post(p, body);
        assert.equal(r.status, 200, `${p}: ${r.text}`);
        return r.json;
    };
    const tgOf = async (chatId) => new Map((await tgJoinRequests(s.tg, `chat_id=${chatId}`)).map((r) => [r.user_id, r]));
    async function allDecided(chatId, userIds, timeoutMs) {
        let m;
        await waitFor(async () => {
            m = await tgOf(chatId);
            return userIds.every((u) => m.get(u) && m.get(u).status !== 'pending');
        }, { timeoutMs, what: `${userIds.length} requests decided in tgsim` });
        return m;
    }

    test('a delayed approval survives kill -9 and is made once, after its delay', { timeout: 90000 }, async () => {
        await ok('/api/modes', { chat_id: delayed, mode: 'approve_all', delay_seconds: 12 });
        const t0 = Math.floor(Date.now() / 1000);
        const users = [];
        for (let i = 0; i < 4; i++) users.push(await addRequester(s.tg, delayed, { first_name: `Later${i}` }));
        const ids = users.map((u) => u.user_id);
        // verdicts recorded, nothing decided yet
        await waitFor(async () => {
            const items = await listAll(s.client, { chat_id: String(delayed) });
            return items.length === 4 && items.every((r) => r.verdict === 'approve all after 12 s');
        }, { timeoutMs: 10000, what: 'the delayed verdicts' });
        // an admin declines one while it waits: the delayed approval must not undo that
        const mine = (await listAll(s.client, { chat_id: String(delayed) })).find((r) => r.user_id === ids[3]);
        await decide(s.client, 'deny', { request_ids: [mine.id] });

        await s.restart({ kill: true });
        const m = await allDecided(delayed, ids, 60000);
        for (const u of ids.slice(0, 3)) {
            const r = m.get(u);
            assert.equal(r.status, 'approved');
            assert.equal(r.decisions, 1);
            assert.equal(r.approve_calls, 1, 'approved once, not again after the restart');
            assert.ok(r.decided_at >= t0 + 12, `approved at +${r.decided_at - t0} s, not before its delay`);
        }
        const admin = m.get(ids[3]);
        assert.equal(admin.status, 'declined');
        assert.equal(admin.approve_calls, 0, 'the admin\'s decline stands');
    });

    test('paced approvals: at most K an hour, oldest first', { timeout: 60000 }, async () => {
        // 1,800 an hour: one every 2 s
        await ok('/api/modes', { chat_id: paced, mode: 'approve_all', per_hour: 1800 });
        const users = [];
        for (let i = 0; i < 4; i++) users.push(await addRequester(s.tg, paced, { first_name: `Paced${i}` }));
        await waitRecorded(s.client, 4, { query: { chat_id: String(paced) } });
        const m = await allDecided(paced, users.map((u) => u.user_id), 40000);
        const times = users.map((u) => m.get(u.user_id));
        assert.ok(times.every((t) => t.decisions === 1 && t.status === 'approved'));
        const at = times.map((t) => t.decided_at);
        const gaps = at.slice(1).map((t, i) => t - at[i]);
        // in the order they came (the oldest first), about 2 s apart (whole seconds in tgsim)
        assert.ok(gaps.every((g) => g >= 1), `approvals spaced about 2 s apart, oldest first: ${at}`);
        assert.ok(at[3] - at[0] >= 5, `4 approvals at 2 s spacing take 6 s: ${at}`);
    });

    test('a mode changed before its delayed approvals are due: they are judged again under the new one', { timeout: 60000 }, async () => {
        await ok('/api/modes', { chat_id: changed, mode: 'approve_all', delay_seconds: 10 });
        const u = await addRequester(s.tg, changed, { first_name: 'Changed' });
        const t0 = Date.now();
        await waitFor(async () => (await listAll(s.client, { chat_id: String(changed) }))[0]?.verdict === 'approve all after 10 s', { timeoutMs: 8000, what: 'the delayed verdict' });
        await ok('/api/modes', { chat_id: changed, mode: 'manual' });
        await waitFor(async () => (await listAll(s.client, { chat_id: String(changed) }))[0]?.verdict === '', { timeoutMs: 8000, what: 'judged again under manual' });
        // past the old due time (a time bound, not a wait for a state: nothing is to happen)
        await new Promise((r) => setTimeout(r, Math.max(0, t0 + 13000 - Date.now())));
        const rec = (await tgJoinRequests(s.tg, `chat_id=${changed}`)).find((r) => r.user_id === u.user_id);
        assert.equal(rec.status, 'pending', 'the old mode\'s approval was not made');
        assert.equal(rec.approve_calls, 0);
    });
});
