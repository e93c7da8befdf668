// Guard mode (issue 14, item 1): a channel that made doorman's bot its join-request bot (Bot API
// 10.1) sends each request to it as a query with a 10-second deadline. doorman judges the request
// by the channel's rules at once and answers through the query: approve, decline (and ban), or
// queue (hold, no rule); a late answer is never sent (the rules then decide the ordinary way); a
// refused answer falls back to the ordinary way; a restart with a query outstanding answers it
// once if its deadline allows, never otherwise; with two instances on PostgreSQL, one killed -9
// while answering, none is answered twice (tgsim's side: sim_join_queries.test.mjs).
// Checked in tgsim's records (the query's answer and calls, who decided, decided once) and in
// doorman's (request, audit). Runs on PostgreSQL too with DOORMAN_TEST_PG_URL.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
    addRequester, setupWorld, startTgsim, tgAddJoinRequests, tgBans, tgBotSettings, tgGuardBot, tgInjectFault, tgJoinRequests,
} from '../lib/tgsim.mjs';
import { auditAll, listAll } from '../lib/api.mjs';
import { makeTempDir, waitFor } from '../lib/processes.mjs';
import { adminStack, startStack } from '../lib/stacks.mjs';
import { PG_URL, dbUrlFor, startDoorman } from '../lib/doorman.mjs';

