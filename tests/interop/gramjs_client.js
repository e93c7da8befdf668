#!/usr/bin/env node
// GramJS (npm telegram, pinned in package.json, its own layer) against tgsim's data centres.
//
// usage: node gramjs_client.js --port P --dc N --pem FILE --phone PHONE --password PW
//                              --control http://127.0.0.1:PORT --channel USERNAME [--approve USER_ID]
//        node gramjs_client.js --mode session --port P --dc N --pem FILE --phone PHONE [--password PW]
//                              --control http://127.0.0.1:PORT
//
// With --mode session it logs in and prints {me, session: GramJS's StringSession.save()} instead;
// save() writes the port as a signed 16-bit number, so P must be below 32768.
//
// Connects to 127.0.0.1:P as DC N (other DCs' ports from GET /control/dcs) with tgsim's public key (added to GramJS's key table), pings,
// logs in with the code read from the control API (GET /control/login-code) and the 2FA password,
// resolves the channel, lists its pending join requests (messages.getChatInviteImporters,
// requested) and approves --approve (or the first listed) with messages.hideChatJoinRequest.
// Prints one JSON object with what it saw.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const bigInt = require('big-integer');
const { Api, TelegramClient } = require('telegram');
const { StringSession } = require('telegram/sessions');
const { ConnectionTCPFull } = require('telegram/network');
const { LAYER } = require('telegram/tl/AllTLObjects');
const RSA = require('telegram/crypto/RSA');

function args() {
    const out = {};
    const a = process.argv.slice(2);
    for (let i = 0; i + 1 < a.length; i += 2) out[a[i].replace(/^--/, '')] = a[i + 1];
    return out;
}

// TL bytes: a length byte (or 0xfe + 3 bytes), the data, zero padding to 4.
function tlBytes(b) {
    const head = b.length < 254 ? Buffer.from([b.length]) : Buffer.from([254, b.length & 255, (b.length >> 8) & 255, b.length >> 16]);
    const pad = (4 - ((head.length + b.length) % 4)) % 4;
    return Buffer.concat([head, b, Buffer.alloc(pad)]);
}

// Adds the PEM key to GramJS's table under Telegram's fingerprint (SHA-1 of TL n, e; last 8 bytes LE).
function addKey(pem) {
    const jwk = crypto.createPublicKey(pem).export({ format: 'jwk' });
    const n = Buffer.from(jwk.n, 'base64url'), e = Buffer.from(jwk.e, 'base64url');
    const sha = crypto.createHash('sha1').update(Buffer.concat([tlBytes(n), tlBytes(e)])).digest();
    const fp = sha.subarray(12).readBigInt64LE(0);
    RSA._serverKeys.set(fp.toString(), { n: bigInt(n.toString('hex'), 16), e: parseInt(e.toString('hex'), 16) });
}

// Each step is written to stderr as it starts; a run that stops answering says where after 80 s
// (the test gives up at 90 s and shows stderr's tail).
let stepName = 'start';
function step(name) {
    stepName = name;
    console.error(`${new Date().toISOString()} step: ${name}`);
}
setTimeout(() => {
    console.error(`no progress: stuck in step "${stepName}" for too long`);
    process.exit(3);
}, 80000).unref();

async function control(url) {
    const r = await fetch(url);
    return r.json();
}

