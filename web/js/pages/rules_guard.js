// pages/rules_guard.js: the Rules page's "Join-request bot" card (GET /api/guard, docs/guard.md):
// whether doorman's bot may be a channel's join-request bot (Bot API 10.1) and, for the channel
// shown, which bot the channel assigned: where it is doorman's, guard mode answers each request's
// query from these rules within Telegram's 10 seconds. For the global rules it lists every
// channel's. Asks Telegram on each scope change (the API is a slow route).
import { h } from '../dom.js';
import { api, qs } from '../api.js';

// What a channel's entry says, in words, and a state for styling and tests.
function guardText(c) {
    if (c.error) return ['unknown', `could not ask Telegram: ${c.error}`];
    if (c.is_doorman) return ['doorman', 'doorman\'s bot: guard mode, each request\'s query is answered from the rules'];
    if (c.guard_bot) return ['other', `another bot${c.guard_bot.username ? ` (@${c.guard_bot.username})` : ''}: doorman cannot answer its queries`];
    return ['none', 'none: requests arrive without a query (assign doorman\'s bot in the channel\'s settings for guard mode)'];
}

// scope() is the chat_id the page shows (0: the global rules).
export function guardCard(ctx, { scope }) {
    const support = h('p.small.guard-support');
    const body = h('div.guard-body', { 'aria-live': 'polite' });
    const el = h('section.card.guard-card', { 'aria-labelledby': 'guard-title' },
        h('div.card-head', null, h('h2', { id: 'guard-title' }, 'Join-request bot')),
        h('p.muted.small', null, 'A channel may assign one bot to process its join requests within 10 seconds ' +
            '(Telegram\'s join-request queries). When that is doorman\'s bot, the rules answer each request at once.'),
        support, body);
    let seq = 0;

    async function load() {
        const chat = scope();
        const my = ++seq;
        support.textContent = 'Asking Telegram…';
        body.replaceChildren();
        let res;
        try {
            res = await api('GET', '/api/guard' + qs({ chat_id: chat || '' }));
        } catch (e) {
            if (ctx.alive && my === seq) support.textContent = e.message;
            return;
        }
        if (!ctx.alive || my !== seq) return;
        const b = res.bot;
        support.textContent = !b.configured ? 'No bot token configured: set it in Settings.'
            : b.error ? `Could not ask Telegram: ${b.error}`
                : b.supports_join_request_queries ? 'doorman\'s bot supports join-request queries.'
                    : 'doorman\'s bot does not support join-request queries: turn them on in @BotFather.';
        support.dataset.supports = String(Boolean(b.supports_join_request_queries));
        if (chat) {
            const c = res.channels.find((x) => x.chat_id === chat);
            if (!c) return;
            const [state, text] = guardText(c);
            body.append(h('p.guard-line', { dataset: { guard: state } }, h('strong', null, 'This channel: '), text));
            return;
        }
        if (!res.channels.length) return;
        body.append(h('ul.guard-list', null, ...res.channels.map((c) => {
            const [state, text] = guardText(c);
            return h('li', { dataset: { guard: state, chatId: String(c.chat_id) } },
                h('strong', null, c.title || String(c.chat_id)), ': ', text);
        })));
    }
    return { el, load };
}
