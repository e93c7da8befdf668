// Choosing who decides (issue 5, Proof): Approve All / Deny All through a session.
// - On one channel with no other filter: one messages.hideAllChatJoinRequests, counted by tgsim's
//   GET /control/stats, and shown a second way: the account may make 30 calls a minute, the
//   channel has 250 pending requests, and the job must finish without ever meeting FLOOD_WAIT
//   (one call per request would need 250). Requests Telegram had pending that doorman had not
//   recorded are recorded afterwards, decided; other channels are untouched.
// - With no filter: every channel that has pending requests, each by one call; a channel where the
//   account lacks the invite-users right fails its requests with why, and the job goes on.
// - With a text filter: request by request, only the matching ones (and only those doorman knows;
//   its listener may learn of an older one afterwards, from the pending count of an update).
// The bot is an admin of none of these channels, and their requests reach Telegram before the
// session administers them (so its updates tell it nothing), so doorman learns of requests only
// from the session's Load Requests (and from the job itself). A Load with a limit reads the newest
// requests: the older ones stay known only to Telegram.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../lib/processes.mjs';
import {
    tgCreateChannel, tgAddJoinRequests, tgCreateUser, tgJoinRequests, tgFlood, tgMakeAdmin,
    tgMismatches,
} from '../lib/tgsim.mjs';
import { auditAll, listAll, waitLoadJob, requestsOf } from '../lib/api.mjs';
import { newUserSession } from '../lib/sessions.mjs';
import { ADMIN, startSessionStack } from '../lib/stacks.mjs';

const SESS = 'allsess';

