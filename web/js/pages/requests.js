// pages/requests.js: the Invite Requests page: status tabs and filters (requests_filters.js),
// the action bar and its decision job (requests_actions.js, requests_decide.js) and the table
// (requests_table.js), put together.
import { h, add } from '../dom.js';
import { readFilter, statusTabs, filterBar } from './requests_filters.js';
import { requestsTable } from './requests_table.js';
import { requestActions } from './requests_actions.js';

export function pageRequests(ctx, main, params) {
    document.title = 'Invite Requests · doorman';
    const f = readFilter(params);
    const sync = () => {
        tabs.sync(table.counts());
        actions.sync();
    };
    const table = requestsTable(ctx, main, f, { onChange: sync });
    const reload = () => table.reload();
    const tabs = statusTabs(f, () => { sync(); reload(); });
    const filters = filterBar(ctx, f, { onChange: reload, onRefresh: reload });
    const actions = requestActions(ctx, f, table, filters.channelLabel);

    add(main,
        h('div.page-head', null, h('h1', null, 'Invite Requests'), tabs.el),
        filters.el,
        actions.el,
        actions.jobPanel,
        table.el,
        table.footer);
    sync();

    // The channel list, then the first page; the last job if one is still of interest.
    filters.loadChannels();
    reload();
    actions.resumeJob();
}
