// tgsim.mjs: the Telegram simulator. Starts tgsim (Bot API only, or with MTProto data centres)
// and drives its control API (docs/tgsim.md): bots, channels, users, join requests, faults,
// MTProto accounts, login codes, flood limits, revoked keys, and a ready-made world of a bot, its
// channels and pending requests. The other helpers reach the control API only through here, so a
// change to it is one edit in tests/lib (tests may still call tg.control for a one-off).
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { Proc, TGSIM_BIN, listenUrl, makeTempDir, waitFor } from './processes.mjs';

// ---------------------------------------------------------------------------------------------
// Starting tgsim

// Starts tgsim on a free loopback port. rateLimit: requests per second per bot (0/undefined =
// tgsim's default); latencyMs: added to every Bot API answer.
export async function startTgsim({ rateLimit, latencyMs, args = [], env } = {}) {
    const a = ['--listen', '127.0.0.1:0'];
    if (rateLimit !== undefined) a.push('--rate-limit', String(rateLimit));
    if (latencyMs !== undefined) a.push('--latency-ms', String(latencyMs));
    a.push(...args);
    const p = new Proc('tgsim', TGSIM_BIN, a, env);
    const m = await p.waitOutput(/tgsim: listening on http:\/\/([0-9.]+|\[[0-9a-f:]+\]):(\d+)/, { what: 'its listening line' });
    const url = listenUrl(m);

    // control(method, path, body): tgsim's control API; returns the JSON answer, throws on non-2xx.
    async function control(method, p2, body) {
        const r = await controlRaw(method, p2, body);
        if (r.status < 200 || r.status > 299) {
            throw new Error(`tgsim control ${method} ${p2} ${JSON.stringify(body)} -> ${r.status} ${r.text}`);
        }
        return r.json;
    }
    async function controlRaw(method, p2, body) {
        const init = { method, headers: {} };
        if (body !== undefined) {
            init.body = JSON.stringify(body);
            init.headers['content-type'] = 'application/json';
        }
        const res = await fetch(url + p2, init);
        const text = await res.text();
        let json = null;
        try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
        return { status: res.status, json, text };
    }
    // The Bot API as a bot would call it (for checks such as getWebhookInfo).
    async function botApi(token, method, params = {}) {
        const res = await fetch(`${url}/bot${token}/${method}`, {
            method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params),
        });
        return { status: res.status, json: await res.json() };
    }
    return {
        url, proc: p, control, controlRaw, botApi,
        get output() { return p.out; },
        stop: (o) => p.stop(o),
        kill: () => p.kill(),
    };
}

// Starts tgsim with `dcs` MTProto data centres on free ports; resolves once every
// "tgsim: dc N listening on 127.0.0.1:PORT" line is out. Returns startTgsim's object plus
// {dcPorts: {1: port, ...}, pem, dcsArg: "1=127.0.0.1:P1,..."}.
export async function startTgsimDcs({ dcs = 3, args = [], ...opts } = {}) {
    const dir = makeTempDir('tgsim-dc-');
    const pem = path.join(dir, 'dc.pem');
    const tg = await startTgsim({ ...opts, args: ['--dc-ports', Array(dcs).fill('0').join(','), '--rsa-pem', pem, ...args] });
    const ports = {};
    for (let i = 1; i <= dcs; i++) {
        const m = await tg.proc.waitOutput(new RegExp(`tgsim: dc ${i} listening on 127\\.0\\.0\\.1:(\\d+)`),
            { what: `the line of dc ${i}` });
        ports[i] = Number(m[1]);
    }
    await waitFor(() => existsSync(pem) && readFileSync(pem, 'utf8').includes('END'), { what: `tgsim's RSA key in ${pem}` });
    tg.dcPorts = ports;
    tg.pem = pem;
    tg.dcsArg = Object.entries(ports).map(([dc, p]) => `${dc}=127.0.0.1:${p}`).join(',');
    return tg;
}

// ---------------------------------------------------------------------------------------------
// Bots, channels, users and join requests

export async function tgCreateBot(tg, { username = 'doorman_test_bot', first_name = 'Doorman Test' } = {}) {
    return tg.control('POST', '/control/bots', { username, first_name });
}

