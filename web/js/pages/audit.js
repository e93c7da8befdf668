// pages/audit.js: the Audit Log page: every decision and admin action, newest first.
import { h } from '../dom.js';
import { pagedList } from '../paged_list.js';
import { exportButton } from '../export_button.js';
import { fmtTime, fmtTimeFull, badge } from '../format.js';

const RESULT_CLASS = { ok: 'approved', already_handled: 'neutral', error: 'declined' };

const idCell = (v) => h('td.num', null, v ? String(v) : '—');

function auditRow(a) {
    return h('tr', null,
        h('td.date', { title: fmtTimeFull(a.at) }, fmtTime(a.at)),
        h('td', null, a.admin || '—'),
        h('td', null, h('span.action', null, a.action)),
        idCell(a.request_id), idCell(a.chat_id), idCell(a.user_id), idCell(a.job_id),
        h('td', null, a.via || '—'),
        h('td', null, a.result ? badge(RESULT_CLASS[a.result] || 'neutral', a.result.replace('_', ' ')) : '—'),
        h('td.detail', null, a.detail || ''));
}

export function pageAudit(ctx, main) {
    document.title = 'Audit Log · doorman';
    let n = 0;
    const list = pagedList(ctx, main, {
        title: 'Audit Log',
        columns: ['Time', 'Admin', 'Action', 'Request', 'Channel', 'User id', 'Job', 'Via', 'Result', 'Detail'],
        emptyText: 'The audit log is empty.',
        path: '/api/audit',
        limit: 100,
        headExtra: [exportButton('/api/audit/export')],
        onItems: (items, reset) => {
            if (reset) n = 0;
            const frag = document.createDocumentFragment();
            for (const a of items) frag.append(auditRow(a));
            n += items.length;
            list.tbody.append(frag);
            return n;
        },
    });
    list.load(true);
}
