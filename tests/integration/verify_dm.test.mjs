// DM challenges (issue 14 item 3): for a bot that is not the channel's join-request bot, a
// challenge whose delivery is "buttons" comes as a private message through user_chat_id with
// inline callback buttons; each press is a step (the message edited to show the next), the last
// decides as the Mini App does; a replayed or forged press is refused and changes nothing; a
// request older than the 5-minute window gets no message; the welcome and decline templates
// arrive in tgsim's chat before the decision with a hostile name HTML-escaped; presses made while
// doorman is down are taken after it is back; the webhook asks for the same updates; tgsim's
// side (answerCallbackQuery once and in time, edits, a private message opening the chat). Runs
// on PostgreSQL too with DOORMAN_TEST_PG_URL.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { addRequester, tgCreateUser, tgJoinRequests } from '../lib/tgsim.mjs';
import { auditAll, listAll } from '../lib/api.mjs';
import { waitFor } from '../lib/processes.mjs';
import { startStack } from '../lib/stacks.mjs';

const TEXTS = {
    default: {
        title: 'Welcome check', rules: 'Be kind.', accept: 'I accept the rules',
        question: 'What colour is the sky?', choices: ['Green', 'Blue', 'Red'],
        passed: 'Thanks!', failed: 'Not this time.',
        welcome: '<b>Welcome</b>, {first_name}, to {channel}!', decline: 'Sorry {first_name}: the answer was wrong.',
    },
    ru: { title: 'Проверка', question: 'Какого цвета небо?', choices: ['Зелёное', 'Синее', 'Красное'], welcome: 'Добро пожаловать, {first_name}!' },
};
const CHALLENGE = {
    steps: ['rules', 'question'], delivery: 'buttons', time_limit_seconds: 600, on_pass: 'approve',
    on_fail: 'decline', on_timeout: 'decline', correct_choice: 1, texts: TEXTS,
};
const HOSTILE = '<a href="x">Eve</a> & co';

