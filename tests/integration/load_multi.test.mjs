// Load Requests through several sessions (issue 11 item 7): POST /api/sessions/load with
// session_name a list or "sessions:any". When the session reading the pages meets FLOOD_WAIT, the
// next goes on at once from where it stopped (its own access hashes: from the cursor's second with
// inputUserEmpty); one that loses its admin right mid-load is left out; every request is recorded
// once, the job's done counts each once, and GET /api/jobs/{id} counts what each session loaded.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tgAddJoinRequests, tgCreateChannel, tgFlood, tgJoinRequests, tgMakeAdmin } from '../lib/tgsim.mjs';
import { requestsOf, waitJob, waitJobPaused } from '../lib/api.mjs';
import { newUserSession, waitListening } from '../lib/sessions.mjs';
import { startSessionStack } from '../lib/stacks.mjs';

// A channel both sessions administer, with n pending requests of new users (dated `date`, or over
// the spread_seconds before it).
async function channelWith(s, admins, { title, username, n, date, spread_seconds }) {
    const ch = await tgCreateChannel(s.tg, { title, username });
    await tgAddJoinRequests(s.tg, { chat_id: ch.id, count: n, first_name: title, date, spread_seconds });
    for (const a of admins) await tgMakeAdmin(s.tg, ch.id, a.id, true);
    return ch;
}

// Every request of ch is in doorman once, pending, and Telegram decided none of them.
async function recordedOnce(s, ch, n) {
    const rows = await requestsOf(s.client, ch.id);
    assert.equal(rows.length, n, 'every request recorded');
    assert.equal(new Set(rows.map((r) => r.user_id)).size, n, 'each once');
    assert.ok(rows.every((r) => r.status === 'pending'), 'all pending');
    const tg = await tgJoinRequests(s.tg, `chat_id=${ch.id}`);
    assert.ok(tg.every((r) => r.status === 'pending' && !r.decisions), 'a load decides nothing');
}

// The job's counts per account, by name.
const byAccount = (fin) => Object.fromEntries(fin.accounts.map((a) => [a.via, a]));

