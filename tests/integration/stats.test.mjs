// GET /api/stats (issue 15 item 1): every number the statistics page shows, checked against the
// requests doorman lists, after requests are recorded and after decisions by an admin (selected
// and Approve All) and by the rules. The rollups are kept by the store in the transactions that
// change requests, so they must match the rows exactly at every point.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tgAddJoinRequests } from '../lib/tgsim.mjs';
import { listAll, waitRecorded, decide } from '../lib/api.mjs';
import { waitFor } from '../lib/processes.mjs';
import { startStack, ADMIN } from '../lib/stacks.mjs';

const DAY = 86400;
const HOUR = 3600;
const WEEK = 7 * DAY;
const STATUSES = ['pending', 'approved', 'declined'];

// What the answer for (from, to, span, chat) must hold, from the rows themselves.
function expected(rows, { from, to, span, chat }) {
    const first = Math.floor(from / span) * span;
    const last = Math.floor(to / span) * span;
    const mine = rows.filter((r) => !chat || r.chat_id === chat);
    const inRange = mine.filter((r) => r.tg_date >= first && r.tg_date < last + span);
    const series = new Map();
    const links = new Map();
    for (const r of inRange) {
        const t = Math.floor(r.tg_date / span) * span;
        const s = series.get(`${t}/${r.chat_id}`) || { t, chat_id: r.chat_id, pending: 0, approved: 0, declined: 0 };
        s[r.status] += 1;
        series.set(`${t}/${r.chat_id}`, s);
        const l = links.get(`${r.chat_id}/${r.invite_link}`) || { chat_id: r.chat_id, link: r.invite_link, pending: 0, approved: 0, declined: 0 };
        l[r.status] += 1;
        links.set(`${r.chat_id}/${r.invite_link}`, l);
    }
    const decidedAt = (r) => (r.decided_at > 0 ? r.decided_at : r.tg_date);
    const decided = mine.filter((r) => r.status !== 'pending');
    const inDecided = decided.filter((r) => decidedAt(r) >= first && decidedAt(r) < last + span);
    const deciders = new Map();
    for (const r of inDecided) {
        const rule = r.decided_by === '(rules)' ? r.rule_id : 0;
        const k = `${r.decided_by}/${r.decided_via}/${rule}`;
        const d = deciders.get(k) || { by: r.decided_by, via: r.decided_via, rule_id: rule, approved: 0, declined: 0 };
        d[r.status] += 1;
        deciders.set(k, d);
    }
    const flow = [];
    for (let t = first; t <= last; t += span) {
        const end = t + span;
        flow.push({
            t,
            arrived: mine.filter((r) => r.tg_date >= t && r.tg_date < end).length,
            approved: decided.filter((r) => r.status === 'approved' && decidedAt(r) >= t && decidedAt(r) < end).length,
            declined: decided.filter((r) => r.status === 'declined' && decidedAt(r) >= t && decidedAt(r) < end).length,
            backlog: mine.filter((r) => r.tg_date < end && !(r.status !== 'pending' && decidedAt(r) < end)).length,
        });
    }
    const dayFirst = Math.floor(first / DAY) * DAY;
    const dayEnd = Math.floor((last + span - 1) / DAY) * DAY + DAY;
    const latencies = decided.filter((r) => r.decided_at > 0 && r.decided_at >= dayFirst && r.decided_at < dayEnd)
        .map((r) => Math.max(0, r.decided_at - r.tg_date)).sort((a, b) => a - b);
    return { series: [...series.values()], links: [...links.values()], deciders: [...deciders.values()], flow, latencies, pendingNow: mine.filter((r) => r.status === 'pending').length };
}

const byKey = (k) => (a, b) => (k(a) < k(b) ? -1 : k(a) > k(b) ? 1 : 0);

