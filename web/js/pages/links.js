// pages/links.js: the Invite Links page (docs/api.md, Invite links): a channel's links with their
// name, join-request flag, expiry, member limit and pending count; create, edit and revoke through
// the bot; the full list read through a session; the requests of one link shown, approved or
// denied (the who-decides dialog of requests_decide.js); and a check of the admin log for
// requests other admins approved in the Telegram app. Viewers read the links of their channels;
// the controls that change something are there for deciders and owners only.
import { h, labelCells, tableHead, fieldRow, busy } from '../dom.js';
import { api, qs } from '../api.js';
import { showBanner, hideBanner } from '../frame.js';
import { pageModal, confirmDialog } from '../modal.js';
import { fmtNum, fmtTime, fmtTimeFull, badge } from '../format.js';
import { go } from '../router.js';
import { can } from '../state.js';
import { watchJob } from '../job_progress.js';
import { decisionModal } from './requests_decide.js';

const NAME_MAX = 32;

// "YYYY-MM-DDTHH:MM" (a datetime-local input) from Unix seconds, and back (0: none).
const toLocal = (t) => (t ? new Date((t - new Date(t * 1000).getTimezoneOffset() * 60) * 1000).toISOString().slice(0, 16) : '');
const fromLocal = (s) => (s ? Math.floor(new Date(s).getTime() / 1000) : 0);

function linkState(l) {
    if (l.revoked) return badge('declined', 'revoked');
    if (l.expire_date && l.expire_date * 1000 < Date.now()) return badge('neutral', 'expired');
    if (!l.known) return badge('neutral', 'seen on requests');
    return badge('approved', 'active');
}

// The create / edit dialog; link null creates one. onSaved(link) gets the link as Telegram answered.
function linkForm(ctx, chatId, link, onSaved) {
    const m = pageModal(ctx, { title: link ? 'Edit invite link' : 'New invite link' });
    const name = h('input', { name: 'name', maxlength: String(NAME_MAX * 2), value: link?.name || '', autocomplete: 'off' });
    const request = h('input', { type: 'checkbox', name: 'creates_join_request', checked: link ? link.creates_join_request : true });
    const expire = h('input', { type: 'datetime-local', name: 'expire_date', value: toLocal(link?.expire_date) });
    const limit = h('input', { type: 'number', name: 'member_limit', min: '1', max: '99999', value: link?.member_limit || '' });
    const syncLimit = () => { limit.disabled = request.checked; if (request.checked) limit.value = ''; };
    request.addEventListener('change', syncLimit);
    syncLimit();
    m.step({
        body: [
            fieldRow('Name', name, `Up to ${NAME_MAX} characters, shown to the admins only.`),
            h('label.field.field-check', null, request, h('span', null, 'Admins approve each request (join requests)')),
            fieldRow('Expires', expire, 'Leave empty for a link that does not expire.'),
            fieldRow('Member limit', limit, '1 to 99,999 members may join through it; not with join requests.'),
        ],
        submitLabel: link ? 'Save' : 'Create',
        focus: name,
        onSubmit: async () => {
            const body = { chat_id: Number(chatId), creates_join_request: request.checked };
            if (link) body.link = link.link;
            if (name.value.trim()) body.name = name.value.trim();
            if (expire.value) body.expire_date = fromLocal(expire.value);
            if (limit.value && !request.checked) body.member_limit = Number(limit.value);
            const res = await api('POST', link ? '/api/links/edit' : '/api/links', body);
            m.close();
            onSaved(res.link);
        },
    });
}

