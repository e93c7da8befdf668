// tgsim's side of rules (issue 13, item 8): bans, profile photos, waves through one link and the
// CAS-style blocklist, driven as clients we did not write drive them: plain HTTP calls to the
// Bot API (banChatMember, unbanChatMember, getUserProfilePhotos, their errors as Telegram words
// them) and to /cas/check (CAS's HTTP interface), and Debian's Telethon (layer 144) over MTProto
// (channels.editBanned, channels.getParticipants of the banned, photos.getUserPhotos, the user's
// photo field). Each check reads tgsim's own records (GET /control/bans, /control/join-requests).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
    startTgsim, startTgsimDcs, tgCreateBot, tgCreateUser, tgAddMember, tgAddJoinRequests,
    tgJoinRequests, tgBans, tgCasAdd, tgCasList, casUrl, tgInjectFault, tgUserTraits, tgAccount,
    newPhone, tgMakeAdmin,
} from '../lib/tgsim.mjs';
import { telethonRun } from '../lib/interop.mjs';

const LINK = 'https://t.me/+WaveOfBots';

describe('tgsim Bot API: bans and profile photos', () => {
    let tg, bot, weak, outsider, chat, withPhoto, noPhoto, member;
    const api = (who, method, params) => tg.botApi(who.token, method, params);
    const member_status = async (userId) =>
        (await api(bot, 'getChatMember', { chat_id: chat, user_id: userId })).json.result;

    before(async () => {
        tg = await startTgsim();
        bot = await tgCreateBot(tg, { username: 'ban_bot' });
        weak = await tgCreateBot(tg, { username: 'weak_bot' });
        outsider = await tgCreateBot(tg, { username: 'outsider_bot' });
        const ch = await tg.control('POST', '/control/channels', {
            title: 'Bans', username: 'bans_channel',
            admins: [{ id: bot.id }, { id: weak.id, can_invite_users: true, can_restrict_members: false }],
        });
        chat = ch.id;
        assert.deepEqual(ch.admins.map((a) => a.can_restrict_members), [true, false]);
        withPhoto = (await tgCreateUser(tg, { first_name: 'Photo', photo: true })).id;
        noPhoto = (await tgCreateUser(tg, { first_name: 'Plain' })).id;
        member = (await tgCreateUser(tg, { first_name: 'Member' })).id;
        await tgAddMember(tg, chat, member);
        await tgAddJoinRequests(tg, { chat_id: chat, user_id: withPhoto, invite_link: LINK });
    });
    after(async () => { await tg?.stop(); });

    test('getUserProfilePhotos: the photo trait, paging and errors', async () => {
        let r = await api(bot, 'getUserProfilePhotos', { user_id: withPhoto });
        assert.equal(r.status, 200);
        assert.equal(r.json.result.total_count, 1);
        assert.equal(r.json.result.photos.length, 1);
        const sizes = r.json.result.photos[0];
        assert.ok(sizes.length >= 1 && sizes.every((s) => s.file_id && s.file_unique_id && s.width > 0));
        r = await api(bot, 'getUserProfilePhotos', { user_id: withPhoto, offset: 1, limit: 1 });
        assert.deepEqual(r.json.result, { total_count: 1, photos: [] });
        r = await api(bot, 'getUserProfilePhotos', { user_id: noPhoto, limit: 1 });
        assert.deepEqual(r.json.result, { total_count: 0, photos: [] });
        r = await api(bot, 'getUserProfilePhotos', { user_id: 1 });
        assert.deepEqual([r.status, r.json.description], [400, 'Bad Request: user not found']);
        r = await api(bot, 'getUserProfilePhotos', {});
        assert.deepEqual([r.status, r.json.description], [400, 'Bad Request: user_id is empty']);
        // the trait can change later
        const t = await tgUserTraits(tg, noPhoto, { photo: true });
        assert.equal(t.photo, true);
        r = await api(bot, 'getUserProfilePhotos', { user_id: noPhoto, limit: 1 });
        assert.equal(r.json.result.total_count, 1);
        await tgUserTraits(tg, noPhoto, { photo: false });
        const bad = await tg.controlRaw('POST', `/control/users/${noPhoto}/traits`, { photo: 'yes' });
        assert.equal(bad.status, 400);
        assert.match(bad.json.error, /"photo" must be true or false/);
    });

    test('banChatMember refuses as Telegram does, and a refusal leaves no record', async () => {
        const cases = [
            [weak, { chat_id: chat, user_id: withPhoto }, 'Bad Request: not enough rights to restrict/unrestrict chat member'],
            [outsider, { chat_id: chat, user_id: withPhoto }, 'Bad Request: not enough rights to restrict/unrestrict chat member'],
            [bot, { chat_id: chat, user_id: 1 }, 'Bad Request: user not found'],
            [bot, { chat_id: chat, user_id: weak.id }, 'Bad Request: user is an administrator of the chat'],
            [bot, { chat_id: chat, user_id: bot.id }, 'Bad Request: user is an administrator of the chat'],
            [bot, { chat_id: -1009999, user_id: withPhoto }, 'Bad Request: chat not found'],
            [bot, { chat_id: chat }, 'Bad Request: user_id is empty'],
        ];
        for (const [who, params, want] of cases) {
            const r = await api(who, 'banChatMember', params);
            assert.deepEqual([r.status, r.json.ok, r.json.description], [400, false, want], JSON.stringify(params));
        }
        const r = await api(weak, 'unbanChatMember', { chat_id: chat, user_id: withPhoto });
        assert.equal(r.json.description, 'Bad Request: not enough rights to restrict/unrestrict chat member');
        assert.deepEqual((await tgBans(tg)).counts, { records: 0, banned: 0, ban_calls: 0, unban_calls: 0 });
        const jr = (await tgJoinRequests(tg, `chat_id=${chat}&user_id=${withPhoto}`))[0];
        assert.equal(jr.status, 'pending');
    });

    test('a ban dismisses the pending request and keeps the user from asking again', async () => {
        const r = await api(bot, 'banChatMember', { chat_id: chat, user_id: withPhoto, revoke_messages: true });
        assert.deepEqual(r.json, { ok: true, result: true });
        const jr = (await tgJoinRequests(tg, `chat_id=${chat}&user_id=${withPhoto}`))[0];
        assert.equal(jr.status, 'declined');
        assert.equal(jr.by_ban, true);
        assert.equal(jr.banned, true);
        assert.equal(jr.decided_by, bot.id);
        assert.equal(jr.decisions, 1);
        // a decline after the ban finds the request handled
        const d = await api(bot, 'declineChatJoinRequest', { chat_id: chat, user_id: withPhoto });
        assert.equal(d.json.description, 'Bad Request: HIDE_REQUESTER_MISSING');
        const b = await tgBans(tg, `chat_id=${chat}&user_id=${withPhoto}`);
        assert.equal(b.items.length, 1);
        assert.deepEqual(
            { banned: b.items[0].banned, by: b.items[0].banned_by, until: b.items[0].until_date, calls: b.items[0].ban_calls, revoke: b.items[0].revoke_messages },
            { banned: true, by: bot.id, until: 0, calls: 1, revoke: true });
        assert.deepEqual(await member_status(withPhoto), { status: 'kicked', user: { id: withPhoto, is_bot: false, first_name: 'Photo' }, until_date: 0 });
        const again = await tg.controlRaw('POST', '/control/join-requests', { chat_id: chat, user_id: withPhoto });
        assert.equal(again.status, 400);
        assert.match(again.json.error, /banned/);
        const add = await tg.controlRaw('POST', `/control/channels/${chat}/members`, { user_id: withPhoto });
        assert.equal(add.status, 400);
        // banning twice is harmless and counted
        assert.equal((await api(bot, 'banChatMember', { chat_id: chat, user_id: withPhoto })).json.ok, true);
        assert.equal((await tgBans(tg, `user_id=${withPhoto}`)).items[0].ban_calls, 2);
    });

    test('a banned member leaves; a temporary ban keeps its date', async () => {
        const before = (await tg.control('GET', `/control/channels/${chat}`)).members;
        const until = Math.floor(Date.now() / 1000) + 3600;
        assert.equal((await api(bot, 'banChatMember', { chat_id: chat, user_id: member, until_date: until })).json.ok, true);
        assert.equal((await tg.control('GET', `/control/channels/${chat}`)).members, before - 1);
        assert.deepEqual(await member_status(member), { status: 'kicked', user: { id: member, is_bot: false, first_name: 'Member' }, until_date: until });
        // less than 30 s ahead is for ever
        assert.equal((await api(bot, 'banChatMember', { chat_id: chat, user_id: member, until_date: until - 3590 })).json.ok, true);
        assert.equal((await member_status(member)).until_date, 0);
    });

    test('unbanChatMember: only_if_banned lifts a ban and nothing else; without it a member leaves', async () => {
        let r = await api(bot, 'unbanChatMember', { chat_id: chat, user_id: withPhoto, only_if_banned: true });
        assert.deepEqual(r.json, { ok: true, result: true });
        let b = (await tgBans(tg, `user_id=${withPhoto}`)).items[0];
        assert.deepEqual([b.banned, b.unbanned_by, b.unban_calls], [false, bot.id, 1]);
        assert.equal((await member_status(withPhoto)).status, 'left');
        // free to ask again, and approved this time
        await tgAddJoinRequests(tg, { chat_id: chat, user_id: withPhoto });
        assert.equal((await api(bot, 'approveChatJoinRequest', { chat_id: chat, user_id: withPhoto })).json.ok, true);
        assert.equal((await member_status(withPhoto)).status, 'member');
        r = await api(bot, 'unbanChatMember', { chat_id: chat, user_id: withPhoto, only_if_banned: true });
        assert.equal(r.json.ok, true);
        assert.equal((await member_status(withPhoto)).status, 'member');
        r = await api(bot, 'unbanChatMember', { chat_id: chat, user_id: weak.id, only_if_banned: true });
        assert.equal(r.json.ok, true);
        r = await api(bot, 'unbanChatMember', { chat_id: chat, user_id: weak.id });
        assert.equal(r.json.description, 'Bad Request: user is an administrator of the chat');
        r = await api(bot, 'unbanChatMember', { chat_id: chat, user_id: withPhoto });
        assert.equal(r.json.ok, true);
        assert.equal((await member_status(withPhoto)).status, 'left');
        b = (await tgBans(tg, `user_id=${withPhoto}`)).items[0];
        assert.deepEqual([b.banned, b.ban_calls, b.unban_calls], [false, 2, 3]);
        const all = await tgBans(tg, `chat_id=${chat}`);
        // the unban of an admin with only_if_banned made a record too: every call is counted
        assert.deepEqual(all.counts, { records: 3, banned: 1, ban_calls: 4, unban_calls: 4 });
        assert.deepEqual((await tgBans(tg, `chat_id=${chat}&banned=true`)).items.map((x) => x.user_id), [member]);
        assert.equal((await tg.controlRaw('GET', '/control/bans?banned=maybe')).status, 400);
    });
});

