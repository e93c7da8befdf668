// Choosing who decides (issue 5, Proof): what cannot be done and says so.
// - GET /api/sessions/list offers only active sessions;
// - an inactive (revoked and checked) or unknown session: 400 naming it, nothing created or changed
//   (doorman's rows, jobs and audit log, and tgsim's records, compared before and after);
// - preflight: a fresh check of what the account can do per channel (admin with the invite-users
//   right, or why not), for the bot and for sessions; a key revoked since its last check shows;
// - deciding anyway through an account without the right: per-request failures with a clear error,
//   nothing decided in Telegram, audited with via = the session;
// - the choice of account remembered per admin (two admins), across a restart.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tgJoinRequests, tgMakeAdmin, tgMismatches, tgRevoke } from '../lib/tgsim.mjs';
import { createAdmin } from '../lib/doorman.mjs';
import { listAll, waitRecorded, waitJob, auditAll, snapshot, Client } from '../lib/api.mjs';
import { newUserSession, listSessions } from '../lib/sessions.mjs';
import { startSessionStack } from '../lib/stacks.mjs';

const PENDING = 16;
const ENDPOINTS = ['approve', 'deny', 'approve-all', 'deny-all'];

describe('who decides: refusals, preflight, failures, preferences', () => {
    let s, chatA, chatB, good, norights, stale;
    const taken = new Set();
    before(async () => {
        s = await startSessionStack({ world: { channels: 2, pending: PENDING }, configureBot: true });
        [chatA, chatB] = s.world.chatIds;
        await waitRecorded(s.client, PENDING);
        good = (await newUserSession(s.client, s.tg, { name: 'good', first_name: 'Good' })).account;
        await tgMakeAdmin(s.tg, chatA, good.id, true);
        await tgMakeAdmin(s.tg, chatB, good.id, true);
        // admin of A without the invite-users right, not an admin of B
        norights = (await newUserSession(s.client, s.tg, { name: 'norights', first_name: 'Weak' })).account;
        await tgMakeAdmin(s.tg, chatA, norights.id, false);
        const rev = (await newUserSession(s.client, s.tg, { name: 'revoked', first_name: 'Gone' })).account;
        await tgMakeAdmin(s.tg, chatA, rev.id, true);
        await tgRevoke(s.tg, rev.id, 'SESSION_REVOKED');
        const chk = await s.client.post('/api/sessions/revoked/check', {});
        assert.equal(chk.status, 200, chk.text);
        assert.equal(chk.json.session.status, 'invalid', chk.text);
        stale = (await newUserSession(s.client, s.tg, { name: 'stale', first_name: 'Stale' })).account;
        await tgMakeAdmin(s.tg, chatA, stale.id, true);
    });
    after(async () => { await s?.cleanup(); });

    async function take(chatId, n) {
        const rows = (await listAll(s.client, { status: 'pending', chat_id: String(chatId) })).filter((r) => !taken.has(r.id)).slice(0, n);
        assert.equal(rows.length, n, `${n} pending requests left in ${chatId}`);
        for (const r of rows) taken.add(r.id);
        return rows;
    }

    // Everything a refused request must leave as it was: doorman's rows, counts, jobs, audit log
    // (decisions), and tgsim's records.
    async function world() {
        const audit = (await auditAll(s.client)).filter((e) => e.action === 'approve' || e.action === 'decline');
        return { dm: await snapshot(s.client), audit: audit.length, tg: JSON.stringify(await tgJoinRequests(s.tg)) };
    }

    function bodyFor(ep, ids, session_name) {
        return ep.endsWith('-all') ? { filter: { chat_id: chatA }, session_name } : { request_ids: ids, session_name };
    }

    test('GET /api/sessions/list offers only active sessions', async () => {
        const all = await listSessions(s.client, '/api/sessions');
        assert.equal(all.find((x) => x.name === 'revoked')?.status, 'invalid', JSON.stringify(all));
        const active = await listSessions(s.client, '/api/sessions/list');
        assert.deepEqual(active.map((x) => x.name).sort(), ['good', 'norights', 'stale'], JSON.stringify(active));
        for (const x of active) {
            assert.equal(x.status, 'active');
            assert.equal(x.type, 'user');
            assert.equal(typeof x.account?.id, 'number', 'the account is shown so the admin knows who decides');
        }
        assert.equal(active.find((x) => x.name === 'good').account.id, good.id);
    });

    test('an inactive session: 400 naming it and why, on all four endpoints; nothing changes', async () => {
        const ids = (await take(chatA, 2)).map((r) => r.id);
        const before0 = await world();
        for (const ep of ENDPOINTS) {
            for (const body of [bodyFor(ep, ids, 'revoked'), ...(ep.endsWith('-all') ? [{ session_name: 'revoked' }] : [])]) {
                const r = await s.client.post(`/api/invite-requests/${ep}`, body);
                assert.equal(r.status, 400, `${ep} ${JSON.stringify(body)}: ${r.status} ${r.text}`);
                assert.equal(r.json?.error?.code, 'bad_request', r.text);
                const m = r.json.error.message;
                assert.ok(m.includes('revoked'), `names the session: ${m}`);
                assert.match(m, /not active/i, `says why: ${m}`);
                assert.match(m, /invalid/i, `gives its status: ${m}`);
            }
        }
        assert.deepEqual(await world(), before0, 'no job, no decision, nothing in Telegram');
        // preflight answers for an inactive session: its status says why
        const pf = await s.client.post('/api/invite-requests/preflight', { session_name: 'revoked', request_ids: ids });
        assert.equal(pf.status, 200, pf.text);
        assert.equal(pf.json.account.ok, false, pf.text);
        assert.equal(pf.json.account.status, 'invalid', pf.text);
        assert.ok(pf.json.channels.length > 0 && pf.json.channels.every((c) => c.can_decide === false && c.reason), pf.text);
        for (const id of ids) taken.delete(id);
    });

    test('an unknown session, or a session_name of the wrong type: 400, nothing changes', async () => {
        const ids = (await take(chatA, 1)).map((r) => r.id);
        const before0 = await world();
        for (const ep of ENDPOINTS) {
            const r = await s.client.post(`/api/invite-requests/${ep}`, bodyFor(ep, ids, 'no_such_sess'));
            assert.equal(r.status, 400, `${ep}: ${r.status} ${r.text}`);
            assert.equal(r.json?.error?.code, 'bad_request', r.text);
            assert.ok(r.json.error.message.includes('no_such_sess'), `names it: ${r.json.error.message}`);
            for (const bad of [42, true, { name: 'good' }, []]) {
                const rb = await s.client.post(`/api/invite-requests/${ep}`, bodyFor(ep, ids, bad));
                assert.equal(rb.status, 400, `${ep} session_name ${JSON.stringify(bad)}: ${rb.status} ${rb.text}`);
                assert.equal(rb.json?.error?.code, 'bad_request', rb.text);
                assert.match(rb.json.error.message, /session_name/, `names the field: ${rb.json.error.message}`);
            }
        }
        assert.deepEqual(await world(), before0);
        const pf = await s.client.post('/api/invite-requests/preflight', { session_name: 'no_such_sess', request_ids: ids });
        assert.equal(pf.status, 400, `preflight of an unknown session: ${pf.status} ${pf.text}`);
        assert.ok(pf.json.error.message.includes('no_such_sess'), pf.text);
        for (const id of ids) taken.delete(id);
    });

    function channelOf(pf, chatId) {
        const c = pf.channels.find((x) => x.chat_id === chatId);
        assert.ok(c, `preflight lists channel ${chatId}: ${JSON.stringify(pf)}`);
        return c;
    }

    test('preflight: the bot and a capable session can decide in both channels', async () => {
        const ids = [...(await take(chatA, 2)), ...(await take(chatB, 1))].map((r) => r.id);
        for (const [session_name, via] of [[null, 'bot'], ['good', 'good']]) {
            const r = await s.client.post('/api/invite-requests/preflight', { session_name, request_ids: ids });
            assert.equal(r.status, 200, `${via}: ${r.status} ${r.text}`);
            assert.equal(r.json.via, via);
            assert.equal(r.json.account.ok, true, JSON.stringify(r.json));
            assert.equal(r.json.channels.length, 2, JSON.stringify(r.json));
            assert.equal(r.json.unchecked, 0);
            for (const [chatId, title] of [[chatA, 'Channel 1'], [chatB, 'Channel 2']]) {
                const c = channelOf(r.json, chatId);
                assert.equal(c.can_decide, true, `${via} in ${title}: ${JSON.stringify(c)}`);
                assert.equal(c.title, title);
                assert.equal(typeof c.pending, 'number');
            }
        }
        const byFilter = await s.client.post('/api/invite-requests/preflight', { session_name: 'good', filter: { chat_id: chatB } });
        assert.equal(byFilter.status, 200, byFilter.text);
        assert.deepEqual(byFilter.json.channels.map((c) => [c.chat_id, c.can_decide]), [[chatB, true]]);
        for (const id of ids) taken.delete(id);
    });

    test('an account without the right: preflight says why per channel; deciding anyway fails each request clearly, nothing decided', async () => {
        const rowsA = await take(chatA, 2);
        const rowsB = await take(chatB, 1);
        const rows = [...rowsA, ...rowsB];
        const pf = await s.client.post('/api/invite-requests/preflight', { session_name: 'norights', request_ids: rows.map((r) => r.id) });
        assert.equal(pf.status, 200, pf.text);
        assert.equal(pf.json.via, 'norights');
        assert.equal(pf.json.account.ok, true, 'the key itself works');
        const a = channelOf(pf.json, chatA), b = channelOf(pf.json, chatB);
        assert.equal(a.can_decide, false, JSON.stringify(a));
        assert.equal(b.can_decide, false, JSON.stringify(b));
        assert.match(a.reason, /invit/i, `admin without the invite-users right: ${a.reason}`);
        assert.match(b.reason, /admin/i, `not an admin: ${b.reason}`);
        assert.equal(a.pending, 2);
        assert.equal(b.pending, 1);

        const r = await s.client.post('/api/invite-requests/approve', { request_ids: rows.map((x) => x.id), session_name: 'norights' });
        assert.equal(r.status, 202, r.text);
        assert.equal(r.json.job.via, 'norights');
        const fin = await waitJob(s.client, r.json.job.id, { timeoutMs: 60000 });
        assert.equal(fin.job.state, 'done', `a job with failed items still finishes: ${JSON.stringify(fin)}`);
        assert.deepEqual([fin.job.total, fin.job.done, fin.job.skipped, fin.job.failed], [3, 0, 0, 3], JSON.stringify(fin));
        assert.equal(fin.errors.length, 3, JSON.stringify(fin.errors));
        for (const e of fin.errors) {
            const row = rows.find((x) => x.id === e.request_id);
            assert.ok(row, `the error names one of the job's requests: ${JSON.stringify(e)}`);
            assert.equal(e.user_id, row.user_id);
            assert.match(e.error, /CHAT_ADMIN_REQUIRED|admin|right|permission/i, `a clear error: ${e.error}`);
        }
        assert.deepEqual(await tgMismatches(s.tg, chatA, rowsA.map((x) => x.user_id), { status: 'pending', decided_by: null, decisions: 0 }), []);
        assert.deepEqual(await tgMismatches(s.tg, chatB, rowsB.map((x) => x.user_id), { status: 'pending', decided_by: null, decisions: 0 }), []);
        const now = (await listAll(s.client)).filter((x) => rows.some((y) => y.id === x.id));
        for (const x of now) {
            assert.equal(x.status, 'pending');
            assert.ok(x.last_error, `the request shows its error: ${JSON.stringify(x)}`);
        }
        const audit = (await auditAll(s.client)).filter((e) => e.job_id === fin.job.id);
        assert.equal(audit.length, 3, JSON.stringify(audit));
        for (const e of audit) {
            assert.equal(e.action, 'approve');
            assert.equal(e.via, 'norights');
            assert.equal(e.result, 'error');
            assert.ok(e.detail, 'the audit entry says what went wrong');
        }
        // the same requests still go through an account that can
        const ok = await s.client.post('/api/invite-requests/approve', { request_ids: rows.map((x) => x.id), session_name: 'good' });
        assert.equal(ok.status, 202, ok.text);
        const fin2 = await waitJob(s.client, ok.json.job.id, { timeoutMs: 60000 });
        assert.deepEqual([fin2.job.done, fin2.job.failed], [3, 0], JSON.stringify(fin2));
        assert.deepEqual(await tgMismatches(s.tg, chatA, rowsA.map((x) => x.user_id), { status: 'approved', decided_by: good.id, decisions: 1 }), []);
        assert.deepEqual(await tgMismatches(s.tg, chatB, rowsB.map((x) => x.user_id), { status: 'approved', decided_by: good.id, decisions: 1 }), []);
    });

    // "an admin with the invite-users right, or why not" (docs/api.md): the fix differs (make
    // the account an admin, or give it the right), so the reason tells the two cases apart.
    test('preflight says why not: "not an admin" differs from "an admin without the invite-users right"', async () => {
        const ids = [...(await take(chatA, 1)), ...(await take(chatB, 1))].map((r) => r.id);
        const pf = await s.client.post('/api/invite-requests/preflight', { session_name: 'norights', request_ids: ids });
        assert.equal(pf.status, 200, pf.text);
        const a = channelOf(pf.json, chatA), b = channelOf(pf.json, chatB);
        const generic = (c) => c.reason.replaceAll(c.title, '<channel>');
        assert.notEqual(generic(a), generic(b),
            `admin without the right in ${a.title}: "${a.reason}"; not an admin of ${b.title}: "${b.reason}"`);
        for (const id of ids) taken.delete(id);
    });

    test('preflight is a fresh check: a key revoked since its last check shows as not ok', async () => {
        const ids = (await take(chatA, 1)).map((r) => r.id);
        await tgRevoke(s.tg, stale.id, 'AUTH_KEY_UNREGISTERED');
        const r = await s.client.post('/api/invite-requests/preflight', { session_name: 'stale', request_ids: ids });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.account.ok, false, JSON.stringify(r.json));
        assert.equal(r.json.account.status, 'invalid', JSON.stringify(r.json));
        assert.ok(r.json.account.error, `says what is wrong: ${JSON.stringify(r.json.account)}`);
        assert.ok(r.json.channels.every((c) => c.can_decide === false), JSON.stringify(r.json.channels));
        for (const id of ids) taken.delete(id);
    });

    test('the chosen account is remembered per admin, across a restart', async () => {
        assert.equal(createAdmin(s.dataDir, 'bob', 'bob password 123').status, 0);
        const bob = new Client(s.dm);
        await bob.login('bob', 'bob password 123');
        const get = async (c) => {
            const r = await c.get('/api/me/preferences');
            assert.equal(r.status, 200, r.text);
            return r.json.approve_via;
        };
        const set = async (c, v) => {
            const r = await c.post('/api/me/preferences', { approve_via: v });
            assert.equal(r.status, 200, `${JSON.stringify(v)}: ${r.status} ${r.text}`);
            assert.equal(r.json.approve_via, v);
        };
        assert.equal(await get(s.client), null, 'nothing chosen yet: the bot');
        assert.equal(await get(bob), null);
        await set(s.client, 'good');
        assert.equal(await get(bob), null, "one admin's choice is not another's");
        await set(bob, 'norights');
        await set(bob, null);
        await set(bob, 'norights');
        assert.equal(await get(s.client), 'good');
        for (const bad of [7, true, { n: 1 }]) {
            const r = await s.client.post('/api/me/preferences', { approve_via: bad });
            assert.equal(r.status, 400, `approve_via ${JSON.stringify(bad)}: ${r.status} ${r.text}`);
        }
        assert.equal(await get(s.client), 'good', 'a refused change changes nothing');
        const nocsrf = await s.client.post('/api/me/preferences', { approve_via: null }, { csrf: false });
        assert.equal(nocsrf.status, 403, nocsrf.text);
        await s.restart();
        await bob.login('bob', 'bob password 123');
        assert.equal(await get(s.client), 'good', 'remembered across a restart');
        assert.equal(await get(bob), 'norights');
    });
});
