// Invite links (issue 15, item 3): a channel's links made, edited and revoked through the bot
// (createChatInviteLink, editChatInviteLink, revokeChatInviteLink in tgsim), listed through a
// session (messages.getAdminsWithInvites + getExportedChatInvites), each with its pending count;
// the Invite Requests table filtered by link; Approve All / Deny All for one link, through a
// session by one messages.hideAllChatJoinRequests with `link`, through the bot request by request.
// One stack: a channel where the bot and a user session are admins with the invite-users right.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../lib/processes.mjs';
import { tgAddJoinRequests, tgMakeAdmin, tgRequestMap } from '../lib/tgsim.mjs';
import { auditAll, decide, listAll, waitRecorded } from '../lib/api.mjs';
import { newUserSession } from '../lib/sessions.mjs';
import { ADMIN, startSessionStack } from '../lib/stacks.mjs';

const SESS = 'linksess';
const HOSTILE = '<img src=x onerror=alert(1)>';

describe('invite links', () => {
    let s, acc, chat, recorded = 0;
    before(async () => {
        s = await startSessionStack({ world: { channels: 1 }, configureBot: true });
        chat = s.world.chatIds[0];
        acc = (await newUserSession(s.client, s.tg, { name: SESS, first_name: 'Linda', username: 'linda_admin' })).account;
        await tgMakeAdmin(s.tg, chat, acc.id, true);
    });
    after(async () => { await s?.cleanup(); });

    const links = async () => {
        const r = await s.client.get(`/api/links?chat_id=${chat}`);
        assert.equal(r.status, 200, r.text);
        return r.json.items;
    };
    const simLinks = async () => (await s.tg.control('GET', `/control/channels/${chat}/links`)).links;
    // count requests through `link` (Telegram delivers them to the bot); waits until doorman has them
    async function requestsThrough(link, count, firstName) {
        const r = await tgAddJoinRequests(s.tg, { chat_id: chat, count, first_name: firstName, invite_link: link });
        recorded += count;
        await waitRecorded(s.client, recorded);
        return r.user_ids;
    }

    let made;
    test('create through the bot: the link as Telegram made it, saved, listed, audited', async () => {
        const expire = Math.floor(Date.now() / 1000) + 86400;
        const r = await s.client.post('/api/links', { chat_id: chat, name: HOSTILE, expire_date: expire, creates_join_request: true });
        assert.equal(r.status, 200, r.text);
        made = r.json.link;
        assert.match(made.link, /^https:\/\/t\.me\/\+[A-Za-z0-9_-]{16}$/);
        assert.equal(made.name, HOSTILE);
        assert.equal(made.expire_date, expire);
        assert.equal(made.creates_join_request, true);
        assert.equal(made.revoked, false);
        assert.equal(made.creator_id, s.world.botId);
        const sim = (await simLinks()).find((l) => l.link === made.link);
        assert.ok(sim, 'tgsim has the link');
        assert.equal(sim.name, HOSTILE);
        assert.equal(sim.creator_id, s.world.botId);
        const listed = (await links()).find((l) => l.link === made.link);
        assert.equal(listed.name, HOSTILE);
        assert.equal(listed.pending, 0);
        assert.equal(listed.known, true);
        const au = (await auditAll(s.client)).find((e) => e.action === 'link_create');
        assert.equal(au.admin, ADMIN.name);
        assert.equal(au.detail, made.link);
    });

    test("Telegram's refusals come back as clear errors and change nothing", async () => {
        const before = (await simLinks()).length;
        const both = await s.client.post('/api/links', { chat_id: chat, member_limit: 5, creates_join_request: true });
        assert.equal(both.status, 400, both.text);
        assert.match(both.json.error.message, /approval.*member limit|member limit.*approval/i);
        const long = await s.client.post('/api/links', { chat_id: chat, name: 'x'.repeat(33) });
        assert.equal(long.status, 400, long.text);
        assert.match(long.json.error.message, /32 characters/);
        const past = await s.client.post('/api/links', { chat_id: chat, expire_date: 1000 });
        assert.equal(past.status, 400, past.text);
        assert.match(past.json.error.message, /future/);
        const unknown = await s.client.post('/api/links/edit', { chat_id: chat, link: 'https://t.me/+nosuchlink000000', name: 'x' });
        assert.equal(unknown.status, 400, unknown.text);
        assert.match(unknown.json.error.message, /INVITE_HASH_EXPIRED/);
        for (const [path, body] of [
            ['/api/links', { chat_id: 'x' }],
            ['/api/links', { chat_id: chat, colour: 'red' }],
            ['/api/links', { chat_id: chat, member_limit: 100000 }],
            ['/api/links/edit', { chat_id: chat }],
            ['/api/links/revoke', { chat_id: chat, link: 5 }],
            ['/api/links/refresh', { chat_id: chat }],
        ]) {
            const r = await s.client.post(path, body);
            assert.equal(r.status, 400, `${path} ${JSON.stringify(body)}: ${r.text}`);
            assert.equal(typeof r.json.error.code, 'string');
            assert.equal(typeof r.json.error.message, 'string');
        }
        assert.equal((await s.client.get('/api/links')).status, 400, 'chat_id is required');
        assert.equal((await simLinks()).length, before, 'no link was made');
    });

    test('edit and revoke through the bot', async () => {
        const r = await s.client.post('/api/links/edit', { chat_id: chat, link: made.link, name: 'Spring ads', creates_join_request: true });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.link.name, 'Spring ads');
        assert.equal(r.json.link.expire_date, null, 'an edit sets every field again');
        const sim = (await simLinks()).find((l) => l.link === made.link);
        assert.equal(sim.name, 'Spring ads');
        const other = (await s.client.post('/api/links', { chat_id: chat, name: 'To revoke' })).json.link;
        const v = await s.client.post('/api/links/revoke', { chat_id: chat, link: other.link });
        assert.equal(v.status, 200, v.text);
        assert.equal(v.json.link.revoked, true);
        assert.equal((await simLinks()).find((l) => l.link === other.link).revoked, true);
        const listed = (await links()).find((l) => l.link === other.link);
        assert.equal(listed.revoked, true);
        assert.equal(listed.name, 'To revoke');
        const again = await s.client.post('/api/links/edit', { chat_id: chat, link: other.link, name: 'back' });
        assert.equal(again.status, 400, 'a revoked link cannot be edited');
        const actions = (await auditAll(s.client)).map((e) => e.action);
        assert.ok(actions.includes('link_edit') && actions.includes('link_revoke'));
    });

    let a, b, aUsers, bUsers;
    test('requests carry their link: pending counts per link, the table filtered by link', async () => {
        a = made.link;
        b = (await s.client.post('/api/links', { chat_id: chat, name: 'Link B', creates_join_request: true })).json.link.link;
        aUsers = await requestsThrough(a, 4, 'ViaA');
        bUsers = await requestsThrough(b, 3, 'ViaB');
        await requestsThrough('https://t.me/+madeupelsewhere1', 2, 'ViaC');
        const byLink = new Map((await links()).map((l) => [l.link, l]));
        assert.equal(byLink.get(a).pending, 4);
        assert.equal(byLink.get(b).pending, 3);
        const c = byLink.get('https://t.me/+madeupelsewhere1');
        assert.ok(c, 'a link known only from requests is listed');
        assert.equal(c.known, false);
        assert.equal(c.pending, 2);
        const r = await s.client.get(`/api/invite-requests?invite_link=${encodeURIComponent(a)}`);
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.items.length, 4);
        assert.ok(r.json.items.every((x) => x.invite_link === a));
        assert.equal(r.json.counts.pending, 4);
        const long = await s.client.get(`/api/invite-requests?invite_link=${'x'.repeat(300)}`);
        assert.equal(long.status, 400);
    });

    test("through a session: every admin's links with Telegram's pending count, revoked ones too", async () => {
        const inApp = await s.tg.control('POST', `/control/channels/${chat}/links`, { by: acc.id, name: 'Made in the app', creates_join_request: true });
        await requestsThrough(inApp.link, 2, 'ViaApp');
        const r = await s.client.post('/api/links/refresh', { chat_id: chat, session_name: SESS });
        assert.equal(r.status, 200, r.text);
        const byLink = new Map(r.json.items.map((l) => [l.link, l]));
        const app = byLink.get(inApp.link);
        assert.ok(app, JSON.stringify(r.json.items));
        assert.equal(app.name, 'Made in the app');
        assert.equal(app.creator_id, acc.id);
        assert.equal(app.pending, 2);
        assert.equal(app.known, true);
        assert.equal(byLink.get(a).name, 'Spring ads', "the bot's links are listed too");
        assert.ok([...byLink.values()].some((l) => l.revoked), 'revoked ones too');
        const bot = await s.client.post('/api/links/refresh', { chat_id: chat, session_name: null });
        assert.equal(bot.status, 400, 'the bot cannot list links');
    });

    test('Approve All for one link through a session: one hideAll call with the link', async () => {
        const calls = async () => (await s.tg.control('GET', '/control/stats')).calls['messages.hideAllChatJoinRequests'] || 0;
        const before = await calls();
        const job = await decide(s.client, 'approve-all', { filter: { chat_id: chat, invite_link: a }, session_name: SESS });
        assert.equal(job.state, 'done', JSON.stringify(job));
        assert.equal(job.done, 4);
        assert.equal(await calls(), before + 1, 'one hideAllChatJoinRequests');
        const tg = await tgRequestMap(s.tg);
        for (const u of aUsers) assert.equal(tg.get(`${chat}/${u}`).status, 'approved');
        for (const u of bUsers) assert.equal(tg.get(`${chat}/${u}`).status, 'pending', "another link's requests stay pending");
        const rows = await listAll(s.client);
        for (const r of rows) {
            const want = r.invite_link === a ? 'approved' : 'pending';
            assert.equal(r.status, want, `${r.first_name} through ${r.invite_link}`);
            if (want === 'approved') assert.equal(r.decided_via, SESS);
        }
        assert.equal((await links()).find((l) => l.link === a).pending, 0);
    });

    test('Deny All for one link through the bot: the requests of that link', async () => {
        const job = await decide(s.client, 'deny-all', { filter: { chat_id: chat, invite_link: b } });
        assert.equal(job.state, 'done', JSON.stringify(job));
        assert.equal(job.done, 3);
        const tg = await tgRequestMap(s.tg);
        for (const u of bUsers) assert.equal(tg.get(`${chat}/${u}`).status, 'declined');
        const pending = await listAll(s.client, { status: 'pending' });
        assert.equal(pending.length, 4, 'the made-up link and the app link are untouched');
        assert.ok(pending.every((r) => r.invite_link !== b));
        await waitFor(async () => (await links()).find((l) => l.link === b).pending === 0, { what: 'b has nothing pending' });
    });

    test('a bot without the invite-users right: 403 no_permission, nothing made', async () => {
        await tgMakeAdmin(s.tg, chat, s.world.botId, false);
        const before = (await simLinks()).length;
        const r = await s.client.post('/api/links', { chat_id: chat, name: 'nope' });
        assert.equal(r.status, 403, r.text);
        assert.equal(r.json.error.code, 'no_permission');
        assert.equal((await simLinks()).length, before);
    });
});
