// tgsim's join-request queries (Bot API 10.1, docs/tgsim.md), driven as a bot of the test's own
// would: a channel's guard bot needs support for queries and the right to invite; getMe and getChat
// show both; only the guard bot's update carries query_id (a string); answerChatJoinRequestQuery
// answers once, in time, with Telegram's error texts otherwise; sendChatJoinRequestWebApp records
// its URL and the request then waits for the bot; past the 10-second deadline the request stays
// pending and a late answer fails. doorman's use of them: guard.test.mjs.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
    addRequester, setupWorld, startTgsim, tgBotSettings, tgCreateBot, tgCreateChannel, tgGuardBot, tgJoinRequests,
} from '../lib/tgsim.mjs';
import { waitFor } from '../lib/processes.mjs';

describe('tgsim: join-request queries as the Bot API has them', () => {
    let tg, bot, other, chat, plainChat;
    before(async () => {
        tg = await startTgsim();
        plainChat = (await setupWorld(tg, { channels: 1 })).chatIds[0];
        bot = await tgCreateBot(tg, { username: 'own_guard_bot', first_name: 'Own guard' });
        other = await tgCreateBot(tg, { username: 'other_bot', first_name: 'Other' });
        chat = (await tgCreateChannel(tg, { title: 'Guarded', username: 'guarded_q', botId: bot.id })).id;
        await tg.control('POST', `/control/channels/${chat}/admins`, { id: other.id, can_invite_users: true });
    });
    after(async () => { await tg?.stop(); });

    const call = (token, method, params) => tg.botApi(token, method, params);
    async function nextQuery(token, userId) {
        let q = null;
        let offset = 0;
        await waitFor(async () => {
            const r = await call(token, 'getUpdates', { offset, timeout: 0 });
            for (const u of r.json.result) {
                offset = u.update_id + 1;
                if (u.chat_join_request?.from.id === userId) q = u.chat_join_request;
            }
            return q;
        }, { what: 'the update' });
        return q;
    }

    test('assigning needs a bot that supports queries and may invite; getMe and getChat show it', async () => {
        const refused = await tg.controlRaw('POST', `/control/channels/${chat}/guard-bot`, { bot_id: bot.id });
        assert.equal(refused.status, 400);
        assert.match(refused.json.error, /does not support join request queries/);
        assert.equal((await call(bot.token, 'getMe')).json.result.supports_join_request_queries, false);
        await tgBotSettings(tg, bot.id, { supports_join_request_queries: true });
        assert.equal((await call(bot.token, 'getMe')).json.result.supports_join_request_queries, true);
        const notAdmin = await tg.controlRaw('POST', `/control/channels/${plainChat}/guard-bot`, { bot_id: bot.id });
        assert.equal(notAdmin.status, 400);
        assert.match(notAdmin.json.error, /admin of the channel/);
        const ch = await tgGuardBot(tg, chat, bot.id);
        assert.equal(ch.guard_bot, bot.id);
        const info = (await call(other.token, 'getChat', { chat_id: chat })).json.result;
        assert.equal(info.guard_bot.id, bot.id);
        assert.equal(info.guard_bot.username, 'own_guard_bot');
    });

    test('query_id only to the guard bot; answers once, in time; errors as Telegram words them', async () => {
        const u = await addRequester(tg, chat, { first_name: 'Q' });
        const jr = await nextQuery(bot.token, u.user_id);
        assert.equal(typeof jr.query_id, 'string');
        assert.match(jr.query_id, /^[0-9]+$/);
        const seen = await nextQuery(other.token, u.user_id);
        assert.equal(seen.query_id, undefined, 'another admin bot gets the request without the query');

        const bad = async (token, params, description) => {
            const r = await call(token, 'answerChatJoinRequestQuery', params);
            assert.equal(r.status, 400, JSON.stringify(r.json));
            assert.equal(r.json.description, description);
        };
        await bad(bot.token, { result: 'approve' }, 'Bad Request: chat_join_request_query_id is empty');
        await bad(bot.token, { chat_join_request_query_id: jr.query_id, result: 'maybe' }, 'Bad Request: invalid result specified');
        const tooOld = 'Bad Request: query is too old and response timeout expired or query ID is invalid';
        await bad(other.token, { chat_join_request_query_id: jr.query_id, result: 'approve' }, tooOld);
        await bad(bot.token, { chat_join_request_query_id: '12345', result: 'approve' }, tooOld);
        const ok = await call(bot.token, 'answerChatJoinRequestQuery', { chat_join_request_query_id: jr.query_id, result: 'decline' });
        assert.equal(ok.json.ok, true, JSON.stringify(ok.json));
        await bad(bot.token, { chat_join_request_query_id: jr.query_id, result: 'approve' }, tooOld);
        const rec = (await tgJoinRequests(tg, `chat_id=${chat}&user_id=${u.user_id}`)).at(-1);
        assert.equal(rec.status, 'declined');
        assert.equal(rec.query.state, 'decline');
        assert.equal(rec.query.answer_calls, 3, "the calls that named it: the other bot's, the answer, the one after");
    });

    test('sendChatJoinRequestWebApp records the URL; the request waits for the bot\'s decision', async () => {
        const u = await addRequester(tg, chat, { first_name: 'W' });
        const jr = await nextQuery(bot.token, u.user_id);
        const badUrl = await call(bot.token, 'sendChatJoinRequestWebApp', { chat_join_request_query_id: jr.query_id, web_app_url: 'ftp://x' });
        assert.equal(badUrl.status, 400);
        const url = 'https://doorman.example/verify?q=1';
        const r = await call(bot.token, 'sendChatJoinRequestWebApp', { chat_join_request_query_id: jr.query_id, web_app_url: url });
        assert.equal(r.json.ok, true, JSON.stringify(r.json));
        let rec = (await tgJoinRequests(tg, `chat_id=${chat}&user_id=${u.user_id}`)).at(-1);
        assert.equal(rec.status, 'pending');
        assert.equal(rec.query.state, 'web_app');
        assert.equal(rec.query.web_app_url, url);
        const a = await call(bot.token, 'approveChatJoinRequest', { chat_id: chat, user_id: u.user_id });
        assert.equal(a.json.ok, true);
        rec = (await tgJoinRequests(tg, `chat_id=${chat}&user_id=${u.user_id}`)).at(-1);
        assert.equal(rec.status, 'approved');
    });

    test('past the deadline the query expires: the request stays pending, a late answer fails', async () => {
        const u = await addRequester(tg, chat, { first_name: 'L' });
        const jr = await nextQuery(bot.token, u.user_id);
        const rec = await (async () => {
            let x = null;
            await waitFor(async () => {
                x = (await tgJoinRequests(tg, `chat_id=${chat}&user_id=${u.user_id}`)).at(-1);
                return x.query.state === 'expired';
            }, { timeoutMs: 15000, what: 'the query expired' });
            return x;
        })();
        assert.equal(rec.status, 'pending');
        const r = await call(bot.token, 'answerChatJoinRequestQuery', { chat_join_request_query_id: jr.query_id, result: 'approve' });
        assert.equal(r.status, 400);
        assert.match(r.json.description, /query is too old/);
        assert.equal((await tgJoinRequests(tg, `chat_id=${chat}&user_id=${u.user_id}`)).at(-1).status, 'pending');
    });
});
