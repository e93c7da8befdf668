// The Logs page (issue 16, item 5): a warning doorman logged (the Bot API failing a getUpdates)
// shows in the panel's Logs page, reached from the navigation, with its level and component.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../lib/processes.mjs';
import { tgInjectFault } from '../lib/tgsim.mjs';
import { startStack, ADMIN } from '../lib/stacks.mjs';
import { signedInPage } from '../lib/browser.mjs';

describe('the Logs page', () => {
    let s, browser, page, seen;
    before(async () => {
        s = await startStack({ world: { channels: 1, pending: 1 } });
        await tgInjectFault(s.tg, { method: 'getUpdates', count: 1, error_code: 502, description: 'Bad Gateway' });
        await waitFor(async () => (await s.client.ok('/api/logs')).items.some((e) => /Bad Gateway/.test(e.message)),
            { what: 'the warning in GET /api/logs', timeoutMs: 20000 });
        ({ browser, page, seen } = await signedInPage(s.dm.url, ADMIN));
    });
    after(async () => {
        await browser?.close();
        await s?.cleanup();
    });

    test('shows the warning from the navigation', async () => {
        await page.locator('.nav a[data-route="/logs"]').click();
        const row = page.locator('.page-logs tbody tr', { hasText: 'Bad Gateway' }).first();
        await row.waitFor();
        assert.match(await row.textContent(), /warn/);
        assert.match(await row.locator('.action').textContent(), /^bot$/);
        assert.deepEqual(seen.pageErrors, []);
        assert.deepEqual(seen.cspViolations, []);
    });
});
