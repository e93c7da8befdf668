// pages/requests_decide.js: who decides — the dialog of Approve/Deny Selected and Approve/Deny All
// (docs/api.md, "Choosing who decides"). The dropdown offers the bot, every active session and,
// with two or more, any active session or several ticked ones (session_picker.js); preselecting the account this admin chose last; on opening and on every change a fresh preflight
// shows, per affected channel, whether the chosen account can decide there. Some channels out of
// reach: a warning and a warned button (the rest is still decided); none in reach, or an account
// that cannot be used: the button is disabled.
import { h, add, clear } from '../dom.js';
import { api } from '../api.js';
import { showBanner } from '../frame.js';
import { pageModal } from '../modal.js';
import { fmtNum } from '../format.js';
import { ANY_SESSION, sessionChoiceLabel, sessionPicker } from '../session_picker.js';

// The dropdown's choice that shows the session checkboxes (never sent: the ticked names are).
const SEVERAL = 'sessions:several';

const who = (via) => (via ? `Session “${via}”` : 'The bot');
const plural = (n, one, many) => (n === 1 ? one : many);

// The preflight's warning for account via deciding kind, and whether nothing can be decided.
function preflightWarning(res, via, kind) {
    const acct = res.account || { ok: true };
    const chans = res.channels || [];
    const cannot = chans.filter((c) => !c.can_decide && c.checked !== false);
    const late = chans.filter((c) => c.checked === false);
    if (!acct.ok) {
        return { blocked: true, warning: `${who(via)} cannot be used now: ${acct.error || acct.status || 'unknown error'}.` };
    }
    if (chans.length && cannot.length === chans.length && !res.unchecked) {
        return { blocked: true, warning: `${who(via)} cannot ${kind === 'approve' ? 'approve' : 'deny'} requests in ` +
            `${chans.length === 1 ? 'this channel' : 'any of these channels'}: choose another account.` };
    }
    if (cannot.length) {
        return { blocked: false, warning: `${who(via)} cannot decide in ${fmtNum(cannot.length)} of ${fmtNum(chans.length)} channels: ` +
            'the requests there will fail. The others are decided.' };
    }
    if (late.length) {
        return { blocked: false, warning: `Telegram answered too slowly: ${fmtNum(late.length)} of ${fmtNum(chans.length)} ` +
            `channels ${late.length === 1 ? 'was' : 'were'} not checked. Requests the account cannot decide will fail.` };
    }
    return { blocked: false, warning: null };
}

// One affected channel of the preflight: can the account decide there, and why not.
function preflightChannel(c) {
    return h('li.preflight-chat', { dataset: { chatId: String(c.chat_id), can: String(!!c.can_decide) } },
        h('span.preflight-mark', { 'aria-hidden': 'true' }, c.can_decide ? '✓' : c.checked === false ? '?' : '!'),
        h('span.preflight-chat-body', null,
            h('span.preflight-title', null, c.title || String(c.chat_id)),
            h('span.muted', null, ` · ${fmtNum(c.pending)} ${plural(c.pending, 'request', 'requests')}`),
            h('span.preflight-reason', null, c.can_decide
                ? 'Admin with the “Invite Users” right: can decide here.'
                : c.reason || 'Cannot decide here.')));
}

// Shows the preflight's answer in check; returns whether nothing could be decided.
function showPreflight(check, res, via, kind) {
    const chans = res.channels || [];
    const unchecked = res.unchecked || 0; // channels past the ones the check covers
    const { blocked, warning } = preflightWarning(res, via, kind);
    check.dataset.state = blocked ? 'blocked' : warning ? 'warned' : 'ok';
    add(clear(check),
        warning ? h('p.preflight-warning', { role: 'alert' }, warning) : null,
        chans.length ? h('ul.preflight-list', null, chans.map(preflightChannel)) : null,
        unchecked ? h('p.muted.small', null, `${fmtNum(unchecked)} more ${plural(unchecked, 'channel was', 'channels were')} ` +
            'not checked (the ones with the fewest requests).') : null);
    return blocked;
}

// Fills the dropdown with the active sessions and selects the admin's last choice; returns that
// choice (approve_via, or null) and the active sessions. Trouble shows in the dialog m; lastNote
// says when the last choice is not active now.
async function fillChoices(m, select, lastNote) {
    const [list, prefs] = await Promise.allSettled([api('GET', '/api/sessions/list'), api('GET', '/api/me/preferences')]);
    const sessions = list.status === 'fulfilled' ? list.value.items : [];
    if (list.status === 'fulfilled') {
        for (const s of sessions) add(select, h('option', { value: s.name }, sessionChoiceLabel(s)));
        if (sessions.length > 1) {
            add(select, h('option', { value: ANY_SESSION }, 'Any active session — the next takes over on a flood wait'),
                h('option', { value: SEVERAL }, 'Several sessions… — tick them, in order'));
        }
    } else {
        m.fail(list.reason.message);
    }
    if (prefs.status !== 'fulfilled') {
        if (list.status === 'fulfilled') m.fail(prefs.reason.message);
        return { remembered: null, sessions };
    }
    const remembered = prefs.value.approve_via || null;
    if (remembered && [...select.options].some((o) => o.value === remembered)) {
        select.value = remembered;
    } else if (remembered && list.status === 'fulfilled') {
        lastNote.textContent = `Session “${remembered}”, chosen last time, is not active now: the bot is selected.`;
        lastNote.hidden = false;
    }
    return { remembered, sessions };
}

