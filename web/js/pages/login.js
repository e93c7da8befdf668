// pages/login.js: signing in (the login page), signing out (the top bar's Log out), and what the
// login and setup pages share: the card they sit in and what happens once signed in.
import { $, h, add, busy, fieldRow } from '../dom.js';
import { api } from '../api.js';
import { showBanner, hideBanner, showHeader } from '../frame.js';
import { go, navigate } from '../router.js';
import { fmtDuration } from '../format.js';
import { state } from '../state.js';

// The centred card of the login and setup pages.
export function authCard(main, title, subtitle, form) {
    add(main, h('div.auth', null,
        h('div.auth-card', null,
            h('div.auth-brand', null, h('span.brand-mark', { 'aria-hidden': 'true' }), 'doorman'),
            h('h1', null, title),
            subtitle ? h('p.muted', null, subtitle) : null,
            form)));
}

// Signed in (me: the login's answer, {admin, csrf_token}): who that is (GET /api/me: the role
// decides what the panel shows), then back to the page that asked for it, or Invite Requests.
export async function signedIn(me) {
    state.me = me;
    try {
        state.me = await api('GET', '/api/me');
    } catch (e) {
        showBanner(e.message);
    }
    showHeader();
    hideBanner();
    const next = state.afterLogin && !/^#\/?(login|setup)|^#token=/.test(state.afterLogin)
        ? state.afterLogin : '#/requests';
    state.afterLogin = null;
    navigate(next);
}

// The login form's error: the API's message, with when to try again after too many failures.
function loginError(e) {
    let msg = e.message;
    if (e.status === 429 && e.retryAfter && /^\d+$/.test(e.retryAfter) && !/again/i.test(msg)) {
        msg += ` You can try again in ${fmtDuration(Number(e.retryAfter))}.`;
    }
    return msg;
}

export function pageLogin(ctx, main) {
    document.title = 'Sign in · doorman';
    if (state.me) {
        go('/requests');
        return;
    }
    const err = h('p.form-error', { role: 'alert', hidden: true });
    const nameIn = h('input', { name: 'name', type: 'text', autocomplete: 'username', required: true });
    const pwIn = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    // asked for once the password was right and the admin has two-factor login on
    const codeIn = h('input', { name: 'code', type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code' });
    const codeRow = fieldRow('Code', codeIn, 'From your authenticator app, or a recovery code.');
    codeRow.hidden = true;
    const submit = h('button.btn.btn-primary.btn-block', { type: 'submit' }, 'Sign in');
    const form = h('form.form', { novalidate: true },
        err, fieldRow('Name', nameIn), fieldRow('Password', pwIn), codeRow, submit);
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        err.hidden = true;
        const body = { name: nameIn.value.trim(), password: pwIn.value };
        if (!codeRow.hidden && codeIn.value.trim()) body.code = codeIn.value.trim();
        try {
            const me = await busy([submit], () => api('POST', '/api/login', body));
            signedIn(me);
        } catch (e) {
            err.textContent = loginError(e);
            err.hidden = false;
            if (e.code === 'totp_required' || e.code === 'wrong_code') {
                codeRow.hidden = false;
                codeIn.value = '';
                codeIn.focus();
                return;
            }
            pwIn.value = '';
            pwIn.focus();
        }
    });
    authCard(main, 'Sign in', null, form);
    nameIn.focus();
}

// Log out (the top bar's button): ends the session on the server, then the login page.
export async function logout() {
    const btn = $('#logout');
    try {
        await busy([btn], () => api('POST', '/api/logout'));
    } catch (e) {
        if (e.status !== 401) {
            showBanner(e.message);
            return;
        }
    }
    state.me = null;
    state.lastJobId = null;
    state.lastLoadJobId = null;
    state.afterLogin = null;
    showHeader();
    hideBanner();
    go('/login');
}