describe('DM challenges with inline buttons', () => {
    let s, chat, title;
    before(async () => {
        s = await startStack({ world: { channels: 1, pending: 0 } });
        [chat] = s.world.chatIds;
        title = s.world.chats[0].title;
        await ok('/api/rules', { chat_id: chat, name: 'check everyone', conditions: [], action: 'verify' });
        await ok('/api/modes', { chat_id: chat, mode: 'rules' });
        await ok('/api/challenges', { chat_id: chat, challenge: CHALLENGE });
    });
    after(async () => { await s?.cleanup(); });

    async function ok(p, body) {
        const r = body === undefined ? await s.client.get(p) : await s.client.post(p, body);
        assert.equal(r.status, 200, `${p}: ${r.text}`);
        return r.json;
    }
    const bot = () => s.world.botId;
    const messagesTo = async (userId) => (await s.tg.control('GET', `/control/bots/${bot()}/messages`)).items.filter((m) => m.chat_id === userId);
    const callbacks = async () => (await s.tg.control('GET', `/control/bots/${bot()}/callbacks`)).items;
    const press = (userId, messageId, what) => s.tg.control('POST', `/control/bots/${bot()}/press`, { user_id: userId, message_id: messageId, ...what });
    async function requestOf(userId) {
        return (await listAll(s.client, { chat_id: String(chat) })).find((r) => r.user_id === userId);
    }
    // a new applicant and the challenge's message once it came
    async function applicant(fields = {}) {
        const user = await addRequester(s.tg, chat, { first_name: 'Applicant', ...fields });
        let msg;
        await waitFor(async () => (msg = (await messagesTo(user.user_id))[0]), { timeoutMs: 10000, what: 'the challenge message' });
        return { user, msg };
    }
    // waits until the message shows text (edited), and returns it
    async function shows(userId, messageId, re) {
        let m;
        await waitFor(async () => (m = (await messagesTo(userId)).find((x) => x.message_id === messageId)) && re.test(m.text), { timeoutMs: 10000, what: `the message to show ${re}` });
        return m;
    }
    async function decided(userId) {
        let rec;
        await waitFor(async () => (rec = (await tgJoinRequests(s.tg, `chat_id=${chat}`)).find((r) => r.user_id === userId))?.status !== 'pending', { timeoutMs: 20000, what: `user ${userId} decided in tgsim` });
        return rec;
    }
    const buttons = (m) => m.params.reply_markup?.inline_keyboard.flat() ?? [];

    test('pass: rules, then the question, by buttons; approved, the welcome message first, the name escaped', async () => {
        const { user, msg } = await applicant({ first_name: HOSTILE });
        assert.equal(msg.text, 'Welcome check\n\nBe kind.');
        const accept = buttons(msg);
        assert.deepEqual(accept.map((b) => b.text), ['I accept the rules']);
        assert.match(accept[0].callback_data, /^v\d+:[0-9a-f]{16}$/, 'a signed tag, nothing in clear');

        await press(user.user_id, msg.message_id, { text: 'I accept the rules' });
        const q = await shows(user.user_id, msg.message_id, /What colour is the sky\?/);
        assert.deepEqual(buttons(q).map((b) => b.text), ['Green', 'Blue', 'Red']);
        for (const b of buttons(q)) assert.doesNotMatch(b.callback_data, /Blue|Green|Red|right|wrong|correct/i);
        assert.equal(new Set(buttons(q).map((b) => b.callback_data)).size, 3);

        await press(user.user_id, msg.message_id, { text: 'Blue' });
        const rec = await decided(user.user_id);
        assert.equal(rec.status, 'approved');
        const end = await shows(user.user_id, msg.message_id, /^Thanks!$/);
        assert.deepEqual(buttons(end), [], 'no buttons at the end');
        const answered = (await callbacks()).filter((c) => c.user_id === user.user_id);
        assert.equal(answered.length, 2);
        assert.ok(answered.every((c) => c.answered), 'every press answered');

        const msgs = await messagesTo(user.user_id);
        assert.equal(msgs.length, 2, 'the challenge and the welcome');
        assert.equal(msgs[1].text, `<b>Welcome</b>, &lt;a href=&quot;x&quot;&gt;Eve&lt;/a&gt; &amp; co, to ${title}!`);
        assert.equal(msgs[1].params.parse_mode, 'HTML');
        assert.ok(msgs[1].date <= rec.decided_at, 'sent before the approval');
        const req = await requestOf(user.user_id);
        const actions = (await auditAll(s.client)).filter((e) => e.request_id === req.id).map((e) => e.action);
        for (const a of ['verify_sent', 'verify_opened', 'verify_answered', 'verify_passed', 'notice_sent', 'approve'])
            assert.ok(actions.includes(a), `${a} in ${actions}`);
        // the request processed, the window is closed: Telegram (tgsim) refuses a new message
        const late = await s.tg.botApi(s.world.token, 'sendMessage', { chat_id: user.user_id, text: 'one more' });
        assert.equal(late.status, 403);
        assert.equal(late.json.description, "Forbidden: bot can't initiate conversation with a user");
    });

    test('fail, replayed and forged presses: refused and nothing changes; the decline reason sent, in the applicant\'s language', async () => {
        const { user, msg } = await applicant({ first_name: 'Mallory', language_code: 'ru' });
        const oldAccept = buttons(msg)[0].callback_data;
        await press(user.user_id, msg.message_id, { text: 'I accept the rules' });
        const q = await shows(user.user_id, msg.message_id, /Какого цвета небо\?/);
        // the accept button pressed again (a replay) and made-up data: answered, nothing changes
        for (const data of [oldAccept, oldAccept.replace(/:.*/, ':0123456789abcdef'), 'something else']) {
            const r = await press(user.user_id, msg.message_id, { data });
            let cb;
            await waitFor(async () => (cb = (await callbacks()).find((c) => c.id === r.callback_query_id))?.answered, { timeoutMs: 10000, what: 'the refused press answered' });
            assert.equal(cb.answer_text, 'This button is no longer valid.');
        }
        const req = await requestOf(user.user_id);
        assert.equal((await ok(`/api/verifications/${req.id}`)).state, 'opened', 'still at the question');

        await press(user.user_id, msg.message_id, { text: 'Зелёное' });
        assert.equal((await decided(user.user_id)).status, 'declined');
        await shows(user.user_id, msg.message_id, /^Not this time\.$/);
        const msgs = await messagesTo(user.user_id);
        assert.equal(msgs.at(-1).text, 'Sorry Mallory: the answer was wrong.', 'ru has no decline text: the default');
        // the question's buttons, pressed after the end: refused too
        const r = await press(user.user_id, msg.message_id, { data: buttons(q)[1].callback_data });
        let cb;
        await waitFor(async () => (cb = (await callbacks()).find((c) => c.id === r.callback_query_id))?.answered, { timeoutMs: 10000, what: 'the late press answered' });
        assert.equal(cb.answer_text, 'This button is no longer valid.');
        assert.equal((await requestOf(user.user_id)).status, 'declined');
    });

    test('the 5-minute window: a request older than it gets no message, and tgsim refuses one', async () => {
        const user = await addRequester(s.tg, chat, { first_name: 'Late', date: Math.floor(Date.now() / 1000) - 360 });
        let req;
        await waitFor(async () => (req = await requestOf(user.user_id))?.verdict, { timeoutMs: 10000, what: 'the verdict' });
        assert.match(req.verdict, /too late to reach the applicant: held for the admins/);
        const r = await s.tg.botApi(s.world.token, 'sendMessage', { chat_id: user.user_id, text: 'hi' });
        assert.equal(r.status, 403);
        assert.equal(r.json.description, "Forbidden: bot can't initiate conversation with a user");
        // an admin approves: no welcome either (the window is over)
        const r2 = await s.client.post('/api/invite-requests/approve', { request_ids: [req.id] });
        assert.equal(r2.status, 202, r2.text);
        assert.equal((await decided(user.user_id)).status, 'approved');
        assert.deepEqual(await messagesTo(user.user_id), []);
    });

    test('presses while doorman is down are taken when it is back; private messages are confirmed', async () => {
        const { user, msg } = await applicant({ first_name: 'Patient' });
        await s.dm.stop();
        await press(user.user_id, msg.message_id, { text: 'I accept the rules' });
        await s.tg.control('POST', `/control/bots/${bot()}/dm`, { user_id: user.user_id, text: '/start' });
        await s.restart();
        const q = await shows(user.user_id, msg.message_id, /What colour is the sky\?/);
        await press(user.user_id, q.message_id, { text: 'Blue' });
        assert.equal((await decided(user.user_id)).status, 'approved');
        await waitFor(async () => (await s.tg.control('GET', `/control/webhooks/${bot()}`)).pending_update_count === 0, { timeoutMs: 10000, what: 'every update confirmed' });
        // the user wrote to the bot: it may write to them now, after the decision too
        const r = await s.tg.botApi(s.world.token, 'sendMessage', { chat_id: user.user_id, text: 'hello again' });
        assert.equal(r.status, 200);
    });

    test('webhook mode asks for callback_query and message too, and takes presses', async () => {
        const hook = `${s.dm.url}/telegram/webhook`;
        await ok('/api/settings', { mode: 'webhook', webhook_url: hook });
        let info;
        await waitFor(async () => (info = await s.tg.control('GET', `/control/webhooks/${bot()}`)).url === hook, { what: 'the webhook set' });
        assert.deepEqual(info.allowed_updates, ['chat_join_request', 'callback_query', 'message']);
        const { user, msg } = await applicant({ first_name: 'Hooked' });
        await press(user.user_id, msg.message_id, { text: 'I accept the rules' });
        await shows(user.user_id, msg.message_id, /What colour is the sky\?/);
        await press(user.user_id, msg.message_id, { text: 'Red' });
        assert.equal((await decided(user.user_id)).status, 'declined');
        await ok('/api/settings', { mode: 'polling' });
    });

    test('tgsim: answerCallbackQuery once and in time, edits as Telegram checks them', async () => {
        const tok = s.world.token;
        const user = await tgCreateUser(s.tg, { first_name: 'Tester' });
        await s.tg.control('POST', `/control/bots/${bot()}/dm`, { user_id: user.id, text: 'hi' });
        const kb = { inline_keyboard: [[{ text: 'A', callback_data: 'a' }]] };
        const sent = await s.tg.botApi(tok, 'sendMessage', { chat_id: user.id, text: 'pick', reply_markup: kb });
        assert.equal(sent.status, 200);
        const mid = sent.json.result.message_id;
        let r = await s.tg.botApi(tok, 'editMessageText', { chat_id: user.id, message_id: mid, text: 'pick', reply_markup: kb });
        assert.equal(r.status, 400);
        assert.match(r.json.description, /message is not modified/);
        r = await s.tg.botApi(tok, 'editMessageText', { chat_id: user.id, message_id: 999999, text: 'x' });
        assert.equal(r.json.description, 'Bad Request: message to edit not found');
        r = await s.tg.botApi(tok, 'editMessageReplyMarkup', { chat_id: user.id, message_id: mid });
        assert.equal(r.status, 200);
        assert.deepEqual(buttons((await messagesTo(user.id)).find((m) => m.message_id === mid)), []);
        r = await s.tg.botApi(tok, 'answerCallbackQuery', { callback_query_id: '12345' });
        assert.equal(r.json.description, 'Bad Request: query is too old and response timeout expired or query ID is invalid');
        r = await s.tg.controlRaw('POST', `/control/bots/${bot()}/press`, { user_id: user.id, message_id: mid, text: 'A' });
        assert.equal(r.status, 400, 'no such button any more');
        // a press of a button that is not doorman's: doorman answers it (once); a second answer is
        // refused
        await s.tg.botApi(tok, 'editMessageReplyMarkup', { chat_id: user.id, message_id: mid, reply_markup: kb });
        const p = await press(user.id, mid, { text: 'A' });
        let cb;
        await waitFor(async () => (cb = (await callbacks()).find((c) => c.id === p.callback_query_id))?.answered, { timeoutMs: 10000, what: 'doorman to answer the press' });
        assert.equal(cb.answer_text, 'This button is no longer valid.');
        r = await s.tg.botApi(tok, 'answerCallbackQuery', { callback_query_id: p.callback_query_id, text: 'again' });
        assert.equal(r.status, 400);
        assert.match(r.json.description, /query ID is invalid/);
    });
});