// The answer agrees with the rows; returns it.
async function checkStats(client, query) {
    const rows = (await listAll(client)).map((r) => ({ ...r, tg_date: r.date, decided_at: r.decided_at || 0, rule_id: r.rule_id || 0 }));
    const qs = new URLSearchParams(Object.entries({ ...query, chat_id: query.chat || undefined }).filter(([k, v]) => v !== undefined && k !== 'span' && k !== 'chat'));
    qs.set('bucket', query.span === HOUR ? 'hour' : query.span === WEEK ? 'week' : 'day');
    const r = await client.get(`/api/stats?${qs}`);
    assert.equal(r.status, 200, r.text);
    const got = r.json;
    const want = expected(rows, query);
    const seriesKey = (x) => `${x.t}/${x.chat_id}`;
    assert.deepEqual(got.series.filter((x) => x.pending + x.approved + x.declined > 0).sort(byKey(seriesKey)), want.series.sort(byKey(seriesKey)), 'requests by time and channel');
    const linkKey = (x) => `${x.chat_id}/${x.link}`;
    assert.deepEqual([...got.links].sort(byKey(linkKey)), want.links.sort(byKey(linkKey)), 'requests by invite link');
    const dKey = (x) => `${x.by}/${x.via}/${x.rule_id}`;
    assert.deepEqual(got.deciders.map(({ rule_name, ...d }) => d).sort(byKey(dKey)), want.deciders.sort(byKey(dKey)), 'who decided');
    assert.deepEqual(got.flow, want.flow, 'arrivals, decisions and backlog by time');
    assert.equal(got.pending_now, want.pendingNow);
    const totals = { pending: 0, approved: 0, declined: 0 };
    for (const x of want.series) for (const k of STATUSES) totals[k] += x[k];
    assert.deepEqual(
        { total: got.requests.total, pending: got.requests.pending, approved: got.requests.approved, declined: got.requests.declined },
        { total: totals.pending + totals.approved + totals.declined, ...totals });
    const decidedN = totals.approved + totals.declined;
    assert.equal(got.requests.approval_rate, decidedN ? totals.approved / decidedN : null);
    const ttd = got.time_to_decision;
    assert.equal(ttd.decided, want.latencies.length, 'decisions timed');
    assert.equal(ttd.histogram.reduce((a, h) => a + h.n, 0), want.latencies.length);
    for (const [q, field] of [[0.5, 'median_seconds'], [0.9, 'p90_seconds']]) {
        if (!want.latencies.length) { assert.equal(ttd[field], null); continue; }
        const exact = want.latencies[Math.max(0, Math.ceil(q * want.latencies.length) - 1)];
        // the documented precision: exact below 10 s, within its bucket (20 %) above
        const slack = exact < 10 ? 0 : Math.ceil(exact * 0.2) + 1;
        assert.ok(Math.abs(ttd[field] - exact) <= slack, `${field} ${ttd[field]} vs exact ${exact}`);
    }
    return got;
}

