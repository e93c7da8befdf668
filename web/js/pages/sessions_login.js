// pages/sessions_login.js: Create New Session, the login wizard of the Sessions page: name, API ID,
// hash, phone → code (sent again by SMS when asked) → 2FA password if the account has one. The
// login_id is kept in sessionStorage until the login ends, so a reload (or a doorman restart) goes
// on where it was.
import { h, fieldRow, busy } from '../dom.js';
import { api } from '../api.js';
import { showBanner } from '../frame.js';
import { pageModal } from '../modal.js';
import { fmtPhone, accountLabel } from '../format.js';
import { sessionFields } from './sessions_forms.js';

const LOGIN_KEY = 'doorman.sessionLogin'; // sessionStorage: login_id of an unfinished Create New Session

// The login_id of this tab's unfinished login (private mode: none is kept).
const savedLogin = {
    get() {
        try { return sessionStorage.getItem(LOGIN_KEY); } catch (e) { return null; }
    },
    set(id) {
        try { sessionStorage.setItem(LOGIN_KEY, id); } catch (e) { /* private mode: no resuming */ }
    },
    forget() {
        try { sessionStorage.removeItem(LOGIN_KEY); } catch (e) { /* nothing kept */ }
    },
};

// Errors after which this login cannot go on: the API's message, then the first step.
const fatal = (e) => ['login_not_found', 'code_expired', 'sign_up_required', 'email_setup_required'].includes(e.code);

// Where a code went (the API's code_type), and how to ask for it again (its next_type).
const codeWhere = {
    app: 'It arrives in the Telegram app, as a message from “Telegram”.',
    sms: 'It arrives by SMS.',
    call: 'Telegram calls the number and says it.',
    email: 'It arrives at the account’s login email.',
    fragment: 'It arrives on Fragment.',
};
const resendLabel = { sms: 'Send the code by SMS', call: 'Call me with the code' };
const resentHow = { sms: 'by SMS', call: 'by a call' };

