// The admin panel in a real browser (headless Debian chromium via playwright-core) against the real
// doorman and tgsim: setup link, login, filters, select + Approve/Deny Selected, Approve All with the
// progress bar and a rate-limit wait, per-request errors, the other pages, logout, and hostile names
// from Telegram rendered as text (issue 2, "Proof": browser tests).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../lib/processes.mjs';
import { addRequester, tgRequestMap, tgInjectFault } from '../lib/tgsim.mjs';
import { startDoorman, setupTokenFrom } from '../lib/doorman.mjs';
import { waitRecorded, counts } from '../lib/api.mjs';
import { startStack, ADMIN } from '../lib/stacks.mjs';
import { launchBrowser, watchedPage, login } from '../lib/browser.mjs';

const XSS = '<img src=x onerror=alert(1)>';
const XSS_LAST = '"><script>alert(2)</script>';
const XSS_BIO = '<b>bold</b> <svg onload=alert(3)> & <a href="javascript:alert(4)">link</a>';

const CHANNEL1 = ['Sofia Martínez', "Liam O'Brien", 'Yuki Tanaka', 'Amara Okafor', 'Mateo Rossi',
    'Priya Raman', 'Jonas Weber', 'Chloé Dubois', 'Omar Haddad', 'Ingrid Larsen', 'Ali Kaya', 'Mei Chen'];
const CHANNEL2 = ['Noah Fischer', 'Emma Novak', 'Lucas Silva', 'Aisha Bello', 'Ivan Petrov', 'Zara Ahmed'];

