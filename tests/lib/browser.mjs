// browser.mjs: headless Debian chromium driven by playwright-core, for the panel's browser tests
// (tests/e2e) and the README screenshots (tests/e2e/screenshot.mjs): a browser, a page that records
// dialogs, page errors and CSP violations, and signing in through the login form.
import { chromium } from 'playwright-core';
import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

const ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launchBrowser() {
    if (!existsSync(CHROMIUM)) {
        throw new Error(`${CHROMIUM} does not exist: install Debian's chromium (scripts/deps.sh --test does) or set CHROMIUM_BIN`);
    }
    return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}

// A new page that records what must never happen: JavaScript dialogs (alert/confirm/prompt),
// uncaught page errors and Content-Security-Policy violations. Dialogs are dismissed.
export async function watchedPage(browser, { viewport = { width: 1440, height: 900 } } = {}) {
    // Reduced motion: no transitions, so what a screenshot shows is the final state.
    const context = await browser.newContext({ viewport, locale: 'en-GB', timezoneId: 'UTC', reducedMotion: 'reduce' });
    const page = await context.newPage();
    const seen = { dialogs: [], pageErrors: [], cspViolations: [], consoleErrors: [] };
    page.on('dialog', (d) => {
        seen.dialogs.push(`${d.type()}: ${d.message()}`);
        d.dismiss().catch(() => {});
    });
    page.on('pageerror', (e) => seen.pageErrors.push(e.message));
    page.on('console', (m) => {
        if (m.type() !== 'error') return;
        const t = m.text();
        seen.consoleErrors.push(t);
        if (/Content Security Policy/i.test(t)) seen.cspViolations.push(t);
    });
    return { context, page, seen };
}

// Signs in through the login form and waits for the Invite Requests table.
export async function login(page, baseUrl, { name, password }) {
    await page.goto(baseUrl + '/');
    await page.locator('input[name=name]').fill(name);
    await page.locator('input[name=password]').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.requests-table').waitFor();
}

// A browser with a watched page signed in to doorman at baseUrl: {browser, page, seen}. The
// browser is closed again when signing in fails.
export async function signedInPage(baseUrl, admin) {
    const browser = await launchBrowser();
    try {
        const { page, seen } = await watchedPage(browser);
        await login(page, baseUrl, admin);
        return { browser, page, seen };
    } catch (e) {
        await browser.close();
        throw e;
    }
}
