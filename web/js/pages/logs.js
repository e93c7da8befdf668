// pages/logs.js: the Logs page: the last 500 warnings and errors doorman logged since it
// started (GET /api/logs), newest first. The full log is on standard error (docs/operations.md).
import { h } from '../dom.js';
import { pagedList } from '../paged_list.js';
import { fmtTime, fmtTimeFull, badge } from '../format.js';

const LEVEL_CLASS = { warn: 'pending', error: 'declined' };

function logRow(e) {
    return h('tr', null,
        h('td.date', { title: fmtTimeFull(e.at) }, fmtTime(e.at)),
        h('td', null, badge(LEVEL_CLASS[e.level] || 'neutral', e.level)),
        h('td', null, h('span.action', null, e.component)),
        h('td.detail', null, e.message));
}

export function pageLogs(ctx, main) {
    document.title = 'Logs · doorman';
    const list = pagedList(ctx, main, {
        title: 'Logs',
        columns: ['Time', 'Level', 'Component', 'Message'],
        emptyText: 'No warnings or errors since doorman started.',
        path: '/api/logs',
        onItems: (items) => {
            list.tbody.replaceChildren(...items.map(logRow));
            return items.length;
        },
    });
    list.load(true);
}
