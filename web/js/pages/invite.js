// pages/invite.js: the page of an invitation link ("/invite#token=…") an owner made: the new
// admin chooses a name and a password, and is signed in.
import { h, busy, fieldRow } from '../dom.js';
import { api } from '../api.js';
import { authCard, signedIn } from './login.js';

export async function pageInvite(ctx, main, params) {
    document.title = 'Join · doorman';
    const token = params.get('token') || '';
    let info = null, problem = null;
    try {
        info = await api('GET', `/api/invite?token=${encodeURIComponent(token)}`);
    } catch (e) {
        problem = e.message;
    }
    if (!ctx.alive) return;
    if (problem) {
        authCard(main, 'Invitation', null, h('p.form-error', { role: 'alert' }, problem));
        return;
    }
    const err = h('p.form-error', { role: 'alert', hidden: true });
    const nameIn = h('input', { name: 'name', type: 'text', autocomplete: 'username', required: true });
    const pw = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true });
    const submit = h('button.btn.btn-primary.btn-block', { type: 'submit' }, 'Create account and sign in');
    const form = h('form.form', { novalidate: true }, err,
        fieldRow('Admin name', nameIn, 'Letters, digits, dot, dash and underscore.'),
        fieldRow('Password', pw, 'At least 10 characters.'), submit);
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        err.hidden = true;
        try {
            const me = await busy([submit], () => api('POST', '/api/invite', { token, name: nameIn.value.trim(), password: pw.value }));
            signedIn(me);
        } catch (e) {
            err.textContent = e.message;
            err.hidden = false;
        }
    });
    authCard(main, 'Join doorman', `${info.by} invited you as ${info.role}.`, form);
    nameIn.focus();
}
