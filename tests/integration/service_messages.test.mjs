// MTProto service messages between doorman and tgsim (issue 11, item 4): with salts that rotate
// every 2 seconds, doorman keeps the future salts it asked for and switches by their
// valid_since, so after the first exchange of each connection tgsim never has to refuse a salt;
// and when tgsim asks (msgs_state_req, msg_resend_req, msg_detailed_info), doorman gives the
// answers core.telegram.org documents, which tgsim records.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../lib/processes.mjs';
import fs from 'node:fs';
import { tgCreateChannel, tgAddJoinRequests, tgAccount, newPhone } from '../lib/tgsim.mjs';
import { telethonRun } from '../lib/interop.mjs';
import { waitLoadJob } from '../lib/api.mjs';
import { newUserSession } from '../lib/sessions.mjs';
import { startSessionStack } from '../lib/stacks.mjs';

const SALT_LIFETIME = 2;

async function mtprotoStats(tg) {
    return (await tg.control('GET', '/control/stats')).mtproto;
}

describe('MTProto service messages', () => {
    let s, acc, ch;
    before(async () => {
        s = await startSessionStack({ world: { channels: 1 } });
        const cfg = await s.tg.control('POST', '/control/config', { salt_lifetime: SALT_LIFETIME });
        assert.equal(cfg.salt_lifetime, SALT_LIFETIME);
        acc = (await newUserSession(s.client, s.tg, { name: 'salty', first_name: 'Salty' })).account;
        ch = await tgCreateChannel(s.tg, { title: 'Salted', username: 'salted_chan' });
        await s.tg.control('POST', `/control/channels/${ch.id}/admins`, { id: acc.id, can_invite_users: true });
        await tgAddJoinRequests(s.tg, { chat_id: ch.id, count: 5 });
    });
    after(async () => { await s?.cleanup(); });

    test('Check Status and Load Requests across salt rotations: no bad_server_salt after the first', async () => {
        const start = Date.now();
        let rounds = 0;
        // four salt periods at least, each with calls in it
        while (Date.now() - start < 4 * SALT_LIFETIME * 1000 + 500) {
            const c = await s.client.post('/api/sessions/salty/check', {});
            assert.equal(c.status, 200, c.text);
            assert.equal(c.json.session.status, 'active', c.text);
            const r = await s.client.post('/api/sessions/salty/load', { channel: '@salted_chan' });
            assert.equal(r.status, 202, r.text);
            const job = await waitLoadJob(s.client, r.json.job.id);
            assert.equal(job.state, 'done', JSON.stringify(job));
            rounds++;
        }
        const st = await mtprotoStats(s.tg);
        assert.ok(rounds >= 2, `${rounds} rounds`);
        assert.ok(st.bad_server_salt >= 1, 'tgsim does refuse a stale salt (the handshake\'s, once)');
        assert.equal(st.bad_server_salt_repeated, 0,
            `a bad_server_salt after the first on a connection: ${JSON.stringify(st)}`);
    });

    // Asks through tgsim's control API until the answer is recorded; a Check Status keeps
    // doorman's connection busy, so that the connection holding the key takes the ask.
    async function ask(kind) {
        const before = (await s.tg.control('GET', `/control/accounts/${acc.id}/service`)).answers.length;
        await s.tg.control('POST', `/control/accounts/${acc.id}/service`, { ask: kind });
        return waitFor(async () => {
            const c = await s.client.post('/api/sessions/salty/check', {});
            assert.equal(c.status, 200, c.text);
            const sv = await s.tg.control('GET', `/control/accounts/${acc.id}/service`);
            if (!sv.pending && sv.answers.length === before) {
                await s.tg.control('POST', `/control/accounts/${acc.id}/service`, { ask: kind });
            }
            return sv.answers.length > before ? sv.answers[before] : null;
        }, { timeoutMs: 20000, what: `doorman's answer to ${kind}` });
    }

    test('msgs_state_req: msgs_state_info, "received" for tgsim\'s last message, 3 for one never sent', async () => {
        const a = await ask('msgs_state_req');
        assert.equal(a._, 'msgs_state_info', JSON.stringify(a));
        assert.equal(a.asked, 'msgs_state_req');
        assert.equal(a.info.length, 2, JSON.stringify(a));
        assert.ok(a.info[0] & 4, `received: ${a.info[0]}`);
        assert.equal(a.info[1], 3, 'not received: newer than anything received');
    });

    test('msg_resend_req for a message doorman never sent: msgs_state_info instead, "not received"', async () => {
        const a = await ask('msg_resend_req');
        assert.equal(a._, 'msgs_state_info', JSON.stringify(a));
        assert.equal(a.asked, 'msg_resend_req');
        assert.equal(a.info.length, 1);
        assert.ok([1, 2].includes(a.info[0]), `state ${a.info[0]}`);
    });

    test('msg_detailed_info naming an answer doorman never got: it asks for it with msg_resend_req', async () => {
        const a = await ask('msg_detailed_info');
        assert.equal(a._, 'msg_resend_req', JSON.stringify(a));
        assert.equal(a.asked, 'msg_detailed_info');
        assert.equal(a.msg_ids.length, 1);
    });

    // A client we did not write: Telethon reads tgsim's future_salts (64, one per period) and
    // destroy_session_none; it keeps no future salts (it re-sends after each
    // bad_server_salt; it drops a msgs_state_info so refused, so the asks come once salts stay
    // put), answers msgs_state_req and msg_resend_req with msgs_state_info of 1s
    // ("nothing known", its documented fallback), and acks msg_detailed_info.
    test('Telethon: calls across salt rotations, and tgsim\'s service messages answered', { skip: !fs.existsSync('/usr/lib/python3/dist-packages/telethon') && 'no python3-telethon' }, async () => {
        const phone = newPhone();
        const t = await tgAccount(s.tg, { phone, dc: 1, first_name: 'Tele' });
        const before = await mtprotoStats(s.tg);
        const out = await telethonRun(s.tg, { phone, dc: 1 }, `
import time

def post(path, body):
    r = urllib.request.Request(req['control'] + path, data=json.dumps(body).encode(),
                               headers={'Content-Type': 'application/json'}, method='POST')
    with urllib.request.urlopen(r, timeout=10) as f:
        return json.load(f)

async def main(c):
    out = {'configs': 0}
    start = time.time()
    while time.time() - start < 3 * req['life'] + 0.5:
        cfg = await c(functions.help.GetConfigRequest())
        out['configs'] += 1 if cfg.this_dc == 1 else 0
        await asyncio.sleep(0.2)
    # Telethon 1.25 decodes future_salts and destroy_session_* but never hands them to the
    # caller (it looks the former up by the wrong msg_id, the latter by class): read them where
    # its sender dispatches them
    from telethon.tl.types import FutureSalts, DestroySessionOk, DestroySessionNone
    got = {}
    async def keep(message):
        got[type(message.obj).__name__] = message.obj
    for cls in (FutureSalts, DestroySessionOk, DestroySessionNone):
        c._sender._handlers[cls.CONSTRUCTOR_ID] = keep
    c._sender.send(functions.GetFutureSaltsRequest(num=64))
    c._sender.send(functions.DestroySessionRequest(session_id=12345))
    deadline = time.time() + 10
    while time.time() < deadline and len(got) < 2:
        await asyncio.sleep(0.05)
    fs = got.get('FutureSalts')
    def ts(x):  # Telethon reads valid_since / valid_until as dates
        return int(x.timestamp()) if hasattr(x, 'timestamp') else x
    if fs:
        v = [(ts(s.valid_since), ts(s.valid_until), s.salt) for s in fs.salts]
        out['future_salts'] = {
            'n': len(v),
            'lengths': sorted({u - b for b, u, _ in v}),
            'consecutive': all(a[1] == b[0] for a, b in zip(v, v[1:])),
            'current': v[0][0] <= ts(fs.now) < v[0][1],
            'distinct': len({x for _, _, x in v}),
        }
    out['destroy'] = [[k, v.session_id] for k, v in got.items() if k.startswith('Destroy')]
    # Telethon drops a msgs_state_info refused for its salt: the asks go with salts that stay
    post('/control/config', {'salt_lifetime': 0})
    await c(functions.help.GetConfigRequest())
    path = '/control/accounts/%d/service' % req['user']
    for kind in ('msgs_state_req', 'msg_resend_req', 'msg_detailed_info'):
        n = len(control(path)['answers'])
        post(path, {'ask': kind})
        deadline = time.time() + 10
        while time.time() < deadline and control(path)['pending']:
            await c(functions.help.GetConfigRequest())  # keeps the connection reading
            await asyncio.sleep(0.1)
        if kind != 'msg_detailed_info':
            while time.time() < deadline and len(control(path)['answers']) == n:
                await c(functions.help.GetConfigRequest())
                await asyncio.sleep(0.1)
    cfg = await c(functions.help.GetConfigRequest())
    out['after'] = cfg.this_dc
    out['answers'] = control(path)['answers']
    return out
`, { user: t.id, life: SALT_LIFETIME });
        assert.ok(out.configs >= 3, JSON.stringify(out));
        assert.deepEqual(out.future_salts, { n: 64, lengths: [SALT_LIFETIME], consecutive: true, current: true, distinct: 64 });
        assert.deepEqual(out.destroy, [['DestroySessionNone', 12345]]);
        assert.equal(out.after, 1, 'the connection still answers after msg_detailed_info');
        assert.deepEqual(out.answers, [
            { _: 'msgs_state_info', asked: 'msgs_state_req', info: [1, 1] },
            { _: 'msgs_state_info', asked: 'msg_resend_req', info: [1] },
        ]);
        const st = await mtprotoStats(s.tg);
        assert.ok(st.bad_server_salt_repeated > before.bad_server_salt_repeated,
            `Telethon keeps no future salts, so each rotation costs it a bad_server_salt: ${JSON.stringify([before, st])}`);
    });

    test('tgsim refuses an unknown ask', async () => {
        await assert.rejects(s.tg.control('POST', `/control/accounts/${acc.id}/service`, { ask: 'ping' }), /400/);
    });
});
