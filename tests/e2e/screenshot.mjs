// screenshot.mjs: makes the README's screenshots, one per main page of the panel, from the real
// doorman and tgsim (with its MTProto data centres) holding ~30 realistic join requests, a few of
// them only on Telegram's side, the Session Manager in use and the rules at work (a spam wave
// declined and banned by Apply, a link held): docs/screenshots/requests.png (the README's first
// picture, with the rules' verdicts), sessions.png, jobs.png, audit.png, settings.png, rules.png,
// links.png, logs.png, account.png,
// decide-via-session.png (Approve Selected through a session) and tgsim-login-code.png (tgsim's
// page of the messages an account received: its login code); and the panel on a phone (390×844):
// phone-requests.png (the requests as cards), phone-menu.png (the navigation's menu open),
// phone-sessions.png and phone-rules.png (the editor, its dry run under it); stats.png (the
// Statistics page over a month of requests through a few invite links, decided by an admin and
// the rules; from a stack of its own). Run from tests/: `node e2e/screenshot.mjs [OUT_DIR]`
// (`--only=stats`: that one alone) (TGSIM_BIN / DOORMAN_BIN as for the tests). Not part of the
// test run: node --test picks only *.test.mjs files.
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../lib/processes.mjs';
import { tgAccount, tgRevoke, addRequester, newPhone, tgAddJoinRequests, tgInjectFault } from '../lib/tgsim.mjs';
import { waitRecorded, waitLoadJob, counts, decide } from '../lib/api.mjs';
import { createUserSession, newBotSession } from '../lib/sessions.mjs';
import { startSessionStack, startStack } from '../lib/stacks.mjs';
import { launchBrowser, watchedPage, login } from '../lib/browser.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const only = args.find((a) => a.startsWith('--only='))?.slice(7);
const outDir = path.resolve(args.find((a) => !a.startsWith('--')) || path.join(here, '..', '..', 'docs', 'screenshots'));

const CHANNELS = [
    { title: 'Rust Jobs Europe', username: 'rustjobs_eu', link: 'https://t.me/+kF3xQ9vLm2pjZDc0' },
    { title: 'Indie Makers Club', username: 'indiemakers', link: 'https://t.me/+Wq8bN1eTz5xkYTRi' },
    { title: 'Lisbon Expats', username: 'lisbon_expats', link: 'https://t.me/+Hn4cR7sUy0ZmNGE5' },
];

// [first, last, username, bio, channel index]
const PEOPLE = [
    ['Sofia', 'Martínez', 'sofi_mtz', 'Backend engineer in Madrid. Rust, Postgres, too much coffee.', 0],
    ['Liam', "O'Brien", 'liamob', '', 1],
    ['Yuki', 'Tanaka', 'yuki_t', 'Product designer · Tokyo → Lisbon', 2],
    ['Amara', 'Okafor', 'amaraokafor', 'Building a tiny SaaS for bakeries. Open to collabs.', 1],
    ['Mateo', 'Rossi', '', 'Embedded systems, Zephyr, a bit of Rust on microcontrollers.', 0],
    ['Priya', 'Raman', 'priya_codes', 'SRE at a fintech. I automate things so I can sleep.', 0],
    ['Jonas', 'Weber', 'jweber', '', 2],
    ['Chloé', 'Dubois', 'chloe_db', 'Photographer, moving to Lisbon in March.', 2],
    ['Omar', 'Haddad', 'omar_h', 'Founder @ a 3-person startup. Bootstrapped and proud.', 1],
    ['Ingrid', 'Larsen', 'ingridl', 'Compiler nerd. LLVM contributor.', 0],
    ['Ali', 'Kaya', '', '', 2],
    ['Mei', 'Chen', 'meichen', 'Frontend + a11y. Looking for remote Rust roles.', 0],
    ['Noah', 'Fischer', 'noahfi', 'Newsletter about side projects, 12k readers.', 1],
    ['Emma', 'Novak', 'emmanovak', 'Teacher, learning Portuguese. Olá!', 2],
    ['Lucas', 'Silva', 'lucas_silva', 'Full-stack dev, Porto. Rust + Svelte.', 0],
    ['Aisha', 'Bello', 'aishab', 'Marketing for indie games.', 1],
    ['Ivan', 'Petrov', 'ivanp', 'Distributed systems, Kafka survivor.', 0],
    ['Zara', 'Ahmed', 'zara_ahmed', '', 2],
    ['Diego', 'Fernández', 'diegofdz', 'Remote worker, surfer, occasional Go programmer.', 2],
    ['Hana', 'Kim', 'hana_k', 'Making a habit tracker, 200 paying users so far.', 1],
    ['Tom', 'Becker', 'tbecker', 'Hiring! Senior Rust engineers in Berlin.', 0],
    ['Fatima', 'Zahra', 'fatimaz', '', 2],
    ['Erik', 'Johansson', 'erikj', 'Bootstrapping a dev-tools company from Stockholm.', 1],
    ['Ana', 'Costa', 'anacosta', 'Architect. Looking for a flat in Alfama.', 2],
    ['Ravi', 'Patel', 'ravi_p', 'Rust in production since 2019.', 0],
    ['Julia', 'Nowak', 'julianowak', 'No-code tools and newsletters.', 1],
    ['Kenji', 'Sato', 'kenjis', 'Game dev (Bevy). Open to freelance.', 0],
    ['Lena', 'Hoffmann', 'lenahoff', 'Digital nomad, UX writer.', 2],
    ['Marco', 'Bianchi', 'marcob', 'Shipping one micro-SaaS per month.', 1],
    ['Sara', 'Lindqvist', 'saral', 'Platform engineer. Kubernetes by day, sourdough by night.', 0],
];