describe('tgsim: a wave through one link', () => {
    let tg, bot, chat;
    before(async () => {
        tg = await startTgsim();
        bot = await tgCreateBot(tg, { username: 'wave_bot' });
        chat = (await tg.control('POST', '/control/channels', { title: 'Waves', admins: [{ id: bot.id }] })).id;
    });
    after(async () => { await tg?.stop(); });

    test('2,000 requests through one link within a minute, announced oldest first', async () => {
        const now = Math.floor(Date.now() / 1000);
        const r = await tgAddJoinRequests(tg, { chat_id: chat, count: 2000, first_name: 'Bot', invite_link: LINK, spread_seconds: 60 });
        assert.equal(r.created, 2000);
        const items = await tgJoinRequests(tg, `chat_id=${chat}`);
        assert.equal(items.length, 2000);
        assert.ok(items.every((i) => i.invite_link === LINK && i.status === 'pending'));
        const dates = items.map((i) => i.date);
        const lo = Math.min(...dates), hi = Math.max(...dates);
        assert.equal(hi - lo, 60);
        assert.ok(hi >= now && hi <= now + 5, `the last request is dated now (${hi} vs ${now})`);
        assert.ok(dates.every((d, i) => i === 0 || d >= dates[i - 1]), 'dated in the order they were made');
        const up = await tg.botApi(bot.token, 'getUpdates', { limit: 100 });
        assert.equal(up.json.result.length, 100);
        const first = up.json.result[0].chat_join_request;
        assert.equal(first.invite_link.invite_link, LINK);
        assert.equal(first.date, lo);
        const bad = await tg.controlRaw('POST', '/control/join-requests', { chat_id: chat, user_id: 5, spread_seconds: 10 });
        assert.equal(bad.status, 400);
        assert.match(bad.json.error, /spread_seconds/);
    });
});

