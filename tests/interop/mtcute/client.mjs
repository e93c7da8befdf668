#!/usr/bin/env node
// mtcute (@mtcute/node with @mtcute/core 0.31.0, layer 228; pinned in package.json) against
// tgsim's data centres: the newest layer a client on npm speaks.
//
// usage: node client.mjs --port P --dc N --pem FILE --phone PHONE --password PW
//                        --control http://127.0.0.1:PORT --channel USERNAME --approve USER_ID
//                        --decline USER_ID [--pfs 1] [--updates CHAT_ID]
//
// Connects to 127.0.0.1:P as DC N with tgsim's public key (put in mtcute's key index), logs in with the code read from the control API (GET /control/login-code) and the 2FA password
// (mtcute's own sign-in flow: auth.sendCode, auth.signIn, account.getPassword, auth.checkPassword),
// resolves the channel, lists its pending join requests (messages.getChatInviteImporters,
// requested), approves --approve and declines --decline (messages.hideChatJoinRequest), and tries
// the approval again; reports how many future salts it holds (mtcute asks for 64 by itself).
// With --pfs 1 mtcute uses temporary keys (its usePfs): a temporary key bound to the
// permanent one with auth.bindTempAuthKey carries everything, the login included.
// With --updates CHAT_ID (the channel's Bot API id) mtcute runs its own updates manager (it
// checks every pts and seq and fills gaps with updates.getDifference by itself) and, before the
// join requests are listed, tgsim's control API makes them come: a join request to the channel
// must be pushed as updatePendingJoinRequests; 5 unrelated updates (service messages) must come
// as updateNewMessage in pts order; 3 hidden ones (logged, never pushed) and 1 more: mtcute sees
// the pts gap and fetches the hidden ones with getDifference.
// Prints one JSON object with what it saw. No ping: mtcute sends it as a call,
// wrapped (in initConnection, or invokeWithoutUpdates with updates off), which tgsim does not take.
import fs from 'node:fs';
import { TelegramClient } from '@mtcute/node';
import { MemoryStorage } from '@mtcute/core';
import { parsePublicKey } from '@mtcute/core/utils.js';
import { NodeCryptoProvider } from '@mtcute/node/utils.js';
// mtcute's key index, which its package exports do not name (the same module instance mtcute uses)
import { __publicKeyIndex } from './node_modules/@mtcute/core/tl/binary/rsa-keys.js';

function args() {
    const out = {};
    const a = process.argv.slice(2);
    for (let i = 0; i + 1 < a.length; i += 2) out[a[i].replace(/^--/, '')] = a[i + 1];
    return out;
}

async function control(url) {
    const r = await fetch(url);
    return r.json();
}

async function controlPost(url, body) {
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return r.json();
}