export async function tgCreateChannel(tg, { title, username, botId }) {
    const admins = botId !== undefined ? [{ id: botId, can_invite_users: true }] : [];
    return tg.control('POST', '/control/channels', { title, username, admins });
}

export async function tgCreateUser(tg, u) {
    return tg.control('POST', '/control/users', u);
}

// Makes userId (a user account or a bot) an admin of chatId in tgsim, with or without the
// invite-users right, and with or without the right to ban (can_restrict_members, default true).
export async function tgMakeAdmin(tg, chatId, userId, canInvite = true, canRestrict = true) {
    return tg.control('POST', `/control/channels/${chatId}/admins`,
        { id: userId, can_invite_users: canInvite, can_restrict_members: canRestrict });
}

// Changes an existing user's traits: {is_premium?, language_code?, scam?, fake?, photo?}.
export async function tgUserTraits(tg, userId, traits) {
    return tg.control('POST', `/control/users/${userId}/traits`, traits);
}

// Bot API 10.1 join-request queries: a bot's {supports_join_request_queries}, and the channel's
// guard bot (its assigned join-request bot; null removes it). tgJoinRequests rows of a request
// that came as a query carry query: {id, state (open|expired|web_app|approve|decline|queue),
// deadline_ms, answered_at_ms, answer_calls, web_app_url}.
export async function tgBotSettings(tg, botId, settings) {
    return tg.control('POST', `/control/bots/${botId}/settings`, settings);
}
export async function tgGuardBot(tg, chatId, botId) {
    return tg.control('POST', `/control/channels/${chatId}/guard-bot`, { bot_id: botId });
}

export async function tgAddMember(tg, chatId, userId) {
    return tg.control('POST', `/control/channels/${chatId}/members`, { user_id: userId });
}

// Adds join requests: {chat_id, user_id, invite_link?, date?} for one existing user, or
// {chat_id, count, first_name?, bio?, invite_link?, date?, spread_seconds?} for count new users
// (a wave: all through invite_link, dated over the spread_seconds before date). Returns tgsim's
// answer ({created, first_user_id, last_user_id, user_ids?}).
export async function tgAddJoinRequests(tg, body) {
    return tg.control('POST', '/control/join-requests', body);
}

// Every join request tgsim knows, as [{chat_id, user_id, status, date, decided_by, decided_at,
// decisions, invite_link?}] (a user who asked again after a decision has several records).
export async function tgJoinRequests(tg, query = '') {
    const r = await tg.control('GET', `/control/join-requests${query ? '?' + query : ''}`);
    return Array.isArray(r) ? r : r.items;
}

// tgsim's join requests keyed "chat_id/user_id" (the latest record of each pair).
export async function tgRequestMap(tg) {
    const m = new Map();
    for (const r of await tgJoinRequests(tg)) m.set(`${r.chat_id}/${r.user_id}`, r);
    return m;
}

// What tgsim recorded for the given users of one chat differs from want ({status, decided_by,
// decisions}; a field left out is not compared): one line per difference, [] when all agree.
export async function tgMismatches(tg, chatId, userIds, want) {
    const items = await tgJoinRequests(tg, `chat_id=${chatId}`);
    const latest = new Map(items.map((r) => [r.user_id, r]));
    const out = [];
    for (const u of userIds) {
        const r = latest.get(u);
        if (!r) { out.push(`${chatId}/${u}: tgsim has no record`); continue; }
        for (const [k, v] of Object.entries(want)) {
            if (r[k] !== v) out.push(`${chatId}/${u}: ${k} is ${JSON.stringify(r[k])}, want ${JSON.stringify(v)}`);
        }
    }
    return out;
}

export async function tgInjectFault(tg, fault) {
    return tg.control('POST', '/control/faults', fault);
}

// tgsim's ban records ({items: [{chat_id, user_id, banned, until_date, banned_by, banned_at,
// unbanned_by, unbanned_at, ban_calls, unban_calls}], counts: {records, banned, ban_calls,
// unban_calls}}); query e.g. "chat_id=-100…&banned=true".
export async function tgBans(tg, query = '') {
    return tg.control('GET', `/control/bans${query ? '?' + query : ''}`);
}

