// pages/setup.js: the setup page, opened from the link doorman prints on its first start: creates
// the first admin account and signs in.
import { h, busy, fieldRow } from '../dom.js';
import { api } from '../api.js';
import { showBanner } from '../frame.js';
import { go } from '../router.js';
import { authCard, signedIn } from './login.js';

const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;

// What is wrong with the form's values (a message), or null.
function setupProblem(token, name, pw1, pw2) {
    if (!token) return 'The setup token is missing: open the link doorman printed on its console.';
    if (!NAME_RE.test(name)) return 'The admin name must be 1–64 letters, digits, dots, dashes or underscores.';
    if (new TextEncoder().encode(pw1).length < 10) return 'The password must be at least 10 characters long.';
    if (pw1 !== pw2) return 'The two passwords differ.';
    return null;
}

export async function pageSetup(ctx, main, params) {
    document.title = 'Set up · doorman';
    let info;
    try {
        info = await api('GET', '/api/setup');
    } catch (e) {
        showBanner(e.message);
        return;
    }
    if (!ctx.alive) return;
    if (!info.needs_setup) {
        go('/login', null, 'doorman is already set up: sign in with your admin account.', 'info');
        return;
    }
    const token = params.get('token') || '';
    const err = h('p.form-error', { role: 'alert', hidden: true });
    const tokenIn = h('input', { name: 'token', type: 'text', autocomplete: 'off', required: true, value: token });
    const nameIn = h('input', { name: 'name', type: 'text', autocomplete: 'username', required: true,
        placeholder: 'admin' });
    const pw1 = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true });
    const pw2 = h('input', { name: 'password2', type: 'password', autocomplete: 'new-password', required: true });
    const submit = h('button.btn.btn-primary.btn-block', { type: 'submit' }, 'Create admin and sign in');
    const fail = (m) => { err.textContent = m; err.hidden = false; };
    const form = h('form.form', { novalidate: true },
        err,
        token ? null : fieldRow('Setup token', tokenIn, 'Printed on the console when doorman first started.'),
        fieldRow('Admin name', nameIn, 'Letters, digits, dot, dash and underscore.'),
        fieldRow('Password', pw1, 'At least 10 characters.'),
        fieldRow('Repeat password', pw2),
        submit);
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        err.hidden = true;
        const name = nameIn.value.trim();
        const problem = setupProblem(tokenIn.value.trim(), name, pw1.value, pw2.value);
        if (problem) return fail(problem);
        try {
            const me = await busy([submit], () => api('POST', '/api/setup',
                { token: tokenIn.value.trim(), name, password: pw1.value }));
            signedIn(me);
        } catch (e) {
            fail(e.message);
        }
    });
    authCard(main, 'Welcome to doorman', 'Create the first admin account.', form);
    nameIn.focus();
}