describe('a load through several sessions', () => {
    let s, first, second;
    before(async () => {
        s = await startSessionStack({ dcs: 2 });
        first = (await newUserSession(s.client, s.tg, { name: 'first', first_name: 'First' })).account;
        second = (await newUserSession(s.client, s.tg, { name: 'second', first_name: 'Second' })).account;
        // The tests count the sessions' calls under flood limits: each listens to its updates
        // (getState made) before. Their channels' requests are asked before the sessions
        // administer them (channelWith), so no update makes a listener read them.
        await waitListening(s.dm, 'first');
        await waitListening(s.dm, 'second');
    });
    after(async () => { await s?.cleanup(); });

    test('session_name is checked: 400 (or 403) saying what is wrong, no job', async () => {
        const ch = await channelWith(s, [second], { title: 'Probe', username: 'probe_multi', n: 3 });
        const jobsBefore = (await s.client.ok('/api/jobs')).items.length;
        const cases = [
            [undefined, 400, /'session_name' must name the sessions/],
            [null, 400, /'session_name' must name the sessions/],
            [[], 400, /1 to 8 sessions/],
            [['first', 'first'], 400, /named twice/],
            [['first', 'nobody'], 400, /nobody/],
            [['bot'], 400, /item 0 must be a session's name/],
            [7, 400, /session/],
        ];
        for (const [names, status, want] of cases) {
            const r = await s.client.post('/api/sessions/load', { session_name: names, channel: '@probe_multi' });
            assert.equal(r.status, status, `${JSON.stringify(names)}: ${r.status} ${r.text}`);
            assert.match(r.json.error.message, want, JSON.stringify(names));
        }
        const extra = await s.client.post('/api/sessions/load', { session_name: ['second'], channel: '@probe_multi', after: 1 });
        assert.equal(extra.status, 400, extra.text);
        // first may not load there (no admin): 403; nor second, once it is no admin either
        await tgMakeAdmin(s.tg, ch.id, first.id, false);
        const none = await s.client.post('/api/sessions/load', { session_name: ['first'], channel: '@probe_multi' });
        assert.equal(none.status, 403, none.text);
        assert.equal(none.json.error.code, 'no_permission');
        await tgMakeAdmin(s.tg, ch.id, second.id, false);
        const neither = await s.client.post('/api/sessions/load', { session_name: ['first', 'second'], channel: '@probe_multi' });
        assert.equal(neither.status, 403, neither.text);
        assert.match(neither.json.error.message, /^None of the sessions can load from this channel \(first: You don't have permission/);
        await tgMakeAdmin(s.tg, ch.id, second.id, true);
        assert.equal((await s.client.ok('/api/jobs')).items.length, jobsBefore, 'no job was made');
        assert.equal((await requestsOf(s.client, ch.id)).length, 0, 'nothing was loaded');
        // first lacks the right, second has it: the list is taken and the job reads through second
        const r = await s.client.post('/api/sessions/load', { session_name: ['first', 'second'], channel: '@probe_multi' });
        assert.equal(r.status, 202, r.text);
        assert.equal(r.json.job.via, 'first,second');
        const fin = await waitJob(s.client, r.json.job.id);
        assert.equal(fin.job.state, 'done', JSON.stringify(fin));
        assert.deepEqual([fin.job.done, fin.job.total], [3, 3]);
        assert.deepEqual(fin.accounts.map((a) => [a.via, a.done]), [['second', 3]], JSON.stringify(fin.accounts));
        await recordedOnce(s, ch, 3);
    });

    test('FLOOD_WAIT on the first session mid-load: the second goes on at once and finishes', { timeout: 90000 }, async () => {
        // 1,000 requests of one second: the second session reads that second again from the start
        const N = 1000;
        const ch = await channelWith(s, [first, second], { title: 'Multi flood', username: 'multi_flood', n: N, date: 1712345678 });
        // the API's check and a few pages, then FLOOD_WAIT for two minutes (past the deadline below)
        await tgFlood(s.tg, first.id, { flood_limit: 6, window: 120 });
        try {
            const r = await s.client.post('/api/sessions/load', { session_name: ['first', 'second'], channel: '@multi_flood', limit: 'all' });
            assert.equal(r.status, 202, r.text);
            assert.equal(r.json.job.kind, 'load');
            assert.equal(r.json.job.via, 'first,second');
            const fin = await waitJob(s.client, r.json.job.id, { timeoutMs: 60000 });
            assert.equal(fin.job.state, 'done', JSON.stringify(fin));
            assert.deepEqual([fin.job.done, fin.job.total, fin.job.skipped, fin.job.failed], [N, N, 0, 0]);
            assert.equal(fin.job.wait_until, null, 'the job never waited: the second was free');
            const by = byAccount(fin);
            assert.deepEqual(Object.keys(by).sort(), ['first', 'second'], JSON.stringify(fin.accounts));
            assert.ok(by.first.done > 0 && by.first.done < N, `first loaded until its flood wait: ${by.first.done}`);
            assert.equal(by.first.done + by.second.done, N, JSON.stringify(fin.accounts));
            assert.ok(fin.accounts.every((a) => a.skipped === 0 && a.failed === 0), JSON.stringify(fin.accounts));
            await recordedOnce(s, ch, N);
        } finally {
            await tgFlood(s.tg, first.id, { flood_limit: 0 });
        }
    });

    test('the first session loses its admin right mid-load: left out, the second finishes', { timeout: 90000 }, async () => {
        // more pages than first can read in a few of its windows: it is flood-waited before the end
        const N = 1500;
        const ch = await channelWith(s, [first, second], { title: 'Multi right', username: 'multi_right', n: N,
            date: 1712345678, spread_seconds: 3600 });
        // first: the API's check and a page or two, then FLOOD_WAIT for up to 5 s; second:
        // FLOOD_WAIT for 8 s at its first call. So the job waits (both wait), in its middle.
        await tgFlood(s.tg, first.id, { flood_limit: 4, window: 5 });
        await tgFlood(s.tg, second.id, { wait: 8, count: 1 });
        const r = await s.client.post('/api/sessions/load', { session_name: 'sessions:any', channel: '@multi_right', limit: 'all' });
        assert.equal(r.status, 202, r.text);
        assert.equal(r.json.job.via, 'sessions:any');
        const paused = await waitJobPaused(s.client, r.json.job.id);
        assert.ok(paused.done > 0 && paused.done < N, `paused mid-load: ${JSON.stringify(paused)}`);
        assert.match(paused.error, /Every session of the job waits/);
        // while both wait, first stops being an admin (and its flood limit goes)
        await tgMakeAdmin(s.tg, ch.id, first.id, false);
        await tgFlood(s.tg, first.id, { flood_limit: 0 });
        const fin = await waitJob(s.client, r.json.job.id, { timeoutMs: 60000 });
        assert.equal(fin.job.state, 'done', JSON.stringify(fin));
        assert.deepEqual([fin.job.done, fin.job.total, fin.job.failed], [N, N, 0]);
        const by = byAccount(fin);
        // (first may have read a page between the end of its wait and losing its right)
        assert.ok(by.first.done >= paused.done && by.first.done < N, JSON.stringify(fin.accounts));
        assert.equal(by.first.done + by.second.done, N, JSON.stringify(fin.accounts));
        await recordedOnce(s, ch, N);
        const log = s.dm.output;
        assert.match(log, /goes on without first: You don't have permission to view join requests/);
    });
});
