// pages/sessions.js: the Sessions page: the Telegram accounts doorman uses over MTProto, with
// Check Status, Load Requests, Export and Delete per session, and the buttons that add one
// (sessions_login.js, sessions_forms.js).
import { h, add, busy, tableHead, labelCells } from '../dom.js';
import { api, send } from '../api.js';
import { showBanner, hideBanner } from '../frame.js';
import { confirmDialog } from '../modal.js';
import { fmtTimeFull, fmtAgo, fullName, fmtPhone, accountLabel, badge } from '../format.js';
import { state } from '../state.js';
import { showLastJob } from '../job_progress.js';
import { createSessionWizard, resumeSessionLogin } from './sessions_login.js';
import { botSessionModal, importSessionModal } from './sessions_forms.js';
import { loadRequestsModal, showLoadJob } from './sessions_load.js';

// Downloads GET /api/sessions/{name}/export; errors come back as the API's message.
async function exportSession(name) {
    const res = await send(`/api/sessions/${encodeURIComponent(name)}/export`, { credentials: 'same-origin' });
    const blob = await res.blob();
    const cd = res.headers.get('Content-Disposition') || '';
    const m = /filename="?([^";]+)"?/.exec(cd);
    const a = h('a', { href: URL.createObjectURL(blob), download: m ? m[1] : `${name}.session` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 60000);
}

function accountCell(s) {
    const a = s.account;
    if (!a) return h('div.muted', null, s.phone ? fmtPhone(s.phone) : '—', h('div.small', null, 'not checked yet'));
    return [h('div.user-name', null, fullName(a), a.premium ? h('span.badge.badge-premium', null, 'Premium') : null),
        h('div.user-meta', null,
            a.username ? h('span.username', null, '@' + a.username) : null,
            a.phone ? h('span.phone', null, fmtPhone(a.phone)) : null,
            h('span.user-id', { title: 'Telegram user id' }, String(a.id)))];
}

// A session's row; on: {check, load, exp, del}(session, button) for its buttons.
function sessionRow(s, on) {
    const button = (cls, label, fn) => {
        const b = h(cls, { type: 'button' }, label);
        b.addEventListener('click', () => fn(s, b));
        return b;
    };
    return h('tr', { dataset: { name: s.name, status: s.status } },
        h('td.session-name', null, s.name),
        h('td', null, badge(s.type)),
        h('td.account', null, accountCell(s)),
        h('td.session-status', null, badge(s.status),
            s.status_reason ? h('div.small', { class: s.status === 'invalid' ? 'err-text' : 'muted' }, s.status_reason) : null),
        h('td.date', { title: fmtTimeFull(s.last_check_at) }, s.last_check_at ? fmtAgo(s.last_check_at) : 'never'),
        h('td.last-error', null, s.last_error ? h('span.err-text', null, s.last_error) : h('span.muted', null, '—')),
        h('td.row-actions', null,
            button('button.btn.btn-ghost.btn-small', 'Check Status', on.check),
            button('button.btn.btn-secondary.btn-small', 'Load Requests', on.load),
            button('button.btn.btn-ghost.btn-small', 'Export', on.exp),
            button('button.btn.btn-danger-outline.btn-small', 'Delete', on.del)));
}

// Asks whether to delete s (and whether to log it out on Telegram): null when not, else {logout}.
async function askDelete(s) {
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
    return ok ? { logout: logout.checked } : null;
}

export function pageSessions(ctx, main) {
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
    const showLoad = (job) => showLoadJob(ctx, jobPanel, job, () => load());
    const on = {
        check: (s, b) => checkStatus(s.name, b),
        load: (s) => loadRequestsModal(ctx, s, { onStarted: showLoad }),
        exp: (s, b) => busy([b], () => exportSession(s.name)).catch((e) => showBanner(e.message)),
        del: (s, b) => deleteSession(s, b),
    };

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
            labelCells(h('table.table.sessions-table', null,
                tableHead('Name', 'Type', 'Account', 'Status', 'Last check', 'Last error', ''),
                tbody)),
            empty));

    function put(s) {
        const tr = sessionRow(s, on);
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
        const answer = await askDelete(s);
        if (!answer || !ctx.alive) return;
        try {
            await busy([btn], () => api('POST', `/api/sessions/${encodeURIComponent(s.name)}/delete`, answer));
            if (!ctx.alive) return;
            showBanner(`Session “${s.name}” deleted${answer.logout ? ' and logged out on Telegram' : ''}.`, 'info');
            const r = rows.get(s.name);
            if (r) r.tr.remove();
            rows.delete(s.name);
            empty.hidden = rows.size > 0;
        } catch (e) {
            if (ctx.alive) showBanner(e.message);
        }
    }

    load();
    resumeSessionLogin(ctx, { onCreated: () => load() });
    showLastJob(ctx, state.lastLoadJobId, showLoad);
}
