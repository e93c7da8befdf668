// Verification before approval (issue 14, items 2-4): a rule's "verify" begins a request's
// verification with its channel's challenge; the applicant opens the Mini App in Telegram (tgsim
// signs the launch data with the bot's token as Telegram does), doorman checks the launch data
// (forged, stale, replayed and someone else's refused), serves the challenge, takes the answers
// and decides through the rules' decision jobs, checked in tgsim's records; captcha pass, fail
// (and the ban after N failures), timeout; a restart in the middle of a challenge, and a deadline
// that passed while doorman was down; the private message through user_chat_id that brings the
// Mini App (a web_app button; tgsim's 5-minute window), and one that could not be sent. Runs on
// PostgreSQL too with DOORMAN_TEST_PG_URL.
//
// The captcha's digits are read from doorman's database (the test cannot read the picture the
// way a person does); everything else goes through the public interfaces.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { addRequester, tgAddJoinRequests, tgBans, tgBotSettings, tgCreateUser, tgGuardBot, tgInjectFault, tgJoinRequests, tgWebAppOpen } from '../lib/tgsim.mjs';
import { auditAll, listAll } from '../lib/api.mjs';
import { makeTempDir, waitFor } from '../lib/processes.mjs';
import { startStack } from '../lib/stacks.mjs';
import { PG_URL, dbUrlFor, psql } from '../lib/doorman.mjs';

const TEXTS = {
    default: {
        title: 'Welcome check', rules: 'Be kind.\nNo spam.', accept: 'I accept the rules',
        question: 'What colour is the sky?', choices: ['Green', 'Blue', 'Red'], prompt: 'Why do you want to join?',
    },
    ru: { title: 'Проверка', question: 'Какого цвета небо?', choices: ['Зелёное', 'Синее', 'Красное'] },
};
const CHALLENGE = {
    steps: ['rules', 'question', 'captcha', 'text'], time_limit_seconds: 600, on_pass: 'approve',
    on_fail: 'decline', ban_after: 0, on_timeout: 'decline', captcha_attempts: 2, correct_choice: 1, texts: TEXTS,
};

