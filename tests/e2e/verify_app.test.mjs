// The verification Mini App in a real browser (headless Debian chromium; issue 14, "Proof"): the
// page opened at the URL tgsim makes for the applicant (the launch data in its fragment, signed
// with the bot's token as Telegram does; Telegram's script is not loaded), in two languages, with
// Telegram's theme colours, a hostile first name shown as text, passing (approved in tgsim) and
// failing (declined); and the Rules page's challenge editor (saved as the API reads it back, its
// delivery and welcome/decline messages too, the API's 400 shown for a bad one). No dialog, page error or CSP violation anywhere.
//
// The captcha's digits are read from doorman's database (a person reads them off the picture).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { waitFor, makeTempDir } from '../lib/processes.mjs';
import { addRequester, tgJoinRequests, tgWebAppOpen } from '../lib/tgsim.mjs';
import { listAll } from '../lib/api.mjs';
import { startStack, ADMIN } from '../lib/stacks.mjs';
import { launchBrowser, watchedPage, login } from '../lib/browser.mjs';

const XSS = '<img src=x onerror=alert(1)>';
const CHALLENGE = {
    steps: ['rules', 'question', 'captcha', 'text'], time_limit_seconds: 600, on_pass: 'approve', on_fail: 'decline',
    on_timeout: 'decline', captcha_attempts: 2, correct_choice: 2,
    texts: {
        default: {
            title: 'Before you join', rules: 'Be kind. <b>No</b> spam.', accept: 'I accept the rules',
            question: 'Which is a planet?', choices: ['The Moon', 'The Sun', 'Mars'], prompt: 'Why do you want to join?',
            passed: 'Welcome aboard!', failed: 'Not this time.',
        },
        de: {
            title: 'Bevor du beitrittst', accept: 'Ich akzeptiere die Regeln', question: 'Was ist ein Planet?',
            choices: ['Der Mond', 'Die Sonne', 'Mars'], submit: 'Senden', passed: 'Willkommen!', failed: 'Diesmal nicht.',
        },
    },
};

