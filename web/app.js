// doorman admin panel: a single page client of the JSON API in docs/api.md.
//
// Rules this file keeps:
// - Everything that comes from Telegram or the server is put into the page as text
//   (textContent / Text nodes / attribute values), never parsed as HTML. There is no innerHTML here.
// - The server sends a strict Content-Security-Policy: no inline scripts, styles or handlers, so
//   all behaviour lives in this module and all looks in style.css.
// - Every state-changing request carries X-CSRF-Token; every error shown is the API's message.

const PAGE_SIZE = 100;
const JOB_POLL_MS = 500;
const STATUS_TABS = [
    ['pending', 'Pending'],
    ['approved', 'Approved'],
    ['declined', 'Declined'],
    ['all', 'All'],
];
const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;

const state = {
    me: null,          // {admin, csrf_token} once signed in
    page: null,        // the live page context: {alive, timers}
    lastJobId: null,   // the decision job shown on the Invite Requests page
    lastLoadJobId: null, // the load job shown on the Sessions page
    afterLogin: null,  // the hash to return to after signing in
    flash: null,       // [message, kind] to show on the next page rendered
};

// ---------------------------------------------------------------------------------------------
// DOM helpers

const PROPS = new Set(['value', 'checked', 'disabled', 'hidden', 'indeterminate', 'max', 'min',
    'selected', 'htmlFor', 'colSpan', 'type', 'name', 'placeholder', 'autocomplete', 'required',
    'readOnly', 'step']);

// h('tag.class', {attrs}, ...children): children are Nodes or strings (added as text, inert).
function h(spec, props, ...children) {
    const [tag, ...classes] = spec.split('.');
    const el = document.createElement(tag || 'div');
    if (classes.length) el.className = classes.join(' ');
    if (props) {
        for (const [k, v] of Object.entries(props)) {
            if (v === undefined || v === null || v === false) continue;
            if (k === 'class') el.className = [el.className, v].filter(Boolean).join(' ');
            else if (k === 'dataset') Object.assign(el.dataset, v);
            else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
            else if (PROPS.has(k)) el[k] = v;
            else el.setAttribute(k, v === true ? '' : String(v));
        }
    }
    add(el, ...children);
    return el;
}

// Appends children (Nodes, strings as text, nested arrays; null/false skipped).
function add(el, ...children) {
    for (const c of children.flat(Infinity)) {
        if (c === undefined || c === null || c === false) continue;
        el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
}

function clear(el) {
    el.replaceChildren();
    return el;
}

const $ = (sel, root = document) => root.querySelector(sel);

// ---------------------------------------------------------------------------------------------
// Formatting

const nf = new Intl.NumberFormat();
const fmtNum = (n) => nf.format(n || 0);
const pad2 = (n) => String(n).padStart(2, '0');

function fmtTime(ts) {
    if (!ts) return '—';
    const d = new Date(ts * 1000);
    return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ` +
        `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

function fmtTimeFull(ts) {
    return ts ? new Date(ts * 1000).toString() : '';
}

function fmtAgo(ts) {
    if (!ts) return 'never';
    const s = Math.max(0, Math.round(Date.now() / 1000 - ts));
    if (s < 60) return `${s} s ago`;
    if (s < 3600) return `${Math.floor(s / 60)} min ago`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
    return fmtTime(ts);
}

function fmtDuration(s) {
    s = Math.max(0, Math.ceil(s));
    if (s < 60) return `${s} s`;
    const m = Math.floor(s / 60);
    return m < 60 ? `${m} min ${pad2(s % 60)} s` : `${Math.floor(m / 60)} h ${pad2(m % 60)} min`;
}

// "YYYY-MM-DD" (local calendar day) to Unix seconds at its start or its last second.
function dayStart(day) {
    const [y, m, d] = day.split('-').map(Number);
    return Math.floor(new Date(y, m - 1, d).getTime() / 1000);
}
function dayEnd(day) {
    const [y, m, d] = day.split('-').map(Number);
    return Math.floor(new Date(y, m - 1, d + 1).getTime() / 1000) - 1;
}

function fullName(r) {
    return [r.first_name, r.last_name].filter(Boolean).join(' ') || '(no name)';
}

function badge(status, text) {
    return h('span.badge', { class: `badge-${status}` }, text || status);
}

// ---------------------------------------------------------------------------------------------
// API client

class ApiError extends Error {
    constructor(status, code, message, retryAfter, detail) {
        super(message);
        this.status = status;
        this.code = code;
        this.retryAfter = retryAfter;
        this.detail = detail || {}; // the API's error object as sent (e.g. retry_after of flood_wait)
    }
}

async function api(method, path, body) {
    const opts = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (method !== 'GET') {
        opts.headers['Content-Type'] = 'application/json';
        if (state.me) opts.headers['X-CSRF-Token'] = state.me.csrf_token;
        opts.body = JSON.stringify(body || {});
    }
    let res;
    try {
        res = await fetch(path, opts);
    } catch (e) {
        throw new ApiError(0, 'network', 'Cannot reach doorman. Is it running? (' + e.message + ')');
    }
    let data = null;
    try {
        data = await res.json();
    } catch (e) {
        data = null;
    }
    if (!res.ok) {
        const err = data && data.error ? data.error : {};
        const e = new ApiError(res.status, err.code || `http_${res.status}`,
            err.message || `doorman answered HTTP ${res.status}.`, res.headers.get('Retry-After'), err);
        // An expired session anywhere but at the login form: back to the login form.
        if (res.status === 401 && path !== '/api/login' && state.me) {
            state.me = null;
            state.afterLogin = location.hash;
            showHeader();
            go('/login', null, 'Your session has ended. Please sign in again.');
        }
        throw e;
    }
    return data;
}

function qs(params) {
    const u = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
        if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
    }
    const s = u.toString();
    return s ? '?' + s : '';
}

// Runs fn with the buttons disabled (a request in flight); re-enables them afterwards.
async function busy(buttons, fn) {
    const list = buttons.filter(Boolean);
    const before = list.map((b) => b.disabled);
    list.forEach((b) => { b.disabled = true; b.classList.add('is-busy'); });
    try {
        return await fn();
    } finally {
        list.forEach((b, i) => { b.disabled = before[i]; b.classList.remove('is-busy'); });
    }
}

// ---------------------------------------------------------------------------------------------
// Banner, header, modal

function showBanner(message, kind = 'error') {
    const b = $('#banner');
    $('#banner-text').textContent = message;
    b.className = `banner banner-${kind}`;
    b.hidden = false;
}

function hideBanner() {
    $('#banner').hidden = true;
}

function showHeader() {
    $('#topbar').hidden = !state.me;
    $('#admin-name').textContent = state.me ? state.me.admin : '';
}

// A modal confirmation; resolves true when confirmed.
function confirmDialog({ title, body, confirmLabel, danger }) {
    return new Promise((resolve) => {
        const ok = h('button.btn', { type: 'submit', value: 'ok', class: danger ? 'btn-danger' : 'btn-primary' },
            confirmLabel);
        const cancel = h('button.btn.btn-ghost', { type: 'submit', value: 'cancel' }, 'Cancel');
        const dlg = h('dialog.modal', { 'aria-labelledby': 'modal-title' },
            h('form', { method: 'dialog' },
                h('h2', { id: 'modal-title' }, title),
                h('div.modal-body', null, body),
                h('div.modal-actions', null, cancel, ok)));
        dlg.addEventListener('close', () => {
            resolve(dlg.returnValue === 'ok');
            dlg.remove();
        });
        document.body.append(dlg);
        dlg.showModal();
        cancel.focus();
    });
}

// A modal whose form stays open while its requests run (the wizards of the Sessions page).
// step({...}) replaces its content; the dialog is removed once closed (Cancel, Escape or close()),
// then onClose(closedByPage) runs: closedByPage is true when the page was left, not the dialog.
function formModal({ title, onClose }) {
    const heading = h('h2', { id: 'modal-title' }, title);
    const err = h('p.form-error', { role: 'alert', hidden: true });
    const ok = h('p.form-ok', { role: 'status', hidden: true });
    const fields = h('div.modal-fields');
    const actions = h('div.modal-actions');
    const form = h('form.form', { novalidate: true }, heading, err, ok, fields, actions);
    const dlg = h('dialog.modal.modal-form', { 'aria-labelledby': 'modal-title' }, form);
    let submit = null;
    let submitBtn = null;
    let byPage = false;
    const m = {
        // Shows a step: its fields (nodes), the primary button's label and what it does (an
        // async function; an error it throws is shown with its message), and more buttons.
        // Returns the primary button (null without submitLabel); danger styles it red.
        step({ title: t, body, submitLabel, onSubmit, buttons = [], cancelLabel = 'Cancel', focus, danger }) {
            if (t) heading.textContent = t;
            fields.replaceChildren(...[body].flat(Infinity).filter(Boolean));
            submit = onSubmit || null;
            submitBtn = submitLabel
                ? h('button.btn', { type: 'submit', class: danger ? 'btn-danger' : 'btn-primary' }, submitLabel) : null;
            const cancel = cancelLabel ? h('button.btn.btn-ghost', { type: 'button' }, cancelLabel) : null;
            if (cancel) cancel.addEventListener('click', () => m.close());
            actions.replaceChildren(...[cancel, ...buttons, submitBtn].filter(Boolean));
            if (focus) focus.focus();
            else if (submitBtn) submitBtn.focus();
            return submitBtn;
        },
        fail(message) {
            ok.hidden = true;
            err.textContent = message;
            err.hidden = false;
        },
        info(message) {
            err.hidden = true;
            ok.textContent = message;
            ok.hidden = false;
        },
        clearMessages() {
            err.hidden = ok.hidden = true;
        },
        close() {
            if (dlg.open) dlg.close();
        },
        closeByPage() {
            byPage = true;
            m.close();
        },
    };
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        if (!submit || (submitBtn && submitBtn.disabled)) return;
        m.clearMessages();
        const run = submit;
        try {
            await busy([...actions.querySelectorAll('button')], run);
        } catch (e) {
            if (dlg.open) m.fail(e.message);
        }
    });
    dlg.addEventListener('close', () => {
        dlg.remove();
        if (onClose) onClose(byPage);
    });
    document.body.append(dlg);
    dlg.showModal();
    return m;
}

