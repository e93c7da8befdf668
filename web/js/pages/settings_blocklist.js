// pages/settings_blocklist.js: the Settings page's blocklist service (blocklist_url of
// GET/POST /api/settings), which the rules' "On the blocklist" condition asks; "" turns it off.
// The API checks the address: its 400 is shown as it says it, and nothing is saved.
import { h, busy, fieldRow } from '../dom.js';
import { api } from '../api.js';

// The card; fill(settings) shows the saved address; onSaved(settings) after a save.
export function blocklistCard(ctx, { onSaved }) {
    const url = h('input.mono', { type: 'url', name: 'blocklist_url', autocomplete: 'off', spellcheck: 'false',
        placeholder: 'https://api.cas.chat' });
    const save = h('button.btn.btn-primary', { type: 'submit' }, 'Save');
    const err = h('p.form-error', { role: 'alert', hidden: true });
    const ok = h('p.form-ok', { role: 'status', hidden: true });
    const state = h('span.mode-now');
    const form = h('form.form.blocklist-form', { novalidate: true }, err, ok,
        fieldRow('Address', url, 'A service with the interface of CAS (Combot Anti-Spam), e.g. ' +
            'https://api.cas.chat: the rules\' “On the blocklist” condition asks it about each user. ' +
            'Leave empty to turn it off; while it is off, rules with that condition are passed over.'),
        h('div.form-actions', null, save));
    const el = h('section.card.blocklist-card', { 'aria-labelledby': 'blocklist-title' },
        h('div.card-head', null, h('h2', { id: 'blocklist-title' }, 'Blocklist service'), state), form);

    function fill(s) {
        url.value = s.blocklist_url || '';
        state.textContent = s.blocklist_url ? 'On' : 'Off';
        state.dataset.on = String(!!s.blocklist_url);
    }

    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        err.hidden = ok.hidden = true;
        try {
            const s = await busy([save], () => api('POST', '/api/settings', { blocklist_url: url.value.trim() }));
            if (!ctx.alive) return;
            fill(s);
            onSaved(s);
            ok.textContent = s.blocklist_url ? 'Saved: the rules ask this service.' : 'Saved: the blocklist service is off.';
            ok.hidden = false;
        } catch (e) {
            if (!ctx.alive) return;
            err.textContent = e.message;
            err.hidden = false;
        }
    });
    return { el, fill };
}
