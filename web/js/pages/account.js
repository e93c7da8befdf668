// pages/account.js: the Account page, for every admin: change the password, turn two-factor
// login (TOTP) on or off (the secret and the recovery codes are shown once), and the API tokens
// (made with a role no higher than the admin's, the value shown once; owners see everyone's).
import { h, add, busy, fieldRow, labelCells, tableHead } from '../dom.js';
import { api } from '../api.js';
import { showBanner } from '../frame.js';
import { fmtTime, fmtTimeFull } from '../format.js';
import { state, ROLES, roleAtLeast } from '../state.js';
import { channelPicker } from './admins.js';

// A card's form: fields, a submit button and its messages; onSubmit(ok) runs the request.
function cardForm(label, fields, onSubmit) {
    const err = h('p.form-error', { role: 'alert', hidden: true });
    const ok = h('p.form-ok', { role: 'status', hidden: true });
    const submit = h('button.btn.btn-primary', { type: 'submit' }, label);
    const form = h('form.form', { novalidate: true }, err, ok, fields, h('div.form-actions', null, submit));
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        err.hidden = ok.hidden = true;
        try {
            const said = await busy([submit], () => onSubmit());
            if (said) { ok.textContent = said; ok.hidden = false; }
        } catch (e) {
            err.textContent = e.message;
            err.hidden = false;
        }
    });
    return form;
}

function passwordCard() {
    const cur = h('input', { type: 'password', name: 'current_password', autocomplete: 'current-password' });
    const next = h('input', { type: 'password', name: 'new_password', autocomplete: 'new-password' });
    const form = cardForm('Change password', [fieldRow('Current password', cur),
        fieldRow('New password', next, 'At least 10 characters.')], async () => {
        await api('POST', '/api/me/password', { current_password: cur.value, new_password: next.value });
        cur.value = next.value = '';
        return 'Password changed.';
    });
    return h('section.card', null, h('h2', null, 'Password'), form);
}

function totpCard(me) {
    const body = h('div.totp-body');
    const card = h('section.card', null, h('h2', null, 'Two-factor login'), body);
    const show = (on) => {
        if (on) {
            const pw = h('input', { type: 'password', name: 'password', autocomplete: 'current-password' });
            body.replaceChildren(h('p', null, 'On: signing in asks for a code of your authenticator app.'),
                cardForm('Turn off', [fieldRow('Password', pw)], async () => {
                    await api('POST', '/api/me/totp/disable', { password: pw.value });
                    show(false);
                }));
            return;
        }
        const start = h('button.btn.btn-secondary', { type: 'button' }, 'Set up two-factor login');
        start.addEventListener('click', async () => {
            try {
                const s = await busy([start], () => api('POST', '/api/me/totp/setup'));
                const code = h('input', { name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '6' });
                body.replaceChildren(
                    h('p', null, 'Add this key to your authenticator app (it is shown only now), then enter the code it shows.'),
                    h('p', null, h('code.mono.totp-secret', null, s.secret)),
                    h('p', null, h('code.mono.totp-uri', null, s.uri)),
                    cardForm('Turn on', [fieldRow('Code', code)], async () => {
                        const r = await api('POST', '/api/me/totp/enable', { code: code.value.trim() });
                        body.replaceChildren(
                            h('p', null, 'Two-factor login is on. Keep these recovery codes somewhere safe: each works once instead of a code, and they are shown only now.'),
                            h('ul.recovery-codes', null, r.recovery_codes.map((c) => h('li', null, h('code.mono', null, c)))),
                            h('button.btn.btn-ghost', { type: 'button', onclick: () => show(true) }, 'Done'));
                    }));
                code.focus();
            } catch (e) {
                showBanner(e.message);
            }
        });
        body.replaceChildren(h('p.muted', null, 'Off: signing in asks only for your password.'), start);
    };
    show(me.totp);
    return card;
}

function tokensCard(ctx) {
    const tbody = h('tbody');
    const table = labelCells(h('table.table.tokens-table', null,
        tableHead('Name', 'Admin', 'Role', 'Channels', 'Created', 'Last used', ''), tbody));
    const shown = h('div.token-shown', { hidden: true });
    const name = h('input', { name: 'token_name', maxlength: '32', placeholder: 'ci' });
    const mine = ROLES.filter((r) => roleAtLeast(state.me.role, r));
    const role = h('select', { name: 'token_role' }, mine.map((r) => h('option', { value: r }, r)));
    const channels = channelPicker();
    const syncRole = () => { channels.el.hidden = role.value === 'owner'; };
    role.addEventListener('change', syncRole);
    async function load() {
        const r = await api('GET', '/api/tokens');
        if (!ctx.alive) return;
        tbody.replaceChildren(...r.items.map((t) => {
            const revoke = h('button.btn.btn-danger-outline.btn-small', { type: 'button' }, 'Revoke');
            revoke.addEventListener('click', async () => {
                try {
                    await busy([revoke], () => api('POST', `/api/tokens/${t.id}/revoke`));
                    load();
                } catch (e) { showBanner(e.message); }
            });
            return h('tr', null, h('td', null, t.name), h('td', null, t.admin), h('td', null, t.role),
                h('td', null, t.channels ? t.channels.join(', ') : 'all'),
                h('td.date', { title: fmtTimeFull(t.created_at) }, fmtTime(t.created_at)),
                h('td.date', null, t.last_used_at ? fmtTime(t.last_used_at) : 'never'), h('td', null, revoke));
        }));
    }
    const form = cardForm('Create token', [fieldRow('Name', name, 'Letters, digits, dot, dash, underscore.'),
        fieldRow('Role', role, 'At most your own.'), channels.el], async () => {
        const body = { name: name.value.trim(), role: role.value };
        if (role.value !== 'owner') body.channels = channels.value();
        const r = await api('POST', '/api/tokens', body);
        shown.replaceChildren(h('p', null, 'Copy the token now: it is not shown again. Send it as "Authorization: Bearer <token>".'),
            h('p', null, h('code.mono.token-value', null, r.token.token)));
        shown.hidden = false;
        name.value = '';
        await load();
        return null;
    });
    channels.load().then(syncRole);
    load().catch((e) => showBanner(e.message));
    return h('section.card.tokens-card', null, h('h2', null, 'API tokens'), shown, h('div.table-wrap', null, table), form);
}

export async function pageAccount(ctx, main) {
    document.title = 'Account · doorman';
    let me;
    try {
        me = await api('GET', '/api/me');
    } catch (e) {
        showBanner(e.message);
        return;
    }
    if (!ctx.alive) return;
    add(main,
        h('div.page-head', null, h('h1', null, 'Account'),
            h('p.muted', null, `${me.admin} · ${me.role}${me.channels ? ` in ${me.channels.length} channel${me.channels.length === 1 ? '' : 's'}` : ''}`)),
        h('div.account-grid', null, passwordCard(), totpCard(me), tokensCard(ctx)));
}
