// Choosing who decides (issue 5, Proof): Approve / Deny Selected through the bot, a user session
// and a bot session. Checked in tgsim's records (who decided, exactly once), in doorman's rows,
// jobs and audit log (via = the session's name); requests not chosen stay untouched.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tgJoinRequests, tgMakeAdmin, tgMismatches } from '../lib/tgsim.mjs';
import { listAll, waitRecorded, waitJob, auditAll } from '../lib/api.mjs';
import { newUserSession, newBotSession } from '../lib/sessions.mjs';
import { ADMIN, startSessionStack } from '../lib/stacks.mjs';

const PENDING = 24;

describe('decide selected requests through the bot or a session', () => {
    let s, chat, userAcc, sessBot;
    const taken = new Set();
    before(async () => {
        s = await startSessionStack({ world: { channels: 1, pending: PENDING }, configureBot: true });
        chat = s.world.chatIds[0];
        await waitRecorded(s.client, PENDING);
        userAcc = (await newUserSession(s.client, s.tg, { name: 'ann_sess', first_name: 'Ann' })).account;
        await tgMakeAdmin(s.tg, chat, userAcc.id, true);
        sessBot = (await newBotSession(s.client, s.tg, { name: 'door_bot_sess', username: 'via_session_bot' })).bot;
        await tgMakeAdmin(s.tg, chat, sessBot.id, true);
    });
    after(async () => { await s?.cleanup(); });

    // n pending rows no other test used.
    async function take(n) {
        const rows = (await listAll(s.client, { status: 'pending' })).filter((r) => !taken.has(r.id)).slice(0, n);
        assert.equal(rows.length, n, `${n} pending requests left`);
        for (const r of rows) taken.add(r.id);
        return rows;
    }

    // tgsim's call counts of the decision methods (GET /control/stats), or their change since `since`.
    async function decisionCalls(since) {
        const c = (await s.tg.control('GET', '/control/stats')).calls;
        const out = {};
        for (const m of ['approveChatJoinRequest', 'declineChatJoinRequest', 'messages.hideChatJoinRequest']) {
            out[m] = (c[m] || 0) - (since ? since[m] : 0);
        }
        return out;
    }

    // Posts the decision, checks the job's first answer and its end, then doorman's rows, tgsim's
    // records, the audit log, and that every other request kept its state in tgsim.
    async function decideAndCheck(action, rows, sessionField, { via, decidedBy, status }) {
        const tgBefore = await tgJoinRequests(s.tg);
        const calls0 = await decisionCalls();
        const body = { request_ids: rows.map((r) => r.id), ...sessionField };
        const r = await s.client.post(`/api/invite-requests/${action}`, body);
        assert.equal(r.status, 202, `${action} ${JSON.stringify(body)}: ${r.status} ${r.text}`);
        const j0 = r.json.job;
        assert.equal(j0.kind, status === 'approved' ? 'approve' : 'decline');
        assert.equal(j0.via, via, 'the job names who decides');
        assert.equal(j0.admin, ADMIN.name);
        assert.equal(j0.total, rows.length);
        const fin = await waitJob(s.client, j0.id, { timeoutMs: 60000 });
        const job = fin.job;
        assert.equal(job.state, 'done', JSON.stringify(fin));
        assert.deepEqual([job.total, job.done, job.skipped, job.failed], [rows.length, rows.length, 0, 0], JSON.stringify(fin));
        assert.equal(job.via, via);
        assert.deepEqual(fin.errors, []);
        const botMethod = status === 'approved' ? 'approveChatJoinRequest' : 'declineChatJoinRequest';
        const all = await decisionCalls(calls0);
        const d = { [botMethod]: all[botMethod], 'messages.hideChatJoinRequest': all['messages.hideChatJoinRequest'] };
        assert.deepEqual(d, via === 'bot' ? { [botMethod]: rows.length, 'messages.hideChatJoinRequest': 0 }
            : { [botMethod]: 0, 'messages.hideChatJoinRequest': rows.length },
            `one call per request, on ${via === 'bot' ? 'the Bot API' : 'MTProto'} only`);

        assert.deepEqual(await tgMismatches(s.tg, chat, rows.map((x) => x.user_id), { status, decided_by: decidedBy, decisions: 1 }), [],
            `tgsim: each ${status} once by ${decidedBy} (${via})`);
        const ids = new Set(rows.map((x) => x.id));
        const others = tgBefore.filter((t) => !rows.some((x) => x.user_id === t.user_id && x.chat_id === t.chat_id));
        const tgAfter = new Map((await tgJoinRequests(s.tg)).map((t) => [`${t.chat_id}/${t.user_id}`, t]));
        for (const t of others) {
            const a = tgAfter.get(`${t.chat_id}/${t.user_id}`);
            assert.deepEqual([a.status, a.decided_by, a.decisions], [t.status, t.decided_by, t.decisions], `${t.chat_id}/${t.user_id} untouched`);
        }

        const now = (await listAll(s.client)).filter((x) => ids.has(x.id));
        assert.equal(now.length, rows.length);
        for (const d of now) {
            assert.equal(d.status, status, `doorman status of request ${d.id}`);
            assert.equal(d.decided_by, ADMIN.name);
            assert.equal(d.decided_via, via, `decided_via of request ${d.id}`);
            assert.equal(typeof d.decided_at, 'number');
        }

        const audit = (await auditAll(s.client)).filter((e) => e.job_id === job.id);
        assert.equal(audit.length, rows.length, `one audit entry per request: ${JSON.stringify(audit).slice(0, 800)}`);
        for (const e of audit) {
            assert.equal(e.action, status === 'approved' ? 'approve' : 'decline');
            assert.equal(e.via, via, 'audited with the account that decided');
            assert.equal(e.admin, ADMIN.name);
            assert.equal(e.result, 'ok');
            assert.equal(e.chat_id, chat);
            assert.ok(ids.has(e.request_id), `audit entry for request ${e.request_id} of the job`);
            assert.equal(e.user_id, rows.find((x) => x.id === e.request_id).user_id);
        }
        assert.equal(new Set(audit.map((e) => e.request_id)).size, rows.length, 'each request audited once');
        return job;
    }

    test('approve selected via the bot: session_name null, then absent', async () => {
        await decideAndCheck('approve', await take(2), { session_name: null }, { via: 'bot', decidedBy: s.world.botId, status: 'approved' });
        await decideAndCheck('approve', await take(1), {}, { via: 'bot', decidedBy: s.world.botId, status: 'approved' });
    });

    test('approve selected via a user session: decided by that account in Telegram', async () => {
        await decideAndCheck('approve', await take(3), { session_name: 'ann_sess' }, { via: 'ann_sess', decidedBy: userAcc.id, status: 'approved' });
    });

    test('approve selected via a bot session: decided by that bot over MTProto', async () => {
        await decideAndCheck('approve', await take(3), { session_name: 'door_bot_sess' }, { via: 'door_bot_sess', decidedBy: sessBot.id, status: 'approved' });
    });

    test('deny selected via a user session', async () => {
        await decideAndCheck('deny', await take(3), { session_name: 'ann_sess' }, { via: 'ann_sess', decidedBy: userAcc.id, status: 'declined' });
    });

    test('deny selected via a bot session', async () => {
        await decideAndCheck('deny', await take(2), { session_name: 'door_bot_sess' }, { via: 'door_bot_sess', decidedBy: sessBot.id, status: 'declined' });
    });

    test('through a session, a request Telegram already decided is skipped (already_handled), not decided twice', async () => {
        const [gone, fresh] = await take(2);
        // decided behind doorman's back, by the bot straight on the Bot API
        const d = await s.tg.botApi(s.world.token, 'declineChatJoinRequest', { chat_id: chat, user_id: gone.user_id });
        assert.equal(d.json.ok, true, JSON.stringify(d.json));
        const r = await s.client.post('/api/invite-requests/approve', { request_ids: [gone.id, fresh.id], session_name: 'ann_sess' });
        assert.equal(r.status, 202, r.text);
        const fin = await waitJob(s.client, r.json.job.id, { timeoutMs: 60000 });
        assert.equal(fin.job.state, 'done', JSON.stringify(fin));
        assert.deepEqual([fin.job.total, fin.job.done, fin.job.skipped, fin.job.failed], [2, 1, 1, 0], JSON.stringify(fin));
        assert.deepEqual(await tgMismatches(s.tg, chat, [gone.user_id], { status: 'declined', decided_by: s.world.botId, decisions: 1 }), []);
        assert.deepEqual(await tgMismatches(s.tg, chat, [fresh.user_id], { status: 'approved', decided_by: userAcc.id, decisions: 1 }), []);
        const audit = (await auditAll(s.client)).filter((e) => e.job_id === fin.job.id);
        const ae = audit.find((e) => e.request_id === gone.id);
        assert.ok(ae, `the skipped request is audited: ${JSON.stringify(audit)}`);
        assert.equal(ae.result, 'already_handled');
        assert.equal(ae.via, 'ann_sess');
    });
});
