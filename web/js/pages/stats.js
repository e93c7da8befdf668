// pages/stats.js: the Statistics page: requests per day (or hour) per channel and per invite
// link stacked by outcome, approval rate, median and p90 time to decision, the backlog over
// time and who decided, for a range and a channel; all from one GET /api/stats. Charts are
// drawn by Chart.js (Debian's libjs-chart.js, embedded and served at /vendor/chart.min.js) on
// canvases: names from Telegram become canvas text or table text, never HTML.
import { h, labelCells, tableHead } from '../dom.js';
import { api, qs } from '../api.js';
import { showBanner } from '../frame.js';
import { go } from '../router.js';
import { fmtNum } from '../format.js';

const OUTCOMES = [
    ['approved', '#17803d'],
    ['declined', '#c2312b'],
    ['pending', '#d89614'],
];
const RANGES = [
    ['48h', 'Last 48 hours (by hour)'],
    ['7', 'Last 7 days'],
    ['30', 'Last 30 days'],
    ['90', 'Last 90 days (by week)'],
    ['365', 'Last 365 days (by week)'],
    ['custom', 'Dates…'],
];
const DAY = 86400;

let chartLib = null;
// Chart.js, loaded once (a classic script: it sets window.Chart).
function loadChart() {
    if (window.Chart) return Promise.resolve(window.Chart);
    chartLib ??= new Promise((resolve, reject) => {
        const s = h('script', { src: '/vendor/chart.min.js' });
        s.addEventListener('load', () => resolve(window.Chart));
        s.addEventListener('error', () => { chartLib = null; reject(new Error('The charting library could not be loaded.')); });
        document.head.append(s);
    });
    return chartLib;
}

