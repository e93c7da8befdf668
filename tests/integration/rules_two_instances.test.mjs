// Rules with two doorman instances on one PostgreSQL database (issue 13, "Durable"): one of them
// judges and hands out the decisions (the lease "rules"), each request is decided once; killed
// -9 in the middle, the other takes the work over and nothing is decided twice. Needs
// DOORMAN_TEST_PG_URL (scripts/test.sh sets it in its PostgreSQL run).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { makeTempDir, waitFor } from '../lib/processes.mjs';
import { startTgsim, setupWorld, tgJoinRequests, tgAddJoinRequests } from '../lib/tgsim.mjs';
import { PG_URL, dbUrlFor, startDoorman } from '../lib/doorman.mjs';
import { Client } from '../lib/api.mjs';
import { adminStack, ADMIN } from '../lib/stacks.mjs';

const N = 600;
const JUDGE_RE = /this instance decides by the rules/;

describe('rules with two instances on one PostgreSQL database', { skip: PG_URL ? false : 'needs DOORMAN_TEST_PG_URL (PostgreSQL)' }, () => {
    let s, b, chat;
    const env = { DOORMAN_SECRET_KEY: randomBytes(32).toString('hex') };

    before(async () => {
        const tg = await startTgsim({ latencyMs: 4 });
        const w = await setupWorld(tg, { channels: 1 });
        chat = w.chatIds[0];
        const dirA = makeTempDir('doorman-a-');
        s = await adminStack({
            tg, world: w, dataDir: dirA, configureBot: true,
            startDoorman: () => startDoorman({ tgsim: tg, dataDir: dirA, env }),
        });
        b = await startDoorman({ tgsim: tg, dataDir: makeTempDir('doorman-b-'), dbUrl: dbUrlFor(dirA), env });
        const ok = async (p, body) => {
            const r = await s.client.post(p, body);
            assert.equal(r.status, 200, `${p}: ${r.text}`);
        };
        await ok('/api/settings', { bot_rate: 100 });
        await ok('/api/rules', { chat_id: chat, name: 'spam names', conditions: [{ type: 'name_matches', words: ['spam'] }], action: 'decline' });
        await ok('/api/rules', { chat_id: chat, name: 'the rest', conditions: [], action: 'approve' });
        await ok('/api/modes', { chat_id: chat, mode: 'rules' });
    });
    after(async () => {
        const stops = [() => b?.stop(), () => s?.dm.kill(), () => s?.tg.stop()];
        const errs = [];
        for (const stop of stops) {
            try { await stop(); } catch (e) { errs.push(e); }
        }
        if (errs.length) throw errs[0];
    });

    test(`${N} requests, the judging instance killed -9 midway: each decided once by the rules`, { timeout: 180000 }, async () => {
        const cb = new Client(b);
        await cb.login(ADMIN.name, ADMIN.password);
        await waitFor(() => JUDGE_RE.test(s.dm.output) || JUDGE_RE.test(b.output), { timeoutMs: 20000, what: 'one instance judging' });
        const judgeA = JUDGE_RE.test(s.dm.output);
        assert.notEqual(judgeA, JUDGE_RE.test(b.output), 'exactly one instance judges');

        await tgAddJoinRequests(s.tg, { chat_id: chat, count: N / 2, first_name: 'Spam Bot' });
        await tgAddJoinRequests(s.tg, { chat_id: chat, count: N / 2, first_name: 'Guest' });
        await waitFor(async () => (await tgJoinRequests(s.tg, `chat_id=${chat}&status=declined`)).length >= 50,
            { timeoutMs: 60000, intervalMs: 50, what: 'decisions under way' });
        const [victim, survivor, survivorClient] = judgeA ? [s.dm, b, cb] : [b, s.dm, s.client];
        await victim.kill();

        let items = [];
        await waitFor(async () => {
            items = await tgJoinRequests(s.tg, `chat_id=${chat}`);
            return items.length === N && items.every((r) => r.status !== 'pending');
        }, { timeoutMs: 120000, intervalMs: 250, what: 'every request decided in tgsim' });
        assert.match(survivor.output, JUDGE_RE, 'the other instance took the judging over');
        const twice = items.filter((r) => r.decisions !== 1 || r.approve_calls + r.decline_calls > 2);
        assert.deepEqual(twice.slice(0, 3), [], `${twice.length} requests decided other than once`);
        assert.equal(items.filter((r) => r.status === 'declined').length, N / 2);
        assert.equal(items.filter((r) => r.status === 'approved').length, N / 2);
        const c = (await survivorClient.ok('/api/invite-requests?limit=1')).counts;
        assert.equal(c.pending, 0, JSON.stringify(c));
    });
});
