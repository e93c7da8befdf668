// pages/requests_actions.js: the Invite Requests page's action bar (Approve/Deny Selected,
// Approve/Deny All) and the progress of the decision job it starts.
import { h, busy } from '../dom.js';
import { api, qs } from '../api.js';
import { showBanner, hideBanner } from '../frame.js';
import { fmtNum } from '../format.js';
import { watchJob, showLastJob } from '../job_progress.js';
import { state } from '../state.js';
import { decisionModal } from './requests_decide.js';
import { apiFilter, filterSummary } from './requests_filters.js';

// The action bar for filter f and the table; channelLabel() names the chosen channel. Returns
// {el, jobPanel, sync(), resumeJob()}: sync() shows the selection and the counts, resumeJob()
// shows the last decision job again when there is one.
export function requestActions(ctx, f, table, channelLabel) {
    const selInfo = h('span.sel-info', null, '');
    const approveSel = h('button.btn.btn-primary', { type: 'button' }, 'Approve Selected');
    const denySel = h('button.btn.btn-danger-outline', { type: 'button' }, 'Deny Selected');
    const approveAll = h('button.btn.btn-secondary', { type: 'button',
        title: 'Approve every pending request that matches the filter' }, 'Approve All');
    const denyAll = h('button.btn.btn-danger-outline', { type: 'button',
        title: 'Deny every pending request that matches the filter' }, 'Deny All');
    const allInfo = h('span.all-info', null, '');
    const jobPanel = h('section.job-panel', { hidden: true, 'aria-live': 'polite' });
    approveSel.addEventListener('click', () => decide('approve', 'selected'));
    denySel.addEventListener('click', () => decide('deny', 'selected'));
    approveAll.addEventListener('click', () => decide('approve', 'all'));
    denyAll.addEventListener('click', () => decide('deny', 'all'));

    function sync() {
        const n = table.selected.size;
        const pending = table.counts().pending;
        selInfo.textContent = n ? `${fmtNum(n)} selected` : 'Select pending requests to decide on them';
        selInfo.classList.toggle('has-selection', n > 0);
        approveSel.disabled = denySel.disabled = n === 0;
        approveAll.disabled = denyAll.disabled = pending === 0;
        allInfo.textContent = `${fmtNum(pending)} pending match the filter`;
    }

    // How many pending requests "all" means right now, not what the page showed a while ago;
    // null when there are none (or the count failed; the banner says so).
    async function countAll() {
        let n;
        try {
            const res = await busy([approveSel, denySel, approveAll, denyAll], () => api('GET', '/api/invite-requests' +
                qs({ status: 'pending', ...apiFilter(f), limit: 1, count: 'exact' })));
            n = res.counts.pending;
        } catch (e) {
            showBanner(e.message);
            return null;
        }
        if (!ctx.alive) return null;
        if (n === 0) {
            showBanner('No pending requests match the filter.', 'info');
            table.reload();
            return null;
        }
        return n;
    }

    // Approve/Deny Selected and Approve/Deny All: the modal that asks who decides, then the job.
    async function decide(kind, scope) {
        let n, body, preflight;
        if (scope === 'selected') {
            if (!table.selected.size) return;
            n = table.selected.size;
            body = { request_ids: [...table.selected] };
            preflight = body;
        } else {
            n = await countAll();
            if (n === null) return;
            const filter = apiFilter(f);
            body = Object.keys(filter).length ? { filter } : {};
            preflight = { filter };
        }
        decisionModal(ctx, {
            kind, all: scope === 'all', count: n, body, preflight,
            summary: filterSummary(f, channelLabel()),
            wholeChannel: scope === 'all' && !f.q.trim() && !f.from && !f.to && !f.rule_id && (!f.invite_link || f.chat_id)
                ? (f.invite_link ? 'link' : f.chat_id ? 'one' : 'each') : null,
            onStarted: (job) => {
                hideBanner();
                table.clearSelection();
                state.lastJobId = job.id;
                showJob(job);
            },
        });
    }

    // The progress panel of the last decision job.
    function showJob(job) {
        watchJob(ctx, jobPanel, job, {
            isCurrent: () => state.lastJobId === job.id,
            onFinish: () => table.reload(),
            onClose: () => { state.lastJobId = null; },
        });
    }

    const resumeJob = () => showLastJob(ctx, state.lastJobId, showJob);

    const el = h('div.actions', null, selInfo, approveSel, denySel, h('span.sep'), allInfo, approveAll, denyAll);
    return { el, jobPanel, sync, resumeJob };
}
