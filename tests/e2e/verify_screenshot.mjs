// verify_screenshot.mjs: the screenshots of docs/verification.md, from the real doorman and tgsim:
// docs/screenshots/verify-app.png (the Mini App as an applicant sees it on a phone, opened at the
// URL tgsim makes, in Telegram's light theme, the rules accepted and a choice made),
// verify-app-done.png (after passing) and verify-challenge.png (the Rules page's challenge
// editor). Run from tests/: `node e2e/verify_screenshot.mjs [OUT_DIR]` (TGSIM_BIN / DOORMAN_BIN as
// for the tests). Not part of the test run: node --test picks only *.test.mjs files.
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor, makeTempDir } from '../lib/processes.mjs';
import { addRequester, tgWebAppOpen } from '../lib/tgsim.mjs';
import { listAll } from '../lib/api.mjs';
import { startStack, ADMIN } from '../lib/stacks.mjs';
import { launchBrowser, watchedPage, login } from '../lib/browser.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.resolve(process.argv[2] || path.join(here, '..', '..', 'docs', 'screenshots'));

const CHALLENGE = {
    steps: ['rules', 'question', 'captcha', 'text'], time_limit_seconds: 900, on_pass: 'queue', on_fail: 'decline',
    ban_after: 3, on_timeout: 'decline', captcha_attempts: 3, correct_choice: 1,
    texts: {
        default: {
            title: 'Welcome to Lisbon Expats', rules: 'Be kind and helpful.\nNo ads, no crypto, no referral links.\nHousing offers go in the pinned thread.',
            accept: 'I have read the rules and accept them', question: 'Which city is this group about?',
            choices: ['Porto', 'Lisbon', 'Madrid'], prompt: 'Tell us in a sentence why you want to join.',
            message: 'Hi! Lisbon Expats checks every request: please answer three short questions.', open: 'Start the check',
        },
        pt: {
            title: 'Bem-vindo ao Lisbon Expats', rules: 'Seja gentil e prestável.\nSem anúncios, cripto ou links de referência.\nOfertas de casa vão no tópico fixado.',
            accept: 'Li as regras e aceito-as', question: 'Sobre que cidade é este grupo?', choices: ['Porto', 'Lisboa', 'Madrid'],
            captcha: 'Escreva os algarismos da imagem', prompt: 'Diga-nos numa frase porque quer entrar.', submit: 'Enviar',
            passed: 'Obrigado! Os administradores vão ver o seu pedido em breve.',
        },
    },
};
// Telegram's light theme, as its apps send tgWebAppThemeParams
const THEME = { bg_color: '#ffffff', text_color: '#000000', hint_color: '#999999', link_color: '#2481cc',
    button_color: '#2481cc', button_text_color: '#ffffff', secondary_bg_color: '#efeff3' };

async function main() {
    mkdirSync(outDir, { recursive: true });
    const dataDir = makeTempDir('doorman-data-');
    const s = await startStack({ world: { channels: 1, pending: 0 }, doormanOpts: { dataDir } });
    const browser = await launchBrowser();
    try {
        const chat = s.world.chatIds[0];
        for (const [p, body] of [
            ['/api/rules', { chat_id: chat, name: 'everyone', conditions: [], action: 'verify' }],
            ['/api/modes', { chat_id: chat, mode: 'rules' }],
            ['/api/challenges', { chat_id: chat, challenge: CHALLENGE }],
        ]) {
            const r = await s.client.post(p, body);
            if (r.status !== 200) throw new Error(`${p}: ${r.text}`);
        }
        const user = await addRequester(s.tg, chat, { first_name: 'Ana', last_name: 'Costa', username: 'anacosta', language_code: 'pt-br' });
        let req;
        await waitFor(async () => (req = (await listAll(s.client, {})).find((r) => r.user_id === user.user_id))?.verification === 'sent',
            { timeoutMs: 10000, what: 'the verification sent' });
        const v = await s.client.ok(`/api/verifications/${req.id}`);
        const launch = await tgWebAppOpen(s.tg, s.world.botId, user.user_id, v.url, { theme_params: THEME, platform: 'ios' });
        const { page } = await watchedPage(browser, { viewport: { width: 390, height: 844 } });
        await page.goto(launch.url.replace(/^https?:\/\/[^/]+/, s.dm.url));
        await page.locator('#submit').waitFor();
        await page.locator('#accepted').check();
        await page.locator('label.choice').nth(1).click();
        await page.screenshot({ path: path.join(outDir, 'verify-app.png'), fullPage: true });
        const db = spawnSync('sqlite3', [path.join(dataDir, 'doorman.db'), `SELECT captcha FROM verifications WHERE request_id = ${req.id}`], { encoding: 'utf8' });
        await page.locator('#captcha').fill(db.stdout.trim());
        await page.locator('#answer-text').fill('Acabei de me mudar para Alfama e procuro amigos e dicas.');
        await page.locator('#submit').click();
        await page.locator('#result').waitFor();
        await page.screenshot({ path: path.join(outDir, 'verify-app-done.png') });

        const admin = await watchedPage(browser, { viewport: { width: 1440, height: 900 } });
        await login(admin.page, s.dm.url, ADMIN);
        await admin.page.goto(`${s.dm.url}/#/rules?chat_id=${chat}`);
        const card = admin.page.locator('.challenge-card');
        await card.locator('textarea[name=text_rules]').waitFor();
        await waitFor(async () => (await card.locator('input[name=text_title]').inputValue()) !== '', { timeoutMs: 5000, what: 'the challenge shown' });
        await admin.page.evaluate(() => window.scrollTo(0, 0));
        const box = await card.boundingBox(); // page coordinates at scroll 0, clear of the top bar
        await admin.page.screenshot({ path: path.join(outDir, 'verify-challenge.png'), fullPage: true, clip: box });
        console.log(`screenshots in ${outDir}`);
    } finally {
        await browser.close();
        await s.cleanup();
    }
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
