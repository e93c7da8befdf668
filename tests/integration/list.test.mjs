// GET /api/invite-requests: filters, keyset paging, counts per status (issue 2, item 6).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../lib/processes.mjs';
import { addRequester } from '../lib/tgsim.mjs';
import { listAll, counts, waitRecorded, decide } from '../lib/api.mjs';
import { startStack } from '../lib/stacks.mjs';

const DAY = 86400;
const D = (s) => Math.floor(Date.parse(s + 'Z') / 1000); // 'YYYY-MM-DDTHH:MM:SS' UTC -> Unix seconds

// Requests with known names and dates: 3 days in January 2024, 2 channels.
const PEOPLE = [
    { first_name: 'Alice', last_name: 'Smith', username: 'alice_s', date: D('2024-01-10T08:00:00') },
    { first_name: 'Bob', last_name: 'Jones', username: 'bobby', date: D('2024-01-10T23:59:59') },
    { first_name: 'Carol', last_name: 'SMITHSON', username: 'carol_x', date: D('2024-01-11T00:00:00') },
    { first_name: 'Dmitri', last_name: 'Ivanov', username: 'dima', date: D('2024-01-11T12:00:00') },
    { first_name: 'Eve', last_name: 'Smith', date: D('2024-01-12T01:00:00') },
    { first_name: 'Frank', username: 'frank_smith', date: D('2024-01-12T18:00:00') },
    { first_name: 'Grace', last_name: 'Hopper', username: 'ghopper', date: D('2024-01-13T10:00:00') },
    { first_name: 'Heidi', last_name: 'Klum', username: 'heidi', date: D('2024-01-13T11:00:00') },
];

