// pages/settings_webhooks.js: the Settings page's alerts: the alert settings (GET/POST /api/alerts)
// and the outgoing webhooks (/api/webhooks): add one (its signing secret shown once), turn one on
// or off, send it a test, give it a new secret, remove it, and read its delivery log (the last deliveries with
// their state, attempts and last error). Owners only, once roles exist.
import { h, add, busy, fieldRow, tableHead, labelCells } from '../dom.js';
import { api } from '../api.js';
import { confirmDialog } from '../modal.js';
import { fmtAgo, fmtTimeFull, badge } from '../format.js';

const LOG_LIMIT = 20;

// The alert settings card.
export function alertsCard(ctx) {
    const i = {
        backlog: h('input', { type: 'number', name: 'backlog_threshold', min: '0', step: '1' }),
        flood: h('input', { type: 'number', name: 'flood_wait_minutes', min: '0', max: '1440', step: '1' }),
        hour: h('input', { type: 'number', name: 'summary_hour', min: '-1', max: '23', step: '1' }),
    };
    const save = h('button.btn.btn-primary', { type: 'submit' }, 'Save');
    const err = h('p.form-error', { role: 'alert', hidden: true });
    const ok = h('p.form-ok', { role: 'status', hidden: true });
    const form = h('form.form.alerts-form', { novalidate: true }, err, ok,
        fieldRow('Backlog over', i.backlog, 'Pending requests above which a backlog.over event is sent, once per crossing (0: off).'),
        fieldRow('Flood waits from (minutes)', i.flood, 'A flood_wait event for Telegram waits at least this long (0: off).'),
        fieldRow('Daily summary at (hour, UTC)', i.hour, 'When the summary.daily event is sent (-1: off).'),
        h('div.form-actions', null, save));
    const el = h('section.card.alerts-card', { 'aria-labelledby': 'alerts-title' },
        h('h2', { id: 'alerts-title' }, 'Alerts'), form);
    const fill = (s) => {
        i.backlog.value = String(s.backlog_threshold);
        i.flood.value = String(s.flood_wait_minutes);
        i.hour.value = String(s.summary_hour);
    };
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        err.hidden = ok.hidden = true;
        try {
            const body = {};
            for (const [k, input] of [['backlog_threshold', i.backlog], ['flood_wait_minutes', i.flood], ['summary_hour', i.hour]]) {
                const n = Number(input.value);
                if (input.value === '' || !Number.isInteger(n)) throw new Error(`${k} must be a whole number.`);
                body[k] = n;
            }
            const s = await busy([save], () => api('POST', '/api/alerts', body));
            if (!ctx.alive) return;
            fill(s);
            ok.textContent = 'Saved.';
            ok.hidden = false;
        } catch (e) {
            if (!ctx.alive) return;
            err.textContent = e.message;
            err.hidden = false;
        }
    });
    api('GET', '/api/alerts').then((s) => { if (ctx.alive) fill(s); }, (e) => {
        if (!ctx.alive) return;
        err.textContent = e.message;
        err.hidden = false;
    });
    return { el };
}

// The secret of a webhook just made (or given a new secret), with how to check it.
function secretNote(secret) {
    return h('div.secret-once', { role: 'status' },
        h('p', null, 'The signing secret, shown this once: keep it where the receiver can read it.'),
        h('code.mono.secret-value', null, secret),
        h('p.muted.small', null, 'Each delivery carries X-Doorman-Signature: sha256=HMAC-SHA-256(secret, "<X-Doorman-Timestamp>.<body>") in hex.'));
}