describe('verification Mini App in chromium', () => {
    let s, dataDir, chat, browser;
    before(async () => {
        dataDir = makeTempDir('doorman-data-');
        s = await startStack({ world: { channels: 2, pending: 0 }, doormanOpts: { dataDir } });
        chat = s.world.chatIds[0];
        for (const [p, body] of [
            ['/api/rules', { chat_id: chat, name: 'everyone', conditions: [], action: 'verify' }],
            ['/api/modes', { chat_id: chat, mode: 'rules' }],
            ['/api/challenges', { chat_id: chat, challenge: CHALLENGE }],
        ]) {
            const r = await s.client.post(p, body);
            assert.equal(r.status, 200, `${p}: ${r.text}`);
        }
        browser = await launchBrowser();
    });
    after(async () => {
        await browser?.close();
        await s?.cleanup();
    });

    const captchaOf = (id) => {
        const r = spawnSync('sqlite3', [path.join(dataDir, 'doorman.db'), `SELECT captcha FROM verifications WHERE request_id = ${Number(id)}`], { encoding: 'utf8' });
        return r.stdout.trim();
    };
    async function requestOf(userId) {
        return (await listAll(s.client, { chat_id: String(chat) })).find((r) => r.user_id === userId);
    }
    // A new applicant, the page opened at the URL Telegram would open: {user, req, page, seen}.
    async function openApp(fields, theme) {
        const user = await addRequester(s.tg, chat, fields);
        let req;
        await waitFor(async () => (req = await requestOf(user.user_id))?.verification === 'sent', { timeoutMs: 10000, what: 'the verification sent' });
        const v = await s.client.ok(`/api/verifications/${req.id}`);
        const launch = await tgWebAppOpen(s.tg, s.world.botId, user.user_id, v.url, { theme_params: theme, platform: 'android' });
        assert.match(launch.url, /#tgWebAppData=.+&tgWebAppVersion=.+&tgWebAppPlatform=android&tgWebAppThemeParams=/);
        const { page, seen } = await watchedPage(browser, { viewport: { width: 390, height: 844 } });
        await page.goto(launch.url.replace(/^https?:\/\/[^/]+/, s.dm.url));
        await page.locator('#submit').waitFor();
        return { user, req, page, seen };
    }
    async function decidedInTgsim(userId) {
        let rec;
        await waitFor(async () => {
            rec = (await tgJoinRequests(s.tg, `chat_id=${chat}`)).find((r) => r.user_id === userId);
            return rec && rec.status !== 'pending';
        }, { timeoutMs: 20000, what: 'decided in tgsim' });
        return rec;
    }
    const clean = (seen) => {
        assert.deepEqual(seen.dialogs, []);
        assert.deepEqual(seen.pageErrors, []);
        assert.deepEqual(seen.cspViolations, []);
    };

    test('German, a hostile name as text, the theme\'s colours: passing approves', async () => {
        const { user, req, page, seen } = await openApp({ first_name: XSS, language_code: 'de' }, { bg_color: '#102030', text_color: '#f0f0f0', button_color: '#ff8800' });
        assert.equal(await page.locator('h1').textContent(), 'Bevor du beitrittst');
        assert.equal(await page.getAttribute('html', 'lang'), 'de');
        assert.equal(await page.locator('#hello').textContent(), XSS);
        assert.equal(await page.locator('img').count(), 1, 'only the captcha is a picture');
        assert.equal(await page.locator('.rules-text').textContent(), 'Be kind. <b>No</b> spam.', 'the default\'s text, as text');
        assert.equal(await page.locator('#submit').textContent(), 'Senden');
        assert.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(16, 32, 48)');
        assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('#submit')).backgroundColor), 'rgb(255, 136, 0)');
        const size = await page.locator('#captcha-image').evaluate((img) => [img.naturalWidth, img.naturalHeight]);
        assert.deepEqual(size, [200, 70]);
        assert.deepEqual(await page.locator('label.choice span').allTextContents(), ['Der Mond', 'Die Sonne', 'Mars']);

        await page.locator('#accepted').check();
        await page.locator('label.choice').nth(2).click();
        await page.locator('#captcha').fill(captchaOf(req.id));
        await page.locator('#answer-text').fill('Ich lese gern über Raumfahrt.');
        await page.locator('#submit').click();
        await page.locator('#result').waitFor();
        assert.equal(await page.locator('#result').textContent(), 'Willkommen!');
        assert.equal((await decidedInTgsim(user.user_id)).status, 'approved');
        await waitFor(async () => (await requestOf(user.user_id)).verification === 'passed', { timeoutMs: 10000, what: 'passed' });
        assert.equal((await requestOf(user.user_id)).verification_answer, 'Ich lese gern über Raumfahrt.');
        clean(seen);
        await page.close();
    });

    test('English by default: a wrong captcha asks again, a wrong choice fails and declines', async () => {
        const { user, req, page, seen } = await openApp({ first_name: 'Eve' });
        assert.equal(await page.locator('h1').textContent(), 'Before you join');
        assert.equal(await page.locator('#submit').textContent(), 'Send');
        const first = await page.locator('#captcha-image').getAttribute('src');
        await page.locator('#accepted').check();
        await page.locator('label.choice').nth(2).click();
        await page.locator('#captcha').fill(captchaOf(req.id) === '00000' ? '11111' : '00000');
        await page.locator('#answer-text').fill('because');
        await page.locator('#submit').click();
        await page.locator('#captcha-note').waitFor();
        assert.notEqual(await page.locator('#captcha-image').getAttribute('src'), first, 'a new picture');
        assert.equal(await page.locator('#captcha').inputValue(), '');
        assert.ok(await page.locator('#accepted').isChecked(), 'the other answers stay');
        await page.locator('label.choice').nth(0).click(); // the wrong one now
        await page.locator('#captcha').fill(captchaOf(req.id));
        await page.locator('#submit').click();
        await page.locator('#result').waitFor();
        assert.equal(await page.locator('#result').textContent(), 'Not this time.');
        assert.equal((await decidedInTgsim(user.user_id)).status, 'declined');
        clean(seen);
        await page.close();
    });

    test('without launch data, or with a forged one, the page says so', async () => {
        const user = await addRequester(s.tg, chat, { first_name: 'Mallory' });
        let req;
        await waitFor(async () => (req = await requestOf(user.user_id))?.verification === 'sent', { timeoutMs: 10000, what: 'the verification sent' });
        const { page, seen } = await watchedPage(browser, { viewport: { width: 390, height: 844 } });
        await page.goto(`${s.dm.url}/app/verify?r=${req.id}`);
        await page.locator('#status.error').waitFor();
        assert.match(await page.locator('#status').textContent(), /Open this page from the button Telegram shows you/);
        const v = await s.client.ok(`/api/verifications/${req.id}`);
        const forged = await tgWebAppOpen(s.tg, s.world.botId, user.user_id, v.url, { hash: '00'.repeat(32) });
        await page.goto(forged.url.replace(/^https?:\/\/[^/]+/, s.dm.url));
        await page.reload(); // a new fragment on the same path: read afresh
        await page.locator('#status.error').waitFor();
        assert.match(await page.locator('#status').textContent(), /not signed by this bot/);
        assert.equal((await s.client.ok(`/api/verifications/${req.id}`)).state, 'sent');
        clean(seen);
        await page.close();
    });

    test('the Rules page\'s challenge editor saves what the API reads back, and shows its 400', async () => {
        const other = s.world.chatIds[1];
        const { page, seen } = await watchedPage(browser);
        await login(page, s.dm.url, ADMIN);
        await page.goto(`${s.dm.url}/#/rules?chat_id=${other}`);
        const card = page.locator('.challenge-card');
        await card.locator('input[name=time_limit_seconds]').waitFor();
        await card.locator('input[name=step_question]').check();
        await card.locator('input[name=text_question]').fill('2 + 2?');
        await card.locator('textarea[name=text_choices]').fill('3\n4\n5');
        await card.locator('select[name=correct_choice]').selectOption('1');
        await card.locator('input[name=time_limit_seconds]').fill('120');
        await card.locator('select[name=delivery]').selectOption('buttons');
        await card.locator('textarea[name=text_welcome]').fill('<b>Hi</b> {first_name}, welcome to {channel}!');
        await card.locator('textarea[name=text_decline]').fill('Sorry, {first_name}.');
        await card.getByRole('button', { name: 'Save challenge' }).click();
        await card.locator('.form-ok').waitFor();
        const saved = (await s.client.ok('/api/challenges')).channels.find((c) => c.chat_id === other).challenge;
        assert.equal(saved.delivery, 'buttons');
        assert.equal(saved.texts.default.welcome, '<b>Hi</b> {first_name}, welcome to {channel}!');
        assert.equal(saved.texts.default.decline, 'Sorry, {first_name}.');
        assert.deepEqual(saved.steps, ['question']);
        assert.equal(saved.correct_choice, 1);
        assert.equal(saved.time_limit_seconds, 120);
        assert.deepEqual(saved.texts.default.choices, ['3', '4', '5']);
        // a language added, with too few choices: the API's message, nothing saved
        await card.locator('input[name=new_language]').fill('fr');
        await card.getByRole('button', { name: 'Add language' }).click();
        await card.locator('textarea[name=text_choices]').fill('trois');
        await card.getByRole('button', { name: 'Save challenge' }).click();
        await card.locator('.form-error').waitFor();
        assert.match(await card.locator('.form-error').textContent(), /texts\.fr\.choices: must be a list of 2 to 8 choices/);
        const after = (await s.client.ok('/api/challenges')).channels.find((c) => c.chat_id === other).challenge;
        assert.deepEqual(after, saved);
        clean(seen);
        await page.close();
    });
});