// The CAS-style blocklist tgsim serves on /cas/check: lists {user_id} or {user_ids: [...]}
// (offenses?, message?); tgCasList reads it back. casUrl(tg) is the base URL a CAS client takes.
export async function tgCasAdd(tg, body) {
    return tg.control('POST', '/control/cas', body);
}
export async function tgCasList(tg) {
    return (await tg.control('GET', '/control/cas')).items;
}
export function casUrl(tg) {
    return `${tg.url}/cas`;
}

// ---------------------------------------------------------------------------------------------
// A world: a bot, its channels, and people asking to join

// A bot, `channels` channels with the bot as admin (can_invite_users), and `pending` join requests
// spread over the channels, each from a new user with a name, username and bio.
export async function setupWorld(tg, { channels = 2, pending = 0, namePrefix = 'User' } = {}) {
    const bot = await tgCreateBot(tg);
    const chats = [];
    for (let i = 0; i < channels; i++) {
        chats.push(await tgCreateChannel(tg, { title: `Channel ${i + 1}`, username: `test_channel_${i + 1}`, botId: bot.id }));
    }
    const users = [];
    for (let i = 0; i < pending; i++) {
        const chat = chats[i % chats.length];
        users.push(await addRequester(tg, chat.id, { first_name: `${namePrefix}${i}`, last_name: `Last${i}`, username: `user_${namePrefix.toLowerCase()}_${i}`, bio: `bio of ${i}` }));
    }
    return { bot, token: bot.token, botId: bot.id, chats, chatIds: chats.map((c) => c.id), users };
}

// A new user asking to join chatId. Returns {user_id, chat_id, ...fields}.
export async function addRequester(tg, chatId, fields = {}) {
    const u = await tgCreateUser(tg, {
        first_name: fields.first_name || 'Someone', last_name: fields.last_name, username: fields.username, bio: fields.bio,
        is_premium: fields.is_premium, language_code: fields.language_code, scam: fields.scam, fake: fields.fake,
        photo: fields.photo,
    });
    const jr = { chat_id: chatId, user_id: u.id };
    if (fields.invite_link !== undefined) jr.invite_link = fields.invite_link;
    if (fields.date !== undefined) jr.date = fields.date;
    if (fields.bot_updates !== undefined) jr.bot_updates = fields.bot_updates; // false: only Telegram knows
    await tgAddJoinRequests(tg, jr);
    return { ...fields, user_id: u.id, chat_id: chatId };
}

// ---------------------------------------------------------------------------------------------
// MTProto accounts (tgsim with data centres)

let phoneSeq = 0;
// A fresh phone number per call within one test process (distinct across files by the pid).
export function newPhone() {
    phoneSeq += 1;
    return `+1${String(process.pid % 100000).padStart(5, '0')}${String(phoneSeq).padStart(4, '0')}`;
}

// {phone, first_name, last_name?, username?, bio?, password?, dc?, user_id?} -> {id, phone, dc, ...}
export async function tgAccount(tg, a) {
    return tg.control('POST', '/control/accounts', { first_name: 'Acc', ...a });
}

export async function tgLoginCode(tg, phone) {
    return tg.control('GET', `/control/login-code?phone=${encodeURIComponent(phone)}`);
}

// {flood_limit?, window?, wait?, count?}: a call limit per window (60 s unless `window` seconds),
// or the next `count` calls answering FLOOD_WAIT_<wait>.
export async function tgFlood(tg, userId, body) {
    return tg.control('POST', `/control/accounts/${userId}/flood`, body);
}

// {email_required?, banned?}: how tgsim's data centres treat the account's logins (sendCode asks
// for a login email first, or answers PHONE_NUMBER_BANNED).
export async function tgAccountFlags(tg, userId, flags) {
    return tg.control('POST', `/control/accounts/${userId}/flags`, flags);
}

export async function tgRevoke(tg, userId, error = 'SESSION_REVOKED') {
    return tg.control('POST', `/control/accounts/${userId}/revoke`, { error });
}

// ---------------------------------------------------------------------------------------------
// Mini Apps

// Opens a Mini App URL as userId would in Telegram, launched by botId's button: {url (with the
// #tgWebAppData=… fragment), init_data}. auth_date (default now), platform, theme_params ({bg_color:
// '#…', …}) and hash (a forged one) as the control API takes them.
export async function tgWebAppOpen(tg, botId, userId, url, extra = {}) {
    return tg.control('POST', '/control/webapp/open', { bot_id: botId, user_id: userId, url, ...extra });
}
