// Access hashes belong to the account that was given them, as on Telegram (core.telegram.org/api/
// peers, "Access hash"): tgsim gives each account (user or bot; every auth key of it alike) its own
// access_hash for a user or channel, so a hash one account got is refused when another sends it
// (CHANNEL_INVALID, PEER_ID_INVALID, USER_ID_INVALID, as the methods' pages list them), and the
// same seed gives the same hashes after a restart. Checked with Debian's Telethon (layer 144),
// then through doorman: two sessions administering one private channel decide its requests,
// each with the hashes its own account found (the channel among its dialogs, the requester in
// its own pending list), and a session name reused for another bot after a delete finds the
// channel anew when Telegram refuses the hash the old bot learned.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
    startTgsimDcs, tgAccount, tgCreateChannel, tgCreateUser, tgMakeAdmin, tgAddJoinRequests, tgJoinRequests,
    tgMismatches, newPhone,
} from '../lib/tgsim.mjs';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir } from '../lib/processes.mjs';
import { telethonRun, readPyrogramFile } from '../lib/interop.mjs';
import { waitJob, waitLoadJob, requestsOf } from '../lib/api.mjs';
import { newUserSession, newBotSession } from '../lib/sessions.mjs';
import { startSessionStack } from '../lib/stacks.mjs';

// Telethon: the channel and the requester `user` as this account sees them ({channel_id,
// channel_hash, user_id, user_hash}); with `known` (another look's), users.getUsers of its user by
// its hash; with `other` (another account's look), what the calls answer when they carry its
// hashes, and then the user approved with the account's own. Hashes travel as decimal strings:
// a JavaScript number would round them.
const LOOK = `
async def main(c):
    ch = await c.get_input_entity(req['channel'])
    imp = await c(functions.messages.GetChatInviteImportersRequest(
        peer=ch, requested=True, offset_date=None, offset_user=types.InputUserEmpty(), limit=10))
    u = [u for u in imp.users if u.id == req['user']][0]
    out = {'channel_id': ch.channel_id, 'channel_hash': str(ch.access_hash), 'user_id': u.id,
           'user_hash': str(u.access_hash)}
    k = req.get('known')
    if k:
        us = await c(functions.users.GetUsersRequest([types.InputUser(k['user_id'], int(k['user_hash']))]))
        out['known_user'] = [[x.id, str(x.access_hash)] for x in us]
    o = req.get('other')
    if o:
        async def err(call):
            try:
                await c(call)
                return 'ok'
            except errors.RPCError as e:
                return type(e).__name__
        out['their_channel'] = await err(functions.channels.GetChannelsRequest(
            [types.InputChannel(o['channel_id'], int(o['channel_hash']))]))
        out['their_peer'] = await err(functions.messages.GetChatInviteImportersRequest(
            peer=types.InputPeerChannel(o['channel_id'], int(o['channel_hash'])), requested=True,
            offset_date=None, offset_user=types.InputUserEmpty(), limit=10))
        out['their_user'] = await err(functions.messages.HideChatJoinRequestRequest(
            peer=ch, user_id=types.InputUser(o['user_id'], int(o['user_hash'])), approved=True))
        out['pending_after'] = control('/control/join-requests?user_id=%d' % u.id)['items'][0]['status']
        out['own'] = await err(functions.messages.HideChatJoinRequestRequest(
            peer=ch, user_id=types.InputUser(u.id, u.access_hash), approved=True))
    return out
`;

describe('tgsim: each account its own access hashes (Telethon)', () => {
    let tg, ann, bob, chat, askers;
    // the same world made again in the same order: with the same seed, the same ids
    async function makeWorld(t) {
        const a = await tgAccount(t, { phone: '+15550100', first_name: 'Ann', dc: 1 });
        const b = await tgAccount(t, { phone: '+15550101', first_name: 'Bob', dc: 1 });
        const c = await tgCreateChannel(t, { title: 'Per account', username: 'per_account' });
        await tgMakeAdmin(t, c.id, a.id, true);
        await tgMakeAdmin(t, c.id, b.id, true);
        const users = [];
        for (const first_name of ['Asker', 'Later']) {
            users.push((await tgCreateUser(t, { first_name })).id);
            await tgAddJoinRequests(t, { chat_id: c.id, user_id: users.at(-1) });
        }
        return [a, b, c.id, users];
    }
    const look = (t, who, user, other, known) =>
        telethonRun(t, { phone: who.phone, dc: 1 }, LOOK, { channel: 'per_account', user, other, known });

    before(async () => {
        tg = await startTgsimDcs({ dcs: 1, args: ['--seed', '7'] });
        [ann, bob, chat, askers] = await makeWorld(tg);
    });
    after(async () => { await tg?.stop(); });

    test("another account's hashes are refused; its own work", async () => {
        const a = await look(tg, ann, askers[0]);
        const b = await look(tg, bob, askers[0], a);
        assert.equal(b.channel_id, a.channel_id);
        assert.notEqual(b.channel_hash, a.channel_hash, 'the channel: a hash per account');
        assert.notEqual(b.user_hash, a.user_hash, 'the user: a hash per account');
        assert.equal(b.their_channel, 'ChannelInvalidError'); // CHANNEL_INVALID
        assert.equal(b.their_peer, 'PeerIdInvalidError'); // PEER_ID_INVALID
        assert.equal(b.their_user, 'UserIdInvalidError'); // USER_ID_INVALID
        assert.equal(b.pending_after, 'pending', 'the refused call decided nothing');
        assert.equal(b.own, 'ok');
        assert.deepEqual(await tgMismatches(tg, chat, [askers[0]], { status: 'approved', decided_by: bob.id, decisions: 1 }), []);
        // a new key of the same account (telethonRun logs in afresh): the same hashes
        const again = await look(tg, ann, askers[1], null, a);
        assert.equal(again.channel_hash, a.channel_hash);
        assert.deepEqual(again.known_user, [[a.user_id, a.user_hash]], 'users.getUsers with the hash it was given');
    });

    test('the same seed gives the same hashes after a restart; another seed others', async () => {
        const a = await look(tg, ann, askers[1]);
        const same = await startTgsimDcs({ dcs: 1, args: ['--seed', '7'] });
        const other = await startTgsimDcs({ dcs: 1, args: ['--seed', '8'] });
        try {
            const [ann2, , chat2, askers2] = await makeWorld(same);
            assert.deepEqual([ann2.id, chat2, askers2], [ann.id, chat, askers], 'the same ids');
            const s = await look(same, ann2, askers2[1]);
            assert.deepEqual([s.channel_hash, s.user_hash], [a.channel_hash, a.user_hash]);
            const [ann3, , , askers3] = await makeWorld(other);
            const o = await look(other, ann3, askers3[1]);
            assert.ok(o.channel_hash !== a.channel_hash && o.user_hash !== a.user_hash);
        } finally {
            await same.stop();
            await other.stop();
        }
    });
});

