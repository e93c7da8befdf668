// Decisions made in the Telegram app (issue 15, item 4): another admin approves or declines a
// request in the app (tgsim's POST /control/join-requests/decide). doorman notices and records
// who decided:
// - through a session, from the channel's admin log (joins by request with approved_by): on
//   demand (POST /api/decisions/check), periodically (DOORMAN_TELEGRAM_DECISIONS_S), and before
//   an Approve All through the session, which then skips those requests; declines, which leave
//   no event, from the channel's pending list read through the session (on demand and
//   periodically);
// - through the bot, from HIDE_REQUESTER_MISSING when it decides one Telegram had handled.
// Each such request shows decided_via "(telegram)" and who decided, with an audit entry.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../lib/processes.mjs';
import { tgCreateUser, tgMakeAdmin } from '../lib/tgsim.mjs';
import { auditAll, decide, listAll, waitRecorded } from '../lib/api.mjs';
import { newUserSession } from '../lib/sessions.mjs';
import { startSessionStack } from '../lib/stacks.mjs';

const SESS = 'watcher';
const VIA = '(telegram)';

describe('decisions made in Telegram', () => {
    let s, chat, other;
    before(async () => {
        s = await startSessionStack({ world: { channels: 1, pending: 12 }, configureBot: true, doormanEnv: { DOORMAN_TELEGRAM_DECISIONS_S: '1' } });
        chat = s.world.chatIds[0];
        await waitRecorded(s.client, 12);
        const acc = (await newUserSession(s.client, s.tg, { name: SESS, first_name: 'Watcher' })).account;
        await tgMakeAdmin(s.tg, chat, acc.id, true);
        // the other admin, who decides in the app
        other = await tgCreateUser(s.tg, { first_name: 'Olga', username: 'olga_admin' });
        await tgMakeAdmin(s.tg, chat, other.id, true);
    });
    after(async () => { await s?.cleanup(); });

    const pendingRows = async () => listAll(s.client, { status: 'pending' });
    const inApp = (user_id, approve) => s.tg.control('POST', '/control/join-requests/decide', { chat_id: chat, user_id, approve, by: other.id });
    const row = async (user_id) => (await listAll(s.client)).find((r) => r.user_id === user_id);

    test('through a session: the admin log names who approved, the pending list shows the decline; a second check changes nothing', async () => {
        const [r1, r2] = await pendingRows();
        await inApp(r1.user_id, true);
        await inApp(r2.user_id, false);
        // the periodic check may already have seen it: either way the result is the same
        const c = await s.client.post('/api/decisions/check', { chat_id: chat, session_name: SESS });
        assert.equal(c.status, 200, c.text);
        assert.ok(c.json.recorded <= 2);
        const d = await row(r1.user_id);
        assert.equal(d.status, 'approved');
        assert.equal(d.decided_via, VIA);
        assert.equal(d.decided_by, '@olga_admin');
        assert.equal(typeof d.decided_at, 'number');
        // a decline leaves no admin-log event: Telegram no longer lists it as pending (a periodic
        // check that read the list between the two decisions leaves it to the next check)
        let d2;
        await waitFor(async () => (d2 = await row(r2.user_id)).status === 'declined',
            { timeoutMs: 10000, what: 'the decline made in the app recorded' });
        assert.equal(d2.decided_via, VIA);
        assert.equal(d2.decided_by, '', 'Telegram does not say who declined');
        const au = (await auditAll(s.client)).filter((e) => e.request_id === r1.id);
        assert.equal(au.length, 1, JSON.stringify(au));
        assert.equal(au[0].action, 'approve');
        assert.equal(au[0].via, VIA);
        assert.equal(au[0].admin, '@olga_admin');
        assert.equal(au[0].detail, 'decided in Telegram by @olga_admin');
        const again = await s.client.post('/api/decisions/check', { chat_id: chat, session_name: SESS });
        assert.equal(again.json.recorded, 0);
        assert.equal((await auditAll(s.client)).filter((e) => e.request_id === r1.id).length, 1);
        const bad = await s.client.post('/api/decisions/check', { chat_id: chat });
        assert.equal(bad.status, 400, 'the bot cannot read the admin log');
        assert.match(bad.json.error.message, /session_name/);
    });

    test('through the bot: HIDE_REQUESTER_MISSING records the request as decided in Telegram', async () => {
        // declined in the app; the job may come before the periodic check or after it: the
        // request ends declined in Telegram either way, and the bot's call is already handled
        const target = (await pendingRows())[0];
        await inApp(target.user_id, false);
        const job = await decide(s.client, 'approve', { request_ids: [target.id] });
        assert.equal(job.skipped, 1, JSON.stringify(job));
        const d = await row(target.user_id);
        assert.notEqual(d.status, 'pending');
        assert.equal(d.decided_via, VIA);
        assert.equal(d.decided_by, '', 'Telegram does not say who');
        const au = (await auditAll(s.client)).find((e) => e.request_id === target.id);
        assert.equal(au.result, 'already_handled');
    });

    test("the admin log corrects what HIDE_REQUESTER_MISSING could not tell: an approval and who made it", async () => {
        const r = (await pendingRows())[0];
        await inApp(r.user_id, true);
        // the bot declines it: Telegram says only "already handled", and the job's kind is the
        // guess; the admin log (the periodic check, or this one) says it was approved, by whom
        await decide(s.client, 'deny', { request_ids: [r.id] });
        await s.client.post('/api/decisions/check', { chat_id: chat, session_name: SESS });
        await waitFor(async () => (await row(r.user_id)).status === 'approved', { what: 'the correction' });
        const d = await row(r.user_id);
        assert.equal(d.decided_via, VIA);
        assert.equal(d.decided_by, '@olga_admin');
    });

    test('periodically: an approval and a decline in the app are noticed without anyone asking', async () => {
        const [r, q] = await pendingRows();
        await inApp(r.user_id, true);
        await inApp(q.user_id, false);
        await waitFor(async () => (await row(r.user_id)).decided_via === VIA && (await row(q.user_id)).decided_via === VIA,
            { timeoutMs: 15000, what: 'the periodic check' });
        assert.equal((await row(r.user_id)).decided_by, '@olga_admin');
        assert.equal((await row(r.user_id)).status, 'approved');
        assert.equal((await row(q.user_id)).status, 'declined');
    });

    test('Approve All through the session first records approvals made in the app, then skips them', async () => {
        const rows = await pendingRows();
        assert.ok(rows.length >= 3);
        // the periodic check may see it first: the outcome is the same
        await inApp(rows[0].user_id, true);
        const job = await decide(s.client, 'approve-all', { filter: { chat_id: chat }, session_name: SESS });
        assert.equal(job.state, 'done', JSON.stringify(job));
        const d = await row(rows[0].user_id);
        assert.equal(d.decided_via, VIA, 'the app approval keeps its admin');
        assert.equal(d.decided_by, '@olga_admin');
        for (const r of rows.slice(1)) {
            const x = await row(r.user_id);
            assert.equal(x.status, 'approved');
            assert.equal(x.decided_via, SESS);
        }
        assert.equal((await pendingRows()).length, 0);
    });
});
