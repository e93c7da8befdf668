// pages/rules.js: the Rules page (#/rules?chat_id=…): for the scope picked ("Global rules" or
// a channel) the mode switch (rules_mode.js), the channel's join-request bot (rules_guard.js),
// Apply over a channel's backlog (rules_apply.js),
// the ordered rules (rules_list.js), the editor of one rule (rules_editor.js) with the dry run
// beside it (rules_dryrun.js), the challenge of "verify" (rules_challenge.js), and the named lists
// (rules_lists.js), put together. Viewers and deciders read the mode, the rules and the challenge
// of the global scope and of their channels, with every control disabled (rules are the owners').
import { h, add } from '../dom.js';
import { can } from '../state.js';
import { api, qs } from '../api.js';
import { showBanner } from '../frame.js';
import { modeCard } from './rules_mode.js';
import { guardCard } from './rules_guard.js';
import { applyCard } from './rules_apply.js';
import { rulesList } from './rules_list.js';
import { ruleEditor } from './rules_editor.js';
import { rulesDryRun } from './rules_dryrun.js';
import { rulesLists } from './rules_lists.js';
import { challengeCard } from './rules_challenge.js';

const chatLabel = (c) => c.title || (c.username ? '@' + c.username : String(c.chat_id));

// A saved rule as the dry run takes it (a rule body with name and enabled).
function ruleBody(r) {
    const out = { name: r.name, enabled: r.enabled, conditions: r.conditions, action: r.action };
    if (r.action === 'approve_after') out.delay_seconds = r.delay_seconds;
    return out;
}

export function pageRules(ctx, main, params) {
    document.title = 'Rules · doorman';
    const chatParam = params.get('chat_id');
    let chat = /^-?\d+$/.test(chatParam || '') ? Number(chatParam) : 0; // 0: the global rules
    let channels = [];
    let listNames = [];

    const scopeSel = h('select', { name: 'scope', 'aria-label': 'Scope' }, h('option', { value: '0' }, 'Global rules'));
    const dryChat = h('select', { name: 'dry_chat_id', 'aria-label': 'Channel to try on' });
    const scope = () => chat;
    const owner = can('owner');

    const mode = modeCard(ctx, { scope });
    const guard = guardCard(ctx, { scope });
    const apply = applyCard(ctx, { scope, chatName: () => `“${scopeSel.selectedOptions[0]?.textContent || chat}”` });
    const list = rulesList(ctx, {
        scope,
        onAdd: () => { editor.open(null); list.mark(null); },
        onEdit: (r) => { editor.open(r); list.mark(r.id); },
        onRules: (rules) => showRules(rules),
    });
    const editor = ruleEditor({
        scope,
        listNames: () => listNames,
        onSaved: (rule) => loadRules().then(() => list.focusRow(rule.id)),
        onClose: (id, cancelled) => {
            list.mark(null);
            dry.changed();
            if (cancelled) list.focusRow(id);
        },
        onInput: () => dry.changed(),
    });
    const dry = rulesDryRun(ctx, { body: dryBody, canRun: () => channels.length > 0 && (chat !== 0 || dryChat.value !== '') });
    const lists = rulesLists(ctx, { onChange: (names) => { listNames = names; } });
    const challenge = challengeCard(ctx, { scope });

    // The scope's rules with the one being edited in its place (a new one last).
    function editedSet() {
        const set = list.rules().map(ruleBody);
        if (!editor.isOpen()) return set;
        const i = list.rules().findIndex((r) => r.id === editor.editingId());
        const spec = editor.spec();
        if (i < 0) set.push({ enabled: true, ...spec });
        else set[i] = { enabled: set[i].enabled, ...spec };
        return set;
    }
    function dryBody() {
        return chat ? { chat_id: chat, rules: editedSet() } : { chat_id: Number(dryChat.value), global_rules: editedSet() };
    }

    // Shows the scope's rules; the editor closes when the rule it edits is gone.
    function showRules(rules) {
        const editing = editor.editingId();
        if (editing !== null && !rules.some((r) => r.id === editing)) editor.close();
        list.show(rules, { global: chat === 0 });
        list.mark(editor.editingId());
        dry.changed();
    }

    async function loadRules() {
        try {
            const res = await api('GET', `/api/rules?chat_id=${chat}`);
            if (ctx.alive && res.chat_id === chat) showRules(res.rules);
        } catch (e) {
            if (ctx.alive) showBanner(e.message);
        }
    }
    async function loadModes() {
        try {
            const modes = await api('GET', '/api/modes');
            if (ctx.alive) mode.show(modes);
        } catch (e) {
            if (ctx.alive) showBanner(e.message);
        }
    }

    // Shows the scope chosen: its mode and rules; the editor closes, the dry run starts over.
    function showScope() {
        history.replaceState(null, '', '#/rules' + qs({ chat_id: chat || '' }));
        editor.close();
        dry.setPicker(chat ? null : h('label.inline', null, h('span', null, 'Try on'), dryChat));
        dry.reset();
        list.show([], { global: chat === 0 });
        if (owner) {
            apply.reset();
            guard.load();
        }
        loadModes();
        loadRules();
        challenge.load();
    }
    scopeSel.addEventListener('change', () => {
        chat = Number(scopeSel.value);
        showScope();
    });
    dryChat.addEventListener('change', () => dry.reset());

    async function loadChannels() {
        try {
            channels = (await api('GET', '/api/chats')).items;
            if (!ctx.alive) return;
        } catch (e) {
            if (ctx.alive) showBanner(e.message);
        }
        for (const c of channels) {
            scopeSel.append(h('option', { value: String(c.chat_id) }, chatLabel(c)));
            dryChat.append(h('option', { value: String(c.chat_id) }, chatLabel(c)));
        }
        if (chat && !channels.some((c) => c.chat_id === chat)) scopeSel.append(h('option', { value: String(chat) }, String(chat)));
        scopeSel.value = String(chat);
        showScope();
    }

    const head = h('div.page-head', null, h('h1', null, 'Rules'),
        h('label.inline', null, h('span', null, 'Rules of'), scopeSel));
    if (!owner) {
        // the cards that read only what a viewer may read, in a disabled fieldset: no control
        // in them can be used
        add(main, head,
            h('p.muted.small', null, 'Rules, modes and challenges are set by the owners; you see those of your channels.'),
            h('fieldset.rules-read-only', { disabled: true }, mode.el, list.el, challenge.el));
        loadChannels();
        return;
    }
    add(main, head,
        mode.el,
        guard.el,
        apply.el,
        h('div.rules-grid', null,
            h('div.rules-main', null, list.el, editor.el, challenge.el, lists.el),
            h('div.rules-side', null, dry.el)));
    loadChannels();
    lists.load();
}
