// The Sessions page in a real browser (headless Debian chromium via playwright-core) against the real
// doorman and tgsim with MTProto data centres (issue 4, "Proof": browser test): Create New Session
// through phone → code → 2FA (with a wrong code, a wrong password and a reload in the middle), the
// code again by SMS, a number without an account, a stale login, Check Status, Load Requests (errors in the dialog, then the progress bar to 100%; a
// flood wait's countdown mid-load and Cancel job),
// Add Bot Session, an import the API refuses, Export, and Delete with its dialog.
import { describe, test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../lib/processes.mjs';
import {
    tgCreateBot, tgCreateChannel, tgAddJoinRequests, tgAccount, tgLoginCode, newPhone, tgFlood,
} from '../lib/tgsim.mjs';
import { requestsOf } from '../lib/api.mjs';
import { API_ID, API_HASH, listSessions, getSession, sessionFiles } from '../lib/sessions.mjs';
import { ADMIN, startSessionStack } from '../lib/stacks.mjs';
import { signedInPage } from '../lib/browser.mjs';

const NAME = 'marta_web';
const PASSWORD = 'a cloud password';
const PENDING = 250; // three pages of Telegram's 100
const LOGIN_KEY = 'doorman.sessionLogin';

describe('Sessions page in chromium', () => {
    let s, browser, page, seen;
    let account, phone, channel, noRight, big;

    before(async () => {
        s = await startSessionStack({ dcs: 2 });
        phone = newPhone();
        account = await tgAccount(s.tg, { phone, first_name: 'Marta', last_name: 'Kowalska', username: 'marta_k',
            password: PASSWORD });
        channel = await tgCreateChannel(s.tg, { title: 'Web Loads', username: 'web_loads', botId: account.id });
        await tgAddJoinRequests(s.tg, { chat_id: channel.id, count: PENDING, bio: 'loaded through MTProto' });
        big = await tgCreateChannel(s.tg, { title: 'Web Big', username: 'web_big', botId: account.id });
        await tgAddJoinRequests(s.tg, { chat_id: big.id, count: 3000 });
        noRight = await s.tg.control('POST', '/control/channels', { title: 'No Right', username: 'web_no_right',
            admins: [{ id: account.id, can_invite_users: false }] });
        ({ browser, page, seen } = await signedInPage(s.dm.url, ADMIN));
    });
    after(async () => {
        await browser?.close();
        await s?.cleanup();
    });

    const dialog = () => page.locator('dialog.modal[open]');
    // Each test starts on the Sessions page without a dialog a failed test may have left open.
    beforeEach(async () => {
        if (!page) return;
        while (await dialog().count()) {
            await page.keyboard.press('Escape');
            await dialog().first().waitFor({ state: 'detached', timeout: 5000 }).catch(() => {});
        }
    });
    const formError = () => dialog().locator('.form-error');
    const row = (name) => page.locator(`.sessions-table tbody tr[data-name="${name}"]`);
    const field = (name) => dialog().locator(`[name=${name}]`);
    const savedLogin = () => page.evaluate((k) => sessionStorage.getItem(k), LOGIN_KEY);
    // The text of the dialog's error once it shows.
    const errorText = async () => {
        await formError().waitFor();
        return (await formError().textContent()).trim();
    };

    test('the Sessions page is in the navigation and starts empty', async () => {
        await page.locator('.nav a[data-route="/sessions"]').click();
        await page.locator('.sessions-table').waitFor();
        await page.getByText('No sessions yet.', { exact: false }).waitFor();
        assert.equal(await page.locator('.sessions-table tbody tr').count(), 0);
    });

    test('Create New Session: wrong code, code, wrong 2FA password, reload, password', async () => {
        await page.getByRole('button', { name: 'Create New Session' }).click();
        await field('name').fill(NAME);
        await field('api_id').fill(String(API_ID));
        await field('api_hash').fill(API_HASH);
        await field('phone').fill(phone);
        await dialog().getByRole('button', { name: 'Send Phone' }).click();
        await field('code').waitFor();
        assert.match(await dialog().textContent(), new RegExp(`sent a login code to \\${phone}`));
        const loginId = await savedLogin();
        assert.ok(loginId, 'the login id is kept in sessionStorage');

        const { code } = await tgLoginCode(s.tg, phone);
        const wrong = String((Number(code) + 1) % 100000).padStart(code.length, '0');
        await field('code').fill(wrong);
        await dialog().getByRole('button', { name: 'Submit Code' }).click();
        assert.equal(await errorText(), 'Invalid verification code');

        await field('code').fill(code);
        await dialog().getByRole('button', { name: 'Submit Code' }).click();
        await field('password').waitFor();
        assert.equal(await formError().isVisible(), false, 'the old error is gone');
        assert.equal(await dialog().locator('h2').textContent(), 'Two-step verification');

        await field('password').fill('not the password');
        await dialog().getByRole('button', { name: 'Submit Password' }).click();
        assert.equal(await errorText(), 'Invalid 2FA password');

        // A reload keeps the half-finished login: the wizard opens again at the password step.
        await page.reload();
        await field('password').waitFor();
        assert.equal(await savedLogin(), loginId);
        await field('password').fill(PASSWORD);
        await dialog().getByRole('button', { name: 'Submit Password' }).click();
        await dialog().locator('.form-ok').waitFor();
        assert.equal((await dialog().locator('.form-ok').textContent()).trim(), 'Session created successfully!');
        assert.match(await dialog().textContent(), /Marta Kowalska/);
        await dialog().getByRole('button', { name: 'Done' }).click();
        await dialog().waitFor({ state: 'detached' });
        assert.equal(await savedLogin(), null, 'the finished login is forgotten');

        await row(NAME).waitFor();
        const text = await row(NAME).textContent();
        assert.match(text, /Marta Kowalska/);
        assert.match(text, /@marta_k/);
        assert.equal(await row(NAME).locator('.badge').first().textContent(), 'user');
        const api = await getSession(s.client, NAME);
        assert.equal(api.type, 'user');
        assert.equal(api.account.id, account.id);
        assert.ok(sessionFiles(s.dataDir).includes(`${NAME}.session`), 'the session file exists');
    });

    test('Create New Session: "Send the code by SMS", then a number without an account ends with what to do', async () => {
        const smsPhone = newPhone();
        const smsAccount = await tgAccount(s.tg, { phone: smsPhone, first_name: 'Sam', last_name: 'Sms' });
        const start = async (name, p) => {
            await page.getByRole('button', { name: 'Create New Session' }).click();
            await field('name').fill(name);
            await field('api_id').fill(String(API_ID));
            await field('api_hash').fill(API_HASH);
            await field('phone').fill(p);
            await dialog().getByRole('button', { name: 'Send Phone' }).click();
            await field('code').waitFor();
        };
        await start('sms_web', smsPhone);
        assert.match(await dialog().textContent(), /It arrives in the Telegram app, as a message from “Telegram”\./);
        await dialog().getByRole('button', { name: 'Send the code by SMS' }).click();
        await dialog().locator('.form-ok').waitFor();
        assert.equal((await dialog().locator('.form-ok').textContent()).trim(), 'Telegram sent the code again by SMS.');
        assert.match(await dialog().textContent(), /It arrives by SMS/);
        assert.equal(await dialog().getByRole('button', { name: 'Send the code by SMS' }).count(), 0,
            'nothing left to send it by');
        const { code, via } = await tgLoginCode(s.tg, smsPhone);
        assert.equal(via, 'sms');
        await field('code').fill(code);
        await dialog().getByRole('button', { name: 'Submit Code' }).click();
        await dialog().locator('.form-ok').waitFor();
        assert.match(await dialog().textContent(), /Sam Sms/);
        await dialog().getByRole('button', { name: 'Done' }).click();
        await dialog().waitFor({ state: 'detached' });
        assert.equal((await getSession(s.client, 'sms_web'))?.account?.id, smsAccount.id);

        const nobody = newPhone();
        await start('nobody_web', nobody);
        assert.match(await dialog().textContent(), /It arrives by SMS/);
        await field('code').fill((await tgLoginCode(s.tg, nobody)).code);
        await dialog().getByRole('button', { name: 'Submit Code' }).click();
        assert.match(await errorText(), /^No Telegram account has this phone number\. doorman does not create accounts/);
        assert.ok(await field('name').isVisible(), 'the wizard is back at its first step');
        assert.equal(await savedLogin(), null, 'the ended login is forgotten');
        assert.equal(await getSession(s.client, 'nobody_web'), null);
    });

    test('a login that doorman no longer knows: "Session not found. Please start over."', async () => {
        await page.evaluate((k) => sessionStorage.setItem(k, 'no-such-login-id'), LOGIN_KEY);
        await page.reload();
        await dialog().waitFor();
        assert.equal(await errorText(), 'Session not found. Please start over.');
        assert.ok(await field('name').isVisible(), 'the wizard is back at its first step');
        assert.equal(await savedLogin(), null);
        // A taken name is refused with the API's message, shown in the dialog.
        await field('name').fill(NAME);
        await field('api_id').fill(String(API_ID));
        await field('api_hash').fill(API_HASH);
        await field('phone').fill(newPhone());
        await dialog().getByRole('button', { name: 'Send Phone' }).click();
        const r = await s.client.post('/api/sessions/login', { name: NAME, api_id: API_ID, api_hash: API_HASH, phone: newPhone() });
        assert.equal(r.status, 409);
        assert.equal(await errorText(), r.json.error.message);
        await dialog().getByRole('button', { name: 'Cancel' }).click();
        await dialog().waitFor({ state: 'detached' });
    });

    test('Check Status reads the account and records the time of the check', async () => {
        const t0 = Math.floor(Date.now() / 1000);
        const [resp] = await Promise.all([
            page.waitForResponse((r) => r.url().endsWith(`/api/sessions/${NAME}/check`)),
            row(NAME).getByRole('button', { name: 'Check Status' }).click(),
        ]);
        assert.equal(resp.status(), 200);
        const checked = (await resp.json()).session;
        assert.equal(checked.status, 'active');
        assert.ok(checked.last_check_at >= t0, 'the check time is now');
        assert.equal(checked.account.username, 'marta_k');
        await waitFor(async () => (await row(NAME).getAttribute('data-status')) === 'active' &&
            !/never/.test(await row(NAME).locator('td.date').textContent()), { what: 'the row showing the check' });
        assert.equal(await row(NAME).locator('.session-status .badge').textContent(), 'active');
    });

    test('Load Requests: a refusal in the dialog, then the progress bar to 100%', async () => {
        await row(NAME).getByRole('button', { name: 'Load Requests' }).click();
        assert.equal(await field('limit').inputValue(), '1000', 'the limit defaults to 1000');
        await field('channel').fill('@' + noRight.username);
        await dialog().getByRole('button', { name: 'Load Requests' }).click();
        assert.equal(await errorText(), "You don't have permission to view join requests");

        // Telegram's FLOOD_WAIT_3 on the first call: the guide's message, in the dialog.
        await tgFlood(s.tg, account.id, { wait: 3, count: 1 });
        await field('channel').fill(`https://t.me/${channel.username}`);
        await dialog().getByRole('button', { name: 'Load Requests' }).click();
        assert.equal(await errorText(), 'Flood wait: please wait 3 seconds');
        // Asking again once the wait is over starts the job (doorman may hold callers back until then).
        await waitFor(async () => {
            const [resp] = await Promise.all([
                page.waitForResponse((r) => r.url().endsWith(`/api/sessions/${NAME}/load`)),
                dialog().getByRole('button', { name: 'Load Requests' }).click(),
            ]);
            return resp.status() === 202;
        }, { timeoutMs: 15000, intervalMs: 500, what: 'the load to be accepted after the flood wait' });
        await dialog().waitFor({ state: 'detached' });
        const bar = page.locator('.job-panel progress');
        await bar.waitFor();
        assert.ok(await bar.isVisible(), 'the progress bar is visible');
        await page.locator('.job-panel .job[data-state=done]').waitFor({ timeout: 60000 });
        assert.equal(await page.locator('.job').getAttribute('data-percent'), '100');
        const [value, max] = await bar.evaluate((e) => [e.value, e.max]);
        assert.equal(max, PENDING);
        assert.equal(value, max, 'the bar is full');
        assert.equal((await page.locator('.job-pct').textContent()).trim(), `${PENDING} of ${PENDING} · 100%`);
        assert.match(await page.locator('.job-counts').textContent(), new RegExp(`${PENDING} loaded`));
        assert.equal(await page.locator('.job-wait').isVisible(), false);

        const got = await requestsOf(s.client, channel.id);
        assert.equal(got.length, PENDING);
        assert.ok(got.every((r) => r.status === 'pending'));

        await page.getByRole('link', { name: /Invite Requests page/ }).click();
        await page.locator('.requests-table').waitFor();
        await waitFor(async () => Number((await page.locator('.tab[data-status=pending] .tab-count').textContent())
            .replace(/\D/g, '')) === PENDING, { what: `${PENDING} pending on the Invite Requests page` });
        await page.locator('.nav a[data-route="/sessions"]').click();
        await row(NAME).waitFor();
        assert.equal(await page.locator('.job-panel .job[data-state=done]').isVisible(), true,
            'the finished load is still shown on the way back');
    });

    test('a FLOOD_WAIT in the middle of a load shows a countdown; Cancel job stops it', async () => {
        // 12 calls a minute: the channel check and ten pages, then FLOOD_WAIT for the rest of the minute.
        await tgFlood(s.tg, account.id, { flood_limit: 12 });
        await row(NAME).getByRole('button', { name: 'Load Requests' }).click();
        await field('channel').fill('@' + big.username);
        await dialog().getByLabel('Load all pending requests').check();
        assert.equal(await field('limit').isDisabled(), true);
        await dialog().getByRole('button', { name: 'Load Requests' }).click();
        await waitFor(async () => {
            if (await formError().isVisible()) throw new Error(`the dialog says: ${await formError().textContent()}`);
            return (await dialog().count()) === 0;
        }, { what: 'the load dialog to close' });
        const wait = page.locator('.job-panel .job-wait');
        await wait.waitFor({ timeout: 30000 });
        const first = await wait.textContent();
        assert.match(first, /^Waiting for Telegram's rate limit: resuming in (\d+ min \d\d s|\d+ s)$/);
        await waitFor(async () => (await wait.textContent()) !== first, { timeoutMs: 5000, what: 'the countdown to tick' });
        const pct = Number(await page.locator('.job').getAttribute('data-percent'));
        assert.ok(pct > 0 && pct < 100, `stopped in the middle: ${pct}%`);

        await page.locator('.job-panel').getByRole('button', { name: 'Cancel job' }).click();
        await page.locator('.job-panel .job[data-state=cancelled]').waitFor({ timeout: 10000 });
        assert.equal(await wait.isVisible(), false, 'no countdown once cancelled');
        await tgFlood(s.tg, account.id, { flood_limit: 0 });
    });

    test('Add Bot Session: a bad token shows the API message; a good one adds a bot row', async () => {
        const bot = await tgCreateBot(s.tg, { username: 'web_session_bot', first_name: 'Web Bot' });
        await page.getByRole('button', { name: 'Add Bot Session' }).click();
        await field('name').fill('web_bot');
        await field('api_id').fill(String(API_ID));
        await field('api_hash').fill(API_HASH);
        await field('bot_token').fill(bot.token.replace(/:.*/, ':AAwrongwrongwrongwrongwrongwrongwro'));
        await dialog().getByRole('button', { name: 'Add Bot Session' }).click();
        const msg = await errorText();
        assert.ok(msg.length > 0 && !msg.includes(bot.token), `a clear error without the token: ${msg}`);
        await field('bot_token').fill(bot.token);
        await dialog().getByRole('button', { name: 'Add Bot Session' }).click();
        await dialog().waitFor({ state: 'detached' });
        await row('web_bot').waitFor();
        assert.equal(await row('web_bot').locator('.badge').first().textContent(), 'bot');
        assert.match(await row('web_bot').textContent(), /@web_session_bot/);
    });

    test('Import Session: a file that is not a session is refused in the dialog and nothing is added', async () => {
        const names = (await listSessions(s.client)).map((x) => x.name).sort();
        await page.getByRole('button', { name: 'Import Session' }).click();
        await field('name').fill('imported');
        await field('api_id').fill(String(API_ID));
        await field('api_hash').fill(API_HASH);
        await field('phone').fill(newPhone());
        await field('file').setInputFiles({ name: 'notes.session', mimeType: 'application/octet-stream',
            buffer: Buffer.from('this is not an SQLite database\n'.repeat(10)) });
        await dialog().getByRole('button', { name: 'Import' }).click();
        const msg = await errorText();
        const r = await s.client.post('/api/sessions/import', { name: 'imported', api_id: API_ID, api_hash: API_HASH,
            phone: newPhone(), file: Buffer.from('this is not an SQLite database\n'.repeat(10)).toString('base64') });
        assert.equal(r.status, 400);
        assert.equal(msg, r.json.error.message);
        await dialog().getByRole('button', { name: 'Cancel' }).click();
        assert.deepEqual((await listSessions(s.client)).map((x) => x.name).sort(), names);
        assert.ok(!sessionFiles(s.dataDir).some((f) => f.startsWith('imported')), 'no file left behind');
    });

    test('Export downloads the session as a Pyrogram (SQLite) file', async () => {
        const [download] = await Promise.all([
            page.waitForEvent('download'),
            row(NAME).getByRole('button', { name: 'Export' }).click(),
        ]);
        assert.equal(download.suggestedFilename(), `${NAME}.session`);
        const chunks = [];
        for await (const c of await download.createReadStream()) chunks.push(c);
        const bytes = Buffer.concat(chunks);
        assert.equal(bytes.subarray(0, 16).toString('latin1'), 'SQLite format 3\0');
    });

    test('Delete: the dialog with "Also log out on Telegram"; the row and the file are gone', async () => {
        await row(NAME).getByRole('button', { name: 'Delete' }).click();
        await dialog().waitFor();
        assert.match(await dialog().locator('h2').textContent(), new RegExp(`Delete session “${NAME}”\\?`));
        // Cancel first: nothing happens.
        await dialog().getByRole('button', { name: 'Cancel' }).click();
        await dialog().waitFor({ state: 'detached' });
        assert.ok(await getSession(s.client, NAME), 'still there after Cancel');

        await row(NAME).getByRole('button', { name: 'Delete' }).click();
        await dialog().getByLabel('Also log out on Telegram').check();
        await dialog().getByRole('button', { name: 'Delete' }).click();
        await row(NAME).waitFor({ state: 'detached' });
        assert.match(await page.locator('#banner').textContent(), /deleted and logged out on Telegram/);
        assert.equal(await getSession(s.client, NAME), null);
        assert.ok(!sessionFiles(s.dataDir).includes(`${NAME}.session`), 'the file is removed');
        assert.ok(await row('web_bot').isVisible(), 'the other session stays');
    });

    test('no dialog, page error or CSP violation happened', () => {
        assert.deepEqual(seen.dialogs, []);
        assert.deepEqual(seen.pageErrors, []);
        assert.deepEqual(seen.cspViolations, []);
    });
});