describe('guard mode: join-request queries', () => {
    let s, guarded, plain, photoChat;
    const answeredEarly = []; // decided through their queries by the first test
    before(async () => {
        s = await startStack({ world: { channels: 3, pending: 0 } });
        [guarded, plain, photoChat] = s.world.chatIds;
        await tgBotSettings(s.tg, s.world.botId, { supports_join_request_queries: true });
        await tgGuardBot(s.tg, guarded, s.world.botId);
        await tgGuardBot(s.tg, photoChat, s.world.botId);
        const rule = async (body) => {
            const r = await s.client.post('/api/rules', body);
            assert.equal(r.status, 200, r.text);
        };
        await rule({ chat_id: guarded, name: 'casino', conditions: [{ type: 'name_matches', words: ['casino'] }], action: 'decline' });
        await rule({ chat_id: guarded, name: 'spam', conditions: [{ type: 'name_matches', words: ['spammer'] }], action: 'decline_and_ban' });
        await rule({ chat_id: guarded, name: 'links', conditions: [{ type: 'bio_has_link' }], action: 'hold' });
        await rule({ chat_id: guarded, name: 'everyone', conditions: [], action: 'approve' });
        await rule({ chat_id: photoChat, name: 'with a photo', conditions: [{ type: 'has_photo' }], action: 'approve' });
        for (const chat_id of [guarded, photoChat]) {
            const r = await s.client.post('/api/modes', { chat_id, mode: 'rules' });
            assert.equal(r.status, 200, r.text);
        }
    });
    after(async () => { await s?.cleanup(); });

    const record = async (chat, userId) => (await tgJoinRequests(s.tg, `chat_id=${chat}&user_id=${userId}`)).at(-1);
    // tgsim's record once fn(record) holds
    async function tgWait(chat, userId, fn, what, timeoutMs = 15000) {
        let rec = null;
        await waitFor(async () => { rec = await record(chat, userId); return rec && fn(rec); }, { timeoutMs, what });
        return rec;
    }
    async function doormanWait(chat, userId, fn, what) {
        let row = null;
        await waitFor(async () => {
            row = (await listAll(s.client, { chat_id: String(chat) })).find((r) => r.user_id === userId);
            return row && fn(row);
        }, { timeoutMs: 15000, what });
        return row;
    }
    const auditOf = async (requestId) => (await auditAll(s.client)).filter((e) => e.request_id === requestId);

    test('approve, decline, decline and ban, queue: answered through the query inside the deadline', async () => {
        const ann = await addRequester(s.tg, guarded, { first_name: 'Ann' });
        const casino = await addRequester(s.tg, guarded, { first_name: 'Best Casino' });
        const spammer = await addRequester(s.tg, guarded, { first_name: 'Spammer Bob' });
        const linda = await addRequester(s.tg, guarded, { first_name: 'Linda', bio: 'see https://spam.example.com' });
        const want = [[ann, 'approve', 'approved'], [casino, 'decline', 'declined'], [spammer, 'decline', 'declined'], [linda, 'queue', 'pending']];
        for (const [u, answer, status] of want) {
            const r = await tgWait(guarded, u.user_id, (x) => x.query.state !== 'open', `${u.first_name}'s query answered`);
            assert.equal(r.query.state, answer, JSON.stringify(r));
            assert.equal(r.query.answer_calls, 1);
            assert.ok(r.query.answered_at_ms - r.asked_at_ms < 10000, `answered after ${r.query.answered_at_ms - r.asked_at_ms} ms`);
            assert.equal(r.status, status);
            assert.equal(r.approve_calls + r.decline_calls, 0, 'no approve/declineChatJoinRequest: the query decided');
            if (status !== 'pending') {
                assert.equal(r.decided_by, s.world.botId);
                assert.equal(r.decisions, 1);
            }
        }
        // the ban after the decline, as the rules' "decline and ban" does
        await waitFor(async () => (await tgBans(s.tg, `chat_id=${guarded}&banned=true`)).items.some((b) => b.user_id === spammer.user_id),
            { timeoutMs: 10000, what: 'the spammer banned' });
        assert.ok(!(await tgBans(s.tg, `chat_id=${guarded}&banned=true`)).items.some((b) => b.user_id === casino.user_id));

        const a = await doormanWait(guarded, ann.user_id, (r) => r.status === 'approved', 'doorman records the approval');
        assert.equal(a.decided_by, '(rules)');
        assert.equal(a.decided_via, 'bot');
        assert.equal(a.verdict, 'rule 4: everyone → approve');
        const sp = await doormanWait(guarded, spammer.user_id, (r) => r.banned, 'doorman records the ban');
        assert.equal(sp.status, 'declined');
        const held = await doormanWait(guarded, linda.user_id, (r) => r.verdict !== '', 'the hold recorded');
        assert.equal(held.status, 'pending');
        assert.equal(held.verdict, 'rule 3: links → hold for review');

        const au = await auditOf(a.id);
        assert.equal(au.length, 1, JSON.stringify(au));
        assert.equal(au[0].admin, '(rules)');
        assert.equal(au[0].action, 'approve');
        assert.equal(au[0].via, 'bot');
        assert.equal(au[0].result, 'ok');
        assert.match(au[0].detail, /^join-request query: rule 4: everyone → approve/);
        const spa = await auditOf(sp.id);
        assert.deepEqual(spa.map((e) => `${e.action}/${e.result}`).sort(), ['ban/ok', 'decline/ok']);
        const qa = await auditOf(held.id);
        assert.deepEqual(qa.map((e) => `${e.action}/${e.result}`), ['queue/ok']);
        answeredEarly.push(ann, casino, spammer);
    });

    test('a channel without doorman as its join-request bot: no query, decided as before', async () => {
        const r = await s.client.post('/api/modes', { chat_id: plain, mode: 'approve_all' });
        assert.equal(r.status, 200, r.text);
        const u = await addRequester(s.tg, plain, { first_name: 'Plain' });
        const rec = await tgWait(plain, u.user_id, (x) => x.status !== 'pending', 'approved the ordinary way');
        assert.equal(rec.query, undefined);
        assert.equal(rec.approve_calls, 1);
    });

    test('GET /api/guard: the bot supports queries; which channels made it their join-request bot', async () => {
        const r = await s.client.get('/api/guard');
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.bot.supports_join_request_queries, true);
        assert.equal(r.json.bot.id, s.world.botId);
        const by = new Map(r.json.channels.map((c) => [c.chat_id, c]));
        assert.equal(by.get(guarded).is_doorman, true);
        assert.equal(by.get(guarded).guard_bot.id, s.world.botId);
        assert.equal(by.get(guarded).title, 'Channel 1');
        assert.equal(by.get(plain).is_doorman, false);
        assert.equal(by.get(plain).guard_bot, null);
        const one = await s.client.get(`/api/guard?chat_id=${plain}`);
        assert.deepEqual(one.json.channels.map((c) => c.chat_id), [plain]);
        assert.equal((await s.client.get('/api/guard?chat_id=abc')).status, 400);
    });

    test('a late answer is never sent: the request stays queued, then the rules decide it the ordinary way', async () => {
        // the photo check (getUserProfilePhotos) answers after 10.5 s: the verdict comes too late
        await tgInjectFault(s.tg, { method: 'getUserProfilePhotos', count: 1, delay_ms: 10500, error_code: 0 });
        const u = await addRequester(s.tg, photoChat, { first_name: 'Slow', photo: true });
        const rec = await tgWait(photoChat, u.user_id, (x) => x.status !== 'pending', 'approved after the deadline', 30000);
        assert.equal(rec.status, 'approved');
        assert.equal(rec.query.state, 'expired');
        assert.equal(rec.query.answer_calls, 0, 'no answer was sent');
        assert.equal(rec.approve_calls, 1);
        assert.equal(rec.decisions, 1);
        assert.ok(rec.decided_at_ms - rec.asked_at_ms > 10000);
        const row = await doormanWait(photoChat, u.user_id, (r) => r.status === 'approved', 'doorman records it');
        const au = await auditOf(row.id);
        assert.deepEqual(au.map((e) => `${e.action}/${e.result}`).sort(), ['approve/ok', 'queue/late'], JSON.stringify(au));
        assert.match(au.find((e) => e.result === 'late').detail, /^join-request query: not answered/);
    });

    test('an answer Telegram refuses falls back to the ordinary decision, once', async () => {
        await tgInjectFault(s.tg, {
            method: 'answerChatJoinRequestQuery', count: 1, error_code: 400,
            description: 'Bad Request: query is too old and response timeout expired or query ID is invalid',
        });
        const u = await addRequester(s.tg, guarded, { first_name: 'Refused' });
        const rec = await tgWait(guarded, u.user_id, (x) => x.status !== 'pending', 'approved anyway');
        assert.equal(rec.status, 'approved');
        assert.equal(rec.approve_calls, 1);
        assert.equal(rec.decisions, 1);
        const row = await doormanWait(guarded, u.user_id, (r) => r.status === 'approved', 'doorman records it');
        const au = await auditOf(row.id);
        assert.deepEqual(au.map((e) => `${e.action}/${e.result}`).sort(), ['approve/error', 'approve/ok'], JSON.stringify(au));
    });

    test('restart with queries outstanding: answered once when the deadline allows, never after it', async () => {
        await s.dm.kill();
        // one request waits out its whole deadline while doorman is down
        const late = await addRequester(s.tg, guarded, { first_name: 'Waited' });
        await tgWait(guarded, late.user_id, (x) => x.query.state === 'expired', 'its query expired', 15000);
        const soon = await addRequester(s.tg, guarded, { first_name: 'Soon' });
        await s.restart();
        const r1 = await tgWait(guarded, soon.user_id, (x) => x.status !== 'pending', 'answered after the restart');
        assert.equal(r1.query.state, 'approve');
        assert.equal(r1.query.answer_calls, 1);
        assert.equal(r1.approve_calls, 0);
        const r2 = await tgWait(guarded, late.user_id, (x) => x.status !== 'pending', 'decided the ordinary way');
        assert.equal(r2.status, 'approved');
        assert.equal(r2.query.answer_calls, 0);
        assert.equal(r2.approve_calls, 1);
        for (const r of [r1, r2]) assert.equal(r.decisions, 1);
        // long after, and across the restart, nothing else decided what the first queries did
        for (const u of answeredEarly) {
            const r = await record(guarded, u.user_id);
            assert.deepEqual([r.decisions, r.approve_calls, r.decline_calls, r.query.answer_calls], [1, 0, 0, 1]);
        }
    });
});

