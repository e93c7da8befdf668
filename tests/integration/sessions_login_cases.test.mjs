// Logins as Telegram does them (issue 11, items 6 and 8): the answers of auth.sendCode,
// auth.signIn and auth.resendCode that end or bend a login (an implausible number, a banned one,
// an account that must set up a login email first, a number without an account, an empty code,
// the code again by SMS, a flood wait), each through doorman's API with what the admin should do,
// and nothing half-made left behind (no session row, no file, the name still free). Telethon
// (Debian's, layer 144) proves tgsim's answers where it knows them. Then a data-centre address
// that answers with HTTP or TLS instead of MTProto: said so, and at once.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { makeTempDir } from '../lib/processes.mjs';
import { startTgsimDcs, tgAccount, tgLoginCode, tgFlood, tgAccountFlags, newPhone } from '../lib/tgsim.mjs';
import { startDoorman, createAdmin } from '../lib/doorman.mjs';
import { Client } from '../lib/api.mjs';
import { loginStart, createUserSession, getSession, sessionFiles, API_ID, API_HASH } from '../lib/sessions.mjs';
import { telethonAnon, pyrogramSession } from '../lib/interop.mjs';
import { startSessionStack, ADMIN } from '../lib/stacks.mjs';

function assertError(r, status, code, message) {
    assert.equal(r.status, status, `${status} expected: ${r.status} ${r.text}`);
    assert.equal(r.json?.error?.code, code, r.text);
    if (message !== undefined) assert.equal(r.json.error.message, message, r.text);
}

const SIGN_UP_FIRST = 'No Telegram account has this phone number. doorman does not create accounts: '
    + 'sign up with this number in a Telegram app first, then create the session here.';