// Remembers via as the admin's choice when it is not the one doorman has (remembered); returns
// null, or why the choice was not remembered.
async function rememberChoice(via, remembered) {
    if (via === remembered) return null;
    try {
        await api('POST', '/api/me/preferences', { approve_via: via });
        return null;
    } catch (e) {
        return `The choice of account was not remembered: ${e.message}`;
    }
}

// Opens the dialog. kind: 'approve' or 'deny'; all: Approve/Deny All (else Selected); count: how
// many requests; body: the decision endpoint's body without session_name ({request_ids} or
// {filter} or {}); preflight: the same requests as the preflight endpoint takes them; summary: the
// filter in words (Approve/Deny All); wholeChannel: 'one' or 'each' when the filter names at most a
// channel (one channel, or every channel), 'link' for one invite link of a channel, so a session
// decides with one call; null otherwise. Confirming sends the decision with session_name, remembers the choice and hands the
// job to onStarted(job).
export function decisionModal(ctx, { kind, all, count, body, preflight, summary, wholeChannel, onStarted }) {
    const verb = kind === 'approve' ? 'Approve' : 'Deny';
    const verbs = kind === 'approve' ? 'approves' : 'denies';
    const reqs = `${fmtNum(count)} ${all ? 'pending' : 'selected'} ${plural(count, 'request', 'requests')}`;
    const m = pageModal(ctx, { title: `${verb} ${reqs}?` });

    const select = h('select', { name: 'session_name' }, h('option', { value: '' }, 'Bot (Default)'));
    const lastNote = h('p.field-hint', { hidden: true });
    const wholeNote = h('p.decide-note', { hidden: true },
        `Through a session, Telegram will be asked to decide ${{ one: 'the whole channel', link: 'every request of the link', each: 'each channel whole' }[wholeChannel]} ` +
        `in one call: every request pending there is ${kind === 'approve' ? 'approved' : 'denied'}, also those this table ` +
        'has not loaded yet (they are recorded too), so the number can be larger than shown.');
    const check = h('div.preflight', { 'aria-live': 'polite' });
    const pickerSlot = h('div', { hidden: true });
    let picker = null; // the session checkboxes, once the sessions are known
    let remembered = null; // the admin's approve_via as doorman has it
    let seq = 0;
    // What the decision is sent with: null (the bot), a name, "sessions:any", or the ticked names.
    const chosen = () => (select.value === SEVERAL ? picker.names() : select.value || null);

    const submit = m.step({
        body: [
            all
                ? h('p', null, `This ${verbs} every pending request ${summary}: `, h('strong.decide-count', null, reqs), ' now.')
                : h('p', null, `This ${verbs} the `, h('strong.decide-count', null, reqs), '.'),
            h('label.field', null, h('span.field-label', null, 'Decide as'), select, lastNote),
            pickerSlot,
            wholeNote,
            check,
            h('p.muted.small', null, 'It runs as a job in the background; you can follow and cancel it here or on the Jobs page.'),
        ],
        submitLabel: `${verb} ${fmtNum(count)}`,
        danger: kind !== 'approve',
        focus: select,
        onSubmit: async () => {
            const via = chosen();
            if (Array.isArray(via) && !via.length) throw new Error('Tick the sessions to decide through.');
            select.disabled = true;
            let res;
            try {
                res = await api('POST', `/api/invite-requests/${kind}${all ? '-all' : ''}`, { ...body, session_name: via });
            } finally {
                select.disabled = false;
            }
            const unsaved = via === ANY_SESSION || Array.isArray(via) ? null : await rememberChoice(via, remembered);
            m.close();
            onStarted(res.job);
            if (unsaved) showBanner(unsaved);
        },
    });
    submit.disabled = true;

    // A fresh check of the chosen account; answers to older choices are dropped.
    async function recheck() {
        const my = ++seq;
        const via = chosen();
        pickerSlot.hidden = select.value !== SEVERAL;
        wholeNote.hidden = !(typeof via === 'string' && via !== ANY_SESSION && wholeChannel);
        if (via === ANY_SESSION || Array.isArray(via)) { // several accounts: each request finds one that can decide it
            const which = Array.isArray(via) ? 'ticked session (in this order)' : 'active session (by name)';
            check.dataset.state = 'ok';
            check.replaceChildren(h('p.muted', null, `Each request goes through the first ${which} that can ` +
                'decide in its channel; when one must wait out a flood wait, loses its key or lacks the right, the next ' +
                'takes over. The job shows what each session did.'));
            submit.disabled = Array.isArray(via) && !via.length;
            submit.classList.remove('btn-warned');
            return;
        }
        submit.disabled = true;
        submit.classList.remove('btn-warned');
        check.dataset.state = 'checking';
        check.replaceChildren(h('p.muted', null, `Checking what ${via ? `session “${via}”` : 'the bot'} can do in the affected channels…`));
        let blocked = false;
        try {
            const res = await api('POST', '/api/invite-requests/preflight', { ...preflight, session_name: via });
            if (my !== seq) return;
            blocked = showPreflight(check, res, via, kind);
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

    fillChoices(m, select, lastNote).then((r) => {
        remembered = r.remembered;
        picker = sessionPicker(r.sessions, { legend: 'Sessions to decide through', onChange: recheck });
        pickerSlot.replaceChildren(picker.el);
        recheck();
    });
}
