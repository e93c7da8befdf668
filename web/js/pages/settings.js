// pages/settings.js: the Settings page: the bot's status (polled), its settings (token, how it
// receives updates, rate limit), the blocklist service of the rules (settings_blocklist.js) and
// the admins (admins.js), the alerts and outgoing webhooks (settings_webhooks.js). Owners only.
import { h, add, busy, fieldRow } from '../dom.js';
import { api } from '../api.js';
import { showBanner } from '../frame.js';
import { fmtTimeFull, fmtAgo } from '../format.js';
import { blocklistCard } from './settings_blocklist.js';
import { adminsCard } from './admins.js';
import { alertsCard, webhooksCard } from './settings_webhooks.js';

const STATUS_POLL_MS = 5000;

// The rows of the Bot status card: [label, value node or text].
function statusRows(s) {
    const b = s.bot || {};
    return [
        ['Bot', b.configured
            ? [b.username ? '@' + b.username : '(no username)', h('span.muted', null, ` · id ${b.id}`)]
            : h('span.muted', null, 'No bot configured yet: paste a token from @BotFather.')],
        ['Mode', s.mode === 'webhook' ? 'Webhook' : 'Long polling'],
        ['Receiving updates', b.configured
            ? h('span.dot-label', { class: b.receiving ? 'ok' : 'bad' }, b.receiving ? 'Yes' : 'No')
            : h('span.muted', null, '—')],
        ['Last update', b.last_update_at ? h('span', { title: fmtTimeFull(b.last_update_at) }, fmtAgo(b.last_update_at)) : h('span.muted', null, 'never')],
        ['Last error', b.last_error ? h('span.err-text', null, b.last_error) : h('span.muted', null, 'none')],
    ];
}

// The settings form's inputs; fill(settings) shows the saved ones, body() is what to save (or throws).
function settingsForm() {
    const i = {
        token: h('input.mono', { type: 'password', name: 'bot_token', autocomplete: 'off', spellcheck: 'false' }),
        polling: h('input', { type: 'radio', name: 'mode', value: 'polling' }),
        webhook: h('input', { type: 'radio', name: 'mode', value: 'webhook' }),
        hook: h('input', { type: 'url', name: 'webhook_url', placeholder: 'https://doorman.example.com' }),
        rate: h('input', { type: 'number', name: 'bot_rate', min: '1', step: 'any' }),
    };
    const hookRow = fieldRow('Webhook URL', i.hook,
        'The public HTTPS address Telegram calls; doorman receives at /telegram/webhook.');
    const syncMode = () => { hookRow.hidden = !i.webhook.checked; };
    i.polling.addEventListener('change', syncMode);
    i.webhook.addEventListener('change', syncMode);
    const rows = [
        fieldRow('Bot token', i.token, 'From @BotFather. Stored encrypted; never shown again. Leave empty to keep the current one.'),
        h('fieldset.field', null, h('legend.field-label', null, 'How the bot receives updates'),
            h('label.radio', null, i.polling, ' Long polling ', h('span.muted', null, '(works behind NAT, no public address needed)')),
            h('label.radio', null, i.webhook, ' Webhook ', h('span.muted', null, '(Telegram calls doorman)'))),
        hookRow,
        fieldRow('Bot API rate limit (requests per second)', i.rate, 'Decisions are paced to stay under this rate; Telegram\'s flood waits are honoured on top.'),
    ];
    function fill(s) {
        const b = s.bot || {};
        i.token.value = '';
        i.token.placeholder = b.configured
            ? `Configured: ${b.username ? '@' + b.username : 'bot ' + b.id}. Paste a new token to replace it.`
            : '123456789:AAE…';
        i.polling.checked = s.mode !== 'webhook';
        i.webhook.checked = s.mode === 'webhook';
        i.hook.value = s.webhook_url || '';
        i.rate.value = s.bot_rate != null ? String(s.bot_rate) : '';
        syncMode();
    }
    function body() {
        const out = { mode: i.webhook.checked ? 'webhook' : 'polling' };
        if (i.token.value.trim()) out.bot_token = i.token.value.trim();
        if (i.webhook.checked) out.webhook_url = i.hook.value.trim();
        if (i.rate.value !== '') {
            const r = Number(i.rate.value);
            if (!(r > 0)) throw new Error('The rate limit must be a positive number.');
            out.bot_rate = r;
        }
        return out;
    }
    return { rows, fill, body };
}

export function pageSettings(ctx, main) {
    document.title = 'Settings · doorman';
    const status = h('dl.status-list');
    const fields = settingsForm();
    const save = h('button.btn.btn-primary', { type: 'submit' }, 'Save settings');
    const msg = h('p.form-error', { role: 'alert', hidden: true });
    const ok = h('p.form-ok', { role: 'status', hidden: true });
    const form = h('form.form.settings-form', { novalidate: true },
        msg, ok, fields.rows, h('div.form-actions', null, save));
    const blocklist = blocklistCard(ctx, { onSaved: (s) => renderStatus(s) });

    add(main,
        h('div.page-head', null, h('h1', null, 'Settings')),
        h('div.settings-grid', null,
            h('section.card', null, h('h2', null, 'Bot status'), status),
            h('section.card', null, h('h2', null, 'Telegram bot'), form),
            blocklist.el,
            adminsCard(ctx),
            alertsCard(ctx).el,
            webhooksCard(ctx).el));

    function renderStatus(s) {
        status.replaceChildren(...statusRows(s).flatMap(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
        status.dataset.receiving = String(!!(s.bot || {}).receiving);
    }

    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        msg.hidden = ok.hidden = true;
        try {
            const body = fields.body();
            const s = await busy([save], () => api('POST', '/api/settings', body));
            if (!ctx.alive) return;
            fields.fill(s);
            renderStatus(s);
            ok.textContent = 'Saved.';
            ok.hidden = false;
        } catch (e) {
            msg.textContent = e.message;
            msg.hidden = false;
        }
    });

    let first = true;
    async function poll() {
        try {
            const s = await api('GET', '/api/settings');
            if (!ctx.alive) return;
            if (first) { fields.fill(s); blocklist.fill(s); }
            first = false;
            renderStatus(s);
        } catch (e) {
            if (ctx.alive && e.status !== 401) showBanner(e.message);
            if (e.status === 401) return;
        }
        ctx.later(poll, STATUS_POLL_MS);
    }
    poll();
}