// Opens the wizard. resume: the API's answer to GET /api/sessions/login/{id} (goes on from there);
// failed: a message to show on the first step (the saved login could not be resumed);
// onCreated(session) once the session exists.
export function createSessionWizard(ctx, { resume, failed, onCreated }) {
    let loginId = resume ? resume.login_id : null;
    let values = resume ? { name: resume.name, phone: resume.phone } : {};
    const m = pageModal(ctx, {
        title: 'Create New Session',
        onClose: (byPage) => {
            if (!byPage) savedLogin.forget(); // the admin gave up: a reload starts afresh
        },
    });

    const startOver = (message) => {
        loginId = null;
        savedLogin.forget();
        stepPhone();
        if (message) m.fail(message);
    };

    function stepPhone() {
        const f = sessionFields({ values });
        m.step({
            title: 'Create New Session',
            body: [h('p.muted', null, 'Log in with a Telegram account: Telegram sends a code to its app.'), f.rows],
            submitLabel: 'Send Phone',
            focus: f.first,
            onSubmit: async () => {
                const body = f.check(true);
                values = f.values();
                const res = await api('POST', '/api/sessions/login', body);
                loginId = res.login_id;
                savedLogin.set(loginId);
                stepCode(res.phone || body.phone, res);
            },
        });
    }

    // A step that sends one secret of the login (the code, the password) to path as
    // {login_id, [name]: value}: intro and the field, "Start over" (and more buttons), and what to
    // do when it is refused (onRefused, before the message shows) or accepted (onDone(answer)).
    function secretStep({ title, intro, label, hint, input, submitLabel, missing, path, onRefused, onDone, buttons = [] }) {
        const back = h('button.btn.btn-ghost', { type: 'button' }, 'Start over');
        back.addEventListener('click', () => startOver());
        m.step({
            title,
            body: [intro, fieldRow(label, input, hint)],
            submitLabel,
            buttons: [back, ...buttons],
            focus: input,
            onSubmit: async () => {
                const value = input.type === 'password' ? input.value : input.value.trim();
                if (!value) throw new Error(missing);
                let res;
                try {
                    res = await api('POST', path, { login_id: loginId, [input.name]: value });
                } catch (e) {
                    if (fatal(e)) return startOver(e.message);
                    onRefused();
                    throw e;
                }
                onDone(res);
            },
        });
    }

    // sent: how the code went ({code_type, next_type} of the API's answer).
    function stepCode(phone, sent = {}) {
        const code = h('input.code-input', { type: 'text', name: 'code', inputmode: 'numeric',
            autocomplete: 'one-time-code', required: true });
        const buttons = [];
        if (sent.next_type) {
            const again = h('button.btn.btn-ghost', { type: 'button' },
                resendLabel[sent.next_type] || 'Send the code another way');
            again.addEventListener('click', () => busy([again], async () => {
                m.clearMessages();
                try {
                    const res = await api('POST', '/api/sessions/login/resend', { login_id: loginId });
                    stepCode(phone, res);
                    m.info(`Telegram sent the code again${resentHow[res.code_type] ? ` ${resentHow[res.code_type]}` : ''}.`);
                } catch (e) {
                    if (fatal(e)) startOver(e.message);
                    else m.fail(e.message);
                }
            }));
            buttons.push(again);
        }
        secretStep({
            title: 'Enter the code',
            intro: h('p', null, 'Telegram sent a login code to ', h('strong', null, fmtPhone(phone)),
                '. ', codeWhere[sent.code_type] || 'It arrives in the Telegram app (or by SMS).'),
            label: 'Verification code',
            input: code,
            submitLabel: 'Submit Code',
            missing: 'Enter the code Telegram sent.',
            path: '/api/sessions/login/code',
            onRefused: () => code.select(),
            onDone: (res) => (res.state === 'password_needed' ? stepPassword(res.hint) : finish(res.session)),
            buttons,
        });
    }

    function stepPassword(hint) {
        const pw = h('input', { type: 'password', name: 'password', autocomplete: 'off', required: true });
        secretStep({
            title: 'Two-step verification',
            intro: h('p', null, 'This account has a cloud password (two-step verification). Enter it to finish.'),
            label: '2FA password',
            hint: hint ? `Hint: ${hint}` : null,
            input: pw,
            submitLabel: 'Submit Password',
            missing: 'Enter the account’s cloud password.',
            path: '/api/sessions/login/password',
            onRefused: () => { pw.value = ''; pw.focus(); },
            onDone: (res) => finish(res.session),
        });
    }

    function finish(session) {
        loginId = null;
        savedLogin.forget();
        m.step({
            title: 'Session created',
            body: h('p', null, 'Session ', h('strong', null, session.name), ' is ready',
                session.account ? [': ', accountLabel(session.account)] : '', '.'),
            submitLabel: 'Done',
            cancelLabel: null,
            onSubmit: async () => m.close(),
        });
        m.info('Session created successfully!');
        onCreated(session);
    }

    if (resume && resume.state === 'password_needed') stepPassword(resume.hint);
    else if (resume) stepCode(resume.phone, resume);
    else {
        stepPhone();
        if (failed) m.fail(failed);
    }
}

// A login left unfinished in this tab (reload, restart): the wizard goes on where it was; one that
// doorman no longer knows opens the wizard afresh with the API's message.
export async function resumeSessionLogin(ctx, { onCreated }) {
    const id = savedLogin.get();
    if (!id) return;
    try {
        const res = await api('GET', `/api/sessions/login/${encodeURIComponent(id)}`);
        if (ctx.alive) createSessionWizard(ctx, { resume: res, onCreated });
    } catch (e) {
        if (!ctx.alive) return;
        if (e.status === 404) {
            savedLogin.forget();
            createSessionWizard(ctx, { failed: e.message, onCreated });
        } else if (e.status !== 401) {
            showBanner(e.message);
        }
    }
}
