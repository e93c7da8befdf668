// Roles, admins, two-factor login and API tokens (issue 16, items 2 and 3): every route of the
// router against each role (one table below, checked to name every route of src/api/router.c),
// channel scoping, invitations, role changes and removal, password change, TOTP with recovery
// codes, API tokens. One stack: two channels (A, B) with pending requests; the owner invites a
// decider and a viewer of channel A.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { startStack, ADMIN } from '../lib/stacks.mjs';
import { Client, listAll, waitRecorded, waitJob, auditAll } from '../lib/api.mjs';
import { addRequester, tgCreateChannel } from '../lib/tgsim.mjs';

const PW = 'a long enough password';

// Every route of the router: the least role it needs ('owner', 'decider', 'viewer', 'self' for
// any admin about themselves) and whether only a browser's session may use it (not a token).
// Public routes (setup, login, invitations) are not role-gated and are left out of the matrix.
const PUBLIC = ['GET /api/setup', 'POST /api/setup', 'POST /api/login', 'GET /api/invite', 'POST /api/invite',
    'POST /api/app/verify/open', 'POST /api/app/verify/answer'];
const ROUTES = [
    ['POST', '/api/logout', 'self'],
    ['GET', '/api/me', 'self'],
    ['GET', '/api/settings', 'owner'],
    ['POST', '/api/settings', 'owner'],
    ['GET', '/api/invite-requests', 'viewer'],
    ['GET', '/api/invite-requests/export', 'viewer'],
    ['POST', '/api/invite-requests/approve', 'decider'],
    ['POST', '/api/invite-requests/deny', 'decider'],
    ['POST', '/api/invite-requests/approve-all', 'decider'],
    ['POST', '/api/invite-requests/deny-all', 'decider'],
    ['POST', '/api/invite-requests/release', 'decider'],
    ['POST', '/api/invite-requests/unban', 'decider'],
    ['POST', '/api/invite-requests/preflight', 'decider'],
    ['GET', '/api/me/preferences', 'self'],
    ['POST', '/api/me/preferences', 'self'],
    ['GET', '/api/chats', 'viewer'],
    ['GET', '/api/jobs', 'viewer'],
    ['GET', '/api/jobs/{}', 'viewer'],
    ['POST', '/api/jobs/{}/cancel', 'decider'],
    ['GET', '/api/audit', 'owner'],
    ['GET', '/api/audit/export', 'owner'],
    ['GET', '/api/logs', 'owner'],
    ['GET', '/api/sessions', 'owner'],
    ['GET', '/api/sessions/list', 'viewer'],
    ['POST', '/api/sessions/login', 'owner'],
    ['GET', '/api/sessions/login/{}', 'owner'],
    ['POST', '/api/sessions/login/code', 'owner'],
    ['POST', '/api/sessions/login/resend', 'owner'],
    ['POST', '/api/sessions/login/password', 'owner'],
    ['POST', '/api/sessions/bot', 'owner'],
    ['POST', '/api/sessions/import', 'owner'],
    ['POST', '/api/sessions/{}/check', 'owner'],
    ['GET', '/api/sessions/{}/export', 'owner'],
    ['POST', '/api/sessions/{}/delete', 'owner'],
    ['POST', '/api/sessions/{}/load', 'decider'],
    ['POST', '/api/sessions/load', 'decider'],
    ['GET', '/api/rules', 'viewer'],
    ['POST', '/api/rules', 'owner'],
    ['POST', '/api/rules/reorder', 'owner'],
    ['POST', '/api/rules/dry-run', 'owner'],
    ['POST', '/api/rules/apply', 'owner'],
    ['POST', '/api/rules/{}/update', 'owner'],
    ['POST', '/api/rules/{}/enable', 'owner'],
    ['POST', '/api/rules/{}/disable', 'owner'],
    ['POST', '/api/rules/{}/delete', 'owner'],
    ['GET', '/api/rule-lists', 'owner'],
    ['GET', '/api/rule-lists/{}', 'owner'],
    ['POST', '/api/rule-lists/{}/delete', 'owner'],
    ['POST', '/api/rule-lists/{}', 'owner'],
    ['GET', '/api/modes', 'viewer'],
    ['POST', '/api/modes', 'owner'],
    ['GET', '/api/guard', 'owner'],
    ['GET', '/api/stats', 'viewer'],
    ['GET', '/api/links', 'viewer'],
    ['POST', '/api/links', 'decider'],
    ['POST', '/api/links/edit', 'decider'],
    ['POST', '/api/links/revoke', 'decider'],
    ['POST', '/api/links/refresh', 'decider'],
    ['POST', '/api/decisions/check', 'decider'],
    ['GET', '/api/challenges', 'viewer'],
    ['POST', '/api/challenges', 'owner'],
    ['GET', '/api/verifications/{}', 'owner'],
    ['GET', '/api/webhooks', 'owner'],
    ['POST', '/api/webhooks', 'owner'],
    ['POST', '/api/webhooks/{}/update', 'owner'],
    ['POST', '/api/webhooks/{}/delete', 'owner'],
    ['POST', '/api/webhooks/{}/test', 'owner'],
    ['GET', '/api/webhooks/{}/deliveries', 'owner'],
    ['GET', '/api/alerts', 'owner'],
    ['POST', '/api/alerts', 'owner'],
    ['GET', '/api/admins', 'owner'],
    ['POST', '/api/admins/invite', 'owner'],
    ['POST', '/api/admins/{}/update', 'owner'],
    ['POST', '/api/admins/{}/delete', 'owner'],
    ['POST', '/api/me/password', 'self', 'browser'],
    ['POST', '/api/me/totp/setup', 'self', 'browser'],
    ['POST', '/api/me/totp/enable', 'self', 'browser'],
    ['POST', '/api/me/totp/disable', 'self', 'browser'],
    ['GET', '/api/tokens', 'self', 'browser'],
    ['POST', '/api/tokens', 'self', 'browser'],
    ['POST', '/api/tokens/{}/revoke', 'self', 'browser'],
];
const RANK = { viewer: 0, self: 0, decider: 1, owner: 2 };