describe('statistics', () => {
    let s;
    let chatA;
    let chatB;
    const now = Math.floor(Date.now() / 1000);
    const linkA = 'https://t.me/+AAAAlinkA';
    const linkB = 'https://t.me/+BBBBlinkB';
    let recorded = 0;
    const wave = async (body) => {
        await tgAddJoinRequests(s.tg, body);
        recorded += body.count;
        await waitRecorded(s.client, recorded);
    };
    const day = { from: now - 6 * DAY, to: now, span: DAY };

    before(async () => {
        s = await startStack({ world: { channels: 2, pending: 0 } });
        [chatA, chatB] = s.world.chatIds;
        await wave({ chat_id: chatA, count: 6, first_name: 'Old', invite_link: linkA, date: now - 3 * DAY, spread_seconds: 3600 });
        await wave({ chat_id: chatA, count: 5, first_name: 'Plain', date: now - DAY - 600, spread_seconds: 600 });
        await wave({ chat_id: chatB, count: 4, first_name: 'Recent', invite_link: linkB, date: now - 2 * HOUR, spread_seconds: 3 * HOUR - 7200 + 60 });
    });
    after(async () => { await s?.cleanup(); });

    test('recorded requests: by day, hour, channel and link, all pending', async () => {
        const got = await checkStats(s.client, day);
        assert.equal(got.requests.total, 15);
        assert.equal(got.requests.pending, 15);
        assert.equal(got.links.find((l) => l.link === linkA)?.pending, 6);
        assert.equal(got.time_to_decision.median_seconds, null);
        await checkStats(s.client, { ...day, chat: chatB });
        await checkStats(s.client, { from: now - 47 * HOUR, to: now, span: HOUR });
    });

    test('decisions: selected, Approve All and the rules; who decided and how fast', async () => {
        const pendingA = (await listAll(s.client, { status: 'pending', chat_id: chatA })).map((r) => r.id);
        await decide(s.client, 'approve', { request_ids: pendingA.slice(0, 3) });
        await decide(s.client, 'deny', { request_ids: pendingA.slice(3, 5) });
        await decide(s.client, 'approve-all', { filter: { chat_id: chatA } });
        const rule = await s.client.post('/api/rules', { chat_id: chatB, name: 'casino names', conditions: [{ type: 'name_matches', words: ['casino'] }], action: 'decline' });
        assert.equal(rule.status, 200, rule.text);
        const mode = await s.client.post('/api/modes', { chat_id: chatB, mode: 'rules' });
        assert.equal(mode.status, 200, mode.text);
        await wave({ chat_id: chatB, count: 3, first_name: 'Casino Royale' });
        await waitFor(async () => (await listAll(s.client, { status: 'declined', chat_id: chatB })).length === 3,
            { timeoutMs: 20000, what: 'the rules declined the casino names' });

        const got = await checkStats(s.client, day);
        assert.equal(got.requests.total, 18);
        const admin = got.deciders.find((d) => d.by === ADMIN.name && d.via === 'bot');
        assert.deepEqual([admin.approved, admin.declined], [9, 2]);
        const rules = got.deciders.find((d) => d.by === '(rules)');
        assert.deepEqual([rules.rule_id, rules.rule_name, rules.declined], [rule.json.rule.id, 'casino names', 3]);
        assert.ok(got.time_to_decision.median_seconds > 0, 'old requests took time');
        assert.equal(got.flow.at(-1).backlog, 4, 'the backlog now: chat B\'s recent ones');
        assert.equal(got.decisions.approved + got.decisions.declined, 14);
        await checkStats(s.client, { ...day, chat: chatA });
        await checkStats(s.client, { from: now - 47 * HOUR, to: now, span: HOUR });
        await checkStats(s.client, { from: now - 2 * DAY, to: now - DAY, span: DAY });
        // whole weeks come from the weekly rollups, the days at the edges from the daily ones
        await checkStats(s.client, { from: now - 20 * DAY, to: now + 14 * DAY, span: DAY });
        await checkStats(s.client, { from: now - 20 * DAY, to: now + 14 * DAY, span: DAY, chat: chatB });
        await checkStats(s.client, { from: now - 90 * DAY, to: now, span: WEEK });
    });

    test('bad input is refused with a clear error', async () => {
        for (const [q, what] of [
            ['bucket=month', 'bucket'],
            ['from=2026-02-10&to=2026-02-01', 'to'],
            [`bucket=hour&from=${now - 49 * HOUR}&to=${now}`, '48 hours'],
            ['chat_id=abc', 'chat_id'],
            ['from=yesterday', 'from'],
            ['from=1970-01-01&to=2026-01-01', 'shorter'],
        ]) {
            const r = await s.client.get(`/api/stats?${q}`);
            assert.equal(r.status, 400, `${q}: ${r.text}`);
            assert.equal(r.json.error.code, 'bad_request');
            assert.match(r.json.error.message, new RegExp(what), q);
        }
        const anon = await fetch(`${s.dm.url}/api/stats`);
        assert.equal(anon.status, 401);
    });
});
