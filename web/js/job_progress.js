// job_progress.js: jobs (bulk decisions, loads) as the panel shows them: the progress block with
// its bar, counters, rate-limit wait and errors, polled until the job ends (Invite Requests,
// Sessions and Rules pages), and the pieces the Jobs page shares with it.
import { h, clear, busy } from './dom.js';
import { api } from './api.js';
import { showBanner } from './frame.js';
import { fmtNum, fmtDuration, badge } from './format.js';

const JOB_POLL_MS = 500;

export const isFinished = (job) => ['done', 'failed', 'cancelled'].includes(job.state);

export async function cancelJob(job, btn) {
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
    apply: { ing: 'Judging', done: 'judged', skipped: 'skipped' },
};
export const jobWords = (kind) => JOB_WORDS[kind] || { ing: 'Running', done: 'done', skipped: 'skipped' };

// How far a job is: items processed of total, the percentage, and a <progress>'s max and value.
export function jobProgress(j) {
    const processed = (j.done || 0) + (j.skipped || 0) + (j.failed || 0);
    const total = j.total || 0;
    const fin = isFinished(j);
    return {
        processed, total,
        percent: total ? Math.floor((processed * 100) / total) : (fin ? 100 : 0),
        max: Math.max(total, 1),
        value: total ? Math.min(processed, total) : (fin ? 1 : 0),
    };
}

// Seconds until a job resumes after a rate-limit wait (0: not waiting).
export const jobWaitLeft = (j) => (j.wait_until ? j.wait_until - Date.now() / 1000 : 0);

// The table of a job's failed items (the API's errors: [{request_id, user_id, error}]).
export function jobErrorsTable(errors) {
    return h('table.table.table-small', null,
        h('thead', null, h('tr', null, h('th', null, 'Request'), h('th', null, 'User id'), h('th', null, 'Error'))),
        h('tbody', null, errors.map((e) => h('tr', null,
            h('td', null, String(e.request_id)), h('td', null, String(e.user_id)),
            h('td.err-text', null, e.error)))));
}

// What each account of a job did (the API's accounts: [{via, done, skipped, failed}]), one line
// an account; null for a job of one account.
export function jobAccounts(j, accounts) {
    if (!accounts || !(accounts.length > 1 || /,|^sessions:any$/.test(j.via || ''))) return null;
    const words = jobWords(j.kind);
    return h('ul.job-accounts', null, accounts.map((a) => h('li', { dataset: { via: a.via } },
        h('strong', null, a.via), `: ${fmtNum(a.done)} ${words.done}`,
        a.skipped ? ` · ${fmtNum(a.skipped)} ${words.skipped}` : '',
        a.failed ? ` · ${fmtNum(a.failed)} failed` : '')));
}

// A page that opens while its last job (id, or null) is still of interest: show(job) shows it again.
export function showLastJob(ctx, id, show) {
    if (!id) return;
    api('GET', `/api/jobs/${id}`).then((res) => ctx.alive && show(res.job)).catch(() => {});
}