describe('logins as Telegram does them', () => {
    let s;
    before(async () => { s = await startSessionStack({ dcs: 2 }); });
    after(async () => { await s?.cleanup(); });

    // Nothing of a failed login is left: no session by that name, no file, and the name is free
    // for a login that works.
    async function assertNothingLeft(name) {
        assert.equal(await getSession(s.client, name), null, `no session ${name}`);
        assert.ok(!sessionFiles(s.dataDir).some((f) => f.startsWith(`${name}.`)), `no file for ${name}`);
    }

    test('an implausible number -> 400 phone_invalid with the format to use; nothing stored', async () => {
        const r = await loginStart(s.client, { name: 'badnum', phone: '+0123 4567' });
        assertError(r, 400, 'phone_invalid',
            'Telegram says the phone number is invalid: give it with the country code, e.g. +1234567890');
        await assertNothingLeft('badnum');
    });

    test('a banned number -> 403 phone_banned: use another account; nothing stored', async () => {
        const phone = newPhone();
        const acc = await tgAccount(s.tg, { phone });
        const f = await tgAccountFlags(s.tg, acc.id, { banned: true });
        assert.equal(f.banned, true);
        const r = await loginStart(s.client, { name: 'banned', phone });
        assertError(r, 403, 'phone_banned', 'Telegram has banned this phone number: it cannot sign in, '
            + 'here or in any app. Use another account (the owner can appeal in the Telegram app).');
        await assertNothingLeft('banned');
    });

    test('an account that must set up a login email -> 409 email_setup_required, no code sent; after the official app it works', async () => {
        const phone = newPhone();
        const acc = await tgAccount(s.tg, { phone });
        await tgAccountFlags(s.tg, acc.id, { email_required: true });
        const r = await loginStart(s.client, { name: 'emailed', phone });
        assertError(r, 409, 'email_setup_required', 'Telegram asks this account to set up a login email '
            + 'before it signs in from other apps, and sent no code. Sign in once with the official '
            + 'Telegram app (it asks for the email there), then create the session here again.');
        const code = await s.tg.controlRaw('GET', `/control/login-code?phone=${encodeURIComponent(phone)}`);
        assert.equal(code.status, 400, 'tgsim sent no code');
        await assertNothingLeft('emailed');
        // the admin did as told (the official app set the email up): the same name logs in
        await tgAccountFlags(s.tg, acc.id, { email_required: false });
        const ses = await createUserSession(s.client, s.tg, { name: 'emailed', phone });
        assert.equal(ses.account?.id, acc.id);
    });

    test('a number without an account: the code comes by SMS, then 404 sign_up_required and the login is over', async () => {
        const phone = newPhone();
        const r = await loginStart(s.client, { name: 'nobody', phone });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.code_type, 'sms');
        assert.equal(r.json.next_type, null, 'no other way to send it');
        const lc = await tgLoginCode(s.tg, phone);
        assert.equal(lc.via, 'sms');
        assert.equal(lc.id, null, 'no account');
        const c = await s.client.post('/api/sessions/login/code', { login_id: r.json.login_id, code: lc.code });
        assertError(c, 404, 'sign_up_required', SIGN_UP_FIRST);
        const g = await s.client.get(`/api/sessions/login/${r.json.login_id}`);
        assertError(g, 404, 'login_not_found');
        await assertNothingLeft('nobody');
    });

    test('an empty code -> 400 invalid_code "Enter the verification code Telegram sent."; the login goes on', async () => {
        const phone = newPhone();
        const acc = await tgAccount(s.tg, { phone });
        const r = await loginStart(s.client, { name: 'blank', phone });
        assert.equal(r.status, 200, r.text);
        const c = await s.client.post('/api/sessions/login/code', { login_id: r.json.login_id, code: '  ' });
        assertError(c, 400, 'invalid_code', 'Enter the verification code Telegram sent.');
        await assertNothingLeft('blank');
        const { code } = await tgLoginCode(s.tg, phone);
        const ok = await s.client.post('/api/sessions/login/code', { login_id: r.json.login_id, code });
        assert.equal(ok.status, 200, ok.text);
        assert.equal(ok.json.session.account.id, acc.id);
    });

    test('Send the code by SMS: resend -> sms, once; a flood wait on it keeps the login; the code then logs in', async () => {
        const phone = newPhone();
        const acc = await tgAccount(s.tg, { phone });
        const r = await loginStart(s.client, { name: 'bysms', phone });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.code_type, 'app');
        assert.equal(r.json.next_type, 'sms');
        assert.equal(r.json.timeout, 60, 'tgsim asks to wait 60 s before the SMS');
        const id = r.json.login_id;

        await tgFlood(s.tg, acc.id, { wait: 41, count: 1 });
        const fl = await s.client.post('/api/sessions/login/resend', { login_id: id });
        assertError(fl, 429, 'flood_wait', 'Flood wait: please wait 41 seconds');
        assert.equal(fl.json.error.retry_after, 41);

        const again = await s.client.post('/api/sessions/login/resend', { login_id: id });
        assert.equal(again.status, 200, again.text);
        assert.equal(again.json.login_id, id, 'the same login');
        assert.equal(again.json.state, 'code_sent');
        assert.equal(again.json.code_type, 'sms');
        assert.equal(again.json.next_type, null);
        assert.equal(again.json.timeout, null);
        const g = await s.client.get(`/api/sessions/login/${id}`);
        assert.equal(g.json.code_type, 'sms', 'kept with the login');
        const lc = await tgLoginCode(s.tg, phone);
        assert.equal(lc.via, 'sms');

        const third = await s.client.post('/api/sessions/login/resend', { login_id: id });
        assertError(third, 409, 'resend_unavailable', 'Telegram has no other way left to send the code '
            + 'to this number: use the code already sent, or start over later.');
        const bad = await s.client.post('/api/sessions/login/resend', { login_id: id, code: '1' });
        assertError(bad, 400, 'bad_request');
        const gone = await s.client.post('/api/sessions/login/resend', { login_id: 'f'.repeat(32) });
        assertError(gone, 404, 'login_not_found');

        const c = await s.client.post('/api/sessions/login/code', { login_id: id, code: lc.code });
        assert.equal(c.status, 200, c.text);
        assert.equal(c.json.session.account.id, acc.id);
    });

    test('Telethon reads tgsim\'s answers: PHONE_NUMBER_INVALID, PHONE_NUMBER_BANNED, FLOOD_WAIT, resendCode, PHONE_CODE_EMPTY, sign-up required', async () => {
        const plain = newPhone(), banned = newPhone(), flooded = newPhone(), unknown = newPhone();
        await tgAccount(s.tg, { phone: plain });
        const b = await tgAccount(s.tg, { phone: banned });
        await tgAccountFlags(s.tg, b.id, { banned: true });
        const f = await tgAccount(s.tg, { phone: flooded });
        await tgFlood(s.tg, f.id, { wait: 77, count: 1 });
        const out = await telethonAnon(s.tg, { dc: 1 }, `
def settings():
    return types.CodeSettings()

async def send(phone):
    return await c(functions.auth.SendCodeRequest(phone, 12345, '0123456789abcdef0123456789abcdef', settings()))

async def err(coro):
    try:
        await coro
        return 'no error'
    except errors.FloodWaitError as e:
        return 'FLOOD_WAIT %d' % e.seconds
    except errors.RPCError as e:
        return type(e).__name__ # Telethon's class for the error: it knows the name

async def main(cl):
    global c
    c = cl
    out = {}
    out['invalid'] = await err(send('+0123456'))
    out['banned'] = await err(send(req['banned']))
    sent = await send(req['plain'])
    out['first'] = [type(sent.type).__name__, type(sent.next_type).__name__]
    again = await c(functions.auth.ResendCodeRequest(req['plain'], sent.phone_code_hash))
    out['resent'] = [type(again.type).__name__, again.next_type is None]
    try: # an error this Telethon has no class for: its code and name as sent
        await c(functions.auth.ResendCodeRequest(req['plain'], sent.phone_code_hash))
        out['third'] = 'no error'
    except errors.RPCError as e:
        out['third'] = [e.code, e.message]
    out['empty'] = await err(c(functions.auth.SignInRequest(req['plain'], sent.phone_code_hash, '')))
    s2 = await send(req['unknown'])
    code = control('/control/login-code?phone=' + urllib.parse.quote(req['unknown']))['code']
    res = await c(functions.auth.SignInRequest(req['unknown'], s2.phone_code_hash, code))
    out['unknown'] = [type(s2.type).__name__, type(res).__name__]
    # last: after a FLOOD_WAIT Telethon refuses that request itself until the wait is over
    out['flood'] = await err(send(req['flooded']))
    return out
`, { plain, banned, flooded, unknown });
        assert.deepEqual(out, {
            invalid: 'PhoneNumberInvalidError',
            banned: 'PhoneNumberBannedError',
            flood: 'FLOOD_WAIT 77',
            first: ['SentCodeTypeApp', 'CodeTypeSms'],
            resent: ['SentCodeTypeSms', true],
            third: [406, 'SEND_CODE_UNAVAILABLE'],
            empty: 'PhoneCodeEmptyError',
            unknown: ['SentCodeTypeSms', 'AuthorizationSignUpRequired'],
        });
    });
});