// The webhooks card.
export function webhooksCard(ctx) {
    const url = h('input.mono', { type: 'url', name: 'webhook_target', placeholder: 'https://example.com/doorman', autocomplete: 'off', spellcheck: 'false' });
    const kinds = h('div.event-kinds');
    const addBtn = h('button.btn.btn-primary', { type: 'submit' }, 'Add webhook');
    const err = h('p.form-error', { role: 'alert', hidden: true });
    const note = h('div');
    const form = h('form.form.webhook-form', { novalidate: true }, err,
        fieldRow('URL', url, 'doorman POSTs each event as JSON to this http:// or https:// address; a 2xx answer counts as delivered, anything else is tried again later.'),
        h('fieldset.field', null, h('legend.field-label', null, 'Events'), kinds),
        h('div.form-actions', null, addBtn));
    const tbody = h('tbody');
    const empty = h('p.muted', null, 'No webhooks yet.');
    const table = labelCells(h('table.table.webhooks-table', null,
        tableHead('URL', 'Events', 'State', 'Waiting', ''), tbody));
    const log = h('div.delivery-log');
    const el = h('section.card.webhooks-card', { 'aria-labelledby': 'webhooks-title' },
        h('h2', { id: 'webhooks-title' }, 'Webhooks'), note, h('div.table-wrap', null, table), empty, log, form);

    const showError = (e) => { if (ctx.alive) { err.textContent = e.message; err.hidden = false; } };

    async function showLog(w) {
        const r = await api('GET', `/api/webhooks/${w.id}/deliveries?limit=${LOG_LIMIT}`);
        if (!ctx.alive) return;
        const body = h('tbody');
        for (const d of r.items) {
            body.append(h('tr', null,
                h('td', null, h('span', { title: fmtTimeFull(d.created_at) }, fmtAgo(d.created_at))),
                h('td.mono', null, d.event),
                h('td', null, badge(d.state === 'delivered' ? 'approved' : d.state === 'failed' ? 'declined' : 'pending', d.state)),
                h('td', null, String(d.attempts)),
                h('td', null, d.http_status == null ? '—' : String(d.http_status)),
                h('td', null, d.error ? h('span.err-text', null, d.error) : h('span.muted', null, d.next_at ? `next try ${fmtAgo(d.next_at)}` : ''))));
        }
        log.replaceChildren(h('h3', null, `Last deliveries to ${w.url}`),
            r.items.length ? h('div.table-wrap', null, labelCells(h('table.table.deliveries-table', null,
                tableHead('When', 'Event', 'State', 'Attempts', 'HTTP', 'Error'), body)))
                : h('p.muted', null, 'Nothing delivered yet.'));
    }

    function row(w) {
        const toggle = h('button.btn.btn-small.btn-ghost', { type: 'button' }, w.enabled ? 'Turn off' : 'Turn on');
        const rotate = h('button.btn.btn-small.btn-ghost', { type: 'button' }, 'New secret');
        const logBtn = h('button.btn.btn-small.btn-ghost', { type: 'button' }, 'Deliveries');
        const testBtn = h('button.btn.btn-small.btn-ghost', { type: 'button', disabled: !w.enabled }, 'Send test');
        const del = h('button.btn.btn-small.btn-danger', { type: 'button' }, 'Remove');
        toggle.addEventListener('click', () => busy([toggle], () => api('POST', `/api/webhooks/${w.id}/update`, { enabled: !w.enabled })).then(load, showError));
        rotate.addEventListener('click', () => busy([rotate], () => api('POST', `/api/webhooks/${w.id}/update`, { new_secret: true }))
            .then((r) => { note.replaceChildren(secretNote(r.secret)); return load(); }, showError));
        logBtn.addEventListener('click', () => busy([logBtn], () => showLog(w)).catch(showError));
        testBtn.addEventListener('click', () => busy([testBtn], () => api('POST', `/api/webhooks/${w.id}/test`, {}))
            .then(() => showLog(w)).catch(showError));
        del.addEventListener('click', async () => {
            if (!await confirmDialog({ title: 'Remove webhook', body: `Stop sending events to ${w.url} and forget its deliveries?`, confirmLabel: 'Remove', danger: true })) return;
            busy([del], () => api('POST', `/api/webhooks/${w.id}/delete`, {})).then(() => { log.replaceChildren(); return load(); }, showError);
        });
        return h('tr', null,
            h('td.mono.webhook-url', null, w.url),
            h('td', null, w.events.join(', ')),
            h('td', null, badge(w.enabled ? 'approved' : 'declined', w.enabled ? 'on' : 'off')),
            h('td', null, String(w.pending)),
            h('td.row-actions', null, logBtn, testBtn, toggle, rotate, del));
    }

    async function load() {
        const r = await api('GET', '/api/webhooks');
        if (!ctx.alive) return;
        if (!kinds.childElementCount) {
            add(kinds, r.events.map((k) => h('label.checkbox', null,
                h('input', { type: 'checkbox', name: 'event', value: k, checked: k.startsWith('request.') || k.startsWith('job.') }), ' ', k)));
        }
        tbody.replaceChildren(...r.items.map(row));
        empty.hidden = r.items.length > 0;
        table.hidden = r.items.length === 0;
    }

    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        err.hidden = true;
        const events = [...kinds.querySelectorAll('input:checked')].map((c) => c.value);
        try {
            const r = await busy([addBtn], () => api('POST', '/api/webhooks', { url: url.value.trim(), events }));
            if (!ctx.alive) return;
            url.value = '';
            note.replaceChildren(secretNote(r.secret));
            await load();
        } catch (e) {
            showError(e);
        }
    });
    load().catch(showError);
    return { el };
}