describe('admin panel in chromium', () => {
    let s, browser, context, page, seen;
    let c1, c2;
    const people = new Map(); // first name -> {user_id, chat_id, ...}
    const TOTAL = CHANNEL1.length + CHANNEL2.length + 1;

    before(async () => {
        s = await startStack({ tgsimOpts: { latencyMs: 20 }, world: { channels: 2, pending: 0 } });
        [c1, c2] = s.world.chatIds;
        const add = async (chat, full, extra = {}) => {
            const [first, ...rest] = full.split(' ');
            const p = await addRequester(s.tg, chat, {
                first_name: first, last_name: rest.join(' '),
                username: first.toLowerCase().normalize('NFD').replace(/[^a-z]/g, '') + '_' + people.size,
                bio: `Hi, I am ${first}.`, invite_link: 'https://t.me/+Jq3kVx9pLm4yZjA0', ...extra,
            });
            people.set(extra.first_name || first, p);
        };
        await add(c1, 'x', { first_name: XSS, last_name: XSS_LAST, username: 'xss_probe', bio: XSS_BIO,
            invite_link: 'javascript:alert(5)' });
        for (const n of CHANNEL1) await add(c1, n);
        for (const n of CHANNEL2) await add(c2, n);
        await waitRecorded(s.client, TOTAL);
        browser = await launchBrowser();
        ({ context, page, seen } = await watchedPage(browser));
    });
    after(async () => {
        await browser?.close();
        await s?.cleanup();
    });

    const rows = () => page.locator('.requests-table tbody tr');
    const row = (text) => rows().filter({ hasText: text });
    // What the table shows now: [{name, chat, status}].
    const table = () => page.$$eval('.requests-table tbody tr', (trs) => trs.map((tr) => ({
        name: tr.querySelector('.user-name').textContent,
        chat: tr.querySelector('.chat').textContent,
        status: tr.dataset.status,
    })));
    const waitTable = (pred, what) => waitFor(async () => {
        const t = await table();
        return pred(t) ? t : null;
    }, { timeoutMs: 10000, what });
    const tabCount = async (status) => Number((await page.locator(`.tab[data-status=${status}] .tab-count`).textContent()).replace(/\D/g, ''));
    const jobDone = () => page.locator('.job[data-state=done], .job[data-state=failed]').waitFor({ timeout: 30000 });

    test('login: a wrong password shows the API message; the right one opens Invite Requests', async () => {
        await page.goto(s.dm.url + '/');
        await page.locator('input[name=name]').fill(ADMIN.name);
        await page.locator('input[name=password]').fill('not the password');
        await page.getByRole('button', { name: 'Sign in' }).click();
        const err = page.locator('.form-error');
        await err.waitFor();
        const apiAnswer = await fetch(s.dm.url + '/api/login', {
            method: 'POST', headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ name: ADMIN.name, password: 'not the password either' }),
        }).then((r) => r.json());
        assert.equal((await err.textContent()).trim(), apiAnswer.error.message);

        await login(page, s.dm.url, ADMIN);
        assert.equal(await page.locator('#admin-name').textContent(), ADMIN.name);
        await waitTable((t) => t.length === TOTAL, `${TOTAL} pending rows`);
        assert.equal(await tabCount('pending'), TOTAL);
        assert.equal(await tabCount('all'), TOTAL);
        assert.equal(await tabCount('approved'), 0);
    });

    test('a join request named <img src=x onerror=alert(1)> is shown as literal text', async () => {
        await row('xss_probe').waitFor({ timeout: 5000 });
        assert.equal(await page.locator('.requests-table img, .requests-table script, .requests-table svg, ' +
            '.requests-table b, .requests-table a').count(), 0, 'no element was made from Telegram data');
        const name = page.getByText(`${XSS} ${XSS_LAST}`, { exact: true });
        await name.waitFor({ timeout: 5000 });
        assert.ok(await name.isVisible(), 'the hostile name is visible as text');
        assert.ok(await page.getByText(XSS_BIO, { exact: true }).isVisible(), 'the hostile bio is visible as text');
        assert.ok(await page.getByText('javascript:alert(5)', { exact: true }).isVisible(), 'the invite link is text');
        assert.equal(await page.locator('img').count(), 0, 'no img element anywhere in the page');
        assert.deepEqual(seen.dialogs, [], 'no dialog fired');
    });

    test('filters: status tabs, channel, search, dates, select all visible', async () => {
        await page.locator('select[name=chat_id]').selectOption({ label: 'Channel 2' });
        let t = await waitTable((x) => x.length === CHANNEL2.length && x.every((r) => r.chat === 'Channel 2'),
            'only Channel 2 rows');
        assert.deepEqual(t.map((r) => r.name).sort(), [...CHANNEL2].sort());
        assert.match(page.url(), new RegExp(`chat_id=${encodeURIComponent(c2)}`), 'the filter is kept in the URL');

        await page.locator('input[type=search]').fill('aisha');
        t = await waitTable((x) => x.length === 1, 'one search hit');
        assert.equal(t[0].name, 'Aisha Bello');
        await page.locator('select[name=chat_id]').selectOption({ label: 'All channels' });
        await page.locator('input[type=search]').fill(String(people.get('Mei').user_id));
        t = await waitTable((x) => x.length === 1 && x[0].name === 'Mei Chen', 'the user id hit');
        await page.locator('input[type=search]').fill('OKAFOR');
        await waitTable((x) => x.length === 1 && x[0].name === 'Amara Okafor', 'a case-insensitive name hit');
        await page.locator('input[type=search]').fill('');
        await waitTable((x) => x.length === TOTAL, 'all rows again');

        const tomorrow = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
        await page.locator('input[name=from]').fill(tomorrow);
        await waitTable((x) => x.length === 0, 'no rows from tomorrow on');
        assert.equal(await page.getByText('No requests match the filter.').isVisible(), true);
        assert.equal(await page.getByRole('button', { name: 'Approve All' }).isDisabled(), true);
        await page.getByRole('button', { name: 'Clear filters' }).click();
        await waitTable((x) => x.length === TOTAL, 'all rows after clearing');

        await page.locator('.tab[data-status=approved]').click();
        await waitTable((x) => x.length === 0, 'no approved rows yet');
        await page.locator('.tab[data-status=pending]').click();
        await waitTable((x) => x.length === TOTAL, 'pending rows');

        const all = page.locator('.requests-table thead input[type=checkbox]');
        await all.check();
        assert.equal(await page.locator('.sel-info').textContent(), `${TOTAL} selected`);
        assert.equal(await page.locator('.requests-table tbody input[type=checkbox]:checked').count(), TOTAL);
        await all.uncheck();
        assert.equal(await page.locator('.requests-table tbody input[type=checkbox]:checked').count(), 0);
        assert.equal(await page.getByRole('button', { name: 'Approve Selected' }).isDisabled(), true);
    });

    // The decision modal (issue 5): the bot is preselected; confirm with its button.
    async function confirmDecision(label) {
        const dlg = page.locator('dialog.modal[open]');
        await dlg.getByRole('button', { name: label, exact: true }).click();
        await dlg.waitFor({ state: 'detached' });
    }

    async function decideSelected(names, button) {
        for (const n of names) await row(n).locator('input[type=checkbox]').check();
        assert.equal(await page.locator('.sel-info').textContent(), `${names.length} selected`);
        await page.getByRole('button', { name: button }).click();
        await confirmDecision(`${button.split(' ')[0]} ${names.length}`);
        await page.locator('.job-panel progress').waitFor();
        await jobDone();
        await waitTable((x) => names.every((n) => !x.some((r) => r.name === n)), `${names.join(', ')} gone from Pending`);
    }

    test('select two rows and Approve Selected', async () => {
        await decideSelected(['Sofia Martínez', "Liam O'Brien"], 'Approve Selected');
        assert.equal(await page.locator('.job').getAttribute('data-percent'), '100');
        assert.match(await page.locator('.job-counts').textContent(), /2 approved/);
        await page.locator('.tab[data-status=approved]').click();
        const t = await waitTable((x) => x.length === 2, 'two approved rows');
        assert.ok(t.every((r) => r.status === 'approved'));
        assert.equal(await row('Sofia').locator('.badge').textContent(), 'approved');
        assert.match(await row('Sofia').locator('.decided').textContent(), new RegExp(`${ADMIN.name}\\s*via bot`));
        const tg = await tgRequestMap(s.tg);
        for (const n of ['Sofia', 'Liam']) {
            const r = tg.get(`${c1}/${people.get(n).user_id}`);
            assert.equal(r.status, 'approved', `tgsim has ${n} approved`);
            assert.equal(r.decisions, 1);
        }
        await page.locator('.tab[data-status=pending]').click();
        await waitTable((x) => x.length === TOTAL - 2, 'pending rows');
    });

    test('Deny Selected', async () => {
        await decideSelected(['Noah Fischer', 'Emma Novak'], 'Deny Selected');
        assert.match(await page.locator('.job-counts').textContent(), /2 declined/);
        const tg = await tgRequestMap(s.tg);
        for (const n of ['Noah', 'Emma']) assert.equal(tg.get(`${c2}/${people.get(n).user_id}`).status, 'declined');
        assert.equal(await tabCount('declined'), 2);
    });

    test("a decision Telegram refuses is listed with Telegram's error", async () => {
        await tgInjectFault(s.tg, { method: 'declineChatJoinRequest', count: 1, error_code: 400,
            description: 'Bad Request: USER_CHANNELS_TOO_MUCH' });
        await row('Lucas Silva').locator('input[type=checkbox]').check();
        await page.getByRole('button', { name: 'Deny Selected' }).click();
        await confirmDecision('Deny 1');
        await jobDone();
        const errs = page.locator('.job-errors');
        await errs.waitFor();
        assert.match(await errs.textContent(), /USER_CHANNELS_TOO_MUCH/);
        assert.match(await page.locator('.job-counts').textContent(), /1 failed/);
        assert.equal(await page.locator('.job').getAttribute('data-percent'), '100');
        assert.equal((await tgRequestMap(s.tg)).get(`${c2}/${people.get('Lucas').user_id}`).status, 'pending');
    });

    test('Approve All in one channel: confirmation, progress bar, rate-limit wait, 100%', async () => {
        await page.locator('select[name=chat_id]').selectOption({ label: 'Channel 1' });
        await waitTable((x) => x.length > 0 && x.every((r) => r.chat === 'Channel 1'), 'Channel 1 rows');
        const n = (await counts(s.client, { chat_id: c1 })).pending;
        assert.equal(n, CHANNEL1.length + 1 - 2);
        await tgInjectFault(s.tg, { method: 'approveChatJoinRequest', count: 1, error_code: 429,
            description: 'Too Many Requests: retry after 2', retry_after: 2 });

        await page.getByRole('button', { name: 'Approve All' }).click();
        const dlg = page.locator('dialog.modal[open]');
        await dlg.waitFor();
        assert.match(await dlg.textContent(), new RegExp(`Approve ${n} pending requests\\?`));
        assert.match(await dlg.textContent(), /channel “Channel 1”/);
        await dlg.getByRole('button', { name: `Approve ${n}` }).click();

        const bar = page.locator('.job-panel progress');
        await bar.waitFor();
        assert.ok(await bar.isVisible(), 'the progress bar is visible');
        // the wait shows from the runner's next look at its accounts until wait_until, which can be
        // one poll of the panel (500 ms): watched at every frame, not at Playwright's widening steps
        const wait = page.locator('.job-panel .job-wait');
        const shown = await page.waitForFunction(() => {
            const e = document.querySelector('.job-panel .job-wait');
            return e && !e.hidden && e.textContent;
        }, null, { polling: 'raf', timeout: 10000 });
        assert.match(await shown.jsonValue(), /Waiting for Telegram's rate limit: resuming in \d+ s/);
        await page.locator('.job[data-state=done]').waitFor({ timeout: 30000 });
        assert.equal(await page.locator('.job').getAttribute('data-percent'), '100');
        const [value, max] = await bar.evaluate((e) => [e.value, e.max]);
        assert.equal(value, max, 'the bar is full');
        assert.equal(max, n);
        assert.equal((await page.locator('.job-pct').textContent()).trim(), `${n} of ${n} · 100%`);
        assert.equal(await wait.isVisible(), false, 'no wait shown once finished');

        await waitTable((x) => x.length === 0, 'no pending rows left in Channel 1');
        assert.equal(await page.getByRole('button', { name: 'Approve All' }).isDisabled(), true);
        const tg = await tgRequestMap(s.tg);
        for (const [name, p] of people) {
            const r = tg.get(`${p.chat_id}/${p.user_id}`);
            if (p.chat_id === c1) {
                assert.equal(r.status, 'approved', `${name} approved`);
                assert.equal(r.decisions, 1, `${name} decided once`);
            }
        }
        for (const n2 of ['Lucas', 'Aisha', 'Ivan', 'Zara']) {
            assert.equal(tg.get(`${c2}/${people.get(n2).user_id}`).status, 'pending', `${n2} in Channel 2 untouched`);
        }
        await page.locator('select[name=chat_id]').selectOption({ label: 'All channels' });
        await waitTable((x) => x.length === 4, 'four pending left');
    });

    test('Jobs, Audit Log and Settings pages', async () => {
        await page.locator('.nav a[data-route="/jobs"]').click();
        await page.locator('.page-jobs tbody tr').first().waitFor();
        assert.equal(await page.locator('.page-jobs tbody tr').count(), 4);
        assert.ok((await page.locator('.page-jobs tbody tr .badge').allTextContents()).every((x) => x === 'done' || x === 'failed'));

        await page.locator('.nav a[data-route="/audit"]').click();
        await page.locator('.page-audit tbody tr').first().waitFor();
        const actions = await page.locator('.page-audit tbody .action').allTextContents();
        assert.ok(actions.includes('approve') && actions.includes('decline') && actions.includes('login'), actions.join());

        await page.locator('.nav a[data-route="/settings"]').click();
        const status = page.locator('.status-list');
        await waitFor(async () => /@/.test(await status.textContent()), { what: 'the bot status' });
        assert.match(await status.textContent(), new RegExp('@' + s.world.bot.username));
        const token = page.locator('input[name=bot_token]');
        assert.equal(await token.inputValue(), '', 'the token is never prefilled');
        assert.match(await token.getAttribute('placeholder'), new RegExp('@' + s.world.bot.username));
        await waitFor(async () => (await status.getAttribute('data-receiving')) === 'true', { what: 'receiving: yes' });

        await token.fill('123:not-a-real-token');
        await page.getByRole('button', { name: 'Save settings' }).click();
        const err = page.locator('.settings-form .form-error');
        await err.waitFor();
        assert.match(await err.textContent(), /Telegram rejected the bot token/);
    });

    test('an ended session leads back to the login form, and then to the same page', async () => {
        await page.locator('.nav a[data-route="/jobs"]').click();
        await page.locator('.page-jobs tbody tr').first().waitFor();
        await context.clearCookies();
        await page.getByRole('button', { name: 'Refresh' }).click();
        await page.locator('input[name=password]').waitFor();
        assert.match(await page.locator('#banner').textContent(), /Your session has ended/);
        await page.locator('input[name=name]').fill(ADMIN.name);
        await page.locator('input[name=password]').fill(ADMIN.password);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.locator('.page-jobs tbody tr').first().waitFor();
    });

    test('logout ends the session', async () => {
        await page.getByRole('button', { name: 'Log out' }).click();
        await page.locator('input[name=password]').waitFor();
        assert.equal(await page.locator('#topbar').isVisible(), false);
        const me = await page.evaluate(() => fetch('/api/me').then((r) => r.status));
        assert.equal(me, 401);
        await page.goto(s.dm.url + '/#/jobs');
        await page.locator('input[name=password]').waitFor();
    });

    test('no dialog, page error or CSP violation happened', () => {
        assert.deepEqual(seen.dialogs, []);
        assert.deepEqual(seen.pageErrors, []);
        assert.deepEqual(seen.cspViolations, []);
    });
});