describe('listing invite requests', () => {
    let s, people;
    before(async () => {
        s = await startStack({ world: { channels: 2, pending: 0 } });
        people = [];
        for (const [i, p] of PEOPLE.entries()) {
            people.push(await addRequester(s.tg, s.world.chatIds[i % 2], p));
        }
        await waitRecorded(s.client, PEOPLE.length);
    });
    after(async () => { await s?.cleanup(); });

    const ids = (items) => items.map((r) => r.user_id).sort((a, b) => a - b);
    const expect = (pred) => people.filter(pred).map((p) => p.user_id).sort((a, b) => a - b);

    test('newest first; default and explicit limits; counts', async () => {
        const j = await s.client.ok('/api/invite-requests');
        assert.equal(j.items.length, PEOPLE.length);
        assert.equal(j.next_before, null);
        for (let i = 1; i < j.items.length; i++) assert.ok(j.items[i - 1].id > j.items[i].id, 'ids descending (newest first)');
        assert.deepEqual(j.counts, { pending: 8, approved: 0, declined: 0, total: 8, exact: true });
        const p = await s.client.ok('/api/invite-requests?limit=3');
        assert.equal(p.items.length, 3);
        assert.equal(typeof p.next_before, 'number');
        assert.deepEqual(p.counts, j.counts, 'counts do not depend on paging');
    });

    test('filter by chat', async () => {
        const c = s.world.chatIds[1];
        const j = await s.client.ok(`/api/invite-requests?chat_id=${c}`);
        assert.deepEqual(ids(j.items), expect((p) => p.chat_id === c));
        assert.ok(j.items.every((r) => r.chat_id === c));
        assert.equal(j.counts.total, 4);
    });

    test('filter by date range, Unix seconds and YYYY-MM-DD (to = end of that day)', async () => {
        let j = await s.client.ok(`/api/invite-requests?from=2024-01-11&to=2024-01-12`);
        assert.deepEqual(ids(j.items), expect((p) => p.date >= D('2024-01-11T00:00:00') && p.date < D('2024-01-13T00:00:00')));
        assert.equal(j.counts.total, 4);
        j = await s.client.ok(`/api/invite-requests?to=2024-01-10`);
        assert.deepEqual(ids(j.items), expect((p) => p.date < D('2024-01-11T00:00:00')), 'to=day includes 23:59:59 of that day');
        j = await s.client.ok(`/api/invite-requests?from=${D('2024-01-11T12:00:00')}&to=${D('2024-01-12T18:00:00')}`);
        assert.deepEqual(ids(j.items), expect((p) => p.date >= D('2024-01-11T12:00:00') && p.date <= D('2024-01-12T18:00:00')), 'unix seconds inclusive');
        j = await s.client.ok(`/api/invite-requests?from=2024-01-14`);
        assert.equal(j.items.length, 0);
        assert.equal(j.counts.total, 0);
    });

    test('q: case-insensitive substring of names and username, or the exact user id', async () => {
        let j = await s.client.ok(`/api/invite-requests?q=smith`);
        const smith = (p) => [p.first_name, p.last_name, p.username].some((x) => x && x.toLowerCase().includes('smith'));
        assert.deepEqual(ids(j.items), expect(smith));
        assert.equal(ids(j.items).length, 4, 'Alice Smith, Carol SMITHSON, Eve Smith, frank_smith');
        j = await s.client.ok(`/api/invite-requests?q=${encodeURIComponent('BOBBY')}`);
        assert.deepEqual(ids(j.items), expect((p) => p.username === 'bobby'));
        const dima = people.find((p) => p.username === 'dima');
        j = await s.client.ok(`/api/invite-requests?q=${dima.user_id}`);
        assert.deepEqual(ids(j.items), [dima.user_id], 'exact user id');
        j = await s.client.ok(`/api/invite-requests?q=${encodeURIComponent("%' OR 1=1 --")}`);
        assert.equal(j.items.length, 0, 'SQL-looking text is just text');
        j = await s.client.ok(`/api/invite-requests?q=_`);
        assert.deepEqual(ids(j.items), expect((p) => [p.first_name, p.last_name, p.username].some((x) => x && x.includes('_'))), '"_" is not a LIKE wildcard');
    });

    test('filters combine; counts per status apply the other filters, not status', async () => {
        // Approve Alice and decline Carol (both "smith"); approve Dmitri (not smith).
        const all = await listAll(s.client);
        const byName = (n) => all.find((r) => r.first_name === n).id;
        await decide(s.client, 'approve', { request_ids: [byName('Alice'), byName('Dmitri')] });
        await decide(s.client, 'deny', { request_ids: [byName('Carol')] });
        let j = await s.client.ok('/api/invite-requests?q=smith&status=pending');
        assert.deepEqual(j.items.map((r) => r.first_name).sort(), ['Eve', 'Frank']);
        assert.deepEqual(j.counts, { pending: 2, approved: 1, declined: 1, total: 4, exact: true });
        j = await s.client.ok('/api/invite-requests?status=approved');
        assert.deepEqual(j.items.map((r) => r.first_name).sort(), ['Alice', 'Dmitri']);
        assert.deepEqual(j.counts, { pending: 5, approved: 2, declined: 1, total: 8, exact: true });
        j = await s.client.ok(`/api/invite-requests?status=declined&chat_id=${s.world.chatIds[0]}`);
        assert.deepEqual(j.items.map((r) => r.first_name), ['Carol']);
        j = await s.client.ok(`/api/invite-requests?status=approved&from=2024-01-11`);
        assert.deepEqual(j.items.map((r) => r.first_name), ['Dmitri']);
    });

    test('bad parameters get 400 bad_request', async () => {
        for (const q of ['status=maybe', 'limit=0', 'limit=501', 'limit=ten', 'chat_id=abc', 'from=yesterday',
            'to=2024-13-45', 'before=x']) {
            const r = await s.client.get(`/api/invite-requests?${q}`);
            assert.equal(r.status, 400, `${q} -> ${r.status} ${r.text}`);
            assert.equal(r.json?.error?.code, 'bad_request', `${q}: ${r.text}`);
        }
    });
});