// Reached Telegram while the bot was down: the bot never heard of them, Load Requests finds them.
const UNSEEN = [
    ['Nadia', 'Benali', 'nadia_b', 'Rust + WebAssembly, Marseille.', 0],
    ['Pedro', 'Alves', '', 'Backend at a bank, learning Rust at night.', 0],
    ['Katja', 'Müller', 'katjam', '', 0],
];

// A Telegram account in tgsim and a doorman session logged in as it (the code read from tgsim).
async function userSession(s, name, account) {
    const phone = newPhone();
    const acc = await tgAccount(s.tg, { phone, ...account });
    await createUserSession(s.client, s.tg, { name, phone, password: account.password });
    return { ...acc, phone };
}

// The Rules page of the first channel: a few rules, a deny list, the editor open on a rule and
// the dry run beside it, after a small wave of spam accounts arrived.
async function rulesShot(s, page, chatId, shot) {
    const before = (await counts(s.client)).total;
    const spam = [['Free', 'CRYPTO signals'], ['Casino', 'Bonus 777'], ['Crypto', 'Queen'], ['Lucky', 'Spins'], ['Bonus', 'Hunter']];
    for (const [first_name, last_name] of spam) {
        await addRequester(s.tg, chatId, { first_name, last_name, bio: 'DM me: https://t.me/+promo', invite_link: 'https://t.me/+promoWave' });
    }
    await waitRecorded(s.client, before + spam.length);
    const post = async (p, body) => {
        const r = await s.client.post(p, body);
        if (r.status !== 200) throw new Error(`${p} -> ${r.status} ${r.text}`);
        return r.json;
    };
    await post('/api/rule-lists/known_spammers', { text: 'user_id\n@spam_king\n@promo_bot\n5550001\n' });
    await post('/api/rules', { chat_id: 0, name: 'known spammers', conditions: [{ type: 'in_list', list: 'known_spammers' }], action: 'decline_and_ban' });
    const rules = [
        { name: 'crypto spam', conditions: [{ type: 'name_matches', words: ['crypto', 'casino', 'bonus'] }, { type: 'has_username', negate: true }], action: 'decline_and_ban' },
        { name: 'wave', conditions: [{ type: 'wave', count: 3, minutes: 10, per: 'link' }], action: 'decline' },
        { name: 'links in bio', conditions: [{ type: 'bio_has_link' }], action: 'hold' },
        { name: 'rustaceans', conditions: [{ type: 'bio_matches', words: ['rust'] }], action: 'approve_after', delay_seconds: 300 },
    ];
    for (const r of rules) await post('/api/rules', { chat_id: chatId, ...r });
    await post('/api/modes', { chat_id: chatId, mode: 'rules' });
    await page.goto(`${s.dm.url}/#/rules?chat_id=${chatId}`);
    await page.locator('.rules-table tbody tr >> nth=3').waitFor();
    await page.getByRole('button', { name: 'Edit links in bio' }).click();
    await page.locator('.rule-editor select[name=action]').selectOption('decline');
    await page.getByRole('button', { name: 'Run dry run' }).click();
    await page.locator('.rules-dryrun[data-state=done]').waitFor();
    // Taller than the other pages' pictures: the mode, the rules, the editor and the dry run.
    await page.setViewportSize({ width: 1440, height: 1400 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot('rules.png');
    await page.setViewportSize({ width: 1440, height: 960 });
}

// The rules at work in the first channel: a request arriving now is judged at once (a link in
// the bio: held), and Apply on the Rules page judges the backlog (the spam wave declined and
// banned, the Rust people approved after a delay). Ends when the apply job is done.
async function rulesAtWork(s, page, chatId) {
    const before = (await counts(s.client)).total;
    const v = await addRequester(s.tg, chatId, { first_name: 'Viktor', last_name: 'Sokolov', username: 'vsokolov',
        bio: 'Portfolio and rates: www.vsokolov.dev' });
    await waitRecorded(s.client, before + 1);
    await waitFor(async () => {
        const items = (await s.client.ok(`/api/invite-requests?chat_id=${chatId}&limit=100`)).items;
        return items.find((r) => r.user_id === v.user_id)?.verdict;
    }, { what: 'the new request judged' });
    await page.locator('.rule-editor').getByRole('button', { name: 'Cancel' }).click();
    await page.locator('.apply-card').getByRole('button', { name: /^Apply the rules to the/ }).click();
    await page.locator('dialog.modal[open]').getByRole('button', { name: 'Apply the rules' }).click();
    await page.locator('.apply-card .job[data-state=done]').waitFor({ timeout: 30000 });
}

// The panel on a phone (390×844), signed in afresh on page: the requests as cards with two
// selected, the menu open, the Sessions page and the Rules page of channel chatId with the
// editor open on "links in bio" and its dry run under it.
async function phoneShots(s, page, chatId, shot) {
    await login(page, s.dm.url, { name: 'admin', password: 'correct horse battery' });
    await page.goto(`${s.dm.url}/#/requests?status=all`);
    const cards = page.locator('.requests-table tbody tr');
    await page.locator('.requests-table .badge-banned >> nth=0').waitFor();
    for (const n of ['Viktor Sokolov', 'Sofia Martínez']) {
        await cards.filter({ hasText: n }).locator('input[type=checkbox]').check();
    }
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot('phone-requests.png');
    await page.locator('#menu-toggle').click();
    await shot('phone-menu.png');
    await page.locator('.nav').getByRole('link', { name: 'Sessions' }).click();
    await page.locator('.sessions-table tbody tr >> nth=2').waitFor();
    await shot('phone-sessions.png');
    await page.goto(`${s.dm.url}/#/rules?chat_id=${chatId}`);
    await page.locator('.rules-table tbody tr >> nth=3').waitFor();
    await page.getByRole('button', { name: 'Edit links in bio' }).click();
    await page.getByRole('button', { name: 'Run dry run' }).click();
    await page.locator('.rules-dryrun[data-state=done]').waitFor();
    await page.locator('.rule-editor').evaluate((e) => window.scrollTo(0, e.getBoundingClientRect().top + window.scrollY - 64));
    await shot('phone-rules.png');
}

// The Statistics page over the last 30 days: waves of requests a day through each channel's
// links, most of them decided today by the admin (Approve All of the older ones, a few denied)
// and by a rule that declines casino names.
async function statsShot(browser) {
    const s = await startStack({ world: { channels: 0, pending: 0 } });
    try {
        const chats = [];
        for (const c of CHANNELS) chats.push(await s.tg.control('POST', '/control/channels', { title: c.title, username: c.username, admins: [{ id: s.world.botId, can_invite_users: true }] }));
        const links = [['https://t.me/+kF3xQ9vLm2pjZDc0', 'https://t.me/+rustconf_2026'], ['https://t.me/+Wq8bN1eTz5xkYTRi', ''], ['https://t.me/+Hn4cR7sUy0ZmNGE5', 'https://t.me/+lisbon_meetup']];
        const now = Math.floor(Date.now() / 1000);
        let n = 0;
        for (let d = 29; d >= 0; d--) {
            for (const [i, chat] of chats.entries()) {
                const count = 3 + ((d * 7 + i * 13) % 11) + (d < 6 && i === 0 ? 12 : 0);
                const link = links[i][(d + i) % 3 === 0 ? 1 : 0];
                await tgAddJoinRequests(s.tg, { chat_id: chat.id, count, first_name: PEOPLE[(d + i) % PEOPLE.length][0], invite_link: link || undefined, date: now - d * 86400 - 3600, spread_seconds: 80000 });
                n += count;
            }
        }
        await waitRecorded(s.client, n, { timeoutMs: 60000 });
        await decide(s.client, 'approve-all', { filter: { chat_id: chats[0].id, to: now - 5 * 86400 } });
        await decide(s.client, 'approve-all', { filter: { chat_id: chats[1].id, to: now - 9 * 86400 } });
        await decide(s.client, 'deny-all', { filter: { chat_id: chats[2].id, to: now - 20 * 86400 } });
        await decide(s.client, 'approve-all', { filter: { chat_id: chats[2].id, to: now - 3 * 86400 } });
        await s.client.post('/api/rules', { chat_id: chats[1].id, name: 'casino names', conditions: [{ type: 'name_matches', words: ['casino'] }], action: 'decline' });
        await s.client.post('/api/modes', { chat_id: chats[1].id, mode: 'rules' });
        await tgAddJoinRequests(s.tg, { chat_id: chats[1].id, count: 9, first_name: 'Casino Bonus' });
        await waitFor(async () => (await counts(s.client, { chat_id: chats[1].id })).declined >= 9, { what: 'the rule declined the wave', timeoutMs: 30000 });
        const { page, seen } = await watchedPage(browser, { viewport: { width: 1440, height: 1500 } });
        await login(page, s.dm.url, { name: 'admin', password: 'correct horse battery' });
        await page.goto(`${s.dm.url}/#/stats`);
        await page.locator('main[data-loaded=true]').waitFor();
        await page.mouse.move(0, 0);
        await page.screenshot({ path: path.join(outDir, 'stats.png') });
        console.log(`screenshot: wrote ${path.join(outDir, 'stats.png')}`);
        if (seen.dialogs.length || seen.pageErrors.length || seen.cspViolations.length) throw new Error(`the page misbehaved: ${JSON.stringify(seen)}`);
    } finally {
        await s.cleanup();
    }
}

async function main() {
    mkdirSync(outDir, { recursive: true });
    if (only === 'stats') {
        const browser = await launchBrowser();
        try { await statsShot(browser); } finally { await browser.close(); }
        return;
    }
    const s = await startSessionStack({ tgsimOpts: { latencyMs: 15 }, world: { channels: 0, pending: 0 }, configureBot: true });
    const browser = await launchBrowser();
    try {
        const maria = await userSession(s, 'ops_maria', { first_name: 'Maria', last_name: 'Kowalska', username: 'maria_ops', password: 'correct horse' });
        const chats = [];
        for (const c of CHANNELS) {
            chats.push(await s.tg.control('POST', '/control/channels', { title: c.title, username: c.username,
                admins: [{ id: s.world.botId, can_invite_users: true }, { id: maria.id, can_invite_users: true }] }));
        }
        const now = Math.floor(Date.now() / 1000);
        for (const [i, [first_name, last_name, username, bio, ch]] of UNSEEN.entries()) {
            await addRequester(s.tg, chats[ch].id, { first_name, last_name, username: username || undefined, bio: bio || undefined,
                invite_link: CHANNELS[ch].link, date: now - 3 * 86400 - i * 5400, bot_updates: false });
        }
        // Oldest first, a few minutes to an hour apart, so the newest is a minute old.
        let t = now - 60;
        const dates = PEOPLE.map((_, i) => (t -= 120 + ((i * 7919) % 2400)));
        for (let i = PEOPLE.length - 1; i >= 0; i--) {
            const [first_name, last_name, username, bio, ch] = PEOPLE[i];
            await addRequester(s.tg, chats[ch].id, {
                first_name, last_name, username: username || undefined, bio: bio || undefined,
                invite_link: CHANNELS[ch].link, date: dates[i],
            });
        }
        await waitRecorded(s.client, PEOPLE.length);
        // More sessions: a bot account, and one whose authorization was ended on another device.
        await newBotSession(s.client, s.tg, { name: 'backup_bot', username: 'rustjobs_helper_bot' });
        const old = await userSession(s, 'old_phone', { first_name: 'Tom', last_name: 'Becker', username: 'tbecker_admin' });
        await tgRevoke(s.tg, old.id, 'SESSION_REVOKED');
        for (const name of ['ops_maria', 'backup_bot', 'old_phone']) await s.client.post(`/api/sessions/${name}/check`, {});
        // Load Requests through Maria's session: the requests only Telegram had are recorded.
        const load = await s.client.post('/api/sessions/ops_maria/load', { channel: `@${CHANNELS[0].username}`, limit: 'all' });
        if (load.status !== 202) throw new Error(`load -> ${load.status} ${load.text}`);
        await waitLoadJob(s.client, load.json.job.id);
        await waitRecorded(s.client, PEOPLE.length + UNSEEN.length);

        const { page, seen } = await watchedPage(browser, { viewport: { width: 1440, height: 960 } });
        const shot = async (file) => {
            await page.mouse.move(0, 0);
            await page.evaluate(() => document.activeElement?.blur());
            await page.screenshot({ path: path.join(outDir, file) });
            console.log(`screenshot: wrote ${path.join(outDir, file)}`);
        };
        await login(page, s.dm.url, { name: 'admin', password: 'correct horse battery' });
        const rows = page.locator('.requests-table tbody tr');
        let left = PEOPLE.length + UNSEEN.length;
        await rows.nth(left - 1).waitFor();

        // Decide a few through the panel so the counts and finished jobs show: the bot denies
        // two, Maria's session approves five.
        const row = (text) => rows.filter({ hasText: text });
        const dialog = page.locator('dialog.modal[open]');
        for (const [names, button, via] of [[['Fatima Zahra', 'Julia Nowak'], 'Deny Selected', ''],
            [['Hana Kim', 'Marco Bianchi', 'Kenji Sato', 'Ravi Patel', 'Tom Becker'], 'Approve Selected', 'ops_maria']]) {
            for (const n of names) await row(n).locator('input[type=checkbox]').check();
            await page.getByRole('button', { name: button }).click();
            await dialog.waitFor();
            await dialog.locator('select[name=session_name]').selectOption({ value: via });
            await waitFor(async () => {
                const st = await dialog.locator('.preflight').getAttribute('data-state');
                return st === 'ok';
            }, { what: 'the modal to check the account' });
            if (via) await shot('decide-via-session.png');
            await dialog.getByRole('button', { name: `${button.split(' ')[0]} ${names.length}`, exact: true }).click();
            left -= names.length;
            await waitFor(async () => (await rows.count()) === left &&
                (await page.locator('.job-panel .job[data-state=done]').count()) >= 1, { what: 'the job to finish and the table to refresh' });
        }
        // Something for the Logs page: the Bot API failing one getUpdates, as it now and then does.
        await tgInjectFault(s.tg, { method: 'getUpdates', count: 1, error_code: 502, description: 'Bad Gateway' });
        await waitFor(async () => (await s.client.ok('/api/logs')).items.some((e) => /Bad Gateway/.test(e.message)),
            { what: 'the warning in GET /api/logs', timeoutMs: 20000 });
        for (const [hash, ready, file] of [
            ['#/sessions', '.sessions-table tbody tr >> nth=2', 'sessions.png'],
            ['#/jobs', 'main tbody tr >> nth=2', 'jobs.png'],
            ['#/audit', 'main tbody tr >> nth=5', 'audit.png'],
            ['#/settings', '.settings-grid', 'settings.png'],
            [`#/links?chat_id=${chats[0].id}`, '.links-table tbody tr >> nth=0', 'links.png'],
            ['#/logs', 'main tbody tr >> nth=0', 'logs.png'],
            ['#/account', '.tokens-card', 'account.png'],
        ]) {
            await page.goto(`${s.dm.url}/${hash}`);
            await page.locator(ready).waitFor();
            await shot(file);
        }
        await rulesShot(s, page, chats[0].id, shot);
        await rulesAtWork(s, page, chats[0].id);

        // Every request, newest first: the rules' verdicts on top, three pending ones selected.
        await page.goto(`${s.dm.url}/#/requests?status=all`);
        await page.locator('.requests-table .badge-banned >> nth=0').waitFor();
        for (const n of ['Sofia Martínez', 'Yuki Tanaka', 'Amara Okafor']) {
            await row(n).locator('input[type=checkbox]').check();
        }
        await page.evaluate(() => window.scrollTo(0, 0));
        await shot('requests.png');
        const phone = await watchedPage(browser, { viewport: { width: 390, height: 844 } });
        await phoneShots(s, phone.page, chats[0].id, async (file) => {
            await phone.page.evaluate(() => document.activeElement?.blur());
            await phone.page.screenshot({ path: path.join(outDir, file) });
            console.log(`screenshot: wrote ${path.join(outDir, file)}`);
        });
        for (const w of [seen, phone.seen]) {
            if (w.dialogs.length || w.pageErrors.length || w.cspViolations.length) {
                throw new Error(`the page misbehaved: ${JSON.stringify(w)}`);
            }
        }
        // tgsim's page with the login code Maria's account received, as the demo's banner links it.
        const inbox = await watchedPage(browser, { viewport: { width: 900, height: 420 } });
        await inbox.page.goto(`${s.tg.url}/messages?phone=${encodeURIComponent(maria.phone)}`);
        await inbox.page.locator('.msg').waitFor();
        await inbox.page.screenshot({ path: path.join(outDir, 'tgsim-login-code.png') });
        console.log(`screenshot: wrote ${path.join(outDir, 'tgsim-login-code.png')}`);
        await statsShot(browser);
    } finally {
        await browser.close();
        await s.cleanup();
    }
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