// Shows job in panel (a section.job-panel) and polls it until it finishes. isCurrent() tells
// whether the page still wants this job shown; onFinish(job, view) runs once when it has finished;
// onClose runs when the admin dismisses the finished job.
export function watchJob(ctx, panel, job, { isCurrent, onFinish, onClose }) {
    const view = jobView(job, { onCancel: cancelJob, onClose: () => { panel.hidden = true; onClose(); } });
    clear(panel).append(view.el);
    panel.hidden = false;
    let finished = false;
    const poll = async () => {
        if (!ctx.alive || !isCurrent()) return;
        try {
            const res = await api('GET', `/api/jobs/${job.id}`);
            if (!ctx.alive || !isCurrent()) return;
            view.update(res.job, res.errors, res.accounts);
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

// The parts of a job's progress block; update(job, errors) fills them.
function jobParts() {
    return {
        title: h('div.job-title', null, ''),
        via: h('span.job-via', null, ''),
        state: h('span'),
        bar: h('progress.progress', { max: 1, value: 0 }),
        pct: h('span.job-pct', null, ''),
        counts: h('div.job-counts', null, ''),
        accounts: h('div.job-by-account', { hidden: true }),
        wait: h('div.job-wait', { hidden: true }, ''),
        note: h('div.job-note', { hidden: true }, ''),
        errs: h('div.job-errors', { hidden: true }),
        foot: h('div.job-foot', { hidden: true }),
        cancel: h('button.btn.btn-ghost.btn-small', { type: 'button' }, 'Cancel job'),
        close: h('button.btn.btn-ghost.btn-small', { type: 'button', hidden: true }, 'Dismiss'),
    };
}

// Shows j (and its errors and what each account did, when given) in the parts p of el.
function fillJob(el, p, j, errors, accounts) {
    const pr = jobProgress(j);
    const fin = isFinished(j);
    const words = jobWords(j.kind);
    p.title.textContent = j.description || `${words.ing} ${fmtNum(pr.total)} request${pr.total === 1 ? '' : 's'}`;
    p.via.textContent = j.via ? `via ${j.via}` : '';
    p.state.replaceChildren(badge(j.state));
    p.bar.max = pr.max;
    p.bar.value = pr.value;
    p.bar.setAttribute('aria-label', 'Job progress');
    p.pct.textContent = `${fmtNum(pr.processed)} of ${fmtNum(pr.total)} · ${pr.percent}%`;
    el.dataset.state = j.state;
    el.dataset.percent = String(pr.percent);
    p.counts.replaceChildren(
        h('span.count-ok', null, `${fmtNum(j.done)} ${words.done}`),
        h('span.count-skip', null, `${fmtNum(j.skipped)} ${words.skipped}`),
        h('span.count-fail', { class: j.failed ? 'has-failures' : null }, `${fmtNum(j.failed)} failed`));
    const byAccount = jobAccounts(j, accounts);
    p.accounts.hidden = !byAccount;
    p.accounts.replaceChildren(...(byAccount ? [byAccount] : []));
    const waitLeft = jobWaitLeft(j);
    p.wait.hidden = fin || waitLeft <= 0;
    if (!p.wait.hidden) {
        p.wait.textContent = `Waiting for Telegram's rate limit: resuming in ${fmtDuration(waitLeft)}`;
    }
    p.cancel.hidden = fin;
    p.close.hidden = !fin;
    p.note.hidden = !j.error;
    p.note.textContent = j.error || '';
    p.errs.hidden = !(errors && errors.length);
    if (!p.errs.hidden) {
        p.errs.replaceChildren(
            h('div.job-errors-title', null, `Errors (${fmtNum(j.failed)}${j.failed > errors.length ? `, first ${errors.length} shown` : ''})`),
            jobErrorsTable(errors));
    }
}

// A job's progress block (see watchJob). update(job, errors, accounts) refreshes it; note(text) shows a
// line of trouble; footer(node) adds a line under it (e.g. where to see the result).
export function jobView(job, { onCancel, onClose }) {
    const p = jobParts();
    let current = job;
    p.cancel.addEventListener('click', () => onCancel(current, p.cancel));
    p.close.addEventListener('click', onClose);
    const el = h('div.job', null,
        h('div.job-head', null, p.title, p.via, p.state, h('span.spacer'), p.cancel, p.close),
        h('div.job-bar', null, p.bar, p.pct),
        p.counts, p.accounts, p.wait, p.note, p.errs, p.foot);
    const update = (j, errors, accounts) => {
        current = j;
        fillJob(el, p, j, errors, accounts);
    };
    update(job, null);
    return {
        el, update,
        note(m) { p.note.hidden = false; p.note.textContent = m; },
        footer(node) { p.foot.hidden = false; p.foot.replaceChildren(node); },
    };
}
