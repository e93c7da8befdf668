// pages/rules_apply.js: the Rules page's Apply for a channel: "Apply the rules to the N pending"
// (N: the channel's pending requests now) runs the channel's rules over its backlog as a job
// (POST /api/rules/apply), whose progress shows below it (job_progress.js). The job judges; what
// the rules decided is carried out afterwards by the (rules) jobs (Jobs page), so N is read again
// when the finished job is dismissed. Hidden for the global rules, which have no backlog.
import { h, busy } from '../dom.js';
import { api, qs } from '../api.js';
import { fmtNum } from '../format.js';
import { confirmDialog } from '../modal.js';
import { watchJob } from '../job_progress.js';

// scope() is the chat_id the page shows (0: the global rules); chatName() names it.
export function applyCard(ctx, { scope, chatName }) {
    const btn = h('button.btn.btn-secondary', { type: 'button', disabled: true }, 'Apply the rules');
    const err = h('p.form-error', { role: 'alert', hidden: true });
    const jobPanel = h('section.job-panel', { hidden: true, 'aria-live': 'polite' });
    const el = h('section.card.apply-card', { hidden: true, 'aria-labelledby': 'apply-title' },
        h('div.card-head', null, h('h2', { id: 'apply-title' }, 'Apply to the backlog'), h('span.spacer'), btn),
        h('p.muted.small', null, 'Runs the channel\'s rules over its pending backlog now, even in manual mode ' +
            '(in approve-all mode it approves them as that mode does); requests no rule matches stay pending.'),
        err, jobPanel);
    let pending = 0;
    let seq = 0;
    let jobId = null;

    // Reads how many of the scope's requests are pending and puts it on the button.
    async function count() {
        const chat = scope();
        const my = ++seq;
        el.hidden = !chat;
        if (!chat) return;
        try {
            const res = await api('GET', '/api/invite-requests' + qs({ chat_id: chat, status: 'pending', limit: 1 }));
            if (!ctx.alive || my !== seq) return;
            pending = res.counts.pending;
            btn.textContent = `Apply the rules to the ${fmtNum(pending)} pending`;
            btn.disabled = pending === 0;
            btn.title = pending ? '' : 'This channel has no pending requests.';
        } catch (e) {
            if (ctx.alive && my === seq) { err.textContent = e.message; err.hidden = false; }
        }
    }

    btn.addEventListener('click', async () => {
        err.hidden = true;
        const chat = scope();
        const yes = await confirmDialog({
            title: 'Apply the rules now?',
            body: h('p', null, `The ${fmtNum(pending)} pending requests of ${chatName()} are judged now, each by ` +
                'the first rule that matches (in approve-all mode: approved as that mode does). What the rules ' +
                'decide is carried out at once; requests no rule matches stay pending.'),
            confirmLabel: 'Apply the rules',
        });
        if (!yes || !ctx.alive || chat !== scope()) return;
        try {
            const res = await busy([btn], () => api('POST', '/api/rules/apply', { chat_id: chat }));
            if (!ctx.alive) return;
            show(res.job);
        } catch (e) {
            if (!ctx.alive) return;
            err.textContent = e.message;
            err.hidden = false;
        }
    });

    function show(job) {
        jobId = job.id;
        watchJob(ctx, jobPanel, job, {
            isCurrent: () => jobId === job.id,
            onFinish: (j, view) => {
                count();
                view.footer(h('span.muted', null, 'Judged. The decisions go out as jobs of (rules) on the ',
                    h('a', { href: '#/jobs' }, 'Jobs page'), '; dismiss this to count the pending again.'));
            },
            onClose: () => { jobId = null; count(); },
        });
    }

    return {
        el,
        // The scope changed: a job shown belongs to the scope before.
        reset() {
            jobId = null;
            jobPanel.hidden = true;
            err.hidden = true;
            btn.disabled = true;
            count();
        },
    };
}