async function main() {
    const a = args();
    addKey(fs.readFileSync(a.pem, 'utf8'));
    // GramJS connects every DC on port 80 (443 with WSS): a connection class puts tgsim's ports in.
    const ports = new Map((await control(`${a.control}/control/dcs`)).dcs.map((d) => [d.id, d.port]));
    class TgsimConnection extends ConnectionTCPFull {
        constructor(opts) {
            super({ ...opts, ip: '127.0.0.1', port: ports.get(opts.dcId) });
        }
    }
    // StringSession.save() writes the port as a signed 16-bit number: free ports above 32767 do
    // not fit, and only --mode session needs the saved string.
    class MemoryStringSession extends StringSession {
        save() {
            return '';
        }
    }
    const sessionMode = a.mode === 'session';
    const session = sessionMode ? new StringSession('') : new MemoryStringSession('');
    session.setDC(Number(a.dc), '127.0.0.1', Number(a.port));
    const client = new TelegramClient(session, 12345, '0123456789abcdef0123456789abcdef', {
        connection: TgsimConnection, connectionRetries: 1, autoReconnect: false, receiveUpdates: false,
    });
    client.setLogLevel(process.env.GRAMJS_DEBUG ? 'debug' : 'warn');
    const out = { client: 'gramjs', layer: LAYER };
    step('connect');
    await client.connect();
    out.handshake = session.getAuthKey() !== undefined;
    step('ping');
    const pong = await client.invoke(new Api.Ping({ pingId: bigInt(7777) }));
    out.pong_ping_id = Number(pong.pingId);

    let passwordNeeded = false;
    step('sign in');
    await client.signInUser({ apiId: 12345, apiHash: '0123456789abcdef0123456789abcdef' }, {
        phoneNumber: a.phone,
        phoneCode: async () => (await control(`${a.control}/control/login-code?phone=${a.phone}`)).code,
        password: async () => { passwordNeeded = true; return a.password; },
        onError: (err) => { throw err; },
    });
    out.password_needed = passwordNeeded;
    step('getMe');
    const me = await client.getMe();
    out.me = { id: Number(me.id), first_name: me.firstName, is_self: Boolean(me.self) };
    if (sessionMode) {
        out.session = session.save();
        out.dc = session.dcId;
        out.auth_key = session.getAuthKey().getKey().toString('hex');
    } else {
        await approve(client, a, out);
    }
    step('disconnect');
    await client.disconnect();
    await client.destroy();
    console.log(JSON.stringify(out));
}

// Lists the channel's pending join requests, approves one, and tries that again; then reads the
// links it made and the channel's admin log of joins by request.
async function approve(client, a, out) {
    step('resolve the channel');
    const channel = await client.getInputEntity(a.channel);
    const res = await client.invoke(new Api.messages.GetChatInviteImporters({
        requested: true, peer: channel, offsetDate: 0, offsetUser: new Api.InputUserEmpty(), limit: 100,
    }));
    out.importers = {
        count: res.count,
        items: res.importers.map((i) => ({ user_id: Number(i.userId), date: i.date, about: i.about, requested: Boolean(i.requested) })),
    };
    const target = a.approve ? Number(a.approve) : out.importers.items[0].user_id;
    const user = res.users.find((u) => Number(u.id) === target);
    const input = new Api.InputUser({ userId: user.id, accessHash: user.accessHash });
    step('approve');
    const upd = await client.invoke(new Api.messages.HideChatJoinRequest({ peer: channel, userId: input, approved: true }));
    out.approved = { user_id: target, result: upd.className };
    try {
        await client.invoke(new Api.messages.HideChatJoinRequest({ peer: channel, userId: input, approved: true }));
        out.again = 'ok';
    } catch (err) {
        out.again = err.errorMessage || String(err);
    }
    step('links and admin log');
    const inv = await client.invoke(new Api.messages.GetExportedChatInvites({
        peer: channel, adminId: new Api.InputUserSelf(), limit: 10,
    }));
    out.links = inv.invites.map((i) => ({ link: i.link, title: i.title, request_needed: Boolean(i.requestNeeded),
        requested: i.requested, usage: i.usage }));
    const log = await client.invoke(new Api.channels.GetAdminLog({
        channel, q: '', maxId: bigInt(0), minId: bigInt(0), limit: 10,
        eventsFilter: new Api.ChannelAdminLogEventsFilter({ join: true }),
    }));
    out.admin_log = log.events.map((e) => ({ user_id: Number(e.userId), approved_by: Number(e.action.approvedBy),
        link: e.action.invite.link }));
}

main().then(() => process.exit(0), (err) => {
    console.error(err && err.stack ? err.stack : String(err));
    process.exit(1);
});
