// Two doorman instances on one PostgreSQL database (issue 6, Proof): both serve the panel, exactly
// one polls Telegram, and an Approve All of 5,000 whose instance is killed -9 mid-way is finished
// by the other with every request decided exactly once in tgsim's records. Needs
// DOORMAN_TEST_PG_URL (scripts/test.sh sets it in its PostgreSQL run).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { makeTempDir, waitFor } from '../lib/processes.mjs';
import { startTgsim, setupWorld, tgJoinRequests, tgAddJoinRequests } from '../lib/tgsim.mjs';
import { PG_URL, dbUrlFor, startDoorman } from '../lib/doorman.mjs';
import { Client, waitRecorded, waitJob, waitJobPart, counts, auditAll } from '../lib/api.mjs';
import { adminStack, ADMIN } from '../lib/stacks.mjs';

const N = Number(process.env.MULTI_TEST_REQUESTS || 5000);
const CONFLICT_RE = /terminated by other getUpdates/;

describe('two instances on one PostgreSQL database', { skip: PG_URL ? false : 'needs DOORMAN_TEST_PG_URL (PostgreSQL)' }, () => {
    let s, b, db;
    // Both instances share the master key (secrets in the database are encrypted with it).
    const env = { DOORMAN_SECRET_KEY: randomBytes(32).toString('hex') };

    before(async () => {
        const tg = await startTgsim({ latencyMs: 4 });
        const w = await setupWorld(tg, { channels: 1 });
        const dirA = makeTempDir('doorman-a-');
        db = dbUrlFor(dirA);
        s = await adminStack({
            tg, world: w, dataDir: dirA, configureBot: true,
            startDoorman: () => startDoorman({ tgsim: tg, dataDir: dirA, env }),
        });
        await tgAddJoinRequests(tg, { chat_id: w.chatIds[0], count: N, first_name: 'Bulk' });
        await waitRecorded(s.client, N, { timeoutMs: 180000 });
        const st = await s.client.post('/api/settings', { bot_rate: 1000 });
        assert.equal(st.status, 200, st.text);
    });
    after(async () => {
        // A was killed on purpose (kill() is a no-op then, and still reports sanitizer findings).
        const stops = [() => b?.stop(), () => s?.dm.kill(), () => s?.tg.stop()];
        const errs = [];
        for (const stop of stops) {
            try { await stop(); } catch (e) { errs.push(e); }
        }
        if (errs.length) throw errs[0];
    });

    test(`both serve the panel, one polls, kill -9 during Approve All of ${N}: the other finishes it, each decided once`, { timeout: 600000 }, async () => {
        const r = await s.client.post('/api/invite-requests/approve-all', {});
        assert.equal(r.status, 202, r.text);
        const id = r.json.job.id;
        assert.equal(r.json.job.total, N);
        // A runs the job (B is not up yet), so killing A below interrupts it.
        await waitFor(async () => (await s.client.ok(`/api/jobs/${id}`)).job.done > 0,
            { timeoutMs: 60000, intervalMs: 20, what: 'instance A to start the job' });

        b = await startDoorman({ tgsim: s.tg, dataDir: makeTempDir('doorman-b-'), dbUrl: db, env });
        const cb = new Client(b);
        await cb.login(ADMIN.name, ADMIN.password);
        for (const [name, c, dm] of [['A', s.client, s.dm], ['B', cb, b]]) {
            const page = await fetch(dm.url + '/');
            assert.equal(page.status, 200, `${name} serves the panel`);
            const j = (await c.ok(`/api/jobs/${id}`)).job;
            assert.equal(j.total, N, `${name} shows the job`);
            assert.equal((await counts(c)).total, N, `${name} shows every request`);
        }
        const me = await new Client(b).request('GET', '/api/me', { headers: { cookie: s.client.cookieHeader() } });
        assert.equal(me.status, 200, `A's session cookie works on B (sessions are in the database): ${me.text}`);

        // Exactly one polls: with a 1 s long poll, one poller makes about one getUpdates a second;
        // two would cut each other's polls short (409 "terminated by other getUpdates request").
        const calls = async () => (await s.tg.control('GET', '/control/stats')).calls.getUpdates || 0;
        const t0 = Date.now(), c0 = await calls();
        await new Promise((res) => setTimeout(res, 4000)); // a measuring window, not a wait for a state
        const secs = (Date.now() - t0) / 1000, polls = (await calls()) - c0;
        assert.ok(polls >= 1 && polls <= secs * 1.5 + 2, `${polls} getUpdates in ${secs.toFixed(1)} s: one poller`);
        for (const [name, out] of [['A', s.dm.output], ['B', b.output], ['tgsim', s.tg.output]]) {
            assert.doesNotMatch(out, CONFLICT_RE, `no getUpdates conflict in ${name}'s output`);
        }

        const mid = await waitJobPart(s.client, id, N, 0.2, { timeoutMs: 240000 });
        await s.dm.kill();
        assert.ok(mid.done < N, `killed A at ${mid.done}/${N}`);

        // B takes over the poll: new requests arrive through it.
        const before = (await counts(cb)).total;
        await tgAddJoinRequests(s.tg, { chat_id: s.world.chatIds[0], count: 3, first_name: 'Late' });
        await waitRecorded(cb, before + 3, { timeoutMs: 30000 });

        const job = (await waitJob(cb, id, { timeoutMs: 300000 })).job;
        assert.equal(job.state, 'done', JSON.stringify(job));
        assert.equal(job.failed, 0);
        assert.equal(job.done + job.skipped, N, `done ${job.done} + skipped ${job.skipped} = total`);
        assert.ok(job.skipped <= 50, `only requests in flight at the kill may be skipped: ${job.skipped}`);

        const tg = (await tgJoinRequests(s.tg)).filter((x) => x.status !== 'pending');
        assert.equal(tg.length, N, 'tgsim decided exactly the job\'s requests');
        const bad = tg.filter((x) => x.status !== 'approved' || x.decisions !== 1);
        assert.deepEqual(bad.slice(0, 5), [], `${bad.length} requests not approved exactly once`);
        const c = await counts(cb);
        assert.equal(c.approved, N, `doorman agrees: ${JSON.stringify(c)}`);
        assert.equal(c.pending, 3, 'the 3 late requests wait');

        const audit = (await auditAll(cb)).filter((e) => e.job_id === id && e.action === 'approve');
        const okPer = new Map();
        for (const e of audit) if (e.result === 'ok') okPer.set(e.request_id, (okPer.get(e.request_id) || 0) + 1);
        assert.deepEqual([...okPer].filter(([, n]) => n > 1), [], 'no request approved twice according to the audit log');
        assert.equal(new Set(audit.map((e) => e.request_id)).size, N, 'every request has an audit entry');
        assert.doesNotMatch(b.output, CONFLICT_RE, 'no getUpdates conflict after the takeover');
    });
});
