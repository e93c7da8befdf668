// pages/requests_table.js: the Invite Requests table: rows read page by page for the filter,
// checkboxes to select pending requests, "Load more", and the counts the API sends with them;
// each row's verdict (what the rules said) comes from requests_verdicts.js.
import { h, tableHead, labelCells } from '../dom.js';
import { api, qs } from '../api.js';
import { showBanner } from '../frame.js';
import { fmtNum, fmtCount, fmtTime, fmtTimeFull, fullName, badge } from '../format.js';
import { apiFilter } from './requests_filters.js';
import { verdictNodes } from './requests_verdicts.js';

const PAGE_SIZE = 100;
const muted = (text) => h('span.muted', null, text);
const IN_TELEGRAM = '(telegram)'; // decided_via of a decision another admin made in the app

// The cells of a request's row after its checkbox.
function requestCells(r) {
    return [
        h('td.user', null,
            h('div.user-name', null, fullName(r)),
            h('div.user-meta', null,
                r.username ? h('span.username', null, '@' + r.username) : null,
                h('span.user-id', { title: 'Telegram user id' }, String(r.user_id)))),
        h('td.bio', null, r.bio ? h('div.clamp', { title: r.bio }, r.bio) : muted('—')),
        h('td.chat', null, h('div.clamp1', { title: String(r.chat_id) }, r.chat_title || String(r.chat_id))),
        h('td.link', null, r.invite_link
            ? h('span.mono.clamp1', { title: r.invite_link }, r.invite_link.replace(/^https?:\/\//, ''))
            : muted('—')),
        h('td.date', { title: fmtTimeFull(r.date) }, fmtTime(r.date)),
        h('td.status', null, badge(r.status), r.last_error
            ? h('div.row-error', { title: r.last_error }, r.last_error) : null),
        h('td.verdict', null, verdictNodes(r)),
        h('td.decided', null, r.decided_at
            ? [r.decided_via === IN_TELEGRAM
                ? h('div.decided-telegram', null, 'decided in Telegram', r.decided_by ? [' by ', h('strong', null, r.decided_by)] : null)
                : h('div', null, r.decided_by || '—', r.decided_via ? muted(' via ' + r.decided_via) : null),
                h('div.muted.small', { title: fmtTimeFull(r.decided_at) }, fmtTime(r.decided_at))]
            : muted('—')),
    ];
}

// A request's row: {item, tr, cb}; cb (its checkbox) only for a pending one.
function requestRow(r, isSelected) {
    const pending = r.status === 'pending';
    const cb = h('input', { type: 'checkbox', dataset: { id: String(r.id) }, disabled: !pending,
        checked: pending && isSelected,
        'aria-label': `Select ${fullName(r)}` });
    const tr = h('tr', { dataset: { id: String(r.id), status: r.status },
        class: cb.checked ? 'selected' : null },
        h('td.check', null, cb), requestCells(r));
    return { item: r, tr, cb: pending ? cb : null };
}

function emptyText(f) {
    if (Object.keys(apiFilter(f)).length) return 'No requests match the filter.';
    return f.status === 'pending' ? 'No pending requests. New join requests appear here as the bot receives them.'
        : 'No requests.';
}

// The table for filter f in main (which is marked is-loading while a page loads). onChange() runs
// when the selection or the counts changed. Returns {el, footer, selected (a Set of request ids),
// counts(), reload(), clearSelection()}.
export function requestsTable(ctx, main, f, { onChange }) {
    const rows = new Map(); // id -> {item, tr, cb}
    const selected = new Set();
    let counts = { pending: 0, approved: 0, declined: 0, total: 0 };
    let nextBefore = null;
    let seq = 0;

    const selectAll = h('input', { type: 'checkbox', disabled: true, 'aria-label': 'Select all visible pending requests' });
    const tbody = h('tbody');
    // "Select all" shows beside the checkbox where the rows are cards (a narrow screen)
    const selectAllCell = h('th.check', { dataset: { label: '' } },
        h('label.select-all', null, selectAll, h('span.select-all-text', null, 'Select all')));
    const table = labelCells(h('table.table.requests-table', null,
        h('colgroup', null, h('col.c-check'), h('col.c-user'), h('col.c-bio'), h('col.c-chat'),
            h('col.c-link'), h('col.c-date'), h('col.c-status'), h('col.c-verdict'), h('col.c-decided')),
        tableHead(selectAllCell, 'User', 'Bio', 'Channel', 'Invite link', 'Requested', 'Status', 'Verdict', 'Decided'),
        tbody));
    const empty = h('div.empty', { hidden: true }, '');
    const moreBtn = h('button.btn.btn-ghost', { type: 'button' }, 'Load more');
    const listInfo = h('span.muted', null, '');

    const selectable = () => [...rows.values()].filter((r) => r.cb && !r.cb.disabled);
    const changed = () => {
        const all = selectable();
        const nSel = all.filter((r) => selected.has(r.item.id)).length;
        selectAll.checked = all.length > 0 && nSel === all.length;
        selectAll.indeterminate = nSel > 0 && nSel < all.length;
        selectAll.disabled = all.length === 0;
        onChange();
    };
    const mark = (r, on) => {
        r.cb.checked = on;
        r.tr.classList.toggle('selected', on);
        if (on) selected.add(r.item.id);
        else selected.delete(r.item.id);
    };

    selectAll.addEventListener('change', () => {
        for (const r of selectable()) mark(r, selectAll.checked);
        changed();
    });
    tbody.addEventListener('change', (ev) => {
        const cb = ev.target;
        if (!(cb instanceof HTMLInputElement) || !cb.dataset.id) return;
        mark(rows.get(Number(cb.dataset.id)), cb.checked);
        changed();
    });
    moreBtn.addEventListener('click', () => load(false));

    // Shows a page of the API's answer; reset: it replaces the rows (selections still visible stay).
    function show(res, reset) {
        if (reset) {
            rows.clear();
            tbody.replaceChildren();
            const ids = new Set(res.items.filter((r) => r.status === 'pending').map((r) => r.id));
            for (const id of [...selected]) if (!ids.has(id)) selected.delete(id);
        }
        const frag = document.createDocumentFragment();
        for (const item of res.items) {
            if (rows.has(item.id)) continue;
            const row = requestRow(item, selected.has(item.id));
            rows.set(item.id, row);
            frag.append(row.tr);
        }
        tbody.append(frag);
        counts = res.counts || counts;
        nextBefore = res.next_before;
        const total = fmtCount(counts, f.status === 'all' ? 'total' : f.status);
        listInfo.textContent = `Showing ${fmtNum(rows.size)} of ${total}`;
        moreBtn.hidden = nextBefore === null || nextBefore === undefined;
        empty.hidden = rows.size > 0;
        empty.textContent = emptyText(f);
        changed();
    }

    async function load(reset) {
        const my = ++seq;
        const query = {
            status: f.status === 'all' ? '' : f.status,
            ...apiFilter(f),
            limit: PAGE_SIZE,
            before: reset ? '' : nextBefore,
        };
        main.classList.add('is-loading');
        moreBtn.disabled = true;
        try {
            const res = await api('GET', '/api/invite-requests' + qs(query));
            if (!ctx.alive || my !== seq) return;
            show(res, reset);
        } catch (e) {
            if (ctx.alive && my === seq) showBanner(e.message);
        } finally {
            if (my === seq) {
                main.classList.remove('is-loading');
                moreBtn.disabled = false;
            }
        }
    }

    return {
        el: h('div.table-wrap', null, table, empty),
        footer: h('div.list-footer', null, listInfo, moreBtn),
        selected,
        counts: () => counts,
        reload: () => load(true),
        clearSelection() {
            for (const r of rows.values()) if (r.cb) mark(r, false);
            selected.clear();
            changed();
        },
    };
}
