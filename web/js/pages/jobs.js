// pages/jobs.js: the Jobs page: every job with its progress and result; running ones refresh
// themselves, a failed one shows its errors.
import { h, busy } from '../dom.js';
import { api } from '../api.js';
import { showBanner } from '../frame.js';
import { pagedList } from '../paged_list.js';
import { state, can } from '../state.js';
import { fmtNum, fmtTime, fmtTimeFull, fmtDuration, badge } from '../format.js';
import {
    isFinished, cancelJob, jobWords, jobProgress, jobWaitLeft, jobErrorsTable, jobAccounts,
} from '../job_progress.js';

// Whether a job names several accounts (docs/api.md, session_name): its row offers what each did.
const severalAccounts = (j) => /,|^sessions:any$/.test(j.via || '');

const COLUMNS = ['#', 'Job', 'Admin', 'State', 'Progress', 'Result', 'Started', 'Finished', ''];

function progressCell(j) {
    const pr = jobProgress(j);
    return h('div.cell-progress', null,
        h('progress.progress.progress-small', { max: pr.max, value: pr.value }),
        h('span.small', null, `${fmtNum(pr.processed)} / ${fmtNum(pr.total)} · ${pr.percent}%`));
}

// A job's row; actions: {cancel(job, btn), errors(id, btn)} for its buttons.
function jobRow(j, actions) {
    const cell = h('td.row-actions');
    // owners cancel any job, deciders their own (the API says the same)
    if (!isFinished(j) && (can('owner') || (can('decider') && j.admin === state.me.admin))) {
        const b = h('button.btn.btn-ghost.btn-small', { type: 'button' }, 'Cancel');
        b.addEventListener('click', () => actions.cancel(j, b));
        cell.append(b);
    }
    if (j.failed > 0 || severalAccounts(j)) {
        const b = h('button.btn.btn-ghost.btn-small', { type: 'button' }, j.failed > 0 ? 'Errors' : 'By account');
        b.addEventListener('click', () => actions.errors(j.id, b));
        cell.append(b);
    }
    const waitLeft = jobWaitLeft(j);
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
        cell);
}

export function pageJobs(ctx, main) {
    document.title = 'Jobs · doorman';
    const rows = new Map(); // id -> {job, tr, detail}
    const actions = {
        cancel: async (j, b) => { await cancelJob(j, b); refreshOne(j.id); },
        errors: (id, b) => toggleErrors(id, b),
    };
    // whose jobs: the rules make many small ones (one per channel and action while it waits)
    const whose = h('select', { name: 'by', 'aria-label': 'Whose jobs' },
        h('option', { value: '' }, 'All jobs'),
        h('option', { value: 'admins' }, 'Started by admins'),
        h('option', { value: 'rules' }, 'Decisions of the rules'));
    whose.addEventListener('change', () => list.load(true));
    const list = pagedList(ctx, main, {
        title: 'Jobs',
        headExtra: [whose],
        query: () => ({ by: whose.value }),
        columns: COLUMNS,
        emptyText: 'No jobs yet. Decisions on the Invite Requests page run as jobs.',
        path: '/api/jobs',
        limit: 50,
        onItems: (items, reset) => {
            if (reset) rows.clear();
            items.forEach(put);
            return rows.size;
        },
    });

    function put(j) {
        const old = rows.get(j.id);
        const tr = jobRow(j, actions);
        if (old) {
            old.tr.replaceWith(tr);
            old.tr = tr;
            old.job = j;
        } else {
            rows.set(j.id, { job: j, tr, detail: null });
            list.tbody.append(tr);
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
            r.detail = h('tr.detail-row', null, h('td', { colSpan: COLUMNS.length },
                jobAccounts(res.job, res.accounts), res.errors.length ? jobErrorsTable(res.errors) : null));
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

    // Running jobs refresh themselves every second.
    async function tick() {
        const live = [...rows.values()].filter((r) => !isFinished(r.job)).map((r) => r.job.id);
        await Promise.all(live.map(refreshOne));
        ctx.later(tick, 1000);
    }
    list.load(true).then(() => ctx.later(tick, 1000));
}
