// Independent MTProto clients against tgsim's data centres (issue 3, "Proof"): Telethon (Debian's
// python3-telethon, layer 144) and GramJS (the pinned npm telegram, layer 198) each complete the
// handshake, an encrypted ping, a login with a code and the 2FA password, getChatInviteImporters
// and hideChatJoinRequest in their own layer. tgsim's records (control API) must show the request
// approved by that user exactly once, and the bot must find it already handled. Telethon and
// GramJS also read the invite link the admin made (getExportedChatInvites) and the admin log's
// join by request through it (getAdminLog, approved_by). Telethon also sends
// its requests in gzip_packed as gzip and as zlib (accepted) and packed twice (refused).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from '../lib/processes.mjs';
import { startTgsim, tgCreateBot } from '../lib/tgsim.mjs';

const interop = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'interop');
const TELETHON = '/usr/lib/python3/dist-packages/telethon';
const GRAMJS = path.join(interop, 'node_modules', 'telegram');
const MTCUTE = path.join(interop, 'mtcute', 'node_modules', '@mtcute', 'node');

// Runs a client script; resolves with the JSON object on its last stdout line. DUMP_CLIENT=FILE
// writes a failed client's whole output there (with MTCUTE_DEBUG=1 or GRAMJS_DEBUG=1: its log).
function runClient(cmd, args) {
    return new Promise((resolve, reject) => {
        execFile(cmd, args, { cwd: interop, timeout: 90000 }, (err, stdout, stderr) => {
            const last = stdout.trim().split('\n').pop();
            if (err && process.env.DUMP_CLIENT) fs.writeFileSync(process.env.DUMP_CLIENT, stdout + stderr);
            if (err) return reject(new Error(`${path.basename(args[0])} failed: ${err.message}\n${stderr.slice(-3000)}\nstdout: ${stdout.slice(-2000)}`));
            try {
                resolve(JSON.parse(last));
            } catch {
                reject(new Error(`${path.basename(args[0])} printed no JSON: ${stdout.slice(-2000)}\n${stderr.slice(-2000)}`));
            }
        });
    });
}