// A data-centre address where something else listens: doorman says what answered, at once.
describe('a data-centre address that does not speak MTProto', () => {
    let tg, dm, client, httpServer, tlsServer;
    const seen = { http: 0, tls: 0 };
    before(async () => {
        tg = await startTgsimDcs({ dcs: 1 });
        // an HTTP server: what a web server or an HTTP proxy says to bytes that are not HTTP
        httpServer = http.createServer((req, res) => res.end('not Telegram'));
        httpServer.on('connection', () => { seen.http++; });
        // a TLS server's answer to bytes that are not a ClientHello: an alert record, then close
        tlsServer = net.createServer((sock) => {
            seen.tls++;
            sock.once('data', () => sock.end(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46])));
            sock.on('error', () => {});
        });
        await new Promise((ok) => httpServer.listen(0, '127.0.0.1', ok));
        await new Promise((ok) => tlsServer.listen(0, '127.0.0.1', ok));
        const dataDir = makeTempDir('doorman-data-');
        const r = createAdmin(dataDir, ADMIN.name, ADMIN.password);
        assert.equal(r.status, 0, r.stderr);
        // DC 2 is where doorman starts a login
        const dcs = `1=127.0.0.1:${tlsServer.address().port},2=127.0.0.1:${httpServer.address().port}`;
        dm = await startDoorman({ tgsim: tg, dataDir, args: ['--mtproto-dcs', dcs, '--mtproto-rsa', tg.pem] });
        client = new Client(dm);
        await client.login(ADMIN.name, ADMIN.password);
    });
    after(async () => {
        await dm?.stop();
        await tg?.stop();
        httpServer?.close();
        tlsServer?.close();
    });

    for (const [dc, proto, what] of [[2, 'HTTP', 'a web server or an HTTP proxy'], [1, 'TLS', 'a TLS server (HTTPS) or a proxy']]) {
        test(`DC ${dc} answering with ${proto}: 503 "answered with ${proto}, not MTProto", well before the call's 20 s`, async () => {
            // DC 2: a login (sendCode on a new key, so the handshake meets it); DC 1: an import
            // of a session homed there (a key of its own, so the first encrypted call meets it)
            const string = dc === 1
                ? (await pyrogramSession('string', { dc: 1, user_id: 5, auth_key: 'ab'.repeat(256) })).string
                : null;
            const t0 = Date.now();
            const r = dc === 2
                ? await loginStart(client, { name: `via${dc}`, phone: newPhone() })
                : await client.post('/api/sessions/import', { name: `via${dc}`, api_id: API_ID, api_hash: API_HASH, string });
            const took = Date.now() - t0;
            assert.equal(r.status, 503, r.text);
            assert.equal(r.json.error.code, 'unavailable');
            const port = (proto === 'HTTP' ? httpServer : tlsServer).address().port;
            assert.match(r.json.error.message,
                new RegExp(`^Telegram could not be reached: DC ${dc} at 127\\.0\\.0\\.1:${port} answered with ${proto}, not MTProto: the address is ${what.replace(/[()]/g, '\\$&')}, or the port is wrong$`));
            assert.ok(took < 5000, `failed in ${took} ms, not after the call's timeout`);
            assert.ok(seen[proto.toLowerCase()] >= 1, `doorman connected to the ${proto} server`);
            assert.equal(await getSession(client, `via${dc}`), null);
        });
    }
});