describe('verification', () => {
    let s, dataDir, chat, strict, slow, bare, guarded;
    before(async () => {
        dataDir = makeTempDir('doorman-data-');
        s = await startStack({ world: { channels: 5, pending: 0 }, doormanOpts: { dataDir } });
        [chat, strict, slow, bare, guarded] = s.world.chatIds;
        for (const c of [chat, strict, slow, bare, guarded]) {
            await ok('/api/rules', { chat_id: c, name: 'check everyone', conditions: [], action: 'verify' });
            await ok('/api/modes', { chat_id: c, mode: 'rules' });
        }
        await ok('/api/challenges', { chat_id: chat, challenge: CHALLENGE });
        await ok('/api/challenges', { chat_id: strict, challenge: { ...CHALLENGE, steps: ['captcha'], captcha_attempts: 1, ban_after: 2 } });
        await ok('/api/challenges', { chat_id: slow, challenge: { ...CHALLENGE, steps: ['rules'], time_limit_seconds: 10, on_timeout: 'decline' } });
        await ok('/api/challenges', { chat_id: guarded, challenge: { ...CHALLENGE, steps: ['rules'] } });
        await tgBotSettings(s.tg, s.world.botId, { supports_join_request_queries: true });
        await tgGuardBot(s.tg, guarded, s.world.botId);
    });
    after(async () => { await s?.cleanup(); });

    async function ok(p, body, status = 200) {
        const r = body === undefined ? await s.client.get(p) : await s.client.post(p, body);
        assert.equal(r.status, status, `${p}: ${r.text}`);
        return r.json;
    }
    // the Mini App's calls, made as the applicant's page makes them: no cookie, no CSRF token
    async function app(p, body) {
        const res = await fetch(s.dm.url + p, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        return { status: res.status, json: await res.json() };
    }
    function sql(q) {
        if (PG_URL) return psql(dbUrlFor(dataDir), q).trim();
        const r = spawnSync('sqlite3', [path.join(dataDir, 'doorman.db'), q], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        return r.stdout.trim();
    }
    const captchaOf = (id) => sql(`SELECT captcha FROM verifications WHERE request_id = ${Number(id)}`);
    async function requestOf(userId, chatId) {
        return (await listAll(s.client, { chat_id: String(chatId) })).find((r) => r.user_id === userId);
    }
    // a new applicant whose verification was sent (state): {user, req, v (GET /api/verifications/:id)}
    async function applicant(chatId, fields = {}, state = 'sent') {
        const user = await addRequester(s.tg, chatId, { first_name: 'Applicant', ...fields });
        let req;
        await waitFor(async () => (req = await requestOf(user.user_id, chatId))?.verification === state, { timeoutMs: 10000, what: `the verification ${state}` });
        const v = await ok(`/api/verifications/${req.id}`);
        return { user, req, v };
    }
    const launch = (a, extra) => tgWebAppOpen(s.tg, s.world.botId, a.user.user_id, a.v.url, extra);
    async function open(a, extra) {
        const l = await launch(a, extra);
        const r = await app('/api/app/verify/open', { request_id: a.req.id, init_data: l.init_data });
        return { l, r };
    }
    async function decidedInTgsim(chatId, userId) {
        let rec;
        await waitFor(async () => {
            rec = (await tgJoinRequests(s.tg, `chat_id=${chatId}`)).find((r) => r.user_id === userId);
            return rec && rec.status !== 'pending';
        }, { timeoutMs: 20000, what: `user ${userId} decided in tgsim` });
        return rec;
    }

    test('challenges: validated with the field named, saved, read back, removed', async () => {
        const bad = [
            [{ ...CHALLENGE, steps: ['dance'] }, /challenge\.steps: each must be one of rules, question, captcha, text/],
            [{ ...CHALLENGE, steps: ['rules', 'rules'] }, /challenge\.steps: "rules" is named twice/],
            [{ ...CHALLENGE, texts: { ru: TEXTS.ru } }, /challenge\.texts: must be an object with the "default" texts/],
            [{ ...CHALLENGE, texts: { ...TEXTS, ru: { choices: ['a', 'b'] } } }, /challenge\.texts\.ru\.choices: must have as many choices as the default's \(3\)/],
            [{ ...CHALLENGE, texts: { ...TEXTS, 'not a tag': {} } }, /challenge\.texts: "not a tag" is not a language tag/],
            [{ ...CHALLENGE, texts: { default: { ...TEXTS.default, accept: '' } } }, /challenge\.texts\.default: the step "rules" needs the text "accept"/],
            [{ ...CHALLENGE, correct_choice: 3 }, /challenge\.correct_choice: must be an integer from 0 to 2/],
            [{ ...CHALLENGE, on_pass: 'decline' }, /challenge\.on_pass: must be one of approve, queue/],
            [{ ...CHALLENGE, time_limit_seconds: 5 }, /challenge\.time_limit_seconds: must be an integer from 10 to 86400/],
            [{ ...CHALLENGE, colour: 'red' }, /challenge\.colour: unknown field/],
            [{ ...CHALLENGE, texts: { default: { ...TEXTS.default, rules: 'x'.repeat(4001) } } }, /challenge\.texts\.default\.rules: must be text of at most 4000 bytes/],
            ['captcha please', /challenge: must be an object/],
        ];
        const before = await ok('/api/challenges');
        for (const [challenge, msg] of bad) {
            const r = await s.client.post('/api/challenges', { chat_id: chat, challenge });
            assert.equal(r.status, 400, r.text);
            assert.equal(r.json.error.code, 'bad_request');
            assert.match(r.json.error.message, msg);
        }
        assert.deepEqual(await ok('/api/challenges'), before, 'nothing saved');
        const def = { ...CHALLENGE, steps: ['text'], texts: { default: { prompt: 'Tell us' } }, correct_choice: undefined };
        delete def.correct_choice;
        await ok('/api/challenges', { chat_id: 0, challenge: def });
        const all = await ok('/api/challenges');
        assert.deepEqual(all.default.challenge, def);
        assert.deepEqual(all.channels.map((c) => c.chat_id).sort(), [chat, strict, slow, guarded].sort());
        assert.deepEqual(all.channels.find((c) => c.chat_id === chat).challenge, CHALLENGE);
        assert.deepEqual(await ok('/api/challenges', { chat_id: 0, challenge: null }), { chat_id: 0, challenge: null });
        assert.equal((await ok('/api/challenges')).default, null);

        // a verify rule in a channel without a challenge (its own or a default) holds the request
        const u = await addRequester(s.tg, bare, { first_name: 'Nobody asks' });
        let r;
        await waitFor(async () => (r = await requestOf(u.user_id, bare))?.verdict, { timeoutMs: 10000, what: 'the verdict' });
        assert.equal(r.verdict, 'rule 1: check everyone → verify (no challenge is set: held for the admins)');
        assert.equal(r.status, 'pending');
        assert.equal(r.verification, null);
        assert.equal((await s.client.get(`/api/verifications/${r.id}`)).status, 404);

        // a request too old for its applicant to be reached (loaded late, a backlog): held too
        const late = await tgCreateUser(s.tg, { first_name: 'Late' });
        await tgAddJoinRequests(s.tg, { chat_id: chat, user_id: late.id, date: Math.floor(Date.now() / 1000) - 600 });
        await waitFor(async () => (r = await requestOf(late.id, chat))?.verdict, { timeoutMs: 10000, what: 'the verdict' });
        assert.equal(r.verdict, 'rule 1: check everyone → verify (too late to reach the applicant: held for the admins)');
        assert.equal(r.verification, null);
    });

    test('launch data: forged, stale, replayed, another user\'s and another launch\'s are refused', async () => {
        const a = await applicant(chat);
        assert.equal(a.req.status, 'pending');
        assert.equal(a.req.verdict, 'rule 1: check everyone → verify');
        assert.equal(a.req.verification, 'sent');
        assert.match(a.v.url, new RegExp(`/app/verify\\?r=${a.req.id}$`));

        const forged = await open(a, { hash: 'ab'.repeat(32) });
        assert.equal(forged.r.status, 401);
        assert.equal(forged.r.json.error.code, 'bad_signature');
        const stale = await open(a, { auth_date: Math.floor(Date.now() / 1000) - 7200 });
        assert.equal(stale.r.status, 401);
        assert.equal(stale.r.json.error.code, 'stale_launch');
        const other = await addRequester(s.tg, strict, { first_name: 'Other' });
        const theirs = await tgWebAppOpen(s.tg, s.world.botId, other.user_id, a.v.url);
        const r3 = await app('/api/app/verify/open', { request_id: a.req.id, init_data: theirs.init_data });
        assert.equal(r3.status, 403);
        assert.equal(r3.json.error.code, 'not_the_applicant');
        const garbled = await app('/api/app/verify/open', { request_id: a.req.id, init_data: 'user=%ZZ&hash=1' });
        assert.equal(garbled.status, 400);
        assert.equal(garbled.json.error.code, 'bad_launch');
        assert.equal((await ok(`/api/verifications/${a.req.id}`)).state, 'sent', 'nothing refused changed it');

        const good = await open(a);
        assert.equal(good.r.status, 200, JSON.stringify(good.r.json));
        const replay = await app('/api/app/verify/open', { request_id: a.req.id, init_data: good.l.init_data });
        assert.equal(replay.status, 409);
        assert.equal(replay.json.error.code, 'replayed_launch');
        // answers come from the launch that opened it
        const second = await launch(a);
        const r5 = await app('/api/app/verify/answer', { request_id: a.req.id, init_data: second.init_data, accepted: true, choice: 1 });
        assert.equal(r5.status, 403);
        assert.equal((await ok(`/api/verifications/${a.req.id}`)).state, 'opened');
        const none = await app('/api/app/verify/open', { request_id: 999999, init_data: good.l.init_data });
        assert.equal(none.status, 404);
    });

    test('the view: the applicant\'s language, no right answer in it; passing approves in Telegram', async () => {
        const a = await applicant(chat, { language_code: 'ru-RU', first_name: '<b>Ivan</b>' });
        const { l, r } = await open(a);
        assert.equal(r.status, 200, JSON.stringify(r.json));
        const view = r.json;
        assert.equal(view.language, 'ru');
        assert.equal(view.title, 'Проверка');
        assert.equal(view.name, '<b>Ivan</b>');
        assert.deepEqual(view.steps.map((x) => x.kind), ['rules', 'question', 'captcha', 'text']);
        assert.equal(view.steps[0].text, TEXTS.default.rules, 'a text the language lacks comes from the default');
        assert.deepEqual(view.steps[1].choices, TEXTS.ru.choices);
        assert.match(view.steps[2].image, /^data:image\/png;base64,/);
        const png = Buffer.from(view.steps[2].image.split(',')[1], 'base64');
        assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
        const digits = captchaOf(a.req.id);
        assert.match(digits, /^\d{5}$/);
        assert.ok(!JSON.stringify(view).includes(digits), 'the digits are only in the picture');
        assert.ok(!('correct_choice' in view) && !JSON.stringify(view).includes('correct'));

        const r2 = await app('/api/app/verify/answer', {
            request_id: a.req.id, init_data: l.init_data, accepted: true, choice: 1, captcha: digits, text: 'I like\u0007 it\nhere',
        });
        assert.equal(r2.status, 200, JSON.stringify(r2.json));
        assert.deepEqual(r2.json, { state: 'passed' });
        const rec = await decidedInTgsim(chat, a.user.user_id);
        assert.equal(rec.status, 'approved');
        assert.equal(rec.decisions, 1);
        await waitFor(async () => (await requestOf(a.user.user_id, chat)).status === 'approved', { timeoutMs: 10000, what: 'doorman records it' });
        const done = await requestOf(a.user.user_id, chat);
        assert.equal(done.verification, 'passed');
        assert.equal(done.verification_answer, 'I like  it\nhere');
        assert.equal(done.verdict, 'verification passed → approve');
        assert.equal(done.decided_by, '(rules)');
        const steps = (await auditAll(s.client)).filter((e) => e.request_id === a.req.id).map((e) => e.action).reverse();
        assert.deepEqual(steps, ['verify_sent', 'verify_opened', 'verify_answered', 'verify_passed', 'approve']);
        const again = await app('/api/app/verify/answer', { request_id: a.req.id, init_data: l.init_data, accepted: true, choice: 1, captcha: digits });
        assert.equal(again.status, 409, 'over is over');
    });

    test('a wrong captcha gets a new picture while attempts last, then fails and declines', async () => {
        const a = await applicant(chat);
        const { l } = await open(a);
        const first = captchaOf(a.req.id);
        const wrong = first === '00000' ? '11111' : '00000';
        const r1 = await app('/api/app/verify/answer', { request_id: a.req.id, init_data: l.init_data, accepted: true, choice: 1, captcha: wrong, text: 'x' });
        assert.equal(r1.status, 200);
        assert.equal(r1.json.state, 'opened');
        assert.equal(r1.json.retry, 'captcha');
        assert.equal(r1.json.attempts_left, 1);
        assert.match(r1.json.image, /^data:image\/png;base64,/);
        const v = await ok(`/api/verifications/${a.req.id}`);
        assert.equal(v.attempts, 1);
        assert.equal(v.state, 'opened');
        const second = captchaOf(a.req.id);
        assert.match(second, /^\d{5}$/);
        const wrong2 = second === first ? wrong : first; // the old picture's digits are no answer now
        const r2 = await app('/api/app/verify/answer', { request_id: a.req.id, init_data: l.init_data, accepted: true, choice: 1, captcha: wrong2, text: 'x' });
        assert.equal(r2.json.state, 'failed');
        const rec = await decidedInTgsim(chat, a.user.user_id);
        assert.equal(rec.status, 'declined');
        assert.equal(rec.decisions, 1);
        await waitFor(async () => (await requestOf(a.user.user_id, chat)).status === 'declined', { timeoutMs: 10000, what: 'doorman records it' });
        const d = await requestOf(a.user.user_id, chat);
        assert.equal(d.verification, 'failed');
        assert.equal(d.verdict, 'verification failed → decline');
        const failAudit = (await auditAll(s.client)).find((e) => e.request_id === a.req.id && e.action === 'verify_failed');
        assert.equal(failAudit.detail, 'the captcha was answered wrong too often');
    });

    test('a wrong choice or unaccepted rules fail; ban_after bans the N-th failure', async () => {
        // strict: captcha only, one attempt, ban on the 2nd failure in the channel; the same user twice
        const a = await applicant(strict, { first_name: 'Twice' });
        const o1 = await open(a);
        const f1 = await app('/api/app/verify/answer', { request_id: a.req.id, init_data: o1.l.init_data, captcha: '' });
        assert.equal(f1.json.state, 'failed');
        assert.equal((await decidedInTgsim(strict, a.user.user_id)).status, 'declined');
        await waitFor(async () => (await requestOf(a.user.user_id, strict)).status === 'declined', { timeoutMs: 10000, what: 'recorded' });
        assert.equal((await tgBans(s.tg, `chat_id=${strict}&user_id=${a.user.user_id}`)).counts.ban_calls, 0, 'no ban at the first failure');

        await s.tg.control('POST', '/control/join-requests', { chat_id: strict, user_id: a.user.user_id });
        let req2;
        await waitFor(async () => {
            req2 = (await listAll(s.client, { chat_id: String(strict) })).find((r) => r.user_id === a.user.user_id && r.status === 'pending' && r.verification);
            return req2;
        }, { timeoutMs: 10000, what: 'the second request\'s verification' });
        const b = { user: a.user, req: req2, v: await ok(`/api/verifications/${req2.id}`) };
        const o2 = await open(b);
        const f2 = await app('/api/app/verify/answer', { request_id: req2.id, init_data: o2.l.init_data, captcha: '1' });
        assert.equal(f2.json.state, 'failed');
        await waitFor(async () => (await tgBans(s.tg, `chat_id=${strict}&user_id=${a.user.user_id}`)).counts.banned === 1, { timeoutMs: 20000, what: 'the ban in tgsim' });
        await waitFor(async () => (await listAll(s.client, { chat_id: String(strict) })).find((r) => r.id === req2.id).banned, { timeoutMs: 10000, what: 'doorman records the ban' });
        const last = (await listAll(s.client, { chat_id: String(strict) })).find((r) => r.id === req2.id);
        assert.equal(last.verdict, 'verification failed → decline and ban');

        // the rules not accepted
        const c = await applicant(chat);
        const o3 = await open(c);
        const f3 = await app('/api/app/verify/answer', { request_id: c.req.id, init_data: o3.l.init_data, accepted: false, choice: 1, captcha: captchaOf(c.req.id), text: 'x' });
        assert.equal(f3.json.state, 'failed');
        assert.equal((await decidedInTgsim(chat, c.user.user_id)).status, 'declined');
    });

    test('on_pass queue: passed, left pending for the admins with the written answer', async () => {
        await ok('/api/challenges', { chat_id: bare, challenge: { steps: ['text'], on_pass: 'queue', texts: { default: { prompt: 'Who are you?' } } } });
        const a = await applicant(bare);
        const { l } = await open(a);
        const r = await app('/api/app/verify/answer', { request_id: a.req.id, init_data: l.init_data, text: '<script>alert(1)</script> a friend' });
        assert.deepEqual(r.json, { state: 'passed' });
        await waitFor(async () => (await requestOf(a.user.user_id, bare)).verification === 'passed', { timeoutMs: 10000, what: 'passed' });
        const q = await requestOf(a.user.user_id, bare);
        assert.equal(q.status, 'pending');
        assert.equal(q.verdict, 'verification passed → for the admins');
        assert.equal(q.verification_answer, '<script>alert(1)</script> a friend');
        const t = (await tgJoinRequests(s.tg, `chat_id=${bare}`)).find((x) => x.user_id === a.user.user_id);
        assert.equal(t.status, 'pending', 'Telegram still waits for the admins');
        // an empty written answer fails the step
        const b = await applicant(bare);
        const o = await open(b);
        assert.deepEqual((await app('/api/app/verify/answer', { request_id: b.req.id, init_data: o.l.init_data, text: '' })).json, { state: 'failed' });
    });

    test('bad answers: wrong types refused with the field named, nothing changed', async () => {
        const a = await applicant(chat);
        const { l } = await open(a);
        for (const [body, msg] of [
            [{ accepted: 'yes' }, /'accepted' must be true or false/],
            [{ choice: 99 }, /'choice' must be the number of a choice/],
            [{ captcha: 12345 }, /'captcha' must be a string/],
            [{ text: 'x'.repeat(1025) }, /'text' is too long/],
            [{ extra: 1 }, /Unknown field 'extra'/],
        ]) {
            const r = await app('/api/app/verify/answer', { request_id: a.req.id, init_data: l.init_data, ...body });
            assert.equal(r.status, 400, JSON.stringify(r.json));
            assert.match(r.json.error.message, msg);
        }
        const v = await ok(`/api/verifications/${a.req.id}`);
        assert.equal(v.state, 'opened');
        assert.equal(v.attempts, 0);
    });

    test('the private message: a web_app button to the Mini App, sent once inside user_chat_id\'s window', async () => {
        const a = await applicant(chat, { language_code: 'ru' });
        const msgs = (await s.tg.control('GET', `/control/bots/${s.world.botId}/messages`)).items.filter((m) => m.chat_id === a.user.user_id);
        assert.equal(msgs.length, 1, 'one message');
        const markup = msgs[0].params.reply_markup;
        assert.equal(msgs[0].text, 'To join, please complete a short check first: it takes a minute.');
        assert.deepEqual(markup, { inline_keyboard: [[{ text: 'Open the check', web_app: { url: a.v.url } }]] });
        const sent = (await auditAll(s.client)).filter((e) => e.request_id === a.req.id).map((e) => e.action);
        assert.deepEqual(sent, ['verify_sent']);
        // the button opens the Mini App as the applicant; passing approves
        const l = await tgWebAppOpen(s.tg, s.world.botId, a.user.user_id, markup.inline_keyboard[0][0].web_app.url);
        const r = await app('/api/app/verify/open', { request_id: a.req.id, init_data: l.init_data });
        assert.equal(r.status, 200);
        assert.equal(r.json.title, 'Проверка');

        // a message Telegram refuses: in the audit with its words; the deadline decides then
        await tgInjectFault(s.tg, { method: 'sendMessage', error_code: 403, description: 'Forbidden: bot was blocked by the user' });
        const b = await applicant(chat, {}, 'sent');
        let entry;
        await waitFor(async () => (entry = (await auditAll(s.client)).find((e) => e.request_id === b.req.id && e.action === 'verify_undelivered')), { timeoutMs: 10000, what: 'the undelivered entry' });
        assert.equal(entry.detail, 'the private message was not sent: Forbidden: bot was blocked by the user');
        assert.equal(entry.result, 'error');
        assert.equal((await ok(`/api/verifications/${b.req.id}`)).state, 'sent');
    });

    test('tgsim: user_chat_id\'s window and inline keyboards as Telegram checks them', async () => {
        const tok = s.world.token;
        const send = (body) => s.tg.botApi(tok, 'sendMessage', body);
        const stranger = await tgCreateUser(s.tg, { first_name: 'Stranger' });
        let r = await send({ chat_id: stranger.id, text: 'hi' });
        assert.equal(r.status, 403);
        assert.equal(r.json.description, "Forbidden: bot can't initiate conversation with a user");
        // a request 6 minutes old: the window is over; a fresh one opens it
        await tgAddJoinRequests(s.tg, { chat_id: strict, user_id: stranger.id, date: Math.floor(Date.now() / 1000) - 360, bot_updates: false });
        assert.equal((await send({ chat_id: stranger.id, text: 'hi' })).status, 403);
        const fresh = await tgCreateUser(s.tg, { first_name: 'Fresh' });
        await tgAddJoinRequests(s.tg, { chat_id: strict, user_id: fresh.id, bot_updates: false });
        r = await send({ chat_id: fresh.id, text: 'hi', reply_markup: { inline_keyboard: [[{ text: 'Go', web_app: { url: 'https://example.com/app' } }, { text: 'Yes', callback_data: 'v:1' }]] } });
        assert.equal(r.status, 200, JSON.stringify(r.json));
        for (const [markup, why] of [
            [{ inline_keyboard: [[{ text: 'x' }]] }, /can't parse inline keyboard button/],
            [{ inline_keyboard: [[{ text: 'x', callback_data: 'y'.repeat(65) }]] }, /BUTTON_DATA_INVALID/],
            [{ inline_keyboard: [[{ text: 'x', web_app: { url: 'ftp://x' } }]] }, /BUTTON_URL_INVALID/],
            [{ inline_keyboard: 'no' }, /can't parse reply keyboard markup/],
        ]) {
            r = await send({ chat_id: fresh.id, text: 'hi', reply_markup: markup });
            assert.equal(r.status, 400, JSON.stringify(markup));
            assert.match(r.json.description, why);
        }
        r = await send({ chat_id: strict, text: 'hi', reply_markup: { inline_keyboard: [[{ text: 'x', web_app: { url: 'https://example.com' } }]] } });
        assert.equal(r.status, 400);
        assert.match(r.json.description, /BUTTON_TYPE_INVALID/);
    });

    test('restart: a challenge in progress goes on; a deadline that passed while down still fires', async () => {
        const a = await applicant(chat);
        const { l } = await open(a);
        const digits = captchaOf(a.req.id);
        const t = await applicant(slow);
        // killed, and kept down until slow's deadline (10 s after its verdict) has passed
        await s.dm.kill();
        await waitFor(() => Date.now() / 1000 > t.v.deadline + 1, { timeoutMs: 15000, what: 'the deadline passed' });
        await s.restart();
        // the open challenge answers with the launch that opened it, after the restart
        const r = await app('/api/app/verify/answer', { request_id: a.req.id, init_data: l.init_data, accepted: true, choice: 1, captcha: digits, text: 'still here' });
        assert.equal(r.status, 200, JSON.stringify(r.json));
        assert.equal(r.json.state, 'passed');
        assert.equal((await decidedInTgsim(chat, a.user.user_id)).status, 'approved');
        // slow's deadline passed while doorman was down: declined as its challenge says
        const rec = await decidedInTgsim(slow, t.user.user_id);
        assert.equal(rec.status, 'declined');
        assert.equal(rec.decisions, 1);
        await waitFor(async () => (await requestOf(t.user.user_id, slow)).verification === 'timed_out', { timeoutMs: 10000, what: 'timed out' });
        const d = await requestOf(t.user.user_id, slow);
        assert.equal(d.verdict, 'verification timed out → decline');
        const audit = (await auditAll(s.client)).find((e) => e.request_id === t.req.id && e.action === 'verify_timed_out');
        assert.equal(audit.detail, 'no answer in time');
        assert.ok(d.decided_at >= t.v.deadline, 'not before its deadline');
    });
    // Guard mode (issue 14, item 1 with items 2-3): in a channel whose join-request bot is
    // doorman's, a verify verdict answers the request's query with sendChatJoinRequestWebApp (the
    // Mini App's URL), inside the deadline, and sends no private message; the answer then decides
    // through the bot as any verification does.
    test('guard mode: a verify verdict shows the Mini App through the query, not by message', async () => {
        const user = await addRequester(s.tg, guarded, { first_name: 'Guarded' });
        let rec;
        await waitFor(async () => {
            rec = (await tgJoinRequests(s.tg, `chat_id=${guarded}&user_id=${user.user_id}`)).at(-1);
            return rec?.query?.web_app_url;
        }, { timeoutMs: 10000, what: 'the Mini App shown through the query' });
        assert.ok(rec.query.answered_at_ms - rec.asked_at_ms < 10000, 'inside the deadline');
        const req = await requestOf(user.user_id, guarded);
        assert.equal(rec.query.web_app_url, (await ok(`/api/verifications/${req.id}`)).url);
        assert.equal(req.verification, 'sent');
        const l = await tgWebAppOpen(s.tg, s.world.botId, user.user_id, rec.query.web_app_url);
        const o = await app('/api/app/verify/open', { request_id: req.id, init_data: l.init_data });
        assert.equal(o.status, 200, JSON.stringify(o.json));
        const r = await app('/api/app/verify/answer', { request_id: req.id, init_data: l.init_data, accepted: true });
        assert.equal(r.json.state, 'passed', JSON.stringify(r.json));
        assert.equal((await decidedInTgsim(guarded, user.user_id)).status, 'approved');
        const msgs = (await s.tg.control('GET', `/control/bots/${s.world.botId}/messages`)).items.filter((m) => m.chat_id === user.user_id);
        assert.deepEqual(msgs, [], 'no private message: the query showed the Mini App');
    });
});
