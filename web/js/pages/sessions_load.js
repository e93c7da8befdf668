// pages/sessions_load.js: Load Requests on the Sessions page: the dialog (channel, how many, and
// other active sessions to go on through: session_picker.js) and the load job's progress (what
// each session loaded), which links to the loaded requests once done.
import { h, fieldRow } from '../dom.js';
import { api } from '../api.js';
import { pageModal } from '../modal.js';
import { fmtNum } from '../format.js';
import { watchJob } from '../job_progress.js';
import { state } from '../state.js';
import { sessionPicker } from '../session_picker.js';

const LOAD_LIMIT_DEFAULT = 1000;

// The dialog for session; onStarted(job) once the load job runs.
export function loadRequestsModal(ctx, session, { onStarted }) {
    const m = pageModal(ctx, { title: `Load Requests with ${session.name}` });
    const channel = h('input', { type: 'text', name: 'channel', autocomplete: 'off', spellcheck: 'false', required: true,
        placeholder: '@channelname, https://t.me/channelname or -1001234567890' });
    const limit = h('input', { type: 'number', name: 'limit', min: '1', step: '1', value: String(LOAD_LIMIT_DEFAULT) });
    const all = h('input', { type: 'checkbox', name: 'all' });
    all.addEventListener('change', () => { limit.disabled = all.checked; });
    // the other active sessions, which go on when this one must wait or cannot load
    const others = h('div', { hidden: true });
    let picker = null;
    api('GET', '/api/sessions/list').then((res) => {
        const rest = res.items.filter((s) => s.name !== session.name);
        if (!ctx.alive || !rest.length) return;
        picker = sessionPicker(rest, { legend: `Go on through these sessions too when ${session.name} must wait or cannot load` });
        others.replaceChildren(picker.el);
        others.hidden = false;
    }).catch(() => {}); // the load through this session alone still works
    m.step({
        body: [h('p.muted', null, 'Pending join requests of the channel are added to the Invite Requests page as pending. ',
            'The account needs the “Invite Users” admin right there.'),
        fieldRow('Channel', channel, '@username, a t.me link or the -100… id.'),
        fieldRow('How many', limit, `At most this many (${fmtNum(LOAD_LIMIT_DEFAULT)} by default).`),
        h('label.check-row', null, all, 'Load all pending requests'),
        others],
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
            const also = picker ? picker.names() : [];
            const res = also.length
                ? await api('POST', '/api/sessions/load', { session_name: [session.name, ...also], channel: ch, limit: n })
                : await api('POST', `/api/sessions/${encodeURIComponent(session.name)}/load`, { channel: ch, limit: n });
            m.close();
            onStarted(res.job);
        },
    });
}

// Shows the load job in panel until it is dismissed (it stays across pages while it is the last
// one); onFinish() runs once it has finished.
export function showLoadJob(ctx, panel, job, onFinish) {
    state.lastLoadJobId = job.id;
    watchJob(ctx, panel, job, {
        isCurrent: () => state.lastLoadJobId === job.id,
        onFinish: (j, view) => {
            if (j.state === 'done') {
                view.footer(h('a.job-link', { href: '#/requests' }, 'See the loaded requests on the Invite Requests page →'));
            }
            onFinish();
        },
        onClose: () => { state.lastLoadJobId = null; },
    });
}