describe('doorman: two sessions in one channel, each with its own hashes', () => {
    let s, ann, bob, priv, rows;
    const decideVia = async (action, row, session) => {
        const r = await s.client.post(`/api/invite-requests/${action}`, { request_ids: [row.id], session_name: session });
        assert.equal(r.status, 202, r.text);
        const fin = await waitJob(s.client, r.json.job.id);
        assert.deepEqual([fin.job.state, fin.job.done, fin.job.failed], ['done', 1, 0], JSON.stringify(fin));
    };

    before(async () => {
        s = await startSessionStack({ dcs: 1 });
        ann = (await newUserSession(s.client, s.tg, { name: 'ann', dc: 1 })).account;
        bob = (await newUserSession(s.client, s.tg, { name: 'bob', dc: 1 })).account;
        priv = await tgCreateChannel(s.tg, { title: 'Shared private room' }); // no @username
        await tgMakeAdmin(s.tg, priv.id, ann.id, true);
        await tgMakeAdmin(s.tg, priv.id, bob.id, true);
        await tgAddJoinRequests(s.tg, { chat_id: priv.id, count: 6, first_name: 'Shared', date: 1713333333 });
        const r = await s.client.post('/api/sessions/ann/load', { channel: String(priv.id), limit: 'all' });
        assert.equal(r.status, 202, r.text);
        const job = await waitLoadJob(s.client, r.json.job.id);
        assert.deepEqual([job.state, job.done], ['done', 6], JSON.stringify(job));
        rows = (await requestsOf(s.client, priv.id)).sort((x, y) => x.user_id - y.user_id);
        assert.equal(rows.length, 6);
    });
    after(async () => { await s?.cleanup(); });

    test('each session decides with the hashes its account found', async () => {
        await decideVia('approve', rows[0], 'ann');
        await decideVia('approve', rows[1], 'bob'); // bob never loaded: it finds the channel and the user itself
        await decideVia('deny', rows[2], 'bob');
        await decideVia('deny', rows[3], 'ann');
        const want = [['approved', ann.id], ['approved', bob.id], ['declined', bob.id], ['declined', ann.id]];
        for (let i = 0; i < want.length; i++) {
            assert.deepEqual(await tgMismatches(s.tg, priv.id, [rows[i].user_id], { status: want[i][0], decided_by: want[i][1], decisions: 1 }), []);
        }
        assert.deepEqual((await tgJoinRequests(s.tg, `chat_id=${priv.id}&status=pending`)).map((j) => j.user_id).sort(),
            [rows[4].user_id, rows[5].user_id].sort());
    });

    test("each session keeps its own account's hash of the channel", async () => {
        const hashOf = async (name) => {
            const r = await s.client.getBytes(`/api/sessions/${name}/export`);
            assert.equal(r.status, 200);
            const file = path.join(makeTempDir('hashes-'), `${name}.session`);
            writeFileSync(file, r.body);
            const f = await readPyrogramFile(file);
            const p = f.peers.find((r) => r[0] === priv.id); // Pyrogram's peers: the -100 id
            assert.ok(p, `${name} keeps the channel: ${JSON.stringify(f.peers)}`);
            return p[1];
        };
        const [a, b] = [await hashOf('ann'), await hashOf('bob')];
        assert.ok(a && b && a !== b, `two accounts, two hashes: ${a}, ${b}`);
    });

    test('a session name reused for another bot: the old bot\'s hash, refused, is found anew', async () => {
        const first = (await newBotSession(s.client, s.tg, { name: 'robot', username: 'first_robot' })).bot;
        await tgMakeAdmin(s.tg, priv.id, first.id, true);
        await decideVia('approve', rows[4], 'robot');
        assert.deepEqual(await tgMismatches(s.tg, priv.id, [rows[4].user_id], { status: 'approved', decided_by: first.id, decisions: 1 }), []);
        const del = await s.client.post('/api/sessions/robot/delete', { logout: false });
        assert.equal(del.status, 200, del.text);
        const second = (await newBotSession(s.client, s.tg, { name: 'robot', username: 'second_robot' })).bot;
        await tgMakeAdmin(s.tg, priv.id, second.id, true);
        await decideVia('approve', rows[5], 'robot');
        assert.deepEqual(await tgMismatches(s.tg, priv.id, [rows[5].user_id], { status: 'approved', decided_by: second.id, decisions: 1 }), []);
    });
});