// The routes of src/api/router.c's table, as "METHOD /path{}suffix".
function routerRoutes() {
    const src = fs.readFileSync(new URL('../../src/api/router.c', import.meta.url), 'utf8');
    const table = src.slice(src.indexOf('static const struct route routes[]'));
    const body = table.slice(0, table.indexOf('\n};'));
    return [...body.matchAll(/\{"(GET|POST)",\s*"([^"]+)",\s*(NULL|"[^"]*")/g)]
        .map(([, m, p, suffix]) => `${m} ${p}${suffix === 'NULL' ? '' : suffix.slice(1, -1)}`);
}

// RFC 6238 TOTP (SHA-1, 30 s, 6 digits) of a base32 secret, computed here independently.
function base32Decode(s) {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    let bits = 0, acc = 0;
    const out = [];
    for (const ch of s.toUpperCase()) {
        acc = (acc << 5) | alphabet.indexOf(ch);
        bits += 5;
        if (bits >= 8) { out.push((acc >> (bits - 8)) & 0xff); bits -= 8; }
    }
    return Buffer.from(out);
}
function totp(secret, step) {
    const msg = Buffer.alloc(8);
    msg.writeBigUInt64BE(BigInt(step));
    const mac = crypto.createHmac('sha1', base32Decode(secret)).update(msg).digest();
    const off = mac[mac.length - 1] & 0x0f;
    return String((mac.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}
const stepNow = () => Math.floor(Date.now() / 1000 / 30);

function assertError(r, status, code, what) {
    assert.equal(r.status, status, `${what}: expected ${status} ${code}, got ${r.status} ${r.text}`);
    assert.equal(r.json?.error?.code, code, `${what}: ${r.text}`);
}

// A client that sends an API token (and no cookie, no CSRF header).
class TokenClient extends Client {
    constructor(dm, token) { super(dm); this.token = token; }
    request(method, p, o = {}) {
        return super.request(method, p, { ...o, csrf: false, headers: { ...(o.headers || {}), authorization: `Bearer ${this.token}` } });
    }
}

// Invites an admin of role (channels for viewers and deciders) and accepts as `name`;
// returns the new admin's logged-in client.
async function invite(s, name, role, channels) {
    const inv = await s.client.post('/api/admins/invite', { role, channels });
    assert.equal(inv.status, 200, inv.text);
    assert.match(inv.json.link, /\/invite#token=[0-9a-f]{32}$/);
    const token = inv.json.link.split('#token=')[1];
    const c = new Client(s.dm);
    const info = await c.get(`/api/invite?token=${token}`);
    assert.equal(info.status, 200, info.text);
    assert.equal(info.json.role, role);
    const ok = await c.post('/api/invite', { token, name, password: PW });
    assert.equal(ok.status, 200, ok.text);
    return { c, token };
}

describe('roles, admins, two-factor login and API tokens', () => {
    let s, A, B, decider, viewer;
    before(async () => {
        s = await startStack({ world: { channels: 2, pending: 6 } });
        [A, B] = s.world.chatIds;
        await waitRecorded(s.client, 6);
        decider = (await invite(s, 'dee', 'decider', [A])).c;
        viewer = (await invite(s, 'vic', 'viewer', [A])).c;
    });
    after(async () => { await s?.cleanup(); });

    test('the table names every route of the router', () => {
        const ours = new Set([...PUBLIC, ...ROUTES.map(([m, p]) => `${m} ${p}`)]);
        const theirs = routerRoutes();
        assert.ok(theirs.length >= ROUTES.length, `read ${theirs.length} routes from router.c`);
        for (const r of theirs) assert.ok(ours.has(r), `route ${r} of router.c is missing from this test's table`);
        for (const r of ours) assert.ok(theirs.includes(r), `route ${r} of this test's table is not in router.c`);
    });

    test('role × endpoint: allowed, or 403 naming the role it needs', async () => {
        const ownerToken = (await s.client.post('/api/tokens', { name: 'matrix-owner', role: 'owner' })).json.token.token;
        const viewerToken = (await decider.post('/api/tokens', { name: 'matrix-viewer', role: 'viewer', channels: [A] })).json.token.token;
        const principals = [
            { who: 'owner', role: 'owner', c: s.client },
            { who: 'decider', role: 'decider', c: decider },
            { who: 'viewer', role: 'viewer', c: viewer },
            { who: 'owner token', role: 'owner', c: new TokenClient(s.dm, ownerToken), token: true },
            { who: 'viewer token', role: 'viewer', c: new TokenClient(s.dm, viewerToken), token: true },
        ];
        let allowed = 0, refused = 0;
        for (const p of principals) {
            for (const [method, path, need, browser] of ROUTES) {
                const url = path.replace('{}', '999999');
                // a body no handler takes: an allowed route answers 400 (or 404) and changes nothing
                const r = method === 'GET' ? await p.c.get(url) : await p.c.post(url, { probe_field_no_route_takes: 1 });
                const ok = RANK[p.role] >= RANK[need] && !(browser && p.token);
                const what = `${p.who}: ${method} ${url}`;
                if (ok) {
                    assert.ok(!(r.status === 403 && r.json?.error?.code === 'forbidden'), `${what} must be allowed: ${r.text}`);
                    assert.notEqual(r.status, 401, `${what}: ${r.text}`);
                    allowed++;
                } else {
                    assertError(r, 403, 'forbidden', what);
                    assert.match(r.json.error.message, browser && p.token ? /needs a browser login/ : new RegExp(`needs the ${need} role`), what);
                    refused++;
                }
            }
        }
        assert.ok(allowed > 100 && refused > 100, `allowed ${allowed}, refused ${refused}`);
        // the matrix changed nothing: every request is still pending, the admins are the same
        const all = await listAll(s.client);
        assert.equal(all.filter((r) => r.status === 'pending').length, 6);
        assert.deepEqual((await s.client.ok('/api/admins')).items.map((a) => a.name).sort(), ['admin', 'dee', 'vic']);
    });

    test('channel scoping: lists, counts, chats and export show only the channels assigned', async () => {
        for (const c of [decider, viewer]) {
            const items = await listAll(c);
            assert.ok(items.length === 3 && items.every((r) => r.chat_id === A), JSON.stringify(items.map((r) => r.chat_id)));
            const page = await c.ok('/api/invite-requests?status=pending');
            assert.equal(page.counts.pending, 3);
            assert.equal((await c.ok(`/api/invite-requests?chat_id=${B}`)).items.length, 0);
            assert.deepEqual((await c.ok('/api/chats')).items.map((x) => x.chat_id), [A]);
            const csv = await c.get('/api/invite-requests/export?format=csv');
            assert.equal(csv.status, 200, csv.text);
            const lines = csv.text.trim().split('\n');
            assert.equal(lines.length, 1 + 3, csv.text);
            assert.ok(!csv.text.includes(String(B)), 'no row of channel B');
        }
        const me = await viewer.ok('/api/me');
        assert.equal(me.role, 'viewer');
        assert.deepEqual(me.channels, [A]);
        assert.equal((await s.client.ok('/api/me')).role, 'owner');
    });

    test('a decider decides only in its channels; a viewer not at all', async () => {
        const all = await listAll(s.client, { status: 'pending' });
        const inA = all.filter((r) => r.chat_id === A), inB = all.filter((r) => r.chat_id === B);
        assertError(await decider.post('/api/invite-requests/approve', { request_ids: [inA[0].id, inB[0].id] }), 403, 'forbidden', 'approve in B');
        assertError(await decider.post('/api/invite-requests/approve-all', { filter: { chat_id: B } }), 403, 'forbidden', 'approve all in B');
        assertError(await viewer.post('/api/invite-requests/approve', { request_ids: [inA[0].id] }), 403, 'forbidden', 'viewer approves');
        const one = await decider.post('/api/invite-requests/approve', { request_ids: [inA[0].id] });
        assert.equal(one.status, 202, one.text);
        assert.equal((await waitJob(s.client, one.json.job.id)).job.state, 'done');
        // Approve All without a channel: only the decider's channels
        const allA = await decider.post('/api/invite-requests/deny-all', {});
        assert.equal(allA.status, 202, allA.text);
        const j = await waitJob(decider, allA.json.job.id);
        assert.equal(j.job.done, 2, JSON.stringify(j.job));
        const after = await listAll(s.client);
        assert.equal(after.filter((r) => r.chat_id === B && r.status === 'pending').length, 3, 'B untouched');
        assert.equal(after.filter((r) => r.chat_id === A && r.status === 'pending').length, 0);
        // a decider cancels only its own jobs
        assertError(await decider.post(`/api/jobs/${one.json.job.id}/cancel`, {}), 409, 'conflict', 'own finished job');
        const owners = await s.client.post('/api/invite-requests/approve', { request_ids: [inA[1].id] });
        assert.equal(owners.status, 202, owners.text);
        assertError(await decider.post(`/api/jobs/${owners.json.job.id}/cancel`, {}), 403, 'forbidden', 'the owner\'s job');
        await waitJob(s.client, owners.json.job.id);
        // and sees only its own jobs: others' may be about channels it may not see
        const seen = (await decider.get('/api/jobs?limit=100')).json.items.map((x) => x.id);
        assert.ok(seen.includes(one.json.job.id) && seen.includes(allA.json.job.id), JSON.stringify(seen));
        assert.ok(!seen.includes(owners.json.job.id), 'not the owner\'s job');
        assertError(await decider.get(`/api/jobs/${owners.json.job.id}`), 404, 'not_found');
        assert.ok((await s.client.get('/api/jobs?limit=100')).json.items.some((x) => x.id === owners.json.job.id), 'the owner sees it');
    });

    test('invitations are one-time; owners change roles and remove admins; one owner stays', async () => {
        const { c: tmp, token } = await invite(s, 'tim', 'viewer', [B]);
        const again = await new Client(s.dm).post('/api/invite', { token, name: 'tim2', password: PW });
        assertError(again, 404, 'not_found', 'the same invitation twice');
        // a bad password keeps the invitation; two accepting it at once: one gets it
        const race = (await s.client.post('/api/admins/invite', { role: 'viewer', channels: [A] })).json.link.split('#token=')[1];
        assertError(await new Client(s.dm).post('/api/invite', { token: race, name: 'r0', password: 'short' }), 400, 'bad_request', 'a short password');
        const both = await Promise.all(['r1', 'r2'].map((name) => new Client(s.dm).post('/api/invite', { token: race, name, password: PW })));
        assert.deepEqual(both.map((r) => r.status).sort(), [200, 404], both.map((r) => r.text).join(' | '));
        const winner = both.find((r) => r.status === 200).json.admin;
        assert.equal((await s.client.post(`/api/admins/${winner}/delete`, {})).status, 200);
        assertError(await s.client.post('/api/admins/invite', { role: 'boss' }), 400, 'bad_request', 'unknown role');
        assertError(await tmp.get('/api/admins'), 403, 'forbidden', 'a viewer lists admins');

        const up = await s.client.post('/api/admins/tim/update', { role: 'decider', channels: [A, B] });
        assert.equal(up.status, 200, up.text);
        assert.equal(up.json.admin.role, 'decider');
        assert.deepEqual(up.json.admin.channels.sort(), [A, B].sort());
        // a role change ends the admin's sessions: they log in again under the new role
        assertError(await tmp.get('/api/me'), 401, 'unauthorized', 'a session from before the role change');
        await tmp.login('tim', PW);
        const me = await tmp.ok('/api/me');
        assert.equal(me.role, 'decider');
        assert.equal((await listAll(tmp)).length, 6);
        const timToken = (await tmp.post('/api/tokens', { name: 'tims', role: 'viewer', channels: [B] })).json.token.token;
        const asTim = new TokenClient(s.dm, timToken);
        assert.equal((await asTim.ok('/api/me')).admin, 'token tims of tim');

        assertError(await s.client.post('/api/admins/admin/update', { role: 'viewer', channels: [A] }), 409, 'conflict', 'the last owner demoted');
        assertError(await s.client.post('/api/admins/admin/delete', {}), 409, 'conflict', 'the last owner removed');
        assertError(await s.client.post('/api/admins/nobody/delete', {}), 404, 'not_found', 'no such admin');

        const del = await s.client.post('/api/admins/tim/delete', {});
        assert.equal(del.status, 200, del.text);
        assertError(await tmp.get('/api/me'), 401, 'unauthorized', 'a removed admin is logged out');
        assertError(await asTim.get('/api/me'), 401, 'unauthorized', 'a removed admin\'s API token');
        assertError(await asTim.get('/api/invite-requests'), 401, 'unauthorized', 'a removed admin\'s API token');
        assert.deepEqual((await s.client.ok('/api/admins')).items.map((a) => a.name).sort(), ['admin', 'dee', 'vic']);
        const actions = (await auditAll(s.client)).map((e) => e.action);
        for (const a of ['admin_invite', 'admin_join', 'admin_role', 'admin_remove']) assert.ok(actions.includes(a), `audit has ${a}`);
    });

    test('every admin changes their own password; their other sessions end', async () => {
        const elsewhere = new Client(s.dm);
        await elsewhere.login('vic', PW);
        const deeElsewhere = new Client(s.dm);
        await deeElsewhere.login('dee', PW);
        assertError(await viewer.post('/api/me/password', { current_password: 'not it at all', new_password: 'another long password' }), 403, 'wrong_password', 'wrong current');
        assertError(await viewer.post('/api/me/password', { current_password: PW, new_password: 'short' }), 400, 'bad_request', 'short new');
        const ok = await viewer.post('/api/me/password', { current_password: PW, new_password: 'another long password' });
        assert.equal(ok.status, 200, ok.text);
        assertError(await elsewhere.get('/api/me'), 401, 'unauthorized', 'the other browser after the password change');
        assert.equal((await viewer.ok('/api/me')).admin, 'vic', 'the session that changed it stays');
        assert.equal((await deeElsewhere.ok('/api/me')).admin, 'dee', 'other admins\' sessions stay');
        assert.equal((await new Client(s.dm).post('/api/login', { name: 'vic', password: PW })).status, 401);
        await new Client(s.dm).login('vic', 'another long password');
    });

    test('TOTP: enable with a code, log in with a code, wrong code refused, recovery code once', async () => {
        const c = new Client(s.dm);
        await c.login('dee', PW);
        assertError(await c.post('/api/me/totp/enable', { code: '123456' }), 409, 'conflict', 'enable before setup');
        const setup = await c.post('/api/me/totp/setup', {});
        assert.equal(setup.status, 200, setup.text);
        const { secret, uri } = setup.json;
        assert.match(secret, /^[A-Z2-7]{32}$/);
        assert.equal(uri, `otpauth://totp/doorman:dee?secret=${secret}&issuer=doorman&algorithm=SHA1&digits=6&period=30`);
        const wrong = totp(secret, stepNow() + 5); // no step near the server's
        assertError(await c.post('/api/me/totp/enable', { code: wrong }), 400, 'wrong_code', 'enable with a wrong code');
        // the server takes the code of its step and of the steps either side: computed here from
        // the real time once, so a step ending in between changes nothing
        const step = stepNow();
        const en = await c.post('/api/me/totp/enable', { code: totp(secret, step) });
        assert.equal(en.status, 200, en.text);
        const codes = en.json.recovery_codes;
        assert.equal(codes.length, 10);
        assert.ok(codes.every((x) => /^[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}$/.test(x)));
        assert.equal((await c.ok('/api/me')).totp, true);

        const l = new Client(s.dm);
        assertError(await l.post('/api/login', { name: 'dee', password: PW }), 401, 'totp_required', 'no code');
        assertError(await l.post('/api/login', { name: 'dee', password: PW, code: totp(secret, step + 7) }), 401, 'wrong_code', 'wrong code');
        assertError(await l.post('/api/login', { name: 'dee', password: 'wrong password!', code: totp(secret, step + 1) }), 401, 'unauthorized', 'wrong password with a code');
        assertError(await l.post('/api/login', { name: 'dee', password: PW, code: totp(secret, step) }), 401, 'wrong_code', 'the code that enabled it, again');
        // the code of the next step (clocks drift by one): the one used to enable is spent
        const ok = await l.post('/api/login', { name: 'dee', password: PW, code: totp(secret, step + 1) });
        assert.equal(ok.status, 200, ok.text);
        assertError(await new Client(s.dm).post('/api/login', { name: 'dee', password: PW, code: totp(secret, step + 1) }), 401, 'wrong_code', 'a code twice');

        const r1 = await new Client(s.dm).post('/api/login', { name: 'dee', password: PW, code: codes[3] });
        assert.equal(r1.status, 200, r1.text);
        assertError(await new Client(s.dm).post('/api/login', { name: 'dee', password: PW, code: codes[3] }), 401, 'wrong_code', 'a recovery code twice');
        const r2 = await new Client(s.dm).post('/api/login', { name: 'dee', password: PW, code: codes[4].toUpperCase() });
        assert.equal(r2.status, 200, r2.text);

        assertError(await c.post('/api/me/totp/disable', { password: 'wrong password!' }), 403, 'wrong_password', 'disable with a wrong password');
        assert.equal((await c.post('/api/me/totp/disable', { password: PW })).status, 200);
        await new Client(s.dm).login('dee', PW);
        const audit = await auditAll(s.client);
        assert.ok(audit.some((e) => e.action === 'totp_on' && e.admin === 'dee'));
        assert.ok(audit.some((e) => e.action === 'login_failed' && e.detail === 'wrong two-factor code'));
        assert.ok(!JSON.stringify(audit).includes(secret), 'the secret is in no audit entry');
    });

    test('API tokens: role and channels within the creator\'s, bearer only, audited, revocable', async () => {
        assertError(await decider.post('/api/tokens', { name: 'big', role: 'owner' }), 403, 'forbidden', 'a token above its creator');
        assertError(await decider.post('/api/tokens', { name: 'wide', role: 'decider', channels: [B] }), 403, 'forbidden', 'a channel outside the creator\'s');
        assertError(await decider.post('/api/tokens', { name: 'none', role: 'decider' }), 400, 'bad_request', 'a decider token without channels');
        assertError(await decider.post('/api/tokens', { name: 'bad name!', role: 'viewer', channels: [A] }), 400, 'bad_request', 'a bad name');
        const made = await decider.post('/api/tokens', { name: 'ci', role: 'decider', channels: [A] });
        assert.equal(made.status, 200, made.text);
        const tok = made.json.token;
        assert.match(tok.token, /^dm_[0-9a-f]{64}$/);
        assert.equal(tok.last_used_at, null);
        assertError(await decider.post('/api/tokens', { name: 'ci', role: 'viewer', channels: [A] }), 409, 'conflict', 'the same name twice');

        const t = new TokenClient(s.dm, tok.token);
        const me = await t.ok('/api/me');
        assert.deepEqual([me.admin, me.role, me.token, me.csrf_token], ['token ci of dee', 'decider', true, undefined]);
        assert.equal((await listAll(t)).filter((r) => r.chat_id !== A).length, 0, 'the token sees only its channels');
        const extra = await addRequester(s.tg, A, { first_name: 'Tokened' });
        await waitRecorded(s.client, 7);
        const req = (await listAll(t, { status: 'pending' })).find((r) => r.user_id === extra.user_id);
        const dec = await t.post('/api/invite-requests/approve', { request_ids: [req.id] });
        assert.equal(dec.status, 202, `no CSRF header is needed with a token: ${dec.text}`);
        const done = await waitJob(t, dec.json.job.id);
        assert.equal(done.job.admin, 'token ci of dee');
        const approved = (await listAll(s.client)).find((r) => r.id === req.id);
        assert.equal(approved.decided_by, 'token ci of dee');

        // never from a cookie; a wrong or malformed header is a 401
        const asCookie = new Client(s.dm);
        asCookie.cookies.set('doorman_session', tok.token);
        assertError(await asCookie.get('/api/me'), 401, 'unauthorized', 'the token as the session cookie');
        assertError(await new TokenClient(s.dm, tok.token + '0').get('/api/me'), 401, 'unauthorized', 'a wrong token');
        const basic = await new Client(s.dm).get('/api/me', { headers: { authorization: `Basic ${tok.token}` } });
        assertError(basic, 401, 'unauthorized', 'not a bearer token');
        // another scheme (a proxy's Basic login passed on) leaves the session cookie to decide
        const behindProxy = await decider.get('/api/me', { headers: { authorization: 'Basic cHJveHk6cHc=' } });
        assert.equal(behindProxy.status, 200, behindProxy.text);
        assert.equal(behindProxy.json.admin, 'dee');

        const listed = (await decider.ok('/api/tokens')).items.find((x) => x.id === tok.id);
        assert.ok(listed.last_used_at > 0, JSON.stringify(listed));
        assert.equal(listed.token, undefined, 'the value is shown once');
        assert.ok((await s.client.ok('/api/tokens')).items.some((x) => x.id === tok.id && x.admin === 'dee'), 'owners see every token');
        assert.ok(!(await viewer.ok('/api/tokens')).items.some((x) => x.id === tok.id), 'others see their own');
        assertError(await viewer.post(`/api/tokens/${tok.id}/revoke`, {}), 404, 'not_found', 'revoking another admin\'s token');

        const audit = await auditAll(s.client);
        const uses = audit.filter((e) => e.action === 'api_token' && e.admin === 'token ci of dee');
        assert.ok(uses.some((e) => e.detail === 'POST /api/invite-requests/approve'), JSON.stringify(uses.slice(0, 3)));
        assert.ok(uses.some((e) => e.detail === 'GET /api/me' && e.result === 'ok'));
        const matrix = audit.filter((e) => e.action === 'api_token' && e.admin === 'token matrix-viewer of dee');
        assert.ok(matrix.some((e) => e.detail === 'GET /api/settings' && e.result === 'forbidden'), 'a refused use is audited too');
        assert.ok(audit.some((e) => e.action === 'approve' && e.admin === 'token ci of dee' && e.request_id === req.id));
        assert.ok(!JSON.stringify(audit).includes(tok.token), 'the token is in no audit entry');

        assert.equal((await decider.post(`/api/tokens/${tok.id}/revoke`, {})).status, 200);
        assertError(await t.get('/api/me'), 401, 'unauthorized', 'a revoked token');
    });

    // Last: it adds a third channel (C) and requests, which the counts of the tests above leave out.
    test('scoped to two channels of three: statistics, invite links, rules, modes and challenges cover only those', async () => {
        const C = (await tgCreateChannel(s.tg, { title: 'Channel 3', username: 'test_channel_3', botId: s.world.botId })).id;
        const before = (await listAll(s.client)).length;
        for (let i = 0; i < 2; i++) await addRequester(s.tg, C, { first_name: `InC${i}` });
        await waitRecorded(s.client, before + 2);
        const two = (await invite(s, 'duo', 'decider', [A, C])).c;
        const twoViewer = (await invite(s, 'vio', 'viewer', [A, C])).c;
        const inScope = (r) => r.chat_id === A || r.chat_id === C;

        // statistics: the numbers of A and C only; a channel outside is a 403 naming it
        const all = await listAll(s.client);
        const mine = all.filter(inScope);
        const ownerStats = await s.client.ok('/api/stats');
        assert.equal(ownerStats.requests.total, all.length, JSON.stringify(ownerStats.requests));
        for (const c of [two, twoViewer]) {
            const st = await c.ok('/api/stats');
            assert.deepEqual(st.chats.map((x) => x.chat_id).sort(), [A, C].sort());
            assert.equal(st.requests.total, mine.length, JSON.stringify(st.requests));
            assert.equal(st.requests.pending, mine.filter((r) => r.status === 'pending').length);
            assert.equal(st.pending_now, mine.filter((r) => r.status === 'pending').length);
            assert.ok(st.series.every(inScope), JSON.stringify(st.series));
            const onlyC = await c.ok(`/api/stats?chat_id=${C}`);
            assert.equal(onlyC.requests.total, 2);
            const refused = await c.get(`/api/stats?chat_id=${B}`);
            assertError(refused, 403, 'forbidden', 'statistics of channel B');
            assert.match(refused.json.error.message, new RegExp(`channel ${B}, which is not among the channels assigned to you`));
        }
        assert.ok(ownerStats.requests.total > mine.length, 'the owner counts channel B too');

        // invite links: a decider makes and revokes them in its channels, a viewer reads them
        const made = await two.post('/api/links', { chat_id: C, name: 'duo link', creates_join_request: true });
        assert.equal(made.status, 200, made.text);
        const link = made.json.link.link;
        const outside = await two.post('/api/links', { chat_id: B, name: 'not mine' });
        assertError(outside, 403, 'forbidden', 'a link in channel B');
        assert.match(outside.json.error.message, new RegExp(`channel ${B}`));
        assertError(await twoViewer.post('/api/links', { chat_id: C, name: 'viewer' }), 403, 'forbidden', 'a viewer makes a link');
        assert.ok((await twoViewer.ok(`/api/links?chat_id=${C}`)).items.some((l) => l.link === link), 'the viewer reads the links of C');
        assertError(await twoViewer.get(`/api/links?chat_id=${B}`), 403, 'forbidden', 'the links of channel B');
        for (const path of ['/api/links/edit', '/api/links/revoke']) {
            assertError(await two.post(path, { chat_id: B, link }), 403, 'forbidden', `${path} in channel B`);
        }
        for (const path of ['/api/links/refresh', '/api/decisions/check']) {
            assertError(await two.post(path, { chat_id: B, session_name: 'any' }), 403, 'forbidden', `${path} in channel B`);
        }

        // per-link Approve All: the link's requests in C, and only there
        const viaLink = await addRequester(s.tg, C, { first_name: 'ThroughDuo', invite_link: link });
        await waitRecorded(s.client, before + 3);
        assertError(await two.post('/api/invite-requests/approve-all', { filter: { chat_id: B, invite_link: link } }), 403, 'forbidden', 'Approve All of a link in B');
        const job = await two.post('/api/invite-requests/approve-all', { filter: { chat_id: C, invite_link: link } });
        assert.equal(job.status, 202, job.text);
        assert.equal((await waitJob(two, job.json.job.id)).job.done, 1);
        const inC = await listAll(s.client, { chat_id: String(C) });
        assert.equal(inC.find((r) => r.user_id === viaLink.user_id).status, 'approved');
        assert.equal(inC.filter((r) => r.status === 'pending').length, 2, 'the others in C stay pending');

        // rules, modes and challenges: read in their channels (and the global ones), set by owners
        for (const chat of [B, C]) {
            const mode = await s.client.post('/api/modes', { chat_id: chat, mode: 'manual' });
            assert.equal(mode.status, 200, mode.text);
            const challenge = await s.client.post('/api/challenges', { chat_id: chat, challenge: { steps: ['captcha'], on_pass: 'approve', on_fail: 'decline', texts: { default: { title: 'A check' } } } });
            assert.equal(challenge.status, 200, challenge.text);
            const rule = await s.client.post('/api/rules', { chat_id: chat, name: `rule of ${chat}`, conditions: [{ type: 'name_matches', words: ['casino'] }], action: 'decline' });
            assert.equal(rule.status, 200, rule.text);
        }
        for (const c of [two, twoViewer]) {
            assert.deepEqual((await c.ok('/api/modes')).channels.map((m) => m.chat_id), [C]);
            assert.deepEqual((await c.ok('/api/challenges')).channels.map((x) => x.chat_id), [C]);
            assert.deepEqual((await c.ok(`/api/rules?chat_id=${C}`)).rules.map((r) => r.name), [`rule of ${C}`]);
            assert.equal((await c.ok('/api/rules?chat_id=0')).chat_id, 0, 'the global rules');
            const rulesB = await c.get(`/api/rules?chat_id=${B}`);
            assertError(rulesB, 403, 'forbidden', 'the rules of channel B');
            assert.match(rulesB.json.error.message, new RegExp(`channel ${B}`));
            assertError(await c.post('/api/modes', { chat_id: C, mode: 'rules' }), 403, 'forbidden', 'a mode set by a non-owner');
            assertError(await c.post('/api/challenges', { chat_id: C, challenge: null }), 403, 'forbidden', 'a challenge set by a non-owner');
        }
        assert.deepEqual((await s.client.ok('/api/modes')).channels.map((m) => m.chat_id).sort(), [B, C].sort(), 'the owner sees every channel\'s');

        const rev = await two.post('/api/links/revoke', { chat_id: C, link });
        assert.equal(rev.status, 200, rev.text);
        assert.equal(rev.json.link.revoked, true);
        assert.equal((await s.client.ok(`/api/links?chat_id=${C}`)).items.find((l) => l.link === link).revoked, true);
    });
});
