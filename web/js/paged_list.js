// paged_list.js: a page that is one table read page by page from a list endpoint
// (GET path?limit=&before= answering {items, next_before}): heading with Refresh, the table and
// "Load more". The Jobs and Audit Log pages are made of it.
import { h, add, busy, tableHead, labelCells } from './dom.js';
import { api, qs } from './api.js';
import { showBanner } from './frame.js';

// Lays the page out in main. onItems(items, reset) puts the items into tbody (emptied first when
// reset) and returns how many rows the table has now; headExtra (optional) are nodes for the
// heading, before Refresh; query (optional) gives more query parameters at each load.
// Returns {tbody, load(reset)}.
export function pagedList(ctx, main, { title, columns, emptyText, path, limit, onItems, headExtra = [], query = () => ({}) }) {
    let nextBefore = null;
    const tbody = h('tbody');
    const empty = h('div.empty', { hidden: true }, emptyText);
    const moreBtn = h('button.btn.btn-ghost', { type: 'button', hidden: true }, 'Load more');
    const refreshBtn = h('button.btn.btn-ghost.btn-small', { type: 'button' }, 'Refresh');
    moreBtn.addEventListener('click', () => load(false));
    refreshBtn.addEventListener('click', () => load(true));
    add(main,
        h('div.page-head', null, h('h1', null, title), h('span.spacer'), headExtra, refreshBtn),
        h('div.table-wrap', null, labelCells(h('table.table', null, tableHead(...columns), tbody)), empty),
        h('div.list-footer', null, h('span'), moreBtn));

    async function load(reset) {
        try {
            const res = await busy([moreBtn, refreshBtn], () => api('GET', path + qs({ ...query(), limit, before: reset ? '' : nextBefore })));
            if (!ctx.alive) return;
            if (reset) tbody.replaceChildren();
            const shown = onItems(res.items, reset);
            nextBefore = res.next_before;
            moreBtn.hidden = nextBefore === null || nextBefore === undefined;
            empty.hidden = shown > 0;
        } catch (e) {
            if (ctx.alive) showBanner(e.message);
        }
    }
    return { tbody, load };
}
