// The Statistics page (issue 15 item 1) in a real browser: reached from the navigation, its
// charts drawn by the embedded Chart.js (canvases with pixels on them, under the strict CSP), its
// numbers those of GET /api/stats, the channel filter and the hourly range; an invite link named
// like HTML by whoever made it in Telegram is shown as text.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tgAddJoinRequests } from '../lib/tgsim.mjs';
import { listAll, waitRecorded, decide } from '../lib/api.mjs';
import { startStack, ADMIN } from '../lib/stacks.mjs';
import { signedInPage } from '../lib/browser.mjs';

const HOSTILE = 'https://t.me/+<img src=x onerror="window.pwned=1">';
const DAY = 86400;

describe('the Statistics page', () => {
    let s, browser, page, seen, chatA, chatB;
    before(async () => {
        s = await startStack({ world: { channels: 2, pending: 0 } });
        [chatA, chatB] = s.world.chatIds;
        const now = Math.floor(Date.now() / 1000);
        await tgAddJoinRequests(s.tg, { chat_id: chatA, count: 5, first_name: 'Linked', invite_link: HOSTILE, date: now - 2 * DAY, spread_seconds: 600 });
        await tgAddJoinRequests(s.tg, { chat_id: chatA, count: 3, first_name: 'Plain', date: now - 3600, spread_seconds: 600 });
        await tgAddJoinRequests(s.tg, { chat_id: chatB, count: 4, first_name: 'Other', invite_link: 'https://t.me/+OtherLink', date: now - DAY, spread_seconds: 600 });
        await waitRecorded(s.client, 12);
        const a = (await listAll(s.client, { chat_id: chatA })).map((r) => r.id);
        await decide(s.client, 'approve', { request_ids: a.slice(0, 3) });
        await decide(s.client, 'deny', { request_ids: a.slice(3, 4) });
        ({ browser, page, seen } = await signedInPage(s.dm.url, ADMIN));
    });
    after(async () => {
        await browser?.close();
        await s?.cleanup();
    });

    // The page's cards, charts and tables once loaded.
    async function shown() {
        await page.locator('main[data-loaded=true]').waitFor();
        return page.evaluate(() => {
            const card = (k) => document.querySelector(`[data-stat=${k}] .stat-value`).textContent;
            const charts = {};
            for (const c of document.querySelectorAll('canvas[data-chart]')) {
                const chart = window.Chart.getChart(c);
                const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let inked = 0;
                for (let i = 3; i < px.length; i += 4) if (px[i]) inked++;
                charts[c.dataset.chart] = {
                    inked,
                    labels: chart.data.labels,
                    sums: Object.fromEntries(chart.data.datasets.map((d) => [d.label, d.data.reduce((a, b) => a + b, 0)])),
                };
            }
            return {
                cards: Object.fromEntries(['total', 'approved', 'declined', 'pending', 'approval_rate'].map((k) => [k, card(k)])),
                charts,
                links: [...document.querySelectorAll('.stat-links tbody tr td:first-child')].map((td) => td.textContent),
                deciders: [...document.querySelectorAll('.stat-deciders tbody tr td:first-child')].map((td) => td.textContent),
            };
        });
    }

    test('from the navigation: charts drawn, numbers as the API says, the hostile link as text', async () => {
        await page.locator('.nav a[data-route="/stats"]').click();
        const got = await shown();
        const api = (await s.client.get('/api/stats')).json;
        assert.deepEqual(got.cards, {
            total: '12', approved: '3', declined: '1', pending: '8', approval_rate: '75.0 %',
        });
        assert.equal(api.requests.total, 12);
        for (const k of ['requests', 'links', 'backlog', 'latency', 'deciders']) {
            assert.ok(got.charts[k].inked > 500, `the ${k} chart has pixels on its canvas (${got.charts[k].inked})`);
        }
        const sum = (k) => Object.entries(got.charts.requests.sums).filter(([l]) => l.endsWith(k)).reduce((a, [, v]) => a + v, 0);
        assert.deepEqual([sum('approved'), sum('declined'), sum('pending')], [api.requests.approved, api.requests.declined, api.requests.pending]);
        assert.equal(got.charts.latency.sums.decisions, 4);
        assert.deepEqual(got.charts.deciders.sums, { approved: 3, declined: 1 });
        assert.deepEqual(got.deciders, [`${ADMIN.name} via bot`]);
        assert.ok(got.links.includes(HOSTILE), `the link shown as text: ${JSON.stringify(got.links)}`);
        assert.ok(got.charts.links.labels.some((l) => l.startsWith(HOSTILE)), 'and as the chart\'s label');
        assert.equal(await page.locator('main img').count(), 0, 'no element made of the link');
        assert.equal(await page.evaluate(() => window.pwned), undefined);
        assert.deepEqual(seen.dialogs, []);
        assert.deepEqual(seen.pageErrors, []);
        assert.deepEqual(seen.cspViolations, []);
    });

    test('the channel filter and the last 48 hours by hour', async () => {
        await page.locator('select[name=chat_id]').selectOption({ value: String(chatB) });
        await page.waitForURL(/chat_id=/);
        let got = await shown();
        assert.deepEqual(got.cards, { total: '4', approved: '0', declined: '0', pending: '4', approval_rate: '—' });
        assert.deepEqual(got.links, ['https://t.me/+OtherLink']);
        await page.locator('select[name=range]').selectOption({ value: '48h' });
        await page.waitForURL(/range=48h/);
        got = await shown();
        const api = (await s.client.get(`/api/stats?bucket=hour&chat_id=${chatB}`)).json;
        assert.equal(got.charts.requests.labels.length, api.flow.length);
        assert.match(got.charts.requests.labels.at(-1), /^\d\d-\d\d \d\d:00$/);
        assert.equal(got.cards.total, String(api.requests.total));
        assert.deepEqual(seen.pageErrors, []);
        assert.deepEqual(seen.cspViolations, []);
    });
});