export function pageLinks(ctx, main, params) {
    document.title = 'Invite Links · doorman';
    let chatId = params.get('chat_id') || '';
    let lastJob = null;
    const decides = can('decider');

    const chatSel = h('select', { name: 'chat_id', 'aria-label': 'Channel' }, h('option', { value: '' }, 'Choose a channel'));
    const sessSel = h('select', { name: 'session_name', 'aria-label': 'Session' });
    const newBtn = h('button.btn.btn-primary.btn-small', { type: 'button', disabled: true }, 'New link');
    const readBtn = h('button.btn.btn-ghost.btn-small', { type: 'button', disabled: true, title: 'Read every link of the channel from Telegram through the session' }, 'Read from Telegram');
    const checkBtn = h('button.btn.btn-ghost.btn-small', { type: 'button', disabled: true, title: 'Read the admin log for requests approved in the Telegram app' }, 'Check decisions made in Telegram');
    const note = h('p.muted.small', { hidden: !decides }, 'Links are made, edited and revoked through the bot (an admin with the “Invite Users” right). ' +
        'Telegram lists a channel\'s links only to a session: “Read from Telegram” shows the links other admins made too.');
    const tbody = h('tbody');
    const table = labelCells(h('table.table.links-table', null,
        tableHead('Name', 'Link', 'Approval', 'Expires', 'Member limit', 'Pending', 'State', ''), tbody));
    const empty = h('p.empty', { hidden: true }, 'No links known for this channel yet.');
    const jobPanel = h('section.job-panel', { hidden: true, 'aria-live': 'polite' });

    const setChat = (v) => {
        chatId = v;
        history.replaceState(null, '', '#/links' + qs(chatId ? { chat_id: chatId } : {}));
        load();
    };
    chatSel.addEventListener('change', () => setChat(chatSel.value));

    function decideLink(l, kind) {
        const filter = { chat_id: Number(chatId), invite_link: l.link };
        decisionModal(ctx, {
            kind, all: true, count: l.pending, body: { filter }, preflight: { filter },
            summary: `through the link “${l.name || l.link}”`, wholeChannel: 'link',
            onStarted: (job) => {
                hideBanner();
                lastJob = job.id;
                watchJob(ctx, jobPanel, job, { isCurrent: () => lastJob === job.id, onFinish: () => load(), onClose: () => { lastJob = null; } });
            },
        });
    }

    async function revoke(l, btn) {
        const yes = await confirmDialog({
            title: 'Revoke this link?',
            body: h('p', null, `Nobody can join or ask to join through “${l.name || l.link}” any more.`),
            confirmLabel: 'Revoke', danger: true,
        });
        if (!yes) return;
        await busy([btn], async () => {
            try {
                await api('POST', '/api/links/revoke', { chat_id: Number(chatId), link: l.link });
                load();
            } catch (e) {
                showBanner(e.message);
            }
        });
    }

    // The row's buttons: Requests for everyone, the ones that change something for deciders.
    function actions(l) {
        const show = h('button.btn.btn-ghost.btn-small', { type: 'button' }, 'Requests');
        show.addEventListener('click', () => go('/requests', { chat_id: chatId, invite_link: l.link }));
        if (!decides) return h('td.link-actions', null, show);
        const approve = h('button.btn.btn-small', { type: 'button', disabled: !l.pending }, 'Approve all');
        approve.addEventListener('click', () => decideLink(l, 'approve'));
        const deny = h('button.btn.btn-small.btn-danger', { type: 'button', disabled: !l.pending }, 'Deny all');
        deny.addEventListener('click', () => decideLink(l, 'deny'));
        const edit = h('button.btn.btn-ghost.btn-small', { type: 'button', disabled: l.revoked || !l.known }, 'Edit');
        edit.addEventListener('click', () => linkForm(ctx, chatId, l, () => load()));
        const rev = h('button.btn.btn-ghost.btn-small', { type: 'button', disabled: l.revoked || !l.known }, 'Revoke');
        rev.addEventListener('click', () => revoke(l, rev));
        return h('td.link-actions', null, show, approve, deny, edit, rev);
    }

    function row(l) {
        return h('tr', { dataset: { link: l.link } },
            h('td.link-name', null, l.name || h('span.muted', null, '—')),
            h('td.link-url', null, h('code', null, l.link)),
            h('td', null, l.creates_join_request ? 'required' : 'none'),
            h('td.date', { title: l.expire_date ? fmtTimeFull(l.expire_date) : '' }, l.expire_date ? fmtTime(l.expire_date) : 'never'),
            h('td.num', null, l.member_limit ? fmtNum(l.member_limit) : '—'),
            h('td.num.link-pending', null, fmtNum(l.pending)),
            h('td', null, linkState(l)),
            actions(l));
    }

    async function load() {
        const on = !!chatId;
        newBtn.disabled = !on;
        for (const b of [readBtn, checkBtn]) b.disabled = !on || !sessSel.value; /* a session's work */
        tbody.replaceChildren();
        empty.hidden = true;
        if (!on) return;
        try {
            const res = await api('GET', '/api/links' + qs({ chat_id: chatId }));
            if (!ctx.alive) return;
            tbody.replaceChildren(...res.items.map(row));
            empty.hidden = res.items.length > 0;
        } catch (e) {
            if (ctx.alive) showBanner(e.message);
        }
    }

    newBtn.addEventListener('click', () => linkForm(ctx, chatId, null, () => load()));
    readBtn.addEventListener('click', () => busy([readBtn], async () => {
        try {
            await api('POST', '/api/links/refresh', { chat_id: Number(chatId), session_name: sessSel.value || null });
            hideBanner();
            await load();
        } catch (e) {
            showBanner(e.message);
        }
    }));
    checkBtn.addEventListener('click', () => busy([checkBtn], async () => {
        try {
            const r = await api('POST', '/api/decisions/check', { chat_id: Number(chatId), session_name: sessSel.value || null });
            showBanner(`${fmtNum(r.recorded)} ${r.recorded === 1 ? 'request was' : 'requests were'} found decided in Telegram ` +
                `(${fmtNum(r.events)} new ${r.events === 1 ? 'join' : 'joins'} in the admin log).`, 'info');
            await load();
        } catch (e) {
            showBanner(e.message);
        }
    }));

    main.append(
        h('div.page-head', null, h('h1', null, 'Invite Links')),
        h('div.filters', null, chatSel, ...(decides ? [newBtn, h('span.spacer'),
            h('label.inline', null, h('span', null, 'Session'), sessSel), readBtn, checkBtn] : [])),
        note, jobPanel, h('div.table-wrap', null, table), empty);

    (async () => {
        const [chats, sessions] = await Promise.allSettled([api('GET', '/api/chats'), api('GET', '/api/sessions/list')]);
        if (!ctx.alive) return;
        if (chats.status === 'fulfilled') {
            for (const c of chats.value.items) chatSel.append(h('option', { value: String(c.chat_id) }, c.title || (c.username ? '@' + c.username : String(c.chat_id))));
        } else {
            showBanner(chats.reason.message);
        }
        if (sessions.status === 'fulfilled') {
            for (const s of sessions.value.items) sessSel.append(h('option', { value: s.name }, s.name));
        }
        if (!sessSel.options.length) sessSel.append(h('option', { value: '' }, 'No active session'));
        if (!chatId && chatSel.options.length === 2) chatId = chatSel.options[1].value;
        chatSel.value = chatId;
        load();
    })();
}