describe('tgsim: the CAS-style blocklist', () => {
    let tg;
    const check = async (q) => {
        const res = await fetch(`${casUrl(tg)}/check?${q}`);
        return { status: res.status, json: await res.json() };
    };
    before(async () => { tg = await startTgsim(); });
    after(async () => { await tg?.stop(); });

    test('answers as CAS does: listed, not listed, bad input', async () => {
        assert.deepEqual(await check('user_id=123'), { status: 200, json: { ok: false, description: 'Record not found.' } });
        await tgCasAdd(tg, { user_id: 123, offenses: 2, message: 'spam in 5 chats' });
        const r = await check('user_id=123');
        assert.equal(r.status, 200);
        assert.equal(r.json.ok, true);
        assert.equal(r.json.result.offenses, 2);
        assert.deepEqual(r.json.result.messages, ['spam in 5 chats']);
        assert.match(r.json.result.time_added, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
        await tgCasAdd(tg, { user_ids: [200, 201, 202] });
        assert.deepEqual((await tgCasList(tg)).map((e) => e.user_id), [123, 200, 201, 202]);
        assert.equal((await check('user_id=201')).json.result.offenses, 1);
        assert.equal((await check('user_id=abc')).status, 400);
        assert.equal((await check('')).status, 400);
        const bad = await tg.controlRaw('POST', '/control/cas', { user_ids: [1, 'x'] });
        assert.equal(bad.status, 400);
        assert.equal((await tgCasList(tg)).length, 4, 'a bad list adds nothing');
        const stats = await tg.control('GET', '/control/stats');
        assert.equal(stats.calls['cas.check'], 5);
    });

    test('faults: an error, a late right answer', async () => {
        await tgInjectFault(tg, { method: 'cas.check', error_code: 502, count: 1 });
        let r = await check('user_id=123');
        assert.deepEqual([r.status, r.json.ok], [502, false]);
        assert.equal((await check('user_id=123')).json.ok, true, 'count 1: the next call is fine');
        const f = await tgInjectFault(tg, { method: 'cas.check', delay_ms: 400, count: 1 });
        assert.equal(f.error_code, 0);
        const t0 = Date.now();
        r = await check('user_id=123');
        assert.ok(Date.now() - t0 >= 350, 'answered after the delay');
        assert.equal(r.json.ok, true);
        // a delay is for Bot API methods too (a slow Telegram), up to a minute
        const late = await tgInjectFault(tg, { method: 'getMe', delay_ms: 10, count: 0 });
        assert.equal(late.error_code, 0);
        const bad = await tg.controlRaw('POST', '/control/faults', { method: 'getMe', delay_ms: 60001 });
        assert.equal(bad.status, 400);
        assert.match(bad.json.error, /delay_ms/);
    });
});

describe('tgsim MTProto: bans and photos through Telethon', () => {
    let tg, admin, chat, p1, p2;
    before(async () => {
        tg = await startTgsimDcs({ dcs: 1 });
        admin = await tgAccount(tg, { phone: newPhone(), first_name: 'Admin', dc: 1 });
        chat = (await tg.control('POST', '/control/channels', { title: 'Telethon bans', username: 'telethon_bans' })).id;
        await tgMakeAdmin(tg, chat, admin.id, true, true);
        p1 = (await tgCreateUser(tg, { first_name: 'Photo', photo: true })).id;
        p2 = (await tgCreateUser(tg, { first_name: 'Plain' })).id;
        await tgAddJoinRequests(tg, { chat_id: chat, user_id: p1 });
        await tgAddJoinRequests(tg, { chat_id: chat, user_id: p2 });
    });
    after(async () => { await tg?.stop(); });

    test('channels.editBanned, banned participants, photos.getUserPhotos', async () => {
        const out = await telethonRun(tg, { phone: admin.phone, dc: 1 }, `
async def main(c):
    ch = await c.get_input_entity(req['channel'])
    ich = types.InputChannel(ch.channel_id, ch.access_hash)
    imp = await c(functions.messages.GetChatInviteImportersRequest(
        peer=ch, requested=True, offset_date=None, offset_user=types.InputUserEmpty(), limit=100))
    users = {u.id: u for u in imp.users}
    p1, p2 = users[req['p1']], users[req['p2']]
    out = {'photo_fields': [type(p1.photo).__name__, type(p2.photo).__name__]}
    photos = []
    for u in (p1, p2):
        r = await c(functions.photos.GetUserPhotosRequest(
            user_id=types.InputUser(u.id, u.access_hash), offset=0, max_id=0, limit=1))
        photos.append([type(r).__name__, len(r.photos)])
    out['photos'] = photos
    ban = types.ChatBannedRights(until_date=None, view_messages=True)
    await c(functions.channels.EditBannedRequest(
        channel=ich, participant=types.InputPeerUser(p1.id, p1.access_hash), banned_rights=ban))
    out['after_ban'] = control('/control/bans?user_id=%d' % p1.id)['items']
    out['request'] = control('/control/join-requests?user_id=%d' % p1.id)['items']
    k = await c(functions.channels.GetParticipantsRequest(
        channel=ich, filter=types.ChannelParticipantsKicked(q=''), offset=0, limit=100, hash=0))
    out['kicked'] = [k.count, [p.peer.user_id for p in k.participants],
                     [type(p).__name__ for p in k.participants], [u.id for u in k.users]]
    part = await c(functions.channels.GetParticipantRequest(
        channel=ich, participant=types.InputPeerUser(p1.id, p1.access_hash)))
    out['participant'] = [type(part.participant).__name__, part.participant.banned_rights.view_messages]
    try:
        await c(functions.channels.EditBannedRequest(
            channel=ich, participant=types.InputPeerSelf(), banned_rights=ban))
        out['self_ban'] = 'ok'
    except errors.RPCError as e:
        out['self_ban'] = type(e).__name__
    await c(functions.channels.EditBannedRequest(
        channel=ich, participant=types.InputPeerUser(p1.id, p1.access_hash),
        banned_rights=types.ChatBannedRights(until_date=None)))
    out['after_unban'] = control('/control/bans?user_id=%d' % p1.id)['items']
    return out
`, { channel: 'telethon_bans', p1, p2 });
        assert.deepEqual(out.photo_fields, ['UserProfilePhoto', 'UserProfilePhotoEmpty']);
        assert.deepEqual(out.photos, [['Photos', 1], ['Photos', 0]]);
        assert.equal(out.after_ban.length, 1);
        assert.deepEqual([out.after_ban[0].banned, out.after_ban[0].banned_by, out.after_ban[0].ban_calls], [true, admin.id, 1]);
        assert.deepEqual([out.request[0].status, out.request[0].by_ban, out.request[0].decided_by], ['declined', true, admin.id]);
        assert.deepEqual(out.kicked, [1, [p1], ['ChannelParticipantBanned'], [p1]]);
        assert.deepEqual(out.participant, ['ChannelParticipantBanned', true]);
        assert.equal(out.self_ban, 'UserAdminInvalidError'); // USER_ADMIN_INVALID
        assert.deepEqual([out.after_unban[0].banned, out.after_unban[0].unbanned_by, out.after_unban[0].unban_calls], [false, admin.id, 1]);
        const stats = await tg.control('GET', '/control/stats');
        assert.equal(stats.calls['channels.editBanned'], 3);
        assert.equal(stats.calls['photos.getUserPhotos'], 2);
    });

    test('channels.editBanned without the ban right: CHAT_ADMIN_REQUIRED, nothing recorded', async () => {
        await tgMakeAdmin(tg, chat, admin.id, true, false);
        const out = await telethonRun(tg, { phone: admin.phone, dc: 1 }, `
async def main(c):
    ch = await c.get_input_entity(req['channel'])
    imp = await c(functions.messages.GetChatInviteImportersRequest(
        peer=ch, requested=True, offset_date=None, offset_user=types.InputUserEmpty(), limit=100))
    u = [u for u in imp.users if u.id == req['p2']][0]
    try:
        await c(functions.channels.EditBannedRequest(
            channel=types.InputChannel(ch.channel_id, ch.access_hash),
            participant=types.InputPeerUser(u.id, u.access_hash),
            banned_rights=types.ChatBannedRights(until_date=None, view_messages=True)))
        return {'result': 'ok'}
    except errors.RPCError as e:
        return {'result': type(e).__name__}
`, { channel: 'telethon_bans', p2 });
        assert.deepEqual(out, { result: 'ChatAdminRequiredError' }); // CHAT_ADMIN_REQUIRED
        assert.equal((await tgBans(tg, `user_id=${p2}`)).items.length, 0);
        assert.equal((await tgJoinRequests(tg, `user_id=${p2}`))[0].status, 'pending');
    });
});