// ---------------------------------------------------------------------------------------------
// Routing

// The page and its parameters from the address: "#/requests?status=approved"; the setup link
// doorman prints is "/setup#token=…".
function parseHash() {
    const raw = location.hash.replace(/^#/, '');
    if (/^token=/.test(raw) || (location.pathname === '/setup' && !raw.startsWith('/'))) {
        return { path: '/setup', params: new URLSearchParams(raw) };
    }
    const [path, query] = raw.split('?');
    return { path: path || '/requests', params: new URLSearchParams(query || '') };
}

// Navigates to a page; flash is a message shown on it (navigation hides older ones).
function go(path, params, flash, flashKind = 'error') {
    state.flash = flash ? [flash, flashKind] : null;
    const target = '#' + path + (params ? qs(params) : '');
    if (location.pathname !== '/' || location.hash === target) {
        history.replaceState(null, '', '/' + target);
        route();
    } else {
        location.hash = target; // hashchange renders it
    }
}

const PAGES = {
    '/requests': pageRequests,
    '/jobs': pageJobs,
    '/sessions': pageSessions,
    '/audit': pageAudit,
    '/settings': pageSettings,
    '/login': pageLogin,
    '/setup': pageSetup,
};
const PUBLIC = new Set(['/login', '/setup']);

async function route() {
    let { path, params } = parseHash();
    if (!PAGES[path]) path = '/requests';
    if (!PUBLIC.has(path) && !state.me) {
        state.afterLogin = location.hash;
        let needsSetup = false;
        try {
            needsSetup = (await api('GET', '/api/setup')).needs_setup;
        } catch (e) {
            showBanner(e.message);
        }
        path = needsSetup ? '/setup' : '/login';
    }
    if (state.page) {
        state.page.alive = false;
        state.page.timers.forEach(clearTimeout);
        state.page.leaving.forEach((fn) => fn());
    }
    const ctx = { alive: true, timers: [], leaving: [] };
    ctx.later = (fn, ms) => ctx.timers.push(setTimeout(() => ctx.alive && fn(), ms));
    ctx.onLeave = (fn) => ctx.leaving.push(fn); // runs when another page replaces this one
    state.page = ctx;
    for (const a of document.querySelectorAll('.nav a')) {
        a.classList.toggle('active', a.dataset.route === path);
        if (a.dataset.route === path) a.setAttribute('aria-current', 'page');
        else a.removeAttribute('aria-current');
    }
    hideBanner();
    if (state.flash) {
        showBanner(...state.flash);
        state.flash = null;
    }
    const main = clear($('#main'));
    main.className = `main page-${path.slice(1)}`;
    PAGES[path](ctx, main, params);
}

// ---------------------------------------------------------------------------------------------
// Setup and login

function fieldRow(label, input, hint) {
    return h('label.field', null, h('span.field-label', null, label), input,
        hint ? h('span.field-hint', null, hint) : null);
}

function authCard(main, title, subtitle, form) {
    add(main, h('div.auth', null,
        h('div.auth-card', null,
            h('div.auth-brand', null, h('span.brand-mark', { 'aria-hidden': 'true' }), 'doorman'),
            h('h1', null, title),
            subtitle ? h('p.muted', null, subtitle) : null,
            form)));
}

function signedIn(me) {
    state.me = me;
    showHeader();
    hideBanner();
    const next = state.afterLogin && !/^#\/?(login|setup)|^#token=/.test(state.afterLogin)
        ? state.afterLogin : '#/requests';
    state.afterLogin = null;
    if (location.pathname !== '/' || location.hash === next) {
        history.replaceState(null, '', '/' + next);
        route();
    } else {
        location.hash = next; // hashchange renders the page
    }
}

async function pageSetup(ctx, main, params) {
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
        if (!tokenIn.value.trim()) return fail('The setup token is missing: open the link doorman printed on its console.');
        if (!NAME_RE.test(name)) return fail('The admin name must be 1–64 letters, digits, dots, dashes or underscores.');
        if (new TextEncoder().encode(pw1.value).length < 10) return fail('The password must be at least 10 characters long.');
        if (pw1.value !== pw2.value) return fail('The two passwords differ.');
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

function pageLogin(ctx, main) {
    document.title = 'Sign in · doorman';
    if (state.me) {
        go('/requests');
        return;
    }
    const err = h('p.form-error', { role: 'alert', hidden: true });
    const nameIn = h('input', { name: 'name', type: 'text', autocomplete: 'username', required: true });
    const pwIn = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const submit = h('button.btn.btn-primary.btn-block', { type: 'submit' }, 'Sign in');
    const form = h('form.form', { novalidate: true },
        err, fieldRow('Name', nameIn), fieldRow('Password', pwIn), submit);
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        err.hidden = true;
        try {
            const me = await busy([submit], () => api('POST', '/api/login',
                { name: nameIn.value.trim(), password: pwIn.value }));
            signedIn(me);
        } catch (e) {
            let msg = e.message;
            if (e.status === 429 && e.retryAfter && /^\d+$/.test(e.retryAfter) && !/again/i.test(msg)) {
                msg += ` You can try again in ${fmtDuration(Number(e.retryAfter))}.`;
            }
            err.textContent = msg;
            err.hidden = false;
            pwIn.value = '';
            pwIn.focus();
        }
    });
    authCard(main, 'Sign in', null, form);
    nameIn.focus();
}