describe('approve all / deny all through a session', () => {
    let s, acc;
    before(async () => {
        s = await startSessionStack({ world: { channels: 1 }, configureBot: true });
        acc = (await newUserSession(s.client, s.tg, { name: SESS, first_name: 'Allie' })).account;
    });
    after(async () => { await s?.cleanup(); });

    // A channel the session administers with `known` pending requests loaded into doorman (a Load
    // of that many, the newest) and `unknown` older ones that only Telegram has, all asked before
    // the session became its admin. Returns {ch, knownIds, unknownIds} (user ids).
    async function channelWith(username, known, unknown, { firstName = 'Req' } = {}) {
        const ch = await tgCreateChannel(s.tg, { title: `Chan ${username}`, username });
        const b = unknown ? await tgAddJoinRequests(s.tg, { chat_id: ch.id, count: unknown, first_name: `${firstName}Early`, date: 1720000000 }) : null;
        const a = await tgAddJoinRequests(s.tg, { chat_id: ch.id, count: known, first_name: `${firstName}Known`, date: 1720000500 });
        await tgMakeAdmin(s.tg, ch.id, acc.id, true);
        const r = await s.client.post(`/api/sessions/${SESS}/load`, { channel: `@${username}`, limit: known });
        assert.equal(r.status, 202, r.text);
        const lj = await waitLoadJob(s.client, r.json.job.id);
        assert.equal(lj.state, 'done', JSON.stringify(lj));
        assert.deepEqual((await requestsOf(s.client, ch.id)).map((x) => x.user_id).sort(), [...a.user_ids].sort(), 'doorman knows the loaded ones');
        return { ch, knownIds: a.user_ids, unknownIds: b ? b.user_ids : [] };
    }

    // tgsim's count of the two MTProto decision calls (GET /control/stats counts every MTProto
    // call by its TL name); only this file's session makes them.
    async function hideCalls() {
        const c = (await s.tg.control('GET', '/control/stats')).calls;
        return { all: c['messages.hideAllChatJoinRequests'] || 0, one: c['messages.hideChatJoinRequest'] || 0 };
    }
    const callsSince = async (b) => { const a = await hideCalls(); return { all: a.all - b.all, one: a.one - b.one }; };

    // Starts the job, polls it to the end and returns {job, errors, sawWait}.
    async function runAll(action, body) {
        const r = await s.client.post(`/api/invite-requests/${action}`, body);
        assert.equal(r.status, 202, `${action} ${JSON.stringify(body)}: ${r.status} ${r.text}`);
        assert.equal(r.json.job.via, SESS);
        assert.equal(r.json.job.kind, action.startsWith('approve') ? 'approve' : 'decline');
        let sawWait = null;
        const overTotal = [];
        const fin = await waitFor(async () => {
            const j = await s.client.ok(`/api/jobs/${r.json.job.id}`);
            if (j.job.wait_until) sawWait = j.job;
            if (j.job.done + j.job.skipped + j.job.failed > j.job.total) overTotal.push(j.job);
            return ['done', 'failed', 'cancelled'].includes(j.job.state) ? j : null;
        }, { timeoutMs: 120000, intervalMs: 50, what: `${action} job ${r.json.job.id} to finish` });
        assert.deepEqual(overTotal, [], 'progress stays within its total');
        return { ...fin, sawWait };
    }

    async function checkWholeChannel(action, status, username, known, unknown) {
        const { ch, knownIds, unknownIds } = await channelWith(username, known, unknown);
        const bystander = await channelWith(`${username}_other`, 5, 0, { firstName: 'Bystander' });
        const all = [...knownIds, ...unknownIds];
        await tgFlood(s.tg, acc.id, { flood_limit: 30 });
        const calls0 = await hideCalls();
        let res;
        try {
            res = await runAll(action, { filter: { chat_id: ch.id }, session_name: SESS });
        } finally {
            await tgFlood(s.tg, acc.id, { flood_limit: 0 });
        }
        const { job } = res;
        assert.equal(res.sawWait, null, `no FLOOD_WAIT with 30 calls a minute for ${all.length} requests (one hideAll, not one call each): ${JSON.stringify(res.sawWait)}`);
        assert.equal(job.state, 'done', JSON.stringify(res));
        assert.equal(job.via, SESS);
        assert.deepEqual([job.done, job.skipped, job.failed], [all.length, 0, 0], `every request Telegram had decided by this job: ${JSON.stringify(job)}`);
        assert.equal(job.total, all.length, 'the total grows to what Telegram had pending');
        assert.equal(job.wait_until, null);
        assert.deepEqual(await callsSince(calls0), { all: 1, one: 0 }, 'one hideAllChatJoinRequests, no hideChatJoinRequest');

        // Telegram: every request of the channel decided once, by the session's account
        assert.deepEqual(await tgMismatches(s.tg, ch.id, all, { status, decided_by: acc.id, decisions: 1 }), []);
        const c = (await s.tg.control('GET', `/control/join-requests?chat_id=${ch.id}`)).counts;
        assert.equal(c.pending, 0);
        assert.equal(c.decided_more_than_once, 0);
        // another channel the session administers is untouched
        assert.deepEqual(await tgMismatches(s.tg, bystander.ch.id, bystander.knownIds, { status: 'pending', decisions: 0 }), []);

        // doorman: the known and the formerly unknown requests, all decided via the session
        const rows = await requestsOf(s.client, ch.id);
        assert.equal(rows.length, all.length, 'the requests doorman had not seen are recorded too');
        assert.deepEqual(rows.map((x) => x.user_id).sort(), [...all].sort());
        for (const x of rows) {
            assert.equal(x.status, status, `doorman status of ${x.user_id}`);
            assert.equal(x.decided_via, SESS);
            assert.equal(x.decided_by, ADMIN.name);
            assert.equal(typeof x.decided_at, 'number');
        }
        assert.ok((await requestsOf(s.client, bystander.ch.id)).every((x) => x.status === 'pending'));

        const audit = (await auditAll(s.client)).filter((e) => e.job_id === job.id);
        assert.equal(audit.length, all.length, 'one audit entry per request decided');
        assert.deepEqual(audit.map((e) => e.user_id).sort(), [...all].sort());
        for (const e of audit) {
            assert.equal(e.action, action.startsWith('approve') ? 'approve' : 'decline');
            assert.equal(e.via, SESS);
            assert.equal(e.result, 'ok');
            assert.equal(e.chat_id, ch.id);
            assert.equal(e.admin, ADMIN.name);
        }
    }

    test('approve all on one channel: one hideAllChatJoinRequests, requests doorman had not seen recorded as approved', { timeout: 180000 }, async () => {
        await checkWholeChannel('approve-all', 'approved', 'hide_all_ok', 120, 130);
    });

    test('deny all on one channel: likewise, declined', { timeout: 180000 }, async () => {
        await checkWholeChannel('deny-all', 'declined', 'hide_all_no', 60, 70);
    });

    test('approve all with no filter: every channel with pending requests, each by one call; a channel without the right fails its requests, the job goes on', { timeout: 180000 }, async () => {
        const x = await channelWith('all_x', 10, 25, { firstName: 'Ax' });
        const y = await channelWith('all_y', 4, 0, { firstName: 'Ay' });
        await tgMakeAdmin(s.tg, y.ch.id, acc.id, false);
        // what earlier tests left pending counts too: every channel doorman has pending rows of
        const pendingRows = (await listAll(s.client, { status: 'pending' }));
        const chats = [...new Set(pendingRows.map((r) => r.chat_id))];
        assert.ok(chats.includes(x.ch.id) && chats.includes(y.ch.id));
        const tgPending = new Map();
        for (const c of chats) tgPending.set(c, (await tgJoinRequests(s.tg, `chat_id=${c}&status=pending`)).map((t) => t.user_id));
        assert.equal(tgPending.get(x.ch.id).length, 35);
        const decidable = chats.filter((c) => c !== y.ch.id);
        const want = decidable.reduce((n, c) => n + tgPending.get(c).length, 0);

        const calls0 = await hideCalls();
        const { job, errors } = await runAll('approve-all', { session_name: SESS });
        assert.deepEqual(await callsSince(calls0), { all: decidable.length, one: 0 },
            `one hideAllChatJoinRequests per channel the account may decide in (${decidable.length}), none where it may not`);
        assert.equal(job.state, 'done', JSON.stringify({ job, errors }));
        assert.deepEqual([job.total, job.done, job.skipped, job.failed], [want + 4, want, 0, 4], JSON.stringify(job));
        for (const c of decidable) {
            assert.deepEqual(await tgMismatches(s.tg, c, tgPending.get(c), { status: 'approved', decided_by: acc.id, decisions: 1 }), [], `channel ${c}`);
            const rows = await requestsOf(s.client, c);
            assert.ok(rows.every((r) => r.status === 'approved' && r.decided_via === SESS), `doorman rows of ${c}`);
        }
        assert.equal((await requestsOf(s.client, x.ch.id)).length, 35, 'the channel\'s requests doorman had not seen are recorded');
        assert.deepEqual(await tgMismatches(s.tg, y.ch.id, y.knownIds, { status: 'pending', decided_by: null, decisions: 0 }), []);
        assert.equal(errors.length, 4, JSON.stringify(errors));
        const yRows = await requestsOf(s.client, y.ch.id);
        for (const e of errors) {
            assert.ok(yRows.some((r) => r.id === e.request_id && r.user_id === e.user_id), JSON.stringify(e));
            assert.match(e.error, /invite-users right/, e.error);
        }
        assert.ok(yRows.every((r) => r.status === 'pending'));
        const audit = (await auditAll(s.client)).filter((e) => e.job_id === job.id);
        assert.equal(audit.length, want + 4);
        assert.ok(audit.every((e) => e.via === SESS && e.action === 'approve'));
        assert.equal(audit.filter((e) => e.result === 'error').length, 4);
    });

    test('approve all with a text filter: request by request, only the matching requests doorman knows', { timeout: 120000 }, async () => {
        const ch = await tgCreateChannel(s.tg, { title: 'Filtered', username: 'filtered_chan' });
        const now = Math.floor(Date.now() / 1000);
        const mk = async (first, username, date = now) => {
            const u = await tgCreateUser(s.tg, { first_name: first, username });
            await tgAddJoinRequests(s.tg, { chat_id: ch.id, user_id: u.id, date });
            return u.id;
        };
        // matches the text too, but is older than what the Load below reads, so only Telegram has
        // it: a filtered Approve All works on doorman's rows
        const lateMatch = await mk('Zebra Early', 'zebra_early', now - 3600);
        const match = [await mk('Zebra', 'zz_one'), await mk('Anna', 'zebra_fan'), await mk('ZEBRAS')];
        const other = [await mk('Horse', 'hh_one'), await mk('Pony', 'pp_two')];
        await tgMakeAdmin(s.tg, ch.id, acc.id, true);
        const r = await s.client.post(`/api/sessions/${SESS}/load`, { channel: '@filtered_chan', limit: 5 });
        assert.equal(r.status, 202, r.text);
        assert.equal((await waitLoadJob(s.client, r.json.job.id)).state, 'done');
        const tgBefore = await tgJoinRequests(s.tg, `chat_id=${ch.id}`);
        assert.equal(tgBefore.length, 6);

        const calls0 = await hideCalls();
        const { job, errors, sawWait } = await runAll('approve-all', { filter: { chat_id: ch.id, q: 'zebra' }, session_name: SESS });
        assert.deepEqual(await callsSince(calls0), { all: 0, one: 3 }, 'one hideChatJoinRequest per matching request');
        assert.equal(job.state, 'done', JSON.stringify({ job, errors }));
        assert.deepEqual([job.total, job.done, job.skipped, job.failed], [3, 3, 0, 0], JSON.stringify(job));
        assert.equal(sawWait, null);
        assert.deepEqual(await tgMismatches(s.tg, ch.id, match, { status: 'approved', decided_by: acc.id, decisions: 1 }), []);
        assert.deepEqual(await tgMismatches(s.tg, ch.id, [...other, lateMatch], { status: 'pending', decided_by: null, decisions: 0 }), [],
            'not matching, or not in doorman\'s table: untouched in Telegram');
        // The job loads nothing. The session's listener may learn of the older request: after the
        // decisions Telegram's update counts 3 pending where doorman has 2 (if it has recorded
        // the last decision by then), so it reads the channel and records it, pending.
        const all = await requestsOf(s.client, ch.id);
        const late = all.filter((x) => x.user_id === lateMatch);
        assert.ok(late.every((x) => x.status === 'pending' && !x.decided_via), JSON.stringify(late));
        const rows = all.filter((x) => x.user_id !== lateMatch);
        assert.equal(rows.length, 5, 'the filtered path loads nothing new');
        for (const x of rows) {
            const want = match.includes(x.user_id) ? 'approved' : 'pending';
            assert.equal(x.status, want, `doorman status of ${x.first_name}`);
            if (want === 'approved') assert.equal(x.decided_via, SESS);
        }
        const audit = (await auditAll(s.client)).filter((e) => e.job_id === job.id);
        assert.deepEqual(audit.map((e) => e.user_id).sort(), [...match].sort());
        assert.ok(audit.every((e) => e.via === SESS && e.result === 'ok' && e.action === 'approve'), JSON.stringify(audit));
    });
});