describe('first start in chromium', () => {
    let dm, browser;
    after(async () => {
        await browser?.close();
        await dm?.stop();
    });

    test('the setup link asks for the admin password twice, then signs in', async () => {
        dm = await startDoorman({});
        const token = await waitFor(() => setupTokenFrom(dm.output), { what: 'the setup link on the console' });
        browser = await launchBrowser();
        const { page, seen } = await watchedPage(browser);
        await page.goto(`${dm.url}/setup#token=${token}`);
        await page.locator('input[name=name]').fill('owner');
        await page.locator('input[name=password]').fill('a long enough password');
        await page.locator('input[name=password2]').fill('a different password!');
        await page.getByRole('button', { name: 'Create admin and sign in' }).click();
        assert.equal(await page.locator('.form-error').textContent(), 'The two passwords differ.');
        await page.locator('input[name=password2]').fill('a long enough password');
        await page.getByRole('button', { name: 'Create admin and sign in' }).click();
        await page.locator('.requests-table').waitFor();
        assert.equal(await page.locator('#admin-name').textContent(), 'owner');
        assert.equal(new URL(page.url()).pathname, '/', 'the token left the address bar');
        assert.ok(!page.url().includes(token));
        await page.getByText('No pending requests.', { exact: false }).waitFor();

        // The link is used up: opening it again leads to the login form.
        const again = await watchedPage(browser);
        await again.page.goto(`${dm.url}/setup#token=${token}`);
        await again.page.getByText('doorman is already set up').waitFor();
        await again.page.locator('input[name=password]').waitFor();

        // Repeated wrong passwords: the form shows the API's throttling message.
        const err = again.page.locator('.form-error');
        await waitFor(async () => {
            await again.page.locator('input[name=name]').fill('owner');
            await again.page.locator('input[name=password]').fill('wrong password');
            await again.page.getByRole('button', { name: 'Sign in' }).click();
            await again.page.locator('button[type=submit]:not([disabled])').waitFor();
            return /Too many failed logins/.test(await err.textContent());
        }, { timeoutMs: 20000, intervalMs: 10, what: 'the throttling message' });
        assert.match(await err.textContent(), /Try again in \d+ minutes?\.$/);
        for (const w of [seen, again.seen]) {
            assert.deepEqual(w.dialogs, []);
            assert.deepEqual(w.pageErrors, []);
            assert.deepEqual(w.cspViolations, []);
        }
    });
});
