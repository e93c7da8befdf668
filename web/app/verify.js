// The verification Mini App (docs/verification.md): an applicant's challenge, opened in
// Telegram's Web App view. It follows telegram-web-app.js's conventions without loading it:
// the launch parameters come from the URL fragment (tgWebAppData, tgWebAppThemeParams,
// tgWebAppVersion, tgWebAppPlatform; kept in sessionStorage for a reload, as that script keeps
// them), the theme's colours become --tg-theme-* properties, and the host is told
// web_app_ready, web_app_expand, web_app_setup_main_button and web_app_close through the
// channel it offers (TelegramWebviewProxy, window.external.notify, or the parent frame). When
// Telegram's own script is on the page, its WebApp object is used instead. Outside a Telegram
// host the page shows its own button. Every text (the admins', Telegram's names) is shown with
// textContent: never markup.

const STORE_KEY = '__telegram__initParams';

function launchParams() {
    const params = {};
    const hash = location.hash.replace(/^#/, '');
    for (const [k, v] of new URLSearchParams(hash)) params[k] = v;
    try {
        if (params.tgWebAppData) sessionStorage.setItem(STORE_KEY, JSON.stringify(params));
        else Object.assign(params, JSON.parse(sessionStorage.getItem(STORE_KEY) || '{}'));
    } catch { /* storage off: a reload asks Telegram again */ }
    const tg = window.Telegram && window.Telegram.WebApp;
    if (tg && tg.initData) params.tgWebAppData = tg.initData;
    return params;
}

// ---- the host (Telegram's app) ----

const hostWebApp = () => (window.Telegram && window.Telegram.WebApp) || null;

function postEvent(type, data = {}) {
    try {
        if (window.TelegramWebviewProxy) {
            window.TelegramWebviewProxy.postEvent(type, JSON.stringify(data));
        } else if (window.external && 'notify' in window.external) {
            window.external.notify(JSON.stringify({ eventType: type, eventData: data }));
        } else if (window.parent !== window) {
            window.parent.postMessage(JSON.stringify({ eventType: type, eventData: data }), '*');
        }
    } catch { /* no host */ }
}

function inTelegram() {
    return !!(hostWebApp() || window.TelegramWebviewProxy ||
        (window.external && 'notify' in window.external) || window.parent !== window);
}

const handlers = {};
function onEvent(type, fn) { handlers[type] = fn; }
function receiveEvent(type, data) { if (handlers[type]) handlers[type](data); }
// Telegram's apps call window.Telegram.WebView.receiveEvent; its web clients post messages
window.Telegram = window.Telegram || {};
if (!window.Telegram.WebView) window.Telegram.WebView = { receiveEvent };
window.addEventListener('message', (ev) => {
    if (ev.source !== window.parent) return;
    try {
        const m = JSON.parse(ev.data);
        if (m && typeof m.eventType === 'string') receiveEvent(m.eventType, m.eventData);
    } catch { /* not Telegram's */ }
});

const COLOR = /^#[0-9a-fA-F]{6}$/;
function applyTheme(raw) {
    let theme = {};
    try { theme = JSON.parse(raw || '{}') || {}; } catch { theme = {}; }
    const root = document.documentElement.style;
    for (const [k, v] of Object.entries(theme)) {
        if (/^[a-z_]{1,40}$/.test(k) && typeof v === 'string' && COLOR.test(v)) {
            root.setProperty(`--tg-theme-${k.replace(/_/g, '-')}`, v);
        }
    }
    return theme;
}

// ---- the page ----

const app = document.getElementById('app');

function el(tag, props = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
        if (k === 'text') e.textContent = v;
        else if (k === 'class') e.className = v;
        else e[k] = v;
    }
    for (const c of children) if (c) e.append(c);
    return e;
}

function showStatus(text, cls = 'status') {
    app.replaceChildren(el('p', { class: cls, id: 'status', text }));
}

async function call(path, body) {
    const res = await fetch(path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        credentials: 'omit',
    });
    let json = null;
    try { json = await res.json(); } catch { json = null; }
    if (!res.ok) {
        const msg = json && json.error ? json.error.message : `The server answered ${res.status}.`;
        const err = new Error(msg);
        err.code = json && json.error ? json.error.code : 'http';
        throw err;
    }
    return json;
}

function stepRules(s) {
    const box = el('input', { type: 'checkbox', name: 'accepted', id: 'accepted' });
    return {
        node: el('section', { class: 'step rules' },
            el('p', { class: 'rules-text', text: s.text }),
            el('label', { class: 'check' }, box, el('span', { text: s.accept }))),
        read: (a) => { a.accepted = box.checked; },
    };
}