// Two instances on one PostgreSQL database: the one holding the lease "rules" answers; killed -9
// while answering, the other takes over: no query answered twice, every request decided once
// (queries the dead one had claimed go the ordinary way once their deadline has passed).
describe('guard mode with two instances on one PostgreSQL database', { skip: PG_URL ? false : 'needs DOORMAN_TEST_PG_URL (PostgreSQL)' }, () => {
    const N = 300;
    const JUDGE_RE = /this instance decides by the rules/;
    let s, b, chat;
    const env = { DOORMAN_SECRET_KEY: randomBytes(32).toString('hex') };
    before(async () => {
        const tg = await startTgsim({ latencyMs: 20 });
        const w = await setupWorld(tg, { channels: 1 });
        chat = w.chatIds[0];
        await tgBotSettings(tg, w.botId, { supports_join_request_queries: true });
        await tgGuardBot(tg, chat, w.botId);
        const dirA = makeTempDir('doorman-a-');
        s = await adminStack({
            tg, world: w, dataDir: dirA, configureBot: true,
            startDoorman: () => startDoorman({ tgsim: tg, dataDir: dirA, env }),
        });
        b = await startDoorman({ tgsim: tg, dataDir: makeTempDir('doorman-b-'), dbUrl: dbUrlFor(dirA), env });
        for (const [p, body] of [['/api/rules', { chat_id: chat, name: 'spam', conditions: [{ type: 'name_matches', words: ['spam'] }], action: 'decline' }],
            ['/api/rules', { chat_id: chat, name: 'the rest', conditions: [], action: 'approve' }], ['/api/modes', { chat_id: chat, mode: 'rules' }]]) {
            const r = await s.client.post(p, body);
            assert.equal(r.status, 200, `${p}: ${r.text}`);
        }
    });
    after(async () => {
        const errs = [];
        for (const stop of [() => b?.stop(), () => s?.dm.kill(), () => s?.tg.stop()]) {
            try { await stop(); } catch (e) { errs.push(e); }
        }
        if (errs.length) throw errs[0];
    });

    test(`${N} queries, the answering instance killed -9 midway: none answered twice, each decided once`, { timeout: 120000 }, async () => {
        await waitFor(() => JUDGE_RE.test(s.dm.output) || JUDGE_RE.test(b.output), { timeoutMs: 20000, what: 'one instance judging' });
        const victim = JUDGE_RE.test(s.dm.output) ? s.dm : b;
        const survivor = victim === b ? s.dm : b;
        await tgAddJoinRequests(s.tg, { chat_id: chat, count: N / 2, first_name: 'Spam Bot' });
        await tgAddJoinRequests(s.tg, { chat_id: chat, count: N / 2, first_name: 'Guest' });
        await waitFor(async () => (await tgJoinRequests(s.tg, `chat_id=${chat}`)).filter((r) => r.query.answered_at_ms > 0).length >= 30,
            { timeoutMs: 30000, intervalMs: 20, what: 'answers under way' });
        await victim.kill();
        let items = [];
        await waitFor(async () => {
            items = await tgJoinRequests(s.tg, `chat_id=${chat}`);
            return items.length === N && items.every((r) => r.status !== 'pending');
        }, { timeoutMs: 90000, intervalMs: 250, what: 'every request decided in tgsim' });
        assert.match(survivor.output, JUDGE_RE, 'the other instance took over');
        const twice = items.filter((r) => r.decisions !== 1 || r.query.answer_calls > 1);
        assert.deepEqual(twice.slice(0, 3), [], `${twice.length} requests decided or answered other than once`);
        assert.equal(items.filter((r) => r.status === 'declined').length, N / 2);
        const viaQuery = items.filter((r) => ['approve', 'decline'].includes(r.query.state)).length;
        assert.ok(viaQuery >= 30, `${viaQuery} decided through their queries`);
    });
});
