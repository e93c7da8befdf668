// The Export buttons in chromium (issue 15, item 2): on the Invite Requests page the download is
// the export of the filter the page shows; on the Audit Log page, of the audit log.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { addRequester } from '../lib/tgsim.mjs';
import { waitRecorded } from '../lib/api.mjs';
import { ADMIN, startStack } from '../lib/stacks.mjs';
import { signedInPage } from '../lib/browser.mjs';

describe('Export buttons in chromium', () => {
    let s, browser, page, seen;
    before(async () => {
        s = await startStack({ world: { channels: 1, pending: 3 } });
        await addRequester(s.tg, s.world.chatIds[0], { first_name: '=cmd|calc', last_name: 'Exportable', username: 'export_me' });
        await waitRecorded(s.client, 4);
        ({ browser, page, seen } = await signedInPage(s.dm.url, ADMIN));
    });
    after(async () => {
        await browser?.close();
        await s?.cleanup();
    });

    // Clicks Export (with the format chosen) and returns the download's name and text.
    async function download(format) {
        await page.locator('select.export-format').selectOption(format);
        const [d] = await Promise.all([page.waitForEvent('download'), page.locator('.export a', { hasText: 'Export' }).click()]);
        return { name: d.suggestedFilename(), text: await readFile(await d.path(), 'utf8') };
    }

    test('Invite Requests: CSV of the current filter', async () => {
        await page.locator('input[name=q]').fill('export_me');
        await page.locator('input[name=q]').press('Enter');
        await page.locator('.requests-table tbody tr').filter({ hasText: 'Exportable' }).waitFor();
        const { name, text } = await download('csv-bom');
        assert.match(name, /^doorman-requests-\d{8}-\d{6}\.csv$/);
        assert.ok(text.startsWith('\uFEFFid,chat_id,'), 'a BOM, then the header');
        const lines = text.split('\r\n').filter(Boolean);
        assert.equal(lines.length, 2, 'the header and the one request the filter shows');
        assert.match(lines[1], /,"'=cmd\|calc","Exportable","export_me",/);
    });

    test('Audit Log: JSON Lines', async () => {
        await page.goto(s.dm.url + '/#/audit');
        await page.locator('h1', { hasText: 'Audit Log' }).waitFor();
        const { name, text } = await download('jsonl');
        assert.match(name, /^doorman-audit-\d{8}-\d{6}\.jsonl$/);
        const first = JSON.parse(text.split('\n')[0]);
        assert.equal(first.action, 'export', 'the newest entry: the export of the requests');
        assert.ok(text.includes('"detail":"requests csv bom status=pending q=\\"export_me\\""'), 'the first export is in it');
        assert.deepEqual([seen.pageErrors, seen.cspViolations, seen.dialogs], [[], [], []]);
    });
});