const pad2 = (n) => String(n).padStart(2, '0');
// A bucket's label, in UTC as the buckets are: "2026-03-01", "03-01 14:00", "week of 2026-03-01".
function bucketLabel(t, bucket) {
    const d = new Date(t * 1000);
    const day = `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
    if (bucket === 'hour') return `${day.slice(5)} ${pad2(d.getUTCHours())}:00`;
    return bucket === 'week' ? `week of ${day}` : day;
}
const utcDay = (t) => new Date(t * 1000).toISOString().slice(0, 10);

export function fmtSeconds(s) {
    if (s === null || s === undefined) return '—';
    if (s < 60) return `${Math.round(s)} s`;
    if (s < 3600) return `${(s / 60).toFixed(1)} min`;
    if (s < DAY) return `${(s / 3600).toFixed(1)} h`;
    return `${(s / DAY).toFixed(1)} d`;
}
const fmtRate = (r) => (r === null || r === undefined ? '—' : `${(r * 100).toFixed(1)} %`);

// The query of the page's parameters: {bucket, from?, to?, chat_id?}.
function statsQuery(p) {
    const q = {};
    const range = p.get('range') || '30';
    const now = Math.floor(Date.now() / 1000);
    if (range === '48h') q.bucket = 'hour';
    else if (range === '90' || range === '365') q.bucket = 'week';
    if (range === 'custom') {
        if (p.get('from')) q.from = p.get('from');
        if (p.get('to')) q.to = p.get('to');
    } else if (range !== '48h') q.from = now - Number(range) * DAY + 1;
    if (p.get('chat_id')) q.chat_id = p.get('chat_id');
    return q;
}

function card(label, value, key, hint) {
    return h('div.stat-card', { dataset: { stat: key } },
        h('div.stat-label', null, label), h('div.stat-value', null, value),
        hint ? h('div.stat-hint.small.muted', null, hint) : null);
}

// A chart's box; kind '' or 'tall' or 'wide' (the whole row).
function chartBox(title, key, kind = '') {
    const canvas = h('canvas', { role: 'img', 'aria-label': title, dataset: { chart: key } });
    return { canvas, el: h('section.stat-chart' + (kind ? `.stat-chart-${kind}` : ''), null, h('h2', null, title), h('div.stat-canvas', null, canvas)) };
}

const baseOptions = (stacked, horizontal) => ({
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    indexAxis: horizontal ? 'y' : 'x',
    scales: { x: { stacked, beginAtZero: true }, y: { stacked, beginAtZero: true } },
    plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
});

// The charts of answer s on the page; returns them (to destroy later).
function drawCharts(Chart, s, boxes, title) {
    const labels = s.flow.map((f) => bucketLabel(f.t, s.bucket));
    const index = new Map(s.flow.map((f, i) => [f.t, i]));
    const chats = [...new Set(s.series.map((x) => x.chat_id))];
    const several = chats.length > 1;
    const datasets = [];
    for (const chat of chats) {
        for (const [k, color] of OUTCOMES) {
            const data = new Array(labels.length).fill(0);
            for (const x of s.series) if (x.chat_id === chat && index.has(x.t)) data[index.get(x.t)] += x[k];
            datasets.push({ label: several ? `${title(chat)} · ${k}` : k, data, backgroundColor: color, stack: String(chat) });
        }
    }
    const charts = [];
    charts.push(new Chart(boxes.requests.canvas, { type: 'bar', data: { labels, datasets }, options: baseOptions(true) }));

    const linkName = (l) => `${l.link || '(no link)'}${several ? ` · ${title(l.chat_id)}` : ''}`;
    charts.push(new Chart(boxes.links.canvas, {
        type: 'bar',
        data: { labels: s.links.map(linkName), datasets: OUTCOMES.map(([k, color]) => ({ label: k, data: s.links.map((l) => l[k]), backgroundColor: color })) },
        options: baseOptions(true, true),
    }));

    charts.push(new Chart(boxes.backlog.canvas, {
        type: 'line',
        data: { labels, datasets: [
            { label: 'pending at the end', data: s.flow.map((f) => f.backlog), borderColor: '#d89614', backgroundColor: '#d8961433', fill: true, pointRadius: 0 },
            { label: 'came', data: s.flow.map((f) => f.arrived), borderColor: '#2563eb', pointRadius: 0 },
            { label: 'decided', data: s.flow.map((f) => f.approved + f.declined), borderColor: '#17803d', pointRadius: 0 },
        ] },
        options: baseOptions(false),
    }));

    const hist = s.time_to_decision.histogram;
    charts.push(new Chart(boxes.latency.canvas, {
        type: 'bar',
        data: { labels: hist.map((b) => `${fmtSeconds(b.from)}–${fmtSeconds(b.to)}`), datasets: [{ label: 'decisions', data: hist.map((b) => b.n), backgroundColor: '#2563eb' }] },
        options: { ...baseOptions(false), plugins: { legend: { display: false } } },
    }));

    charts.push(new Chart(boxes.deciders.canvas, {
        type: 'bar',
        data: { labels: s.deciders.map(deciderName), datasets: OUTCOMES.slice(0, 2).map(([k, color]) => ({ label: k, data: s.deciders.map((d) => d[k]), backgroundColor: color })) },
        options: baseOptions(true, true),
    }));
    return charts;
}

// "alice via bot", "rule 3 “casino names” via bot".
export function deciderName(d) {
    const who = d.by === '(rules)'
        ? (d.rule_id ? `rule ${d.rule_id}${d.rule_name ? ` “${d.rule_name}”` : ' (deleted)'}` : 'the mode')
        : d.by || '(unknown)';
    return `${who} via ${d.via || 'bot'}`;
}

function linksTable(s, title) {
    const table = h('table.table.table-small.stat-links', null,
        tableHead('Invite link', 'Channel', 'Requests', 'Approved', 'Declined', 'Pending'),
        h('tbody', null, s.links.map((l) => h('tr', null,
            h('td.link', null, h('span.mono', null, l.link || '(no link)')),
            h('td', null, title(l.chat_id)),
            h('td.num', null, fmtNum(l.pending + l.approved + l.declined)),
            h('td.num', null, fmtNum(l.approved)), h('td.num', null, fmtNum(l.declined)),
            h('td.num', null, fmtNum(l.pending))))));
    return h('div.table-wrap', null, labelCells(table),
        s.links_more ? h('p.small.muted', null, 'Only the 50 busiest links are shown.') : null);
}

function decidersTable(s) {
    const table = h('table.table.table-small.stat-deciders', null,
        tableHead('Who decided', 'Approved', 'Declined', 'Total'),
        h('tbody', null, s.deciders.map((d) => h('tr', null,
            h('td', null, deciderName(d)),
            h('td.num', null, fmtNum(d.approved)), h('td.num', null, fmtNum(d.declined)),
            h('td.num', null, fmtNum(d.approved + d.declined))))));
    return h('div.table-wrap', null, labelCells(table));
}

export function pageStats(ctx, main, params) {
    document.title = 'Statistics · doorman';
    delete main.dataset.loaded; // set again once this range's answer is drawn
    const range = params.get('range') || '30';
    const rangeSel = h('select', { name: 'range', 'aria-label': 'Range' },
        RANGES.map(([v, t]) => h('option', { value: v, selected: v === range }, t)));
    const chatSel = h('select', { name: 'chat_id', 'aria-label': 'Channel' }, h('option', { value: '' }, 'All channels'));
    const fromIn = h('input', { type: 'date', name: 'from', 'aria-label': 'From (UTC)', value: params.get('from') || '' });
    const toIn = h('input', { type: 'date', name: 'to', 'aria-label': 'To (UTC)', value: params.get('to') || '' });
    const dates = h('span.inline.stat-dates', { hidden: range !== 'custom' }, fromIn, '–', toIn);
    const apply = () => {
        const p = { range: rangeSel.value };
        if (chatSel.value) p.chat_id = chatSel.value;
        if (rangeSel.value === 'custom') {
            if (fromIn.value) p.from = fromIn.value;
            if (toIn.value) p.to = toIn.value;
        }
        go('/stats', p);
    };
    rangeSel.addEventListener('change', () => {
        if (rangeSel.value === 'custom' && !fromIn.value) {
            dates.hidden = false;
            const now = Math.floor(Date.now() / 1000);
            fromIn.value = utcDay(now - 29 * DAY);
            toIn.value = utcDay(now);
        }
        apply();
    });
    for (const el of [chatSel, fromIn, toIn]) el.addEventListener('change', apply);

    const summary = h('div.stat-cards', { 'aria-live': 'polite' }, h('p.loading', null, 'Loading…'));
    const boxes = {
        requests: chartBox('Requests by outcome', 'requests', 'wide'),
        links: chartBox('Requests per invite link', 'links', 'tall'),
        backlog: chartBox('Pending backlog', 'backlog'),
        latency: chartBox('Time to decision', 'latency'),
        deciders: chartBox('Who decided', 'deciders', 'tall'),
    };
    const linksWrap = h('div');
    const decidersWrap = h('div');
    main.append(
        h('div.page-head', null, h('h1', null, 'Statistics'), h('span.spacer'),
            h('div.filters.stat-filters', null, rangeSel, dates, chatSel)),
        summary,
        h('p.small.muted', null, 'Days and hours are UTC. Requests count on the day they came, by their outcome now; decisions on the day they were made.'),
        h('div.stat-grid', null, boxes.requests.el, boxes.backlog.el, boxes.latency.el, boxes.links.el, boxes.deciders.el),
        h('h2.stat-heading', null, 'Invite links'), linksWrap,
        h('h2.stat-heading', null, 'Who decided'), decidersWrap);

    let charts = [];
    ctx.onLeave(() => charts.forEach((c) => c.destroy()));
    (async () => {
        let s;
        let Chart;
        try {
            [s, Chart] = await Promise.all([api('GET', '/api/stats' + qs(statsQuery(params))), loadChart()]);
        } catch (e) {
            summary.replaceChildren(h('p.form-error', null, e.message));
            showBanner(e.message);
            return;
        }
        if (!ctx.alive) return;
        const titles = new Map(s.chats.map((c) => [c.chat_id, c.title]));
        const title = (id) => titles.get(id) || `chat ${id}`;
        for (const c of s.chats) chatSel.append(h('option', { value: String(c.chat_id), selected: String(c.chat_id) === params.get('chat_id') }, title(c.chat_id)));
        const t = s.time_to_decision;
        summary.replaceChildren(
            card('Requests', fmtNum(s.requests.total), 'total', `${bucketLabel(s.from, 'day')} – ${bucketLabel(s.to, 'day')}`),
            card('Approved', fmtNum(s.requests.approved), 'approved'),
            card('Declined', fmtNum(s.requests.declined), 'declined'),
            card('Still pending', fmtNum(s.requests.pending), 'pending', `${fmtNum(s.pending_now)} pending in all`),
            card('Approval rate', fmtRate(s.requests.approval_rate), 'approval_rate', 'of these requests, once decided'),
            card('Median time to decision', fmtSeconds(t.median_seconds), 'median', `${fmtNum(t.decided)} decisions`),
            card('90th percentile', fmtSeconds(t.p90_seconds), 'p90'));
        charts = drawCharts(Chart, s, boxes, title);
        linksWrap.replaceChildren(s.links.length ? linksTable(s, title) : h('p.empty', null, 'No requests in this range.'));
        decidersWrap.replaceChildren(s.deciders.length ? decidersTable(s) : h('p.empty', null, 'No decisions in this range.'));
        main.dataset.loaded = 'true';
    })();
}