describe('keyset paging while requests arrive', () => {
    let s;
    before(async () => {
        s = await startStack({ world: { channels: 2, pending: 0 } });
        await s.tg.control('POST', '/control/join-requests', { chat_id: s.world.chatIds[0], count: 120, first_name: 'Paged' });
        await s.tg.control('POST', '/control/join-requests', { chat_id: s.world.chatIds[1], count: 80, first_name: 'Paged' });
        await waitRecorded(s.client, 200);
    });
    after(async () => { await s?.cleanup(); });

    test('every row exactly once, while new requests arrive and others get decided', async () => {
        const initial = await listAll(s.client);
        assert.equal(initial.length, 200);
        const seen = new Map();
        let before = null, page = 0, added = 0;
        for (;;) {
            const q = new URLSearchParams({ limit: '17' });
            if (before !== null) q.set('before', String(before));
            const j = await s.client.ok(`/api/invite-requests?${q}`);
            // the counts come with the first page only (a later one when asked: count=exact)
            assert.equal(j.counts === null, before !== null, `page ${page}: counts ${JSON.stringify(j.counts)}`);
            if (before !== null && page === 1) {
                q.set('count', 'exact');
                const asked = await s.client.ok(`/api/invite-requests?${q}`);
                assert.ok(asked.counts.total >= 200 && asked.counts.exact === true, JSON.stringify(asked.counts));
            }
            for (const r of j.items) {
                assert.ok(!seen.has(r.id), `row ${r.id} returned twice (page ${page})`);
                seen.set(r.id, r);
            }
            // Between pages: new requests arrive (and must not shift the pages), and a row
            // already seen gets decided.
            if (page % 2 === 0) {
                await addRequester(s.tg, s.world.chatIds[page % 2], { first_name: `Late${page}` });
                added++;
            }
            if (page === 3) await decide(s.client, 'approve', { request_ids: [j.items[0].id] }, { wait: false });
            if (j.next_before === null) break;
            assert.ok(j.items.length === 17, 'full pages until the last');
            before = j.next_before;
            page++;
        }
        for (const r of initial) assert.ok(seen.has(r.id), `row ${r.id} (${r.first_name}) was skipped by paging`);
        await waitFor(async () => (await counts(s.client)).total === 200 + added, { what: `${200 + added} requests recorded` });
        const final = await listAll(s.client);
        assert.equal(new Set(final.map((r) => r.id)).size, final.length, 'no duplicate rows');
    });

    test('paging with a filter returns exactly the filtered rows', async () => {
        const c = s.world.chatIds[1];
        const want = (await listAll(s.client)).filter((r) => r.chat_id === c).map((r) => r.id).sort();
        const got = (await listAll(s.client, { chat_id: String(c) }, { limit: 9 })).map((r) => r.id).sort();
        assert.deepEqual(got, want);
    });

    test('a search that matches more than 1,000 counts up to 1,000 unless count=exact', async () => {
        await s.tg.control('POST', '/control/join-requests', { chat_id: s.world.chatIds[0], count: 1100, first_name: 'Capped' });
        await waitFor(async () => (await s.client.ok('/api/invite-requests?q=capped&count=exact')).counts.pending === 1100,
            { what: '1,100 "Capped" requests recorded', timeoutMs: 60000 });
        const j = await s.client.ok('/api/invite-requests?q=capped&limit=5');
        assert.equal(j.items.length, 5);
        assert.equal(j.counts.exact, false, 'past the cap the counts say they are lower bounds');
        assert.equal(j.counts.total, 1001);
        assert.ok(j.counts.pending <= 1001 && j.counts.pending > 0);
        const all = await s.client.ok('/api/invite-requests?q=capped&limit=5&count=exact');
        assert.deepEqual(all.counts, { pending: 1100, approved: 0, declined: 0, total: 1100, exact: true });
        assert.deepEqual(all.items.map((r) => r.id), j.items.map((r) => r.id), 'the same page either way');
        const few = await s.client.ok('/api/invite-requests?q=alice');
        assert.equal(few.counts.exact, true, 'below the cap the counts are exact');
        const bad = await s.client.get('/api/invite-requests?count=all');
        assert.equal(bad.status, 400);
        assert.equal(bad.json.error.code, 'bad_request');
        assert.match(bad.json.error.message, /'count' must be exact/);
    });
});
