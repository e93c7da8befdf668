// pages/requests.js: the Invite Requests page: status tabs and filters (requests_filters.js),
// the action bar and its decision job (requests_actions.js, requests_decide.js) and the table
// (requests_table.js) with the rules' verdicts (requests_verdicts.js), put together.
import { h, add } from '../dom.js';
import { readFilter, saveFilter, statusTabs, filterBar } from './requests_filters.js';
import { requestsTable } from './requests_table.js';
import { requestActions } from './requests_actions.js';
import { ruleFilterChip, ruleLabel, verdictActions } from './requests_verdicts.js';
import { can } from '../state.js';

export function pageRequests(ctx, main, params) {
    document.title = 'Invite Requests · doorman';
    const f = readFilter(params);
    let ruleText = ''; // the verdict clicked to filter by its rule
    const sync = () => {
        tabs.sync(table.counts());
        actions.sync();
        rule.show(f.rule_id, ruleText);
    };
    const table = requestsTable(ctx, main, f, { onChange: sync });
    const reload = () => table.reload();
    const tabs = statusTabs(f, () => { sync(); reload(); });
    const filters = filterBar(ctx, f, { onChange: reload, onRefresh: reload });
    const actions = requestActions(ctx, f, table, filters.channelLabel);
    const setRule = (id, verdict) => {
        f.rule_id = id;
        ruleText = id ? ruleLabel(verdict) : '';
        saveFilter(f);
        sync();
        reload();
    };
    const rule = ruleFilterChip({ tableEl: table.el, onRemove: () => setRule('', '') });
    verdictActions(table.el, { onFilter: setRule, onDone: reload });

    // a viewer reads: no decision controls (selection, actions, Release and Unban)
    const decides = can('decider');
    main.classList.toggle('read-only', !decides);
    add(main,
        h('div.page-head', null, h('h1', null, 'Invite Requests'), tabs.el),
        filters.el,
        rule.el,
        decides ? actions.el : null,
        decides ? actions.jobPanel : null,
        table.el,
        table.footer);
    sync();

    // The channel list, then the first page; the last job if one is still of interest.
    filters.loadChannels();
    reload();
    actions.resumeJob();
}