function stepQuestion(s) {
    const radios = s.choices.map((c, i) => el('input', { type: 'radio', name: 'choice', value: String(i) }));
    return {
        node: el('section', { class: 'step question' },
            el('p', { text: s.question }),
            ...s.choices.map((c, i) => el('label', { class: 'choice' }, radios[i], el('span', { text: c })))),
        read: (a) => {
            const r = radios.find((x) => x.checked);
            if (r) a.choice = Number(r.value);
        },
    };
}

function stepCaptcha(s) {
    const img = el('img', { alt: '', src: s.image, id: 'captcha-image' });
    const input = el('input', {
        type: 'text', name: 'captcha', id: 'captcha', inputMode: 'numeric', autocomplete: 'off', maxLength: 16,
    });
    const note = el('p', { class: 'error', id: 'captcha-note' });
    note.hidden = true;
    return {
        node: el('section', { class: 'step captcha' }, el('p', { text: s.prompt }), img, input, note),
        read: (a) => { a.captcha = input.value.trim(); },
        retry: (image, left) => {
            img.src = image;
            input.value = '';
            note.textContent = `✗ ${left}`;
            note.hidden = false;
            input.focus();
        },
    };
}

function stepText(s) {
    const area = el('textarea', { name: 'text', id: 'answer-text', maxLength: 1024 });
    return {
        node: el('section', { class: 'step text' }, el('p', { text: s.prompt }), area),
        read: (a) => { a.text = area.value; },
    };
}

const STEPS = { rules: stepRules, question: stepQuestion, captcha: stepCaptcha, text: stepText };

function finish(view, state) {
    const passed = state === 'passed';
    app.replaceChildren(
        el('h1', { text: view.title }),
        el('p', { class: `result ${passed ? 'passed' : 'failed'}`, id: 'result', text: passed ? view.passed : view.failed }));
    app.dataset.state = state;
    const tg = hostWebApp();
    if (tg) tg.MainButton.hide();
    else postEvent('web_app_setup_main_button', { is_visible: false });
    setTimeout(() => (tg ? tg.close() : postEvent('web_app_close')), 2500);
}

function render(view, launch) {
    document.documentElement.lang = view.language === 'default' ? 'en' : view.language;
    const steps = view.steps.map((s) => STEPS[s.kind](s));
    const submit = el('button', { type: 'button', class: 'submit', id: 'submit', text: view.submit });
    const error = el('p', { class: 'error', id: 'error' });
    error.hidden = true;
    const name = view.name ? el('p', { class: 'hello', id: 'hello', text: view.name }) : null;
    app.replaceChildren(el('h1', { text: view.title }), name, ...steps.map((s) => s.node), error);
    const tg = hostWebApp();
    const telegram = inTelegram();
    if (!telegram) app.append(submit);
    app.dataset.state = 'opened';

    let busy = false;
    const send = async () => {
        if (busy) return;
        busy = true;
        submit.disabled = true;
        error.hidden = true;
        const answer = { request_id: launch.requestId, init_data: launch.initData };
        for (const s of steps) s.read(answer);
        try {
            const r = await call('/api/app/verify/answer', answer);
            if (r.state === 'opened' && r.retry === 'captcha') {
                steps.find((s) => s.retry).retry(r.image, r.attempts_left);
            } else {
                finish(view, r.state);
                return;
            }
        } catch (e) {
            error.textContent = e.message;
            error.hidden = false;
        } finally {
            busy = false;
            submit.disabled = false;
        }
    };
    submit.addEventListener('click', send);
    if (tg) {
        tg.MainButton.setText(view.submit);
        tg.MainButton.onClick(send);
        tg.MainButton.show();
    } else if (telegram) {
        onEvent('main_button_pressed', send);
        postEvent('web_app_setup_main_button', { is_visible: true, is_active: true, text: view.submit });
    }
}

async function main() {
    const params = launchParams();
    applyTheme(params.tgWebAppThemeParams);
    const tg = hostWebApp();
    if (tg) { tg.ready(); tg.expand(); } else { postEvent('web_app_ready'); postEvent('web_app_expand'); }
    const requestId = Number(new URLSearchParams(location.search).get('r'));
    const initData = params.tgWebAppData || '';
    if (!requestId || !initData) {
        showStatus('Open this page from the button Telegram shows you.', 'error');
        return;
    }
    try {
        const view = await call('/api/app/verify/open', { request_id: requestId, init_data: initData });
        render(view, { requestId, initData });
    } catch (e) {
        showStatus(e.message, 'error');
        app.dataset.state = e.code;
    }
}

main();
