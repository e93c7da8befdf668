// pages/requests_filters.js: the Invite Requests page's filter: status tabs, channel, dates and
// search, and the rule a verdict names (rule_id, requests_verdicts.js); kept in the address
// (#/requests?status=…) and sent to the API as it takes it.
import { h } from '../dom.js';
import { api, qs } from '../api.js';
import { showBanner } from '../frame.js';
import { fmtCount, dayStart, dayEnd } from '../format.js';
import { exportButton } from '../export_button.js';

const STATUS_TABS = [
    ['pending', 'Pending'],
    ['approved', 'Approved'],
    ['declined', 'Declined'],
    ['all', 'All'],
];
const SEARCH_DELAY_MS = 250;

// The filter the address names: {status, chat_id, invite_link, from, to, q, rule_id} (days as
// "YYYY-MM-DD").
export function readFilter(params) {
    return {
        status: STATUS_TABS.some(([s]) => s === params.get('status')) ? params.get('status') : 'pending',
        chat_id: params.get('chat_id') || '',
        invite_link: params.get('invite_link') || '',
        from: params.get('from') || '',
        to: params.get('to') || '',
        q: params.get('q') || '',
        rule_id: /^\d+$/.test(params.get('rule_id') || '') ? params.get('rule_id') : '',
    };
}

// The filter as the API takes it, without the status (also the body of approve-all / deny-all).
export function apiFilter(f) {
    const out = {};
    if (f.chat_id) out.chat_id = Number(f.chat_id);
    if (f.invite_link) out.invite_link = f.invite_link;
    if (f.from) out.from = dayStart(f.from);
    if (f.to) out.to = dayEnd(f.to);
    if (f.q.trim()) out.q = f.q.trim();
    if (f.rule_id) out.rule_id = Number(f.rule_id);
    return out;
}

// Puts the filter into the address, so a reload or a shared link shows the same list.
export function saveFilter(f) {
    const p = {};
    if (f.status !== 'pending') p.status = f.status;
    for (const k of ['chat_id', 'invite_link', 'from', 'to', 'q', 'rule_id']) if (f[k]) p[k] = f[k];
    history.replaceState(null, '', '#/requests' + qs(p));
}

// The filter in words, for the Approve/Deny All dialog ("in channel “x”, from 2024-01-01").
export function filterSummary(f, channelLabel) {
    const parts = [];
    if (f.chat_id) parts.push(`channel “${channelLabel || f.chat_id}”`);
    if (f.invite_link) parts.push(`through ${f.invite_link}`);
    if (f.from) parts.push(`from ${f.from}`);
    if (f.to) parts.push(`until ${f.to}`);
    if (f.q.trim()) parts.push(`matching “${f.q.trim()}”`);
    return parts.length ? (f.chat_id ? 'in ' : '') + parts.join(', ') : 'in every channel';
}

// The status tabs with their counts; onChange() runs after f.status changed. sync(counts) shows
// the counts ({pending, approved, declined, total}) and the chosen tab.
export function statusTabs(f, onChange) {
    const tabs = STATUS_TABS.map(([status, label]) => {
        const count = h('span.tab-count', null, '');
        const b = h('button.tab', { type: 'button', role: 'tab', dataset: { status } }, label, count);
        b.addEventListener('click', () => {
            if (f.status === status) return;
            f.status = status;
            saveFilter(f);
            onChange();
        });
        return { status, b, count };
    });
    const sync = (counts) => {
        for (const t of tabs) {
            t.b.setAttribute('aria-selected', String(t.status === f.status));
            t.b.classList.toggle('active', t.status === f.status);
            t.count.textContent = fmtCount(counts, t.status === 'all' ? 'total' : t.status);
        }
    };
    const el = h('div.tabs', { role: 'tablist', 'aria-label': 'Status' }, tabs.map((t) => t.b));
    return { el, sync };
}

// The filter bar (channel, dates, search, Clear filters, Export, Refresh); onChange() runs after f
// changed, onRefresh() for Refresh. channelLabel() is the chosen channel's name; loadChannels()
// fills the channel list.
export function filterBar(ctx, f, { onChange, onRefresh }) {
    const chatSel = h('select', { name: 'chat_id', 'aria-label': 'Channel' },
        h('option', { value: '' }, 'All channels'));
    const linkIn = h('input.search', { type: 'text', name: 'invite_link', value: f.invite_link, autocomplete: 'off',
        placeholder: 'Invite link', 'aria-label': 'Invite link' });
    const fromIn = h('input', { type: 'date', name: 'from', value: f.from, 'aria-label': 'Requested from' });
    const toIn = h('input', { type: 'date', name: 'to', value: f.to, 'aria-label': 'Requested until' });
    const qIn = h('input.search', { type: 'search', name: 'q', value: f.q, autocomplete: 'off',
        placeholder: 'Search name, @username, user id', 'aria-label': 'Search' });
    const resetBtn = h('button.btn.btn-ghost.btn-small', { type: 'button' }, 'Clear filters');
    const refreshBtn = h('button.btn.btn-ghost.btn-small', { type: 'button', title: 'Reload the list' }, 'Refresh');
    const set = (k, v) => { f[k] = v; saveFilter(f); onChange(); };

    chatSel.addEventListener('change', () => set('chat_id', chatSel.value));
    linkIn.addEventListener('change', () => set('invite_link', linkIn.value.trim()));
    fromIn.addEventListener('change', () => set('from', fromIn.value));
    toIn.addEventListener('change', () => set('to', toIn.value));
    let qTimer = null;
    qIn.addEventListener('input', () => {
        clearTimeout(qTimer);
        qTimer = setTimeout(() => {
            if (!ctx.alive || f.q === qIn.value) return;
            set('q', qIn.value);
        }, SEARCH_DELAY_MS);
    });
    qIn.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter') { clearTimeout(qTimer); set('q', qIn.value); }
    });
    resetBtn.addEventListener('click', () => {
        Object.assign(f, { chat_id: '', invite_link: '', from: '', to: '', q: '', rule_id: '' });
        chatSel.value = linkIn.value = fromIn.value = toIn.value = qIn.value = '';
        saveFilter(f);
        onChange();
    });
    refreshBtn.addEventListener('click', () => onRefresh());

    async function loadChannels() {
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
    }

    const el = h('div.filters', null, chatSel, linkIn,
        h('label.inline', null, h('span', null, 'From'), fromIn),
        h('label.inline', null, h('span', null, 'To'), toIn),
        qIn, resetBtn, h('span.spacer'),
        exportButton('/api/invite-requests/export', () => ({ status: f.status, ...apiFilter(f) })),
        refreshBtn);
    return { el, loadChannels, channelLabel: () => chatSel.selectedOptions[0]?.textContent };
}
