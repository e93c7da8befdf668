// pages/rules_mode.js: the Rules page's mode switch for the scope shown (GET/POST /api/modes):
// manual, rules, or approve all (at once, after a delay, or paced); a channel can also follow
// the default, which the "Global rules" scope edits (chat_id 0); and the account the mode's
// decisions go through (session_name: the bot, or a session of GET /api/sessions).
import { h, busy } from '../dom.js';
import { api } from '../api.js';
import { showBanner } from '../frame.js';
import { delayInput } from './rules_editor.js';
import { modeText } from './rules_text.js';
import { can } from '../state.js';

// [value, label, one line on what it does]
const MODES = [
    ['default', 'Follow the default', 'This channel does what the default mode (set under Global rules) says.'],
    ['manual', 'Manual', 'Admins decide every request on the Invite Requests page.'],
    ['rules', 'Rules', 'Each new request is decided by the first enabled rule that matches; the rest wait for an admin.'],
    ['approve_all', 'Approve all', 'Every new request is approved: at once, after a delay, or paced.'],
];

const radio = (name, value) => h('input', { type: 'radio', name, value });

export function modeCard(ctx, { scope }) {
    const now = h('span.mode-now');
    const inputs = Object.fromEntries(MODES.map(([v]) => [v, radio('mode', v)]));
    const how = { now: radio('approve_how', 'now'), delay: radio('approve_how', 'delay'), paced: radio('approve_how', 'paced') };
    const delay = delayInput('mode_delay', 'Approve after');
    const perHour = h('input.input-num', { type: 'text', name: 'per_hour', inputmode: 'numeric', autocomplete: 'off',
        'aria-label': 'Approvals per hour' });
    const sub = h('div.mode-sub', null,
        h('label.radio', null, how.now, 'at once'),
        h('label.radio', null, how.delay, 'after', h('span.inline-fields', null, delay.nodes),
            h('span.muted', null, '(10 s to 24 h: a wave can be caught before anyone is let in)')),
        h('label.radio', null, how.paced, 'paced: at most', perHour, 'an hour, oldest first'));
    const rows = MODES.map(([v, label, line]) => h('label.mode-option', { dataset: { mode: v } }, inputs[v],
        h('span', null, h('span.mode-label', null, label), h('span.mode-line', null, line))));
    const account = h('select', { name: 'session_name', 'aria-label': 'Decide through' },
        h('option', { value: '' }, 'the bot'));
    const accountRow = h('label.inline.mode-account', null, h('span', null, 'Decide through'), account,
        h('span.muted.small', null, 'The account that approves, declines and bans for this mode and for Apply: ' +
            'an admin of the channel (banning needs the right to ban too).'));
    const save = h('button.btn.btn-primary', { type: 'submit' }, 'Save mode');
    const err = h('p.form-error', { role: 'alert', hidden: true });
    const ok = h('p.form-ok', { role: 'status', hidden: true });
    const form = h('form.mode-form', { novalidate: true },
        h('fieldset.mode-options', null, h('legend.sr-only', null, 'Mode'), rows.slice(0, 3), rows[3], sub),
        accountRow, err, ok, h('div.form-actions', null, save));
    const el = h('section.card.mode-card', { 'aria-labelledby': 'mode-title' },
        h('div.card-head', null, h('h2', { id: 'mode-title' }, 'Mode'), now),
        h('p.muted.small', null, 'How new requests are decided, the moment they are recorded. ' +
            'Requests already pending stay as they are.'), form);

    const sync = () => {
        sub.hidden = !inputs.approve_all.checked;
        accountRow.hidden = inputs.default.checked;
    };
    form.addEventListener('change', sync);

    // The account select shows name (a session that is gone still shows, for the API to refuse).
    function setAccount(name) {
        if (name && ![...account.options].some((o) => o.value === name)) {
            account.append(h('option', { value: name }, `session ${name}`));
        }
        account.value = name || '';
    }
    async function loadSessions() {
        try {
            const res = await api('GET', '/api/sessions');
            if (!ctx.alive) return;
            const chosen = account.value;
            account.replaceChildren(h('option', { value: '' }, 'the bot'),
                ...res.items.map((x) => h('option', { value: x.name },
                    `session ${x.name} (${x.type}${x.status === 'active' ? '' : `, ${x.status}`})`)));
            setAccount(chosen);
        } catch (e) {
            if (ctx.alive) showBanner(e.message);
        }
    }
    if (can('owner')) loadSessions(); // others see the mode's session by name (setAccount)

    let defaultMode = null;
    function show(modes) {
        defaultMode = modes.default;
        const chat = scope();
        const m = chat ? modes.channels.find((x) => x.chat_id === chat) || null : modes.default;
        rows[0].hidden = !chat;
        inputs[m ? m.mode : 'default'].checked = true;
        how.paced.checked = !!(m && m.per_hour);
        how.delay.checked = !!(m && m.delay_seconds);
        how.now.checked = !how.paced.checked && !how.delay.checked;
        delay.set(m && m.delay_seconds ? m.delay_seconds : 60);
        perHour.value = m && m.per_hour ? String(m.per_hour) : '100';
        setAccount(m ? m.session_name : null);
        now.textContent = chat && !m ? `Now: follows the default (${modeText(defaultMode)})`
            : `Now: ${modeText(m)}${m.session_name ? `, through session ${m.session_name}` : ''}`;
        now.dataset.mode = m ? m.mode : 'default';
        err.hidden = ok.hidden = true;
        sync();
    }

    function body() {
        const chat_id = scope();
        const mode = Object.keys(inputs).find((k) => inputs[k].checked);
        if (mode === 'default') return { chat_id, mode: null };
        const out = { chat_id, mode, session_name: account.value || null };
        if (mode === 'approve_all' && how.delay.checked) out.delay_seconds = delay.seconds();
        if (mode === 'approve_all' && how.paced.checked) {
            out.per_hour = /^\s*\d+\s*$/.test(perHour.value) ? Number(perHour.value) : perHour.value.trim();
        }
        return out;
    }

    // Saves, then shows the modes as the API has them now.
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        err.hidden = ok.hidden = true;
        try {
            const modes = await busy([save], async () => {
                await api('POST', '/api/modes', body());
                return api('GET', '/api/modes');
            });
            if (!ctx.alive) return;
            show(modes);
            ok.textContent = 'Saved.';
            ok.hidden = false;
        } catch (e) {
            if (!ctx.alive) return;
            err.textContent = e.message;
            err.hidden = false;
        }
    });
    return { el, show };
}