describe('independent clients against tgsim data centres', () => {
    let tg, dir, pem, dc2, bot;
    before(async () => {
        dir = makeTempDir('tgsim-interop-');
        pem = path.join(dir, 'dc.pem');
        tg = await startTgsim({ args: ['--dc-ports', '0,0,0', '--rsa-pem', pem] });
        const m = await tg.proc.waitOutput(/tgsim: dc 3 listening on 127\.0\.0\.1:(\d+)/, { what: 'its DC lines' });
        assert.ok(m);
        dc2 = Number(/tgsim: dc 2 listening on 127\.0\.0\.1:(\d+)/.exec(tg.output)[1]);
        const dcs = await tg.control('GET', '/control/dcs');
        assert.equal(dcs.dcs.length, 3);
        assert.equal(dcs.dcs[1].port, dc2);
        assert.match(fs.readFileSync(pem, 'utf8'), /BEGIN RSA PUBLIC KEY/);
        bot = await tgCreateBot(tg, { username: 'interop_doorbot' });
    });
    after(async () => {
        await tg?.stop();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    // A channel whose admin is a new account (2FA, homed on DC 2) plus the bot, with three
    // pending requests; the client approves `requester`.
    async function world(name, phone) {
        const acc = await tg.control('POST', '/control/accounts',
            { phone, first_name: `${name} Admin`, password: `pw-${name}`, dc: 2 });
        const requester = (await tg.control('POST', '/control/users',
            { first_name: 'Ann', username: `${name}_ann`, bio: `hello from ${name}` })).id;
        const ch = await tg.control('POST', '/control/channels', {
            title: `${name} channel`, username: `${name}_channel`,
            admins: [{ id: acc.id, can_invite_users: true }, { id: bot.id, can_invite_users: true }],
        });
        const link = (await tg.control('POST', `/control/channels/${ch.id}/links`,
            { by: acc.id, name: `${name} ads`, creates_join_request: true })).link;
        await tg.control('POST', '/control/join-requests', { chat_id: ch.id, user_id: requester, date: 1700000000, invite_link: link });
        await tg.control('POST', '/control/join-requests', { chat_id: ch.id, count: 2, bio: 'bulk', date: 1700000100 });
        return { acc, requester, ch, link, password: `pw-${name}` };
    }

    // declined: a user the client declined as well (mtcute), else none.
    // links: the client also read the links and the admin log (Telethon, GramJS).
    async function check(name, out, w, layer, { ping = true, declined = null, links = false } = {}) {
        assert.equal(out.layer, layer, `${name} announces its own layer`);
        assert.equal(out.handshake, true);
        if (ping) assert.equal(out.pong_ping_id, 7777);
        assert.equal(out.password_needed, true, 'the account has 2FA');
        assert.deepEqual(out.me, { id: w.acc.id, first_name: `${name} Admin`, is_self: true });
        assert.equal(out.importers.count, 3);
        assert.deepEqual(out.importers.items.map((i) => i.requested), [true, true, true]);
        const mine = out.importers.items.find((i) => i.user_id === w.requester);
        assert.deepEqual(mine, { user_id: w.requester, date: 1700000000, about: `hello from ${name}`, requested: true });
        assert.equal(out.importers.items[2].user_id, w.requester, 'newest first');
        assert.deepEqual(out.approved, { user_id: w.requester, result: 'Updates' });
        assert.match(out.again, /^(HIDE_REQUESTER_MISSING|HideRequesterMissingError)$/);
        if (links) {
            assert.deepEqual(out.links, [{ link: w.link, title: `${name} ads`, request_needed: true, requested: 0, usage: 1 }]);
            assert.deepEqual(out.admin_log, [{ user_id: w.requester, approved_by: w.acc.id, link: w.link }]);
        }

        const jr = await tg.control('GET', `/control/join-requests?chat_id=${w.ch.id}`);
        const rec = jr.items.find((i) => i.user_id === w.requester);
        assert.equal(rec.status, 'approved');
        assert.equal(rec.decided_by, w.acc.id, 'decided by the user account');
        assert.equal(rec.decisions, 1, 'decided exactly once');
        assert.deepEqual([rec.approve_calls, rec.decline_calls], [2, 0], 'the second approve is on record, though it changed nothing');
        const nd = declined === null ? 0 : 1;
        if (declined !== null) {
            const d = jr.items.find((i) => i.user_id === declined);
            assert.deepEqual([d.status, d.decided_by, d.decisions, d.decline_calls], ['declined', w.acc.id, 1, 1]);
        }
        assert.deepEqual(jr.counts, { pending: 2 - nd, approved: 1, declined: nd, total: 3, decided_more_than_once: 0, called_more_than_once: 1 });
        const botTry = await tg.botApi(bot.token, 'approveChatJoinRequest', { chat_id: w.ch.id, user_id: w.requester });
        assert.deepEqual(botTry.json, { ok: false, error_code: 400, description: 'Bad Request: HIDE_REQUESTER_MISSING' });
    }

    test('Telethon: handshake, ping, login with code and 2FA, importers, approve', { skip: !fs.existsSync(TELETHON) && 'no python3-telethon' }, async () => {
        const w = await world('telethon', '99966100001');
        const out = await runClient('/usr/bin/python3', [path.join(interop, 'telethon_client.py'), '--port', String(dc2),
            '--dc', '2', '--pem', pem, '--phone', '99966100001', '--password', w.password, '--control', tg.url,
            '--channel', 'telethon_channel', '--approve', String(w.requester)]);
        await check('telethon', out, w, 144, { links: true });
    });

    // gzip_packed from a client we did not write: Telethon packs with gzip; made to pack with zlib
    // (78 9c, as some clients do) it must work the same; packing twice is refused (issue 10).
    test('Telethon: requests in gzip_packed as gzip and as zlib; nested refused', { skip: !fs.existsSync(TELETHON) && 'no python3-telethon' }, async () => {
        const out = await runClient('/usr/bin/python3', [path.join(interop, 'telethon_gzip.py'), '--port', String(dc2),
            '--dc', '2', '--pem', pem]);
        assert.deepEqual(out, {
            gzip: { this_dc: 2 },
            zlib: { this_dc: 2 },
            nested: { error: 'InputConstructorInvalidError', code: 400 },
        });
    });

    test('GramJS: handshake, ping, login with code and 2FA, importers, approve', { skip: !fs.existsSync(GRAMJS) && 'no tests/interop/node_modules (npm ci there)' }, async () => {
        const w = await world('gramjs', '99966100002');
        const out = await runClient(process.execPath, [path.join(interop, 'gramjs_client.js'), '--port', String(dc2),
            '--dc', '2', '--pem', pem, '--phone', '99966100002', '--password', w.password, '--control', tg.url,
            '--channel', 'gramjs_channel', '--approve', String(w.requester)]);
        await check('gramjs', out, w, 198, { links: true });
    });

    // The newest layer a client on npm speaks (issue 11): tgsim answers it in 228's constructors
    // (user#b1b8cc83, channel#d49f34c6), else mtcute cannot read its own login's answer. It also
    // declines a request, and asks for future salts on its own.
    test('mtcute (layer 228): handshake, login with code and 2FA, importers, approve, decline', { skip: !fs.existsSync(MTCUTE) && 'no tests/interop/mtcute/node_modules (npm ci --ignore-scripts there)' }, async () => {
        const w = await world('mtcute', '99966100003');
        const jr = await tg.control('GET', `/control/join-requests?chat_id=${w.ch.id}`);
        const other = jr.items.find((i) => i.user_id !== w.requester).user_id;
        const out = await runClient(process.execPath, [path.join(interop, 'mtcute', 'client.mjs'), '--port', String(dc2),
            '--dc', '2', '--pem', pem, '--phone', '99966100003', '--password', w.password, '--control', tg.url,
            '--channel', 'mtcute_channel', '--approve', String(w.requester), '--decline', String(other)]);
        assert.deepEqual(out.declined, { user_id: other, result: 'updates' });
        // get_future_salts(64) answered with 64 (the current one and 63 ahead), not one
        assert.equal(out.future_salts_held, 63);
        out.approved.result = out.approved.result === 'updates' ? 'Updates' : out.approved.result;
        await check('mtcute', out, w, 228, { ping: false, declined: other });
    });

    // The newest layer with its own updates manager (issue 11): pushed updatePendingJoinRequests
    // and unrelated updateNewMessage in pts order, a gap of hidden ones filled by its
    // getDifference; then it lists and decides join requests as above.
    test('mtcute (layer 228) with updates: pushed, a gap filled by getDifference, then lists and decides', { skip: !fs.existsSync(MTCUTE) && 'no tests/interop/mtcute/node_modules (npm ci --ignore-scripts there)' }, async () => {
        const w = await world('mtcuteupd', '99966100007');
        const side = await tg.control('POST', '/control/channels', {
            title: 'mtcuteupd pushes', username: 'mtcuteupd_push', admins: [{ id: w.acc.id, can_invite_users: true }],
        });
        const jr = await tg.control('GET', `/control/join-requests?chat_id=${w.ch.id}`);
        const other = jr.items.find((i) => i.user_id !== w.requester).user_id;
        const out = await runClient(process.execPath, [path.join(interop, 'mtcute', 'client.mjs'), '--port', String(dc2),
            '--dc', '2', '--pem', pem, '--phone', '99966100007', '--password', w.password, '--control', tg.url,
            '--channel', 'mtcuteupd_channel', '--approve', String(w.requester), '--decline', String(other),
            '--updates', String(side.id)]);
        assert.deepEqual(out.pushed, {
            channel_id: -side.id - 1000000000000, requests_pending: 1, recent_requesters: [out.pushed.requester], requester: out.pushed.requester,
        });
        assert.deepEqual(out.texts, [1, 2, 3, 4, 5].map((i) => `Unrelated update ${i} of 5`)
            .concat([1, 2, 3].map((i) => `Unrelated update ${i} of 3`), ['Unrelated update 1 of 1']), 'each once, in pts order, the hidden ones too');
        assert.ok(out.gap_filled_by >= 1, 'mtcute asked getDifference for the gap');
        out.approved.result = out.approved.result === 'updates' ? 'Updates' : out.approved.result;
        await check('mtcuteupd', out, w, 228, { ping: false, declined: other });
    });

    // Perfect forward secrecy as mtcute does it (its usePfs): a temporary key made with
    // p_q_inner_data_temp_dc, bound by auth.bindTempAuthKey (its binding sealed with the permanent
    // key by MTProto 1.0), carries the login and every call after it. tgsim refuses any other call
    // on an unbound temporary key (AUTH_KEY_PERM_EMPTY), so the flow working proves the binding.
    test('mtcute with temporary keys: bound, then the same flow through them', { skip: !fs.existsSync(MTCUTE) && 'no tests/interop/mtcute/node_modules (npm ci --ignore-scripts there)' }, async () => {
        const w = await world('mtcutepfs', '99966100004');
        const jr = await tg.control('GET', `/control/join-requests?chat_id=${w.ch.id}`);
        const other = jr.items.find((i) => i.user_id !== w.requester).user_id;
        const k0 = (await tg.control('GET', '/control/stats')).mtproto;
        const out = await runClient(process.execPath, [path.join(interop, 'mtcute', 'client.mjs'), '--port', String(dc2),
            '--dc', '2', '--pem', pem, '--phone', '99966100004', '--password', w.password, '--control', tg.url,
            '--channel', 'mtcutepfs_channel', '--approve', String(w.requester), '--decline', String(other), '--pfs', '1']);
        assert.equal(out.pfs, true);
        const k = (await tg.control('GET', '/control/stats')).mtproto;
        assert.ok(k.temp_keys > k0.temp_keys && k.temp_binds > k0.temp_binds, `a temporary key made and bound: ${JSON.stringify(k)}`);
        assert.equal(k.perm_empty, 0, 'nothing went under an unbound temporary key');
        out.approved.result = out.approved.result === 'updates' ? 'Updates' : out.approved.result;
        await check('mtcutepfs', out, w, 228, { ping: false, declined: other });
    });

    // Updates (issue 11 item 2) as a client we did not write handles them: Telethon with its own
    // update handling on (its MessageBox checks each pts and seq) is pushed updatePendingJoinRequests
    // when a request arrives in a channel it administers, and unrelated updateNewMessage in pts
    // order; it fills a gap of hidden ones with its own updates.getDifference; tgsim's difference
    // from the first state holds all of it, then no message; past the too-long limit it is
    // differenceTooLong; past 100 messages it comes in slices. A bot logged in over MTProto is
    // pushed updateBotChatInviteRequester (qts) for a request in a channel it administers.
    test('Telethon: pushed updates, its gap filled by getDifference, differenceTooLong, a bot\'s join requests', { skip: !fs.existsSync(TELETHON) && 'no python3-telethon' }, async () => {
        const acc = await tg.control('POST', '/control/accounts', { phone: '99966100005', first_name: 'Updates Admin', dc: 2 });
        const ch = await tg.control('POST', '/control/channels', { title: 'updates channel', admins: [{ id: acc.id, can_invite_users: true }] });
        const upBot = await tgCreateBot(tg, { username: 'interop_updates_bot' });
        const botCh = await tg.control('POST', '/control/channels', { title: 'bot updates channel', admins: [{ id: upBot.id, can_invite_users: true }] });
        const out = await runClient('/usr/bin/python3', [path.join(interop, 'telethon_updates.py'), '--port', String(dc2),
            '--dc', '2', '--pem', pem, '--phone', '99966100005', '--control', tg.url, '--channel', String(ch.id),
            '--bot_token', upBot.token, '--bot_channel', String(botCh.id)]);
        const mtId = -ch.id - 1000000000000;
        assert.deepEqual(out.pushed, { channel_id: mtId, requests_pending: 1, recent_requesters: [out.requester] });
        assert.deepEqual(out.texts, [1, 2, 3, 4, 5].map((i) => `Unrelated update ${i} of 5`)
            .concat([1, 2, 3].map((i) => `Unrelated update ${i} of 3`), ['Unrelated update 1 of 1']), 'each once, in pts order, the hidden ones too');
        assert.ok(out.gap_filled_by >= 1, 'Telethon asked getDifference for the gap');
        assert.deepEqual(out.difference, {
            type: 'Difference', new_messages: 9, other: ['UpdatePendingJoinRequests'], chats: [mtId], state_pts: out.state.pts + 9,
        });
        // from the state it gave: no message again (an updatePendingJoinRequests made in the state's
        // second may come again: it tells a state, so a client takes it twice without harm)
        assert.equal(out.again.new_messages, 0);
        assert.match(out.again.type, /^Difference(Empty)?$/);
        assert.deepEqual(out.too_long, { type: 'DifferenceTooLong', pts: out.state.pts + 9 });
        // 109 messages from the first state: a slice of 100 (the seq-only update waits for the
        // last part), then the other 9 with it
        assert.deepEqual(out.slice, {
            type: 'DifferenceSlice', new_messages: 100, other: 0, pts: out.state.pts + 100,
            rest: 'Difference', rest_messages: 9, rest_pts: out.state.pts + 109,
        });
        const st = await tg.control('GET', `/control/accounts/${acc.id}/updates`);
        assert.equal(st.pts, out.state.pts + 109);
        // the bot over MTProto: updateBotChatInviteRequester, a qts update, pushed and in its difference
        assert.deepEqual(out.bot.pushed, {
            channel_id: -botCh.id - 1000000000000, user_id: out.bot.requester, about: 'to the bot',
            invite: 'ChatInvitePublicJoinRequests', qts: out.bot.qts0 + 1,
        });
        assert.deepEqual(out.bot.difference, ['UpdateBotChatInviteRequester']);
        assert.equal(out.bot.difference_qts, out.bot.qts0 + 1);
        assert.equal(st.too_long, 1);
    });
});