async function waitUntil(cond, what, ms = 10000) {
    for (const end = Date.now() + ms; Date.now() < end;) {
        if (cond()) return;
        await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no ${what}`);
}

// The updates part (--updates): what mtcute's updates manager hands over, made to come by tgsim.
async function pushed(client, a, me, out) {
    const pending = [], texts = [];
    client.onRawUpdate.add(({ update: u }) => {
        if (u._ === 'updatePendingJoinRequests')
            pending.push({ channel_id: u.peer.channelId, requests_pending: u.requestsPending, recent_requesters: u.recentRequesters });
        else if (u._ === 'updateNewMessage' && u.message.message?.startsWith('Unrelated')) texts.push(u.message.message);
    });
    // start() runs the loop in the background; what comes before it is running is not caught up
    await waitUntil(() => client._client.updates?.updatesLoopActive, 'its updates loop');
    const ctl = `${a.control}/control`;
    const jr = await controlPost(`${ctl}/join-requests`, { chat_id: Number(a.updates), count: 1, bio: 'pushed to mtcute' });
    await waitUntil(() => pending.length, 'updatePendingJoinRequests');
    out.pushed = { ...pending[0], requester: jr.first_user_id };
    await controlPost(`${ctl}/accounts/${me.id}/updates`, { count: 5 });
    await waitUntil(() => texts.length >= 5, '5 updateNewMessage');
    await controlPost(`${ctl}/accounts/${me.id}/updates`, { count: 3, hidden: true });
    await controlPost(`${ctl}/accounts/${me.id}/updates`, { count: 1 });
    await waitUntil(() => texts.length >= 9, 'the hidden updates through its getDifference');
    out.texts = texts;
    out.gap_filled_by = (await control(`${ctl}/accounts/${me.id}/updates`)).difference_calls;
}

async function main() {
    const a = args();
    const crypto = new NodeCryptoProvider();
    await crypto.initialize?.();
    // mtcute indexes a key by its fingerprint in 16 hex digits but looks it up in as few as the
    // number needs (Long.toString(16)): a key whose fingerprint starts with a 0 digit (one of
    // tgsim's random keys in 16; none of Telegram's) is never found. Both spellings go in.
    const key = parsePublicKey(crypto, fs.readFileSync(a.pem, 'utf8'));
    __publicKeyIndex[key.fingerprint] = key;
    __publicKeyIndex[key.fingerprint.replace(/^0+/, '')] = key;
    const dc = { id: Number(a.dc), ipAddress: '127.0.0.1', ipv6: false, port: Number(a.port) };
    const client = new TelegramClient({
        apiId: 12345, apiHash: '0123456789abcdef0123456789abcdef', storage: new MemoryStorage(), crypto,
        defaultDcs: { main: dc, media: dc }, disableUpdates: !a.updates, network: { usePfs: a.pfs === '1' },
        logLevel: process.env.MTCUTE_DEBUG ? 5 : 0,
    });
    // the layer its invokeWithLayer announces (MtClient's _layer: overrideLayer, else its schema's)
    const layer = client._client.mt._layer;
    const out = { client: 'mtcute', layer, pfs: a.pfs === '1' };
    await client.connect();
    let passwordNeeded = false;
    const me = await client.start({
        phone: a.phone,
        code: async () => (await control(`${a.control}/control/login-code?phone=${a.phone}`)).code,
        password: async () => { passwordNeeded = true; return a.password; },
    });
    out.password_needed = passwordNeeded;
    out.handshake = true;
    out.me = { id: me.id, first_name: me.firstName, is_self: me.isSelf };
    if (a.updates) await pushed(client, a, me, out);
    const channel = await client.resolvePeer(a.channel);
    const res = await client.call({
        _: 'messages.getChatInviteImporters', requested: true, peer: channel, offsetDate: 0,
        offsetUser: { _: 'inputUserEmpty' }, limit: 100,
    });
    out.importers = {
        count: res.count,
        items: res.importers.map((i) => ({ user_id: i.userId, date: i.date, about: i.about, requested: Boolean(i.requested) })),
    };
    const input = (id) => {
        const u = res.users.find((x) => x.id === id);
        return { _: 'inputUser', userId: u.id, accessHash: u.accessHash };
    };
    const hide = (id, approved) => client.call({ _: 'messages.hideChatJoinRequest', peer: channel, userId: input(id), approved });
    out.approved = { user_id: Number(a.approve), result: (await hide(Number(a.approve), true))._ };
    out.declined = { user_id: Number(a.decline), result: (await hide(Number(a.decline), false))._ };
    try {
        await hide(Number(a.approve), true);
        out.again = 'ok';
    } catch (err) {
        out.again = err.text || String(err);
    }
    // mtcute asks for 64 future salts whenever it holds fewer than 2 (ServerSaltManager); what
    // its main connection holds now shows how many tgsim gave
    const conn = client._client.mt.network._primaryDc.main._connections[0];
    out.future_salts_held = conn._salts._futureSalts.length;
    await client.destroy();
    console.log(JSON.stringify(out));
}

main().then(() => process.exit(0), (err) => {
    console.error(err && err.stack ? err.stack : String(err));
    process.exit(1);
});
