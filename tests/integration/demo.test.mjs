// `doorman demo`: tgsim and doorman wired together, a demo bot, two channels, a few hundred
// pending requests and more arriving over time; the printed login works. And the Session Manager
// as a newcomer tries it from the banner alone: create a session with the printed phone, read the
// login code where the banner says (a message from "Telegram" on tgsim's page), enter it and the
// password, check it, load the requests only Telegram has (made while the bot was down) and
// approve through the session: tgsim records the approvals as the account's.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../lib/processes.mjs';
import { startDemo } from '../lib/doorman.mjs';
import { Client, requestsOf, waitJob, waitLoadJob } from '../lib/api.mjs';

describe('doorman demo', () => {
    let demo, client;
    before(async () => {
        demo = await startDemo();
        client = new Client(demo.url);
        await client.login(demo.login.name, demo.login.password);
    });
    after(async () => { await demo?.proc.stop(); });

    // tgsim's control API, read-only here: what Telegram's side holds.
    async function tgsim(path) {
        const r = await fetch(demo.tgsimUrl + path);
        assert.equal(r.status, 200, `tgsim ${path}`);
        return r.json();
    }

    test('prints a working URL and login, with two channels and requests arriving', async () => {
        const first = await waitFor(async () => {
            const j = await client.ok('/api/invite-requests?limit=5');
            return j.counts.total >= 240 ? j : null;
        }, { timeoutMs: 30000, what: 'the demo requests to be recorded' });
        const chats = await client.ok('/api/chats');
        assert.deepEqual(chats.items.map((c) => c.title).sort(), ['Demo Chat', 'Demo News']);
        assert.ok(first.items.every((r) => r.first_name && r.chat_title), 'requests carry names and channel titles');
        // more arrive over time
        await waitFor(async () => {
            const j = await client.ok('/api/invite-requests?limit=1');
            return j.counts.total > first.counts.total;
        }, { timeoutMs: 20000, what: 'a new request to arrive in the demo' });
        // and deciding works through the demo bot
        const id = first.items.find((r) => r.status === 'pending').id;
        const r = await client.post('/api/invite-requests/approve', { request_ids: [id] });
        assert.equal(r.status, 202);
        await waitFor(async () => {
            const j = await client.ok(`/api/jobs/${r.json.job.id}`);
            return j.job.state === 'done' && j.job.done === 1;
        }, { timeoutMs: 20000, what: 'the demo approval to finish' });
    });

    test('the banner is enough to create a session, load what only Telegram has and approve through it', async () => {
        const { account: acc } = demo;
        assert.match(acc.codeUrl, /^http:\/\/127\.0\.0\.1:\d+\/messages\?phone=\d+$/);
        assert.ok(demo.unseen > 0);
        const chats = (await client.ok('/api/chats')).items;

        // Telegram holds requests the bot never heard of: tgsim has them pending, doorman not.
        await waitFor(async () => (await client.ok('/api/invite-requests?limit=1')).counts.total >= 240,
            { timeoutMs: 30000, what: 'the bot to record the demo requests' });
        const unseen = [];
        const known = new Map();
        for (const c of chats) {
            const mine = new Set((await requestsOf(client, c.chat_id)).map((r) => r.user_id));
            known.set(c.chat_id, mine);
            const pending = (await tgsim(`/control/join-requests?chat_id=${c.chat_id}&status=pending`)).items;
            unseen.push(...pending.filter((r) => !mine.has(r.user_id) && r.date < Date.now() / 1000 - 3 * 86400));
        }
        assert.equal(unseen.length, demo.unseen, 'every request made while the bot was down is unknown to doorman');

        // The page shows nothing before a code was asked for.
        const empty = await fetch(acc.codeUrl);
        assert.equal(empty.status, 200);
        assert.match(await empty.text(), /No messages yet/);

        // Create New Session: the code arrives as a message from "Telegram".
        const start = await client.post('/api/sessions/login', { name: 'dana', api_id: acc.apiId, api_hash: acc.apiHash, phone: acc.phone });
        assert.equal(start.status, 200, start.text);
        assert.equal(start.json.state, 'code_sent');
        const page = await fetch(acc.codeUrl);
        assert.equal(page.status, 200);
        assert.match(page.headers.get('content-type'), /^text\/html/);
        assert.match(page.headers.get('content-security-policy'), /default-src 'none'/);
        const html = await page.text();
        assert.match(html, /<span class="from">Telegram<\/span>/);
        const code = /Login code: (\d{5})\. Do not give this code to anyone/.exec(html)?.[1];
        assert.ok(code, `a login code on the page: ${html.slice(0, 2000)}`);
        // a wrong password is refused, the printed one logs in
        const withCode = await client.post('/api/sessions/login/code', { login_id: start.json.login_id, code });
        assert.equal(withCode.status, 200, withCode.text);
        assert.equal(withCode.json.state, 'password_needed');
        const wrong = await client.post('/api/sessions/login/password', { login_id: start.json.login_id, password: `${acc.password}x` });
        assert.equal(wrong.status, 400);
        assert.equal(wrong.json.error.code, 'invalid_password');
        const done = await client.post('/api/sessions/login/password', { login_id: start.json.login_id, password: acc.password });
        assert.equal(done.status, 200, done.text);
        assert.equal(done.json.state, 'done');
        const accountId = done.json.session.account.id;
        assert.equal(done.json.session.account.phone.replace(/\D/g, ''), acc.phone.replace(/\D/g, ''));
        // the same code was delivered as a message in tgsim's control API too
        const msgs = (await tgsim(`/control/accounts/${accountId}/messages`)).items;
        assert.equal(msgs.length, 1);
        assert.equal(msgs[0].from_id, 777000);
        assert.equal(msgs[0].from, 'Telegram');
        assert.ok(msgs[0].text.startsWith(`Login code: ${code}.`));

        // Check Status
        const check = await client.post('/api/sessions/dana/check', {});
        assert.equal(check.status, 200, check.text);
        assert.equal(check.json.session.status, 'active');

        // Load Requests in each channel: the unseen ones get recorded, with Telegram's dates.
        for (const c of chats) {
            const r = await client.post('/api/sessions/dana/load', { channel: `@${c.username}`, limit: 'all' });
            assert.equal(r.status, 202, r.text);
            const job = await waitLoadJob(client, r.json.job.id);
            assert.equal(job.state, 'done', JSON.stringify(job));
        }
        const recorded = new Map();
        for (const c of chats) for (const r of await requestsOf(client, c.chat_id)) recorded.set(`${r.chat_id}/${r.user_id}`, r);
        for (const u of unseen) {
            const r = recorded.get(`${u.chat_id}/${u.user_id}`);
            assert.ok(r, `request ${u.chat_id}/${u.user_id} was loaded`);
            // Demo Chat's rules judge what a load brings in too
            if (r.status !== 'pending') assert.equal(r.decided_by, '(rules)', JSON.stringify(r));
            assert.equal(r.date, u.date);
        }

        // Approve some of them through the session.
        const pick = unseen.map((u) => recorded.get(`${u.chat_id}/${u.user_id}`)).filter((r) => r.status === 'pending').slice(0, 3);
        assert.equal(pick.length, 3);
        const ap = await client.post('/api/invite-requests/approve', { request_ids: pick.map((r) => r.id), session_name: 'dana' });
        assert.equal(ap.status, 202, ap.text);
        const job = (await waitJob(client, ap.json.job.id, { timeoutMs: 30000 })).job;
        assert.equal(job.state, 'done', JSON.stringify(job));
        assert.equal(job.done, pick.length);
        assert.equal(job.via, 'dana');
        for (const r of pick) {
            const items = (await tgsim(`/control/join-requests?chat_id=${r.chat_id}&user_id=${r.user_id}`)).items;
            const last = items[items.length - 1];
            assert.equal(last.status, 'approved');
            assert.equal(last.decided_by, accountId, 'approved by the demo account, not the bot');
            assert.equal(last.decisions, 1);
        }
    });

    // Demo Chat is guarded: doorman's bot is its join-request bot, its rules decline a crypto bio
    // and send an applicant without a username to the verification Mini App, which tgsim's
    // applicants page opens as them (their name escaped).
    test('rules and verification: Demo Chat answers queries by its rules; the applicants page opens the Mini App', async () => {
        const chats = (await client.ok('/api/chats')).items;
        const chat = chats.find((c) => c.title === 'Demo Chat').chat_id;
        const rules = (await client.ok(`/api/rules?chat_id=${chat}`)).rules;
        assert.deepEqual(rules.map((r) => r.action), ['decline', 'verify']);
        const modes = (await client.ok('/api/modes')).channels;
        assert.equal(modes.find((m) => m.chat_id === chat).mode, 'rules');
        const challenges = (await client.ok('/api/challenges')).channels;
        assert.ok(challenges.find((c) => c.chat_id === chat), 'Demo Chat has a challenge');

        const control = async (p, body) => {
            const r = await fetch(demo.tgsimUrl + p, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
            assert.equal(r.status, 200, `tgsim ${p}`);
            return r.json();
        };
        const ask = async (user) => {
            const u = await control('/control/users', user);
            await control('/control/join-requests', { chat_id: chat, user_id: u.id });
            return u.id;
        };
        const query = (userId) => waitFor(async () => {
            const q = (await tgsim(`/control/join-requests?chat_id=${chat}&user_id=${userId}`)).items.at(-1).query;
            return q && q.state !== 'open' ? q : null;
        }, { timeoutMs: 15000, what: 'the join-request query to be answered' });
        const spammer = await ask({ first_name: 'Spam', bio: 'Crypto signals daily' });
        assert.equal((await query(spammer)).state, 'decline');
        const hostile = '<img src=x onerror=alert(1)>';
        const shy = await ask({ first_name: hostile });
        const q = await query(shy);
        assert.equal(q.state, 'web_app');
        assert.ok(q.web_app_url.startsWith(`${demo.url}/app/verify`), q.web_app_url);

        const page = await fetch(demo.applicantsUrl);
        assert.equal(page.status, 200);
        assert.match(page.headers.get('content-security-policy'), /default-src 'none'/);
        const html = await page.text();
        assert.ok(!html.includes(hostile), 'the name is escaped');
        assert.ok(html.includes('Open the Mini App as &lt;img src=x onerror=alert(1)&gt;'), html.slice(0, 3000));
        const href = /<a class="open" href="([^"]+)">Open the Mini App as &lt;img/.exec(html)[1].replaceAll('&amp;', '&');
        assert.ok(href.startsWith(`${q.web_app_url}#tgWebAppData=`), href);
        // the link is the Mini App with initData doorman accepts
        const url = new URL(href);
        const initData = new URLSearchParams(url.hash.slice(1)).get('tgWebAppData');
        const open = await fetch(`${demo.url}/api/app/verify/open`, { method: 'POST', headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ request_id: Number(url.searchParams.get('r')), init_data: initData }) });
        assert.equal(open.status, 200, await open.clone().text());
        const app = await open.json();
        assert.deepEqual(app.steps.map((st) => st.kind), ['rules', 'question', 'captcha']);
        assert.equal(app.title, 'Welcome to Demo Chat');
        const post = await fetch(demo.applicantsUrl, { method: 'POST' });
        assert.equal(post.status, 405);
    });

    test("tgsim's message page escapes what it shows and knows no other phone", async () => {
        const base = new URL(demo.account.codeUrl);
        const r = await fetch(`${base.origin}/messages?phone=${encodeURIComponent('<script>alert(1)</script>')}`);
        assert.equal(r.status, 404);
        const html = await r.text();
        assert.ok(!html.includes('<script>'), html);
        assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
        const form = await fetch(`${base.origin}/messages`);
        assert.equal(form.status, 200);
        assert.match(await form.text(), /<form method="get" action="\/messages">/);
        const post = await fetch(demo.account.codeUrl, { method: 'POST' });
        assert.equal(post.status, 405);
    });
});