async function logout() {
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

// ---------------------------------------------------------------------------------------------
// Invite Requests

function pageRequests(ctx, main, params) {
    document.title = 'Invite Requests · doorman';
    const f = {
        status: STATUS_TABS.some(([s]) => s === params.get('status')) ? params.get('status') : 'pending',
        chat_id: params.get('chat_id') || '',
        from: params.get('from') || '',
        to: params.get('to') || '',
        q: params.get('q') || '',
    };
    const rows = new Map(); // id -> {item, tr, cb}
    const selected = new Set();
    let counts = { pending: 0, approved: 0, declined: 0, total: 0 };
    let nextBefore = null;
    let seq = 0;

    // The filter as the API takes it (also the body of approve-all / deny-all).
    const apiFilter = () => {
        const out = {};
        if (f.chat_id) out.chat_id = Number(f.chat_id);
        if (f.from) out.from = dayStart(f.from);
        if (f.to) out.to = dayEnd(f.to);
        if (f.q.trim()) out.q = f.q.trim();
        return out;
    };
    const saveFilter = () => {
        const p = {};
        if (f.status !== 'pending') p.status = f.status;
        for (const k of ['chat_id', 'from', 'to', 'q']) if (f[k]) p[k] = f[k];
        history.replaceState(null, '', '#/requests' + qs(p));
    };

    // --- toolbar: status tabs and filters
    const tabs = STATUS_TABS.map(([status, label]) => {
        const count = h('span.tab-count', null, '');
        const b = h('button.tab', { type: 'button', role: 'tab', dataset: { status } }, label, count);
        b.addEventListener('click', () => {
            if (f.status === status) return;
            f.status = status;
            saveFilter();
            syncTabs();
            reload();
        });
        return { status, b, count };
    });
    const syncTabs = () => {
        for (const t of tabs) {
            t.b.setAttribute('aria-selected', String(t.status === f.status));
            t.b.classList.toggle('active', t.status === f.status);
            t.count.textContent = fmtNum(t.status === 'all' ? counts.total : counts[t.status]);
        }
    };

    const chatSel = h('select', { name: 'chat_id', 'aria-label': 'Channel' },
        h('option', { value: '' }, 'All channels'));
    const fromIn = h('input', { type: 'date', name: 'from', value: f.from, 'aria-label': 'Requested from' });
    const toIn = h('input', { type: 'date', name: 'to', value: f.to, 'aria-label': 'Requested until' });
    const qIn = h('input.search', { type: 'search', name: 'q', value: f.q, autocomplete: 'off',
        placeholder: 'Search name, @username, user id', 'aria-label': 'Search' });
    const resetBtn = h('button.btn.btn-ghost.btn-small', { type: 'button' }, 'Clear filters');
    const refreshBtn = h('button.btn.btn-ghost.btn-small', { type: 'button', title: 'Reload the list' }, 'Refresh');

    chatSel.addEventListener('change', () => { f.chat_id = chatSel.value; saveFilter(); reload(); });
    fromIn.addEventListener('change', () => { f.from = fromIn.value; saveFilter(); reload(); });
    toIn.addEventListener('change', () => { f.to = toIn.value; saveFilter(); reload(); });
    let qTimer = null;
    qIn.addEventListener('input', () => {
        clearTimeout(qTimer);
        qTimer = setTimeout(() => {
            if (!ctx.alive || f.q === qIn.value) return;
            f.q = qIn.value;
            saveFilter();
            reload();
        }, 250);
    });
    qIn.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter') { clearTimeout(qTimer); f.q = qIn.value; saveFilter(); reload(); }
    });
    resetBtn.addEventListener('click', () => {
        Object.assign(f, { chat_id: '', from: '', to: '', q: '' });
        chatSel.value = fromIn.value = toIn.value = qIn.value = '';
        saveFilter();
        reload();
    });
    refreshBtn.addEventListener('click', () => reload());

    // --- action bar
    const selInfo = h('span.sel-info', null, '');
    const approveSel = h('button.btn.btn-primary', { type: 'button' }, 'Approve Selected');
    const denySel = h('button.btn.btn-danger-outline', { type: 'button' }, 'Deny Selected');
    const approveAll = h('button.btn.btn-secondary', { type: 'button',
        title: 'Approve every pending request that matches the filter' }, 'Approve All');
    const denyAll = h('button.btn.btn-danger-outline', { type: 'button',
        title: 'Deny every pending request that matches the filter' }, 'Deny All');
    const allInfo = h('span.all-info', null, '');
    approveSel.addEventListener('click', () => decide('approve', 'selected'));
    denySel.addEventListener('click', () => decide('deny', 'selected'));
    approveAll.addEventListener('click', () => decide('approve', 'all'));
    denyAll.addEventListener('click', () => decide('deny', 'all'));

    const syncActions = () => {
        const n = selected.size;
        selInfo.textContent = n ? `${fmtNum(n)} selected` : 'Select pending requests to decide on them';
        selInfo.classList.toggle('has-selection', n > 0);
        approveSel.disabled = denySel.disabled = n === 0;
        approveAll.disabled = denyAll.disabled = counts.pending === 0;
        allInfo.textContent = `${fmtNum(counts.pending)} pending match the filter`;
        const selectable = [...rows.values()].filter((r) => r.cb && !r.cb.disabled);
        const nSel = selectable.filter((r) => selected.has(r.item.id)).length;
        selectAll.checked = selectable.length > 0 && nSel === selectable.length;
        selectAll.indeterminate = nSel > 0 && nSel < selectable.length;
        selectAll.disabled = selectable.length === 0;
    };

    // --- table
    const selectAll = h('input', { type: 'checkbox', 'aria-label': 'Select all visible pending requests' });
    const tbody = h('tbody');
    const table = h('table.table.requests-table', null,
        h('colgroup', null, h('col.c-check'), h('col.c-user'), h('col.c-bio'), h('col.c-chat'),
            h('col.c-link'), h('col.c-date'), h('col.c-status'), h('col.c-decided')),
        h('thead', null, h('tr', null,
            h('th.check', null, selectAll),
            h('th', null, 'User'), h('th', null, 'Bio'), h('th', null, 'Channel'),
            h('th', null, 'Invite link'), h('th', null, 'Requested'), h('th', null, 'Status'),
            h('th', null, 'Decided'))),
        tbody);
    const empty = h('div.empty', { hidden: true }, '');
    const moreBtn = h('button.btn.btn-ghost', { type: 'button' }, 'Load more');
    const listInfo = h('span.muted', null, '');
    const footer = h('div.list-footer', null, listInfo, moreBtn);

    selectAll.addEventListener('change', () => {
        for (const r of rows.values()) {
            if (!r.cb || r.cb.disabled) continue;
            r.cb.checked = selectAll.checked;
            r.tr.classList.toggle('selected', selectAll.checked);
            if (selectAll.checked) selected.add(r.item.id);
            else selected.delete(r.item.id);
        }
        syncActions();
    });
    tbody.addEventListener('change', (ev) => {
        const cb = ev.target;
        if (!(cb instanceof HTMLInputElement) || !cb.dataset.id) return;
        const id = Number(cb.dataset.id);
        if (cb.checked) selected.add(id);
        else selected.delete(id);
        cb.closest('tr').classList.toggle('selected', cb.checked);
        syncActions();
    });
    moreBtn.addEventListener('click', () => load(false));

    const jobPanel = h('section.job-panel', { hidden: true, 'aria-live': 'polite' });

    add(main,
        h('div.page-head', null, h('h1', null, 'Invite Requests'),
            h('div.tabs', { role: 'tablist', 'aria-label': 'Status' }, tabs.map((t) => t.b))),
        h('div.filters', null, chatSel,
            h('label.inline', null, h('span', null, 'From'), fromIn),
            h('label.inline', null, h('span', null, 'To'), toIn),
            qIn, resetBtn, h('span.spacer'), refreshBtn),
        h('div.actions', null, selInfo, approveSel, denySel, h('span.sep'), allInfo, approveAll, denyAll),
        jobPanel,
        h('div.table-wrap', null, table, empty),
        footer);
    syncTabs();
    syncActions();

    function renderRow(r) {
        const pending = r.status === 'pending';
        const cb = h('input', { type: 'checkbox', dataset: { id: String(r.id) }, disabled: !pending,
            checked: pending && selected.has(r.id),
            'aria-label': `Select ${fullName(r)}` });
        const who = h('td.user', null,
            h('div.user-name', null, fullName(r)),
            h('div.user-meta', null,
                r.username ? h('span.username', null, '@' + r.username) : null,
                h('span.user-id', { title: 'Telegram user id' }, String(r.user_id))));
        const bio = h('td.bio', null, r.bio ? h('div.clamp', { title: r.bio }, r.bio) : h('span.muted', null, '—'));
        const chat = h('td.chat', null, h('div.clamp1', { title: String(r.chat_id) }, r.chat_title || String(r.chat_id)));
        const link = h('td.link', null, r.invite_link
            ? h('span.mono.clamp1', { title: r.invite_link }, r.invite_link.replace(/^https?:\/\//, ''))
            : h('span.muted', null, '—'));
        const when = h('td.date', { title: fmtTimeFull(r.date) }, fmtTime(r.date));
        const status = h('td', null, badge(r.status), r.last_error
            ? h('div.row-error', { title: r.last_error }, r.last_error) : null);
        const decided = h('td.decided', null, r.decided_at
            ? [h('div', null, r.decided_by || '—', r.decided_via ? h('span.muted', null, ' via ' + r.decided_via) : null),
                h('div.muted.small', { title: fmtTimeFull(r.decided_at) }, fmtTime(r.decided_at))]
            : h('span.muted', null, '—'));
        const tr = h('tr', { dataset: { id: String(r.id), status: r.status },
            class: cb.checked ? 'selected' : null },
            h('td.check', null, cb), who, bio, chat, link, when, status, decided);
        return { item: r, tr, cb: pending ? cb : null };
    }

    async function load(reset) {
        const my = ++seq;
        const query = {
            status: f.status === 'all' ? '' : f.status,
            ...apiFilter(),
            limit: PAGE_SIZE,
            before: reset ? '' : nextBefore,
        };
        main.classList.add('is-loading');
        moreBtn.disabled = true;
        try {
            const res = await api('GET', '/api/invite-requests' + qs(query));
            if (!ctx.alive || my !== seq) return;
            if (reset) {
                rows.clear();
                tbody.replaceChildren();
                // Keep only selections still visible after a reload.
                const ids = new Set(res.items.filter((r) => r.status === 'pending').map((r) => r.id));
                for (const id of [...selected]) if (!ids.has(id)) selected.delete(id);
            }
            const frag = document.createDocumentFragment();
            for (const item of res.items) {
                if (rows.has(item.id)) continue;
                const row = renderRow(item);
                rows.set(item.id, row);
                frag.append(row.tr);
            }
            tbody.append(frag);
            counts = res.counts || counts;
            nextBefore = res.next_before;
            const total = f.status === 'all' ? counts.total : counts[f.status];
            listInfo.textContent = `Showing ${fmtNum(rows.size)} of ${fmtNum(total)}`;
            moreBtn.hidden = nextBefore === null || nextBefore === undefined;
            empty.hidden = rows.size > 0;
            empty.textContent = Object.keys(apiFilter()).length
                ? 'No requests match the filter.'
                : f.status === 'pending' ? 'No pending requests. New join requests appear here as the bot receives them.'
                    : 'No requests.';
            syncTabs();
            syncActions();
        } catch (e) {
            if (ctx.alive && my === seq) showBanner(e.message);
        } finally {
            if (my === seq) {
                main.classList.remove('is-loading');
                moreBtn.disabled = false;
            }
        }
    }
    function reload() {
        return load(true);
    }

    function filterSummary() {
        const parts = [];
        if (f.chat_id) parts.push(`channel “${chatSel.selectedOptions[0]?.textContent || f.chat_id}”`);
        if (f.from) parts.push(`from ${f.from}`);
        if (f.to) parts.push(`until ${f.to}`);
        if (f.q.trim()) parts.push(`matching “${f.q.trim()}”`);
        return parts.length ? (f.chat_id ? 'in ' : '') + parts.join(', ') : 'in every channel';
    }

    // Approve/Deny Selected and Approve/Deny All: the modal that asks who decides, then the job.
    async function decide(kind, scope) {
        let n, body, preflight;
        if (scope === 'selected') {
            if (!selected.size) return;
            n = selected.size;
            body = { request_ids: [...selected] };
            preflight = body;
        } else {
            // Count what "all" means right now, not what the page showed a while ago.
            try {
                const res = await busy([approveSel, denySel, approveAll, denyAll], () => api('GET', '/api/invite-requests' +
                    qs({ status: 'pending', ...apiFilter(), limit: 1 })));
                n = res.counts.pending;
            } catch (e) {
                showBanner(e.message);
                return;
            }
            if (!ctx.alive) return;
            if (n === 0) {
                showBanner('No pending requests match the filter.', 'info');
                reload();
                return;
            }
            const filter = apiFilter();
            body = Object.keys(filter).length ? { filter } : {};
            preflight = { filter };
        }
        decisionModal(ctx, {
            kind, all: scope === 'all', count: n, body, preflight,
            summary: filterSummary(),
            wholeChannel: scope === 'all' && !f.q.trim() && !f.from && !f.to ? (f.chat_id ? 'one' : 'each') : null,
            onStarted: (job) => {
                hideBanner();
                selected.clear();
                for (const r of rows.values()) if (r.cb) { r.cb.checked = false; r.tr.classList.remove('selected'); }
                syncActions();
                state.lastJobId = job.id;
                showJob(job);
            },
        });
    }

    // --- the progress panel of the last decision job
    function showJob(job) {
        watchJob(ctx, jobPanel, job, {
            isCurrent: () => state.lastJobId === job.id,
            onFinish: () => reload(),
            onClose: () => { state.lastJobId = null; },
        });
    }

    // Loads the channel list, then the first page; shows the last job if one is still of interest.
    (async () => {
        try {
            const chats = await api('GET', '/api/chats');
            if (!ctx.alive) return;
            for (const c of chats.items) {
                const label = c.title || (c.username ? '@' + c.username : String(c.chat_id));
                chatSel.append(h('option', { value: String(c.chat_id) }, label));
            }
            chatSel.value = f.chat_id;
            if (f.chat_id && chatSel.value !== f.chat_id) {
                chatSel.append(h('option', { value: f.chat_id }, f.chat_id));
                chatSel.value = f.chat_id;
            }
        } catch (e) {
            if (ctx.alive) showBanner(e.message);
        }
    })();
    reload();
    if (state.lastJobId) {
        api('GET', `/api/jobs/${state.lastJobId}`).then((res) => ctx.alive && showJob(res.job)).catch(() => {});
    }
}

// ---------------------------------------------------------------------------------------------
// Who decides: the bot or an active session (docs/api.md, "Choosing who decides")

// "marta — Marta Kowalska @marta_k — user": a session as the dropdown of the decision modal shows it.
function sessionChoiceLabel(s) {
    const a = s.account;
    const who = a ? [fullName(a), a.username ? '@' + a.username : ''].filter(Boolean).join(' ') : '';
    return [s.name, who, s.type].filter(Boolean).join(' — ');
}

// The modal of Approve/Deny Selected and Approve/Deny All. The dropdown offers the bot and every
// active session, preselecting the account this admin chose last; on opening and on every change
// a fresh preflight shows, per affected channel, whether the chosen account can decide there.
// Some channels out of reach: a warning and a warned button (the rest is still decided); none in
// reach, or an account that cannot be used: the button is disabled. Confirming sends the decision
// with session_name, remembers the choice and hands the job to onStarted(job).
// body: the decision endpoint's body without session_name ({request_ids} or {filter} or {});
// preflight: the same requests as the preflight endpoint takes them; count: how many requests;
// summary: the filter in words (Approve/Deny All); wholeChannel: 'one' or 'each' when the filter
// names at most a channel (one channel, or every channel), so a session decides each channel with
// one call; null otherwise.
function decisionModal(ctx, { kind, all, count, body, preflight, summary, wholeChannel, onStarted }) {
    const verb = kind === 'approve' ? 'Approve' : 'Deny';
    const reqs = `${fmtNum(count)} ${all ? 'pending' : 'selected'} request${count === 1 ? '' : 's'}`;
    const m = formModal({ title: `${verb} ${reqs}?` });
    ctx.onLeave(() => m.closeByPage());

    const select = h('select', { name: 'session_name' }, h('option', { value: '' }, 'Bot (Default)'));
    const lastNote = h('p.field-hint', { hidden: true });
    const wholeNote = h('p.decide-note', { hidden: true },
        `Through a session, Telegram will be asked to decide ${wholeChannel === 'one' ? 'the whole channel' : 'each channel whole'} ` +
        `in one call: every request pending there is ${kind === 'approve' ? 'approved' : 'denied'}, also those this table ` +
        'has not loaded yet (they are recorded too), so the number can be larger than shown.');
    const check = h('div.preflight', { 'aria-live': 'polite' });
    let remembered = null; // the admin's approve_via as doorman has it
    let seq = 0;

    const submit = m.step({
        body: [
            all
                ? h('p', null, `This ${kind === 'approve' ? 'approves' : 'denies'} every pending request ${summary}: `,
                    h('strong.decide-count', null, reqs), ' now.')
                : h('p', null, `This ${kind === 'approve' ? 'approves' : 'denies'} the `, h('strong.decide-count', null, reqs), '.'),
            h('label.field', null, h('span.field-label', null, 'Decide as'), select, lastNote),
            wholeNote,
            check,
            h('p.muted.small', null, 'It runs as a job in the background; you can follow and cancel it here or on the Jobs page.'),
        ],
        submitLabel: `${verb} ${fmtNum(count)}`,
        danger: kind !== 'approve',
        focus: select,
        onSubmit: async () => {
            const via = select.value || null;
            select.disabled = true;
            let res;
            try {
                res = await api('POST', `/api/invite-requests/${kind}${all ? '-all' : ''}`, { ...body, session_name: via });
            } finally {
                select.disabled = false;
            }
            let unsaved = null;
            if (via !== remembered) {
                try {
                    await api('POST', '/api/me/preferences', { approve_via: via });
                } catch (e) {
                    unsaved = `The choice of account was not remembered: ${e.message}`;
                }
            }
            m.close();
            onStarted(res.job);
            if (unsaved) showBanner(unsaved);
        },
    });
    submit.disabled = true;

    const who = (via) => (via ? `Session “${via}”` : 'The bot');

    // Shows the preflight's answer; returns whether nothing could be decided (the button is then off).
    function showCheck(res, via) {
        const acct = res.account || { ok: true };
        const chans = res.channels || [];
        const cannot = chans.filter((c) => !c.can_decide);
        const unchecked = res.unchecked || 0; // channels past the ones the check covers
        let warning = null;
        let blocked = false;
        if (!acct.ok) {
            blocked = true;
            warning = `${who(via)} cannot be used now: ${acct.error || acct.status || 'unknown error'}.`;
        } else if (chans.length && cannot.length === chans.length && !unchecked) {
            blocked = true;
            warning = `${who(via)} cannot ${kind === 'approve' ? 'approve' : 'deny'} requests in ` +
                `${chans.length === 1 ? 'this channel' : 'any of these channels'}: choose another account.`;
        } else if (cannot.length) {
            warning = `${who(via)} cannot decide in ${fmtNum(cannot.length)} of ${fmtNum(chans.length)} channels: ` +
                'the requests there will fail. The others are decided.';
        }
        check.dataset.state = blocked ? 'blocked' : warning ? 'warned' : 'ok';
        check.replaceChildren(
            warning ? h('p.preflight-warning', { role: 'alert' }, warning) : null,
            chans.length ? h('ul.preflight-list', null, chans.map((c) => h('li.preflight-chat', {
                dataset: { chatId: String(c.chat_id), can: String(!!c.can_decide) },
            },
            h('span.preflight-mark', { 'aria-hidden': 'true' }, c.can_decide ? '✓' : '!'),
            h('span.preflight-chat-body', null,
                h('span.preflight-title', null, c.title || String(c.chat_id)),
                h('span.muted', null, ` · ${fmtNum(c.pending)} request${c.pending === 1 ? '' : 's'}`),
                h('span.preflight-reason', null, c.can_decide
                    ? 'Admin with the “Invite Users” right: can decide here.'
                    : c.reason || 'Cannot decide here.'))))) : null,
            unchecked ? h('p.muted.small', null, `${fmtNum(unchecked)} more channel${unchecked === 1 ? ' was' : 's were'} ` +
                'not checked (the ones with the fewest requests).') : null);
        return blocked;
    }

    // A fresh check of the chosen account; answers to older choices are dropped.
    async function recheck() {
        const my = ++seq;
        const via = select.value || null;
        wholeNote.hidden = !(via && wholeChannel);
        submit.disabled = true;
        submit.classList.remove('btn-warned');
        check.dataset.state = 'checking';
        check.replaceChildren(h('p.muted', null, `Checking what ${via ? `session “${via}”` : 'the bot'} can do in the affected channels…`));
        let blocked = false;
        try {
            const res = await api('POST', '/api/invite-requests/preflight', { ...preflight, session_name: via });
            if (my !== seq) return;
            blocked = showCheck(res, via);
        } catch (e) {
            if (my !== seq) return;
            // The check is advice: without it the decision can still go ahead.
            check.dataset.state = 'failed';
            check.replaceChildren(h('p.preflight-warning', { role: 'alert' }, e.message),
                h('p.muted.small', null, 'The rights could not be checked; the job reports what Telegram answers.'));
        }
        submit.disabled = blocked;
        submit.classList.toggle('btn-warned', !blocked && check.dataset.state !== 'ok');
    }
    select.addEventListener('change', () => {
        lastNote.hidden = true;
        m.clearMessages();
        recheck();
    });

    // The active sessions and the admin's last choice, then the first check.
    (async () => {
        const [list, prefs] = await Promise.allSettled([api('GET', '/api/sessions/list'), api('GET', '/api/me/preferences')]);
        if (list.status === 'fulfilled') {
            for (const s of list.value.items) add(select, h('option', { value: s.name }, sessionChoiceLabel(s)));
        } else {
            m.fail(list.reason.message);
        }
        if (prefs.status === 'fulfilled') {
            remembered = prefs.value.approve_via || null;
            if (remembered && [...select.options].some((o) => o.value === remembered)) {
                select.value = remembered;
            } else if (remembered && list.status === 'fulfilled') {
                lastNote.textContent = `Session “${remembered}”, chosen last time, is not active now: the bot is selected.`;
                lastNote.hidden = false;
            }
        } else if (list.status === 'fulfilled') {
            m.fail(prefs.reason.message);
        }
        recheck();
    })();
}

const isFinished = (job) => ['done', 'failed', 'cancelled'].includes(job.state);

async function cancelJob(job, btn) {
    try {
        await busy([btn], () => api('POST', `/api/jobs/${job.id}/cancel`));
    } catch (e) {
        showBanner(e.message);
    }
}

// What a job's counters mean, by kind.
const JOB_WORDS = {
    approve: { ing: 'Approving', done: 'approved', skipped: 'already handled' },
    decline: { ing: 'Declining', done: 'declined', skipped: 'already handled' },
    load: { ing: 'Loading', done: 'loaded', skipped: 'skipped' },
};
const jobWords = (kind) => JOB_WORDS[kind] || { ing: 'Running', done: 'done', skipped: 'skipped' };

// Shows job in panel (a section.job-panel) and polls it until it finishes; the progress block
// shared by the Invite Requests page (decisions) and the Sessions page (loads). isCurrent() tells
// whether the page still wants this job shown; onFinish(job, view) runs once when it has finished;
// onClose runs when the admin dismisses the finished job.
function watchJob(ctx, panel, job, { isCurrent, onFinish, onClose }) {
    const view = jobView(job, { onCancel: cancelJob, onClose: () => { panel.hidden = true; onClose(); } });
    clear(panel).append(view.el);
    panel.hidden = false;
    let finished = false;
    const poll = async () => {
        if (!ctx.alive || !isCurrent()) return;
        try {
            const res = await api('GET', `/api/jobs/${job.id}`);
            if (!ctx.alive || !isCurrent()) return;
            view.update(res.job, res.errors);
            if (isFinished(res.job)) {
                if (!finished) {
                    finished = true;
                    if (onFinish) onFinish(res.job, view);
                }
                return;
            }
        } catch (e) {
            if (e.status === 401) return;
            view.note(e.message);
        }
        ctx.later(poll, JOB_POLL_MS);
    };
    if (isFinished(job)) poll();
    else ctx.later(poll, JOB_POLL_MS);
    return view;
}

// A job's progress block (see watchJob). update(job, errors) refreshes it; footer(node) adds a
// line under it (e.g. where to see the result).
function jobView(job, { onCancel, onClose }) {
    const title = h('div.job-title', null, '');
    const via = h('span.job-via', null, '');
    const stateEl = h('span');
    const bar = h('progress.progress', { max: 1, value: 0 });
    const pct = h('span.job-pct', null, '');
    const counts = h('div.job-counts', null, '');
    const wait = h('div.job-wait', { hidden: true }, '');
    const note = h('div.job-note', { hidden: true }, '');
    const errs = h('div.job-errors', { hidden: true });
    const foot = h('div.job-foot', { hidden: true });
    const cancel = h('button.btn.btn-ghost.btn-small', { type: 'button' }, 'Cancel job');
    const close = h('button.btn.btn-ghost.btn-small', { type: 'button', hidden: true }, 'Dismiss');
    let current = job;
    cancel.addEventListener('click', () => onCancel(current, cancel));
    close.addEventListener('click', onClose);
    const el = h('div.job', null,
        h('div.job-head', null, title, via, stateEl, h('span.spacer'), cancel, close),
        h('div.job-bar', null, bar, pct),
        counts, wait, note, errs, foot);

    function update(j, errors) {
        current = j;
        const processed = (j.done || 0) + (j.skipped || 0) + (j.failed || 0);
        const total = j.total || 0;
        const fin = isFinished(j);
        const words = jobWords(j.kind);
        title.textContent = j.description || `${words.ing} ${fmtNum(total)} request${total === 1 ? '' : 's'}`;
        via.textContent = j.via ? `via ${j.via}` : '';
        stateEl.replaceChildren(badge(j.state));
        bar.max = Math.max(total, 1);
        bar.value = total ? Math.min(processed, total) : (fin ? 1 : 0);
        bar.setAttribute('aria-label', 'Job progress');
        const p = total ? Math.floor((processed * 100) / total) : (fin ? 100 : 0);
        pct.textContent = `${fmtNum(processed)} of ${fmtNum(total)} · ${p}%`;
        el.dataset.state = j.state;
        el.dataset.percent = String(p);
        counts.replaceChildren(
            h('span.count-ok', null, `${fmtNum(j.done)} ${words.done}`),
            h('span.count-skip', null, `${fmtNum(j.skipped)} ${words.skipped}`),
            h('span.count-fail', { class: j.failed ? 'has-failures' : null }, `${fmtNum(j.failed)} failed`));
        const waitLeft = j.wait_until ? j.wait_until - Date.now() / 1000 : 0;
        wait.hidden = fin || waitLeft <= 0;
        if (!wait.hidden) {
            wait.textContent = `Waiting for Telegram's rate limit: resuming in ${fmtDuration(waitLeft)}`;
        }
        cancel.hidden = fin;
        close.hidden = !fin;
        note.hidden = !j.error;
        note.textContent = j.error || '';
        if (errors && errors.length) {
            errs.hidden = false;
            errs.replaceChildren(
                h('div.job-errors-title', null, `Errors (${fmtNum(j.failed)}${j.failed > errors.length ? `, first ${errors.length} shown` : ''})`),
                h('table.table.table-small', null,
                    h('thead', null, h('tr', null, h('th', null, 'Request'), h('th', null, 'User id'), h('th', null, 'Error'))),
                    h('tbody', null, errors.map((e) => h('tr', null,
                        h('td', null, String(e.request_id)), h('td', null, String(e.user_id)),
                        h('td.err-text', null, e.error))))));
        } else {
            errs.hidden = true;
        }
    }
    update(job, null);
    return {
        el, update,
        note(m) { note.hidden = false; note.textContent = m; },
        footer(node) { foot.hidden = false; foot.replaceChildren(node); },
    };
}

// ---------------------------------------------------------------------------------------------
// Jobs

function progressCell(j) {
    const processed = (j.done || 0) + (j.skipped || 0) + (j.failed || 0);
    const total = j.total || 0;
    const p = total ? Math.floor((processed * 100) / total) : (isFinished(j) ? 100 : 0);
    return h('div.cell-progress', null,
        h('progress.progress.progress-small', { max: Math.max(total, 1), value: total ? Math.min(processed, total) : (isFinished(j) ? 1 : 0) }),
        h('span.small', null, `${fmtNum(processed)} / ${fmtNum(total)} · ${p}%`));
}

function pageJobs(ctx, main) {
    document.title = 'Jobs · doorman';
    const rows = new Map(); // id -> {job, tr, detail}
    let nextBefore = null;
    const tbody = h('tbody');
    const empty = h('div.empty', { hidden: true }, 'No jobs yet. Decisions on the Invite Requests page run as jobs.');
    const moreBtn = h('button.btn.btn-ghost', { type: 'button', hidden: true }, 'Load more');
    const refreshBtn = h('button.btn.btn-ghost.btn-small', { type: 'button' }, 'Refresh');
    moreBtn.addEventListener('click', () => load(false));
    refreshBtn.addEventListener('click', () => load(true));

    add(main,
        h('div.page-head', null, h('h1', null, 'Jobs'), h('span.spacer'), refreshBtn),
        h('div.table-wrap', null,
            h('table.table', null,
                h('thead', null, h('tr', null, h('th', null, '#'), h('th', null, 'Job'), h('th', null, 'Admin'),
                    h('th', null, 'State'), h('th', null, 'Progress'), h('th', null, 'Result'),
                    h('th', null, 'Started'), h('th', null, 'Finished'), h('th', null, ''))),
                tbody),
            empty),
        h('div.list-footer', null, h('span'), moreBtn));

    function renderJob(j) {
        const actions = h('td.row-actions');
        if (!isFinished(j)) {
            const b = h('button.btn.btn-ghost.btn-small', { type: 'button' }, 'Cancel');
            b.addEventListener('click', async () => { await cancelJob(j, b); refreshOne(j.id); });
            actions.append(b);
        }
        if (j.failed > 0) {
            const b = h('button.btn.btn-ghost.btn-small', { type: 'button' }, 'Errors');
            b.addEventListener('click', () => toggleErrors(j.id, b));
            actions.append(b);
        }
        const waitLeft = j.wait_until ? j.wait_until - Date.now() / 1000 : 0;
        return h('tr', { dataset: { id: String(j.id), state: j.state } },
            h('td.num', null, String(j.id)),
            h('td', null, h('div', null, j.description || j.kind),
                j.error ? h('div.row-error', null, j.error) : null,
                !isFinished(j) && waitLeft > 0 ? h('div.job-wait.small', null, `Rate limited: resuming in ${fmtDuration(waitLeft)}`) : null),
            h('td', null, j.admin || '—'),
            h('td', null, badge(j.state)),
            h('td', null, progressCell(j)),
            h('td.small', null, `${fmtNum(j.done)} ${jobWords(j.kind).done} · ${fmtNum(j.skipped)} skipped · ${fmtNum(j.failed)} failed`),
            h('td.date', { title: fmtTimeFull(j.created_at) }, fmtTime(j.created_at)),
            h('td.date', { title: fmtTimeFull(j.finished_at) }, fmtTime(j.finished_at)),
            actions);
    }

    function put(j) {
        const old = rows.get(j.id);
        const tr = renderJob(j);
        if (old) {
            old.tr.replaceWith(tr);
            old.tr = tr;
            old.job = j;
        } else {
            rows.set(j.id, { job: j, tr, detail: null });
            tbody.append(tr);
        }
        const r = rows.get(j.id);
        if (r.detail) tr.after(r.detail);
    }

    async function toggleErrors(id, btn) {
        const r = rows.get(id);
        if (r.detail) {
            r.detail.remove();
            r.detail = null;
            return;
        }
        try {
            const res = await busy([btn], () => api('GET', `/api/jobs/${id}`));
            if (!ctx.alive) return;
            r.detail = h('tr.detail-row', null, h('td', { colSpan: 9 },
                h('table.table.table-small', null,
                    h('thead', null, h('tr', null, h('th', null, 'Request'), h('th', null, 'User id'), h('th', null, 'Error'))),
                    h('tbody', null, res.errors.map((e) => h('tr', null, h('td', null, String(e.request_id)),
                        h('td', null, String(e.user_id)), h('td.err-text', null, e.error)))))));
            r.tr.after(r.detail);
        } catch (e) {
            showBanner(e.message);
        }
    }

    async function refreshOne(id) {
        try {
            const res = await api('GET', `/api/jobs/${id}`);
            if (ctx.alive) put(res.job);
        } catch (e) {
            if (ctx.alive) showBanner(e.message);
        }
    }

    async function load(reset) {
        try {
            const res = await busy([moreBtn, refreshBtn], () => api('GET', '/api/jobs' + qs({ limit: 50, before: reset ? '' : nextBefore })));
            if (!ctx.alive) return;
            if (reset) {
                rows.clear();
                tbody.replaceChildren();
            }
            res.items.forEach(put);
            nextBefore = res.next_before;
            moreBtn.hidden = nextBefore === null || nextBefore === undefined;
            empty.hidden = rows.size > 0;
        } catch (e) {
            if (ctx.alive) showBanner(e.message);
        }
    }

    // Running jobs refresh themselves every second.
    async function tick() {
        const live = [...rows.values()].filter((r) => !isFinished(r.job)).map((r) => r.job.id);
        await Promise.all(live.map(refreshOne));
        ctx.later(tick, 1000);
    }
    load(true).then(() => ctx.later(tick, 1000));
}

// ---------------------------------------------------------------------------------------------
// Sessions (Telegram accounts over MTProto)

const SESSION_NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;
const LOGIN_KEY = 'doorman.sessionLogin'; // sessionStorage: login_id of an unfinished Create New Session
const MAX_BODY = 1024 * 1024;             // doorman refuses bigger request bodies (413)
const LOAD_LIMIT_DEFAULT = 1000;

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

const fmtPhone = (p) => (p ? (p.startsWith('+') ? p : '+' + p) : '');

function accountLabel(a) {
    if (!a) return '';
    return [fullName(a), a.username ? '@' + a.username : '', fmtPhone(a.phone)].filter(Boolean).join(' · ');
}

// Inputs shared by the forms that make a session; check() returns the body fields or throws.
function sessionFields({ phone = true, values = {} } = {}) {
    const name = h('input', { type: 'text', name: 'name', autocomplete: 'off', spellcheck: 'false', required: true,
        value: values.name || '', placeholder: 'my_session' });
    const apiId = h('input', { type: 'text', name: 'api_id', inputmode: 'numeric', autocomplete: 'off',
        required: true, value: values.api_id || '', placeholder: '1234567' });
    const apiHash = h('input.mono', { type: 'text', name: 'api_hash', autocomplete: 'off', spellcheck: 'false',
        required: true, value: values.api_hash || '', placeholder: '0123456789abcdef0123456789abcdef' });
    const phoneIn = phone ? h('input', { type: 'tel', name: 'phone', autocomplete: 'off', value: values.phone || '',
        placeholder: '+1234567890' }) : null;
    return {
        rows: [
            fieldRow('Session name', name, 'Letters, digits, underscores and dashes.'),
            fieldRow('API ID', apiId, 'From my.telegram.org, “API development tools”.'),
            fieldRow('API hash', apiHash, 'Stored encrypted; never shown again.'),
            phoneIn ? fieldRow('Phone number', phoneIn, 'With the country code, e.g. +1234567890.') : null,
        ],
        first: name,
        values: () => ({ name: name.value.trim(), api_id: apiId.value.trim(), api_hash: apiHash.value.trim(),
            phone: phoneIn ? phoneIn.value.trim() : '' }),
        check(needPhone) {
            const v = this.values();
            if (!SESSION_NAME_RE.test(v.name)) throw new Error('The session name must be 1–64 letters, digits, underscores or dashes.');
            if (!/^[1-9][0-9]{0,9}$/.test(v.api_id) || Number(v.api_id) > 2147483647) {
                throw new Error('The API ID is a number: copy it from my.telegram.org.');
            }
            if (!v.api_hash) throw new Error('The API hash is missing: copy it from my.telegram.org.');
            if (needPhone && !v.phone) throw new Error('The phone number is missing.');
            const body = { name: v.name, api_id: Number(v.api_id), api_hash: v.api_hash };
            if (phoneIn) body.phone = v.phone;
            return body;
        },
    };
}

// Create New Session: name, API ID, hash, phone → code → 2FA password if the account has one.
// The login_id is kept in sessionStorage until the login ends, so a reload (or a doorman restart)
// goes on where it was. resume: the API's answer to GET /api/sessions/login/{id}; failed: a
// message to show on the first step (the saved login could not be resumed).
function createSessionWizard(ctx, { resume, failed, onCreated }) {
    let loginId = resume ? resume.login_id : null;
    let values = resume ? { name: resume.name, phone: resume.phone } : {};
    const m = formModal({
        title: 'Create New Session',
        onClose: (byPage) => {
            if (!byPage) savedLogin.forget(); // the admin gave up: a reload starts afresh
        },
    });
    ctx.onLeave(() => m.closeByPage());

    const startOver = (message) => {
        loginId = null;
        savedLogin.forget();
        stepPhone();
        if (message) m.fail(message);
    };
    // Errors after which this login cannot go on: the API's message, then the first step.
    const fatal = (e) => e.code === 'login_not_found' || e.code === 'code_expired';

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
                stepCode(res.phone || body.phone);
            },
        });
    }

    function stepCode(phone) {
        const code = h('input.code-input', { type: 'text', name: 'code', inputmode: 'numeric',
            autocomplete: 'one-time-code', required: true });
        const back = h('button.btn.btn-ghost', { type: 'button' }, 'Start over');
        back.addEventListener('click', () => startOver());
        m.step({
            title: 'Enter the code',
            body: [h('p', null, 'Telegram sent a login code to ', h('strong', null, fmtPhone(phone)),
                '. It arrives in the Telegram app (or by SMS).'),
            fieldRow('Verification code', code)],
            submitLabel: 'Submit Code',
            buttons: [back],
            focus: code,
            onSubmit: async () => {
                if (!code.value.trim()) throw new Error('Enter the code Telegram sent.');
                let res;
                try {
                    res = await api('POST', '/api/sessions/login/code', { login_id: loginId, code: code.value.trim() });
                } catch (e) {
                    if (fatal(e)) return startOver(e.message);
                    code.select();
                    throw e;
                }
                if (res.state === 'password_needed') stepPassword(res.hint);
                else finish(res.session);
            },
        });
    }

    function stepPassword(hint) {
        const pw = h('input', { type: 'password', name: 'password', autocomplete: 'off', required: true });
        const back = h('button.btn.btn-ghost', { type: 'button' }, 'Start over');
        back.addEventListener('click', () => startOver());
        m.step({
            title: 'Two-step verification',
            body: [h('p', null, 'This account has a cloud password (two-step verification). Enter it to finish.'),
                fieldRow('2FA password', pw, hint ? `Hint: ${hint}` : null)],
            submitLabel: 'Submit Password',
            buttons: [back],
            focus: pw,
            onSubmit: async () => {
                if (!pw.value) throw new Error('Enter the account’s cloud password.');
                let res;
                try {
                    res = await api('POST', '/api/sessions/login/password', { login_id: loginId, password: pw.value });
                } catch (e) {
                    if (fatal(e)) return startOver(e.message);
                    pw.value = '';
                    pw.focus();
                    throw e;
                }
                finish(res.session);
            },
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
    else if (resume) stepCode(resume.phone);
    else {
        stepPhone();
        if (failed) m.fail(failed);
    }
}

function botSessionModal(ctx, { onCreated }) {
    const m = formModal({ title: 'Add Bot Session' });
    ctx.onLeave(() => m.closeByPage());
    const f = sessionFields({ phone: false });
    const token = h('input.mono', { type: 'password', name: 'bot_token', autocomplete: 'off', spellcheck: 'false',
        required: true, placeholder: '123456789:AAE…' });
    m.step({
        body: [h('p.muted', null, 'A bot logged in over MTProto with its token from @BotFather.'), f.rows,
            fieldRow('Bot token', token, 'Stored inside the session; never shown again.')],
        submitLabel: 'Add Bot Session',
        focus: f.first,
        onSubmit: async () => {
            const body = f.check(false);
            if (!token.value.trim()) throw new Error('The bot token is missing: copy it from @BotFather.');
            body.bot_token = token.value.trim();
            const res = await api('POST', '/api/sessions/bot', body);
            m.close();
            onCreated(res.session);
        },
    });
}

// The file's bytes as base64 (FileReader gives a data: URL; the part after the comma).
function readBase64(file) {
    return new Promise((resolve, reject) => {
        const r = new FileReader();
        r.addEventListener('load', () => resolve(String(r.result).replace(/^data:[^,]*,/, '')));
        r.addEventListener('error', () => reject(new Error(`Cannot read ${file.name}: ${r.error ? r.error.message : 'unknown error'}.`)));
        r.readAsDataURL(file);
    });
}

function importSessionModal(ctx, { onCreated }) {
    const m = formModal({ title: 'Import Session' });
    ctx.onLeave(() => m.closeByPage());
    const f = sessionFields();
    const useFile = h('input', { type: 'radio', name: 'source', value: 'file', checked: true });
    const useString = h('input', { type: 'radio', name: 'source', value: 'string' });
    const file = h('input', { type: 'file', name: 'file', accept: '.session' });
    const str = h('textarea.mono', { name: 'string', rows: '4', spellcheck: 'false', autocomplete: 'off',
        placeholder: 'BQE… / 1BVts… (Pyrogram, Telethon or GramJS)' });
    const fileRow = fieldRow('Session file', file, 'A Pyrogram (any version) or Telethon .session file.');
    const strRow = fieldRow('String session', str, 'Pyrogram, Telethon or GramJS string session.');
    const sync = () => {
        fileRow.hidden = !useFile.checked;
        strRow.hidden = !useString.checked;
    };
    useFile.addEventListener('change', sync);
    useString.addEventListener('change', sync);
    sync();
    // base64 grows 4/3; the rest of the body is small.
    const maxFile = Math.floor((MAX_BODY - 4096) / 4) * 3;
    m.step({
        body: [h('p.muted', null, 'Checked by connecting to Telegram before anything is stored.'), f.rows,
            h('fieldset.field', null, h('legend.field-label', null, 'Import from'),
                h('label.radio', null, useFile, ' A .session file'),
                h('label.radio', null, useString, ' A string session')),
            fileRow, strRow],
        submitLabel: 'Import',
        focus: f.first,
        onSubmit: async () => {
            const body = f.check(false);
            if (useFile.checked) {
                const picked = file.files && file.files[0];
                if (!picked) throw new Error('Choose the .session file to import.');
                if (picked.size === 0) throw new Error(`${picked.name} is empty: it is not a session file.`);
                if (picked.size > maxFile) {
                    throw new Error(`${picked.name} is ${fmtNum(Math.ceil(picked.size / 1024))} KB: too large to be a session file ` +
                        `(at most ${fmtNum(Math.floor(maxFile / 1024))} KB can be uploaded).`);
                }
                body.file = await readBase64(picked);
            } else {
                const v = str.value.trim();
                if (!v) throw new Error('Paste the string session to import.');
                body.string = v;
            }
            const res = await api('POST', '/api/sessions/import', body);
            m.close();
            onCreated(res.session);
        },
    });
}

// Load Requests: the channel and how many; the job's progress then shows on the page.
function loadRequestsModal(ctx, session, { onStarted }) {
    const m = formModal({ title: `Load Requests with ${session.name}` });
    ctx.onLeave(() => m.closeByPage());
    const channel = h('input', { type: 'text', name: 'channel', autocomplete: 'off', spellcheck: 'false', required: true,
        placeholder: '@channelname, https://t.me/channelname or -1001234567890' });
    const limit = h('input', { type: 'number', name: 'limit', min: '1', step: '1', value: String(LOAD_LIMIT_DEFAULT) });
    const all = h('input', { type: 'checkbox', name: 'all' });
    all.addEventListener('change', () => { limit.disabled = all.checked; });
    m.step({
        body: [h('p.muted', null, 'Pending join requests of the channel are added to the Invite Requests page as pending. ',
            'The account needs the “Invite Users” admin right there.'),
        fieldRow('Channel', channel, '@username, a t.me link or the -100… id.'),
        fieldRow('How many', limit, `At most this many (${fmtNum(LOAD_LIMIT_DEFAULT)} by default).`),
        h('label.check-row', null, all, 'Load all pending requests')],
        submitLabel: 'Load Requests',
        focus: channel,
        onSubmit: async () => {
            const ch = channel.value.trim();
            if (!ch) throw new Error('Enter the channel: @username, a t.me link or the -100… id.');
            let n = 'all';
            if (!all.checked) {
                n = Number(limit.value);
                if (!Number.isInteger(n) || n < 1) throw new Error('The number of requests must be a whole number from 1, or tick “Load all”.');
            }
            const res = await api('POST', `/api/sessions/${encodeURIComponent(session.name)}/load`, { channel: ch, limit: n });
            m.close();
            onStarted(res.job);
        },
    });
}

// Downloads GET /api/sessions/{name}/export; errors come back as the API's message.
async function exportSession(name) {
    const res = await fetch(`/api/sessions/${encodeURIComponent(name)}/export`, { credentials: 'same-origin' })
        .catch((e) => { throw new ApiError(0, 'network', 'Cannot reach doorman. Is it running? (' + e.message + ')'); });
    if (!res.ok) {
        let err = {};
        try { err = (await res.json()).error || {}; } catch (e) { err = {}; }
        throw new ApiError(res.status, err.code, err.message || `doorman answered HTTP ${res.status}.`, null, err);
    }
    const blob = await res.blob();
    const cd = res.headers.get('Content-Disposition') || '';
    const m = /filename="?([^";]+)"?/.exec(cd);
    const a = h('a', { href: URL.createObjectURL(blob), download: m ? m[1] : `${name}.session` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 60000);
}

function pageSessions(ctx, main) {
    document.title = 'Sessions · doorman';
    const rows = new Map(); // name -> {session, tr}
    const tbody = h('tbody');
    const empty = h('div.empty', { hidden: true },
        'No sessions yet. Create one with a Telegram account, add a bot, or import a .session file.');
    const createBtn = h('button.btn.btn-primary', { type: 'button' }, 'Create New Session');
    const botBtn = h('button.btn.btn-secondary', { type: 'button' }, 'Add Bot Session');
    const importBtn = h('button.btn.btn-secondary', { type: 'button' }, 'Import Session');
    const refreshBtn = h('button.btn.btn-ghost.btn-small', { type: 'button' }, 'Refresh');
    const jobPanel = h('section.job-panel', { hidden: true, 'aria-live': 'polite' });

    const created = (what) => (session) => {
        showBanner(`${what} “${session.name}” added${session.account ? ': ' + accountLabel(session.account) : ''}.`, 'info');
        load();
    };
    createBtn.addEventListener('click', () => createSessionWizard(ctx, { onCreated: () => load() }));
    botBtn.addEventListener('click', () => botSessionModal(ctx, { onCreated: created('Bot session') }));
    importBtn.addEventListener('click', () => importSessionModal(ctx, { onCreated: created('Session') }));
    refreshBtn.addEventListener('click', () => load());

    add(main,
        h('div.page-head', null, h('h1', null, 'Sessions'), h('span.spacer'), createBtn, botBtn, importBtn, refreshBtn),
        jobPanel,
        h('div.table-wrap', null,
            h('table.table.sessions-table', null,
                h('thead', null, h('tr', null, h('th', null, 'Name'), h('th', null, 'Type'), h('th', null, 'Account'),
                    h('th', null, 'Status'), h('th', null, 'Last check'), h('th', null, 'Last error'), h('th', null, ''))),
                tbody),
            empty));

    function renderSession(s) {
        const a = s.account;
        const account = a
            ? [h('div.user-name', null, fullName(a), a.premium ? h('span.badge.badge-premium', null, 'Premium') : null),
                h('div.user-meta', null,
                    a.username ? h('span.username', null, '@' + a.username) : null,
                    a.phone ? h('span.phone', null, fmtPhone(a.phone)) : null,
                    h('span.user-id', { title: 'Telegram user id' }, String(a.id)))]
            : h('div.muted', null, s.phone ? fmtPhone(s.phone) : '—', h('div.small', null, 'not checked yet'));
        const check = h('button.btn.btn-ghost.btn-small', { type: 'button' }, 'Check Status');
        const loadBtn = h('button.btn.btn-secondary.btn-small', { type: 'button' }, 'Load Requests');
        const exp = h('button.btn.btn-ghost.btn-small', { type: 'button' }, 'Export');
        const del = h('button.btn.btn-danger-outline.btn-small', { type: 'button' }, 'Delete');
        check.addEventListener('click', () => checkStatus(s.name, check));
        loadBtn.addEventListener('click', () => loadRequestsModal(ctx, s, { onStarted: showLoad }));
        exp.addEventListener('click', () => busy([exp], () => exportSession(s.name)).catch((e) => showBanner(e.message)));
        del.addEventListener('click', () => deleteSession(s, del));
        return h('tr', { dataset: { name: s.name, status: s.status } },
            h('td.session-name', null, s.name),
            h('td', null, badge(s.type)),
            h('td.account', null, account),
            h('td.session-status', null, badge(s.status),
                s.status_reason ? h('div.small', { class: s.status === 'invalid' ? 'err-text' : 'muted' }, s.status_reason) : null),
            h('td.date', { title: fmtTimeFull(s.last_check_at) }, s.last_check_at ? fmtAgo(s.last_check_at) : 'never'),
            h('td.last-error', null, s.last_error ? h('span.err-text', null, s.last_error) : h('span.muted', null, '—')),
            h('td.row-actions', null, check, loadBtn, exp, del));
    }

    function put(s) {
        const tr = renderSession(s);
        const old = rows.get(s.name);
        if (old) old.tr.replaceWith(tr);
        else tbody.append(tr);
        rows.set(s.name, { session: s, tr });
        empty.hidden = rows.size > 0;
    }

    async function load() {
        try {
            const res = await busy([refreshBtn], () => api('GET', '/api/sessions'));
            if (!ctx.alive) return;
            rows.clear();
            tbody.replaceChildren();
            res.items.forEach(put);
            empty.hidden = rows.size > 0;
        } catch (e) {
            if (ctx.alive) showBanner(e.message);
        }
    }

    async function checkStatus(name, btn) {
        hideBanner();
        try {
            const res = await busy([btn], () => api('POST', `/api/sessions/${encodeURIComponent(name)}/check`));
            if (ctx.alive) put(res.session);
        } catch (e) {
            if (!ctx.alive) return;
            showBanner(e.message);
            load(); // the check records what it found (an invalid session) even when it fails
        }
    }

    async function deleteSession(s, btn) {
        const logout = h('input', { type: 'checkbox', name: 'logout' });
        const ok = await confirmDialog({
            title: `Delete session “${s.name}”?`,
            body: [h('p', null, 'The session file and its database entry are removed from doorman.',
                s.account ? [' Account: ', accountLabel(s.account), '.'] : null),
            h('label.check-row', null, logout, 'Also log out on Telegram'),
            h('p.muted.small', null, 'Logging out ends this authorization for Telegram too, so a copy of the file stops working.')],
            confirmLabel: 'Delete',
            danger: true,
        });
        if (!ok || !ctx.alive) return;
        try {
            await busy([btn], () => api('POST', `/api/sessions/${encodeURIComponent(s.name)}/delete`, { logout: logout.checked }));
            if (!ctx.alive) return;
            showBanner(`Session “${s.name}” deleted${logout.checked ? ' and logged out on Telegram' : ''}.`, 'info');
            const r = rows.get(s.name);
            if (r) r.tr.remove();
            rows.delete(s.name);
            empty.hidden = rows.size > 0;
        } catch (e) {
            if (ctx.alive) showBanner(e.message);
        }
    }

    function showLoad(job) {
        state.lastLoadJobId = job.id;
        watchJob(ctx, jobPanel, job, {
            isCurrent: () => state.lastLoadJobId === job.id,
            onFinish: (j, view) => {
                if (j.state === 'done') {
                    view.footer(h('a.job-link', { href: '#/requests' }, 'See the loaded requests on the Invite Requests page →'));
                }
                load();
            },
            onClose: () => { state.lastLoadJobId = null; },
        });
    }

    // A login left unfinished in this tab (reload, restart): the wizard goes on where it was.
    async function resumeLogin() {
        const id = savedLogin.get();
        if (!id) return;
        try {
            const res = await api('GET', `/api/sessions/login/${encodeURIComponent(id)}`);
            if (ctx.alive) createSessionWizard(ctx, { resume: res, onCreated: () => load() });
        } catch (e) {
            if (!ctx.alive) return;
            if (e.status === 404) {
                savedLogin.forget();
                createSessionWizard(ctx, { failed: e.message, onCreated: () => load() });
            } else if (e.status !== 401) {
                showBanner(e.message);
            }
        }
    }

    load();
    resumeLogin();
    if (state.lastLoadJobId) {
        api('GET', `/api/jobs/${state.lastLoadJobId}`).then((res) => ctx.alive && showLoad(res.job)).catch(() => {});
    }
}

// ---------------------------------------------------------------------------------------------
// Audit log

function pageAudit(ctx, main) {
    document.title = 'Audit Log · doorman';
    let nextBefore = null;
    let n = 0;
    const tbody = h('tbody');
    const empty = h('div.empty', { hidden: true }, 'The audit log is empty.');
    const moreBtn = h('button.btn.btn-ghost', { type: 'button', hidden: true }, 'Load more');
    const refreshBtn = h('button.btn.btn-ghost.btn-small', { type: 'button' }, 'Refresh');
    moreBtn.addEventListener('click', () => load(false));
    refreshBtn.addEventListener('click', () => load(true));
    add(main,
        h('div.page-head', null, h('h1', null, 'Audit Log'), h('span.spacer'), refreshBtn),
        h('div.table-wrap', null,
            h('table.table', null,
                h('thead', null, h('tr', null, h('th', null, 'Time'), h('th', null, 'Admin'), h('th', null, 'Action'),
                    h('th', null, 'Request'), h('th', null, 'Channel'), h('th', null, 'User id'), h('th', null, 'Job'),
                    h('th', null, 'Via'), h('th', null, 'Result'), h('th', null, 'Detail'))),
                tbody),
            empty),
        h('div.list-footer', null, h('span'), moreBtn));

    const resultClass = { ok: 'approved', already_handled: 'neutral', error: 'declined' };
    const idCell = (v) => h('td.num', null, v ? String(v) : '—');

    async function load(reset) {
        try {
            const res = await busy([moreBtn, refreshBtn], () => api('GET', '/api/audit' + qs({ limit: 100, before: reset ? '' : nextBefore })));
            if (!ctx.alive) return;
            if (reset) {
                tbody.replaceChildren();
                n = 0;
            }
            const frag = document.createDocumentFragment();
            for (const a of res.items) {
                frag.append(h('tr', null,
                    h('td.date', { title: fmtTimeFull(a.at) }, fmtTime(a.at)),
                    h('td', null, a.admin || '—'),
                    h('td', null, h('span.action', null, a.action)),
                    idCell(a.request_id), idCell(a.chat_id), idCell(a.user_id), idCell(a.job_id),
                    h('td', null, a.via || '—'),
                    h('td', null, a.result ? badge(resultClass[a.result] || 'neutral', a.result.replace('_', ' ')) : '—'),
                    h('td.detail', null, a.detail || '')));
                n++;
            }
            tbody.append(frag);
            nextBefore = res.next_before;
            moreBtn.hidden = nextBefore === null || nextBefore === undefined;
            empty.hidden = n > 0;
        } catch (e) {
            if (ctx.alive) showBanner(e.message);
        }
    }
    load(true);
}

// ---------------------------------------------------------------------------------------------
// Settings

function pageSettings(ctx, main) {
    document.title = 'Settings · doorman';
    const status = h('dl.status-list');
    const tokenIn = h('input.mono', { type: 'password', name: 'bot_token', autocomplete: 'off', spellcheck: 'false' });
    const modePolling = h('input', { type: 'radio', name: 'mode', value: 'polling' });
    const modeWebhook = h('input', { type: 'radio', name: 'mode', value: 'webhook' });
    const hookIn = h('input', { type: 'url', name: 'webhook_url', placeholder: 'https://doorman.example.com' });
    const rateIn = h('input', { type: 'number', name: 'bot_rate', min: '1', step: 'any' });
    const save = h('button.btn.btn-primary', { type: 'submit' }, 'Save settings');
    const msg = h('p.form-error', { role: 'alert', hidden: true });
    const ok = h('p.form-ok', { role: 'status', hidden: true });
    const hookRow = fieldRow('Webhook URL', hookIn,
        'The public HTTPS address Telegram calls; doorman receives at /telegram/webhook.');
    const syncMode = () => { hookRow.hidden = !modeWebhook.checked; };
    modePolling.addEventListener('change', syncMode);
    modeWebhook.addEventListener('change', syncMode);

    const form = h('form.form.settings-form', { novalidate: true },
        msg, ok,
        fieldRow('Bot token', tokenIn, 'From @BotFather. Stored encrypted; never shown again. Leave empty to keep the current one.'),
        h('fieldset.field', null, h('legend.field-label', null, 'How the bot receives updates'),
            h('label.radio', null, modePolling, ' Long polling ', h('span.muted', null, '(works behind NAT, no public address needed)')),
            h('label.radio', null, modeWebhook, ' Webhook ', h('span.muted', null, '(Telegram calls doorman)'))),
        hookRow,
        fieldRow('Bot API rate limit (requests per second)', rateIn, 'Decisions are paced to stay under this rate; Telegram\'s flood waits are honoured on top.'),
        h('div.form-actions', null, save));

    add(main,
        h('div.page-head', null, h('h1', null, 'Settings')),
        h('div.settings-grid', null,
            h('section.card', null, h('h2', null, 'Bot status'), status),
            h('section.card', null, h('h2', null, 'Telegram bot'), form)));

    function renderStatus(s) {
        const b = s.bot || {};
        const rows = [
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
        status.replaceChildren(...rows.flatMap(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
        status.dataset.receiving = String(!!b.receiving);
    }

    function fill(s) {
        const b = s.bot || {};
        tokenIn.value = '';
        tokenIn.placeholder = b.configured
            ? `Configured: ${b.username ? '@' + b.username : 'bot ' + b.id}. Paste a new token to replace it.`
            : '123456789:AAE…';
        modePolling.checked = s.mode !== 'webhook';
        modeWebhook.checked = s.mode === 'webhook';
        hookIn.value = s.webhook_url || '';
        rateIn.value = s.bot_rate != null ? String(s.bot_rate) : '';
        syncMode();
    }

    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        msg.hidden = ok.hidden = true;
        const body = { mode: modeWebhook.checked ? 'webhook' : 'polling' };
        if (tokenIn.value.trim()) body.bot_token = tokenIn.value.trim();
        if (modeWebhook.checked) body.webhook_url = hookIn.value.trim();
        if (rateIn.value !== '') {
            const r = Number(rateIn.value);
            if (!(r > 0)) {
                msg.textContent = 'The rate limit must be a positive number.';
                msg.hidden = false;
                return;
            }
            body.bot_rate = r;
        }
        try {
            const s = await busy([save], () => api('POST', '/api/settings', body));
            if (!ctx.alive) return;
            fill(s);
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
            if (first) fill(s);
            first = false;
            renderStatus(s);
        } catch (e) {
            if (ctx.alive && e.status !== 401) showBanner(e.message);
            if (e.status === 401) return;
        }
        ctx.later(poll, 5000);
    }
    poll();
}

// ---------------------------------------------------------------------------------------------
// Start

async function boot() {
    $('#logout').addEventListener('click', logout);
    $('#banner-close').addEventListener('click', hideBanner);
    window.addEventListener('hashchange', route);
    if (parseHash().path !== '/setup') {
        try {
            state.me = await api('GET', '/api/me');
        } catch (e) {
            if (e.status !== 401) showBanner(e.message);
        }
    }
    showHeader();
    route();
}

boot();
