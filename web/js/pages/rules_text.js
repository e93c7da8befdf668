// pages/rules_text.js: a rule in words, as the Rules page lists it ("If name matches casino,
// bonus and has no username → decline and ban"), and the names of conditions, actions and modes.
import { fmtNum } from '../format.js';

// The condition types in the order the editor offers them, with their label there.
export const CONDITION_TYPES = [
    ['name_matches', 'Name matches'],
    ['bio_matches', 'Bio matches'],
    ['name_script', 'Name has characters of a script'],
    ['bio_has_link', 'Bio has a link'],
    ['bio_has_mention', 'Bio has an @mention'],
    ['has_username', 'Has a username'],
    ['is_premium', 'Is Premium'],
    ['language_code', 'Language is one of'],
    ['user_id_above', 'User id above'],
    ['invite_link', 'Invite link'],
    ['in_list', 'In a list'],
    ['wave', 'Part of a wave'],
    ['declined_before', 'Declined here before'],
    ['member_elsewhere', 'Member of another channel here'],
    ['has_photo', 'Has a profile photo'],
    ['on_blocklist', 'On the blocklist'],
    ['is_scam', 'Marked scam by Telegram'],
    ['is_fake', 'Marked fake by Telegram'],
];

export const ACTIONS = [
    ['approve', 'Approve'],
    ['decline', 'Decline'],
    ['decline_and_ban', 'Decline and ban'],
    ['hold', 'Hold for review'],
    ['approve_after', 'Approve after a delay'],
    ['verify', 'Verify (the channel\'s challenge)'],
];

// The dry run's outcomes, with their labels: the actions, then no rule matched.
export const OUTCOMES = [...ACTIONS, ['no_match', 'No rule matches']];

// "90 s", "5 min", "2 h 30 min": a delay in seconds as the page shows it.
export function fmtDelay(s) {
    s = Number(s) || 0;
    if (s < 60 || s % 60) return `${fmtNum(s)} s`;
    const m = s / 60;
    if (m < 60 || m % 60 === 0) return m < 60 ? `${m} min` : `${m / 60} h`;
    return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function actionText(action, delaySeconds) {
    if (action === 'approve_after') return `approve after ${fmtDelay(delaySeconds)}`;
    if (action === 'no_match') return 'no rule matches';
    const a = ACTIONS.find(([k]) => k === action);
    return a ? a[1].toLowerCase() : String(action);
}

const list = (v) => (Array.isArray(v) ? v.join(', ') : String(v ?? ''));

// One condition in words: [what holds, what holds when negated].
function conditionWords(c) {
    const field = c.type === 'bio_matches' ? 'bio' : 'name';
    switch (c.type) {
    case 'has_username': return ['has a username', 'has no username'];
    case 'is_premium': return ['is Premium', 'is not Premium'];
    case 'is_scam': return ['is marked scam', 'is not marked scam'];
    case 'is_fake': return ['is marked fake', 'is not marked fake'];
    case 'language_code': return [`language is ${list(c.in)}`, `language is not ${list(c.in)}`];
    case 'name_matches':
    case 'bio_matches':
        return c.regex !== undefined
            ? [`${field} matches /${c.regex}/`, `${field} does not match /${c.regex}/`]
            : [`${field} matches ${list(c.words)}`, `${field} does not match ${list(c.words)}`];
    case 'name_script': return [`name has ${c.script} characters`, `name has no ${c.script} characters`];
    case 'bio_has_link': return ['bio has a link', 'bio has no link'];
    case 'bio_has_mention': return ['bio has an @mention', 'bio has no @mention'];
    case 'user_id_above': return [`user id is above ${c.value}`, `user id is not above ${c.value}`];
    case 'invite_link':
        return c.link === null || c.link === undefined
            ? ['came without an invite link', 'came through an invite link']
            : [`came through ${c.link}`, `did not come through ${c.link}`];
    case 'in_list': return [`is in list ${c.list}`, `is not in list ${c.list}`];
    case 'declined_before': return ['was declined here before', 'was not declined here before'];
    case 'member_elsewhere': return ['was approved in another channel', 'was not approved in another channel'];
    case 'has_photo': return ['has a profile photo', 'has no profile photo'];
    case 'on_blocklist': return ['is on the blocklist', 'is not on the blocklist'];
    case 'wave': {
        const w = `more than ${fmtNum(c.count)} requests in ${fmtNum(c.minutes)} min ` +
            (c.per === 'channel' ? 'to the channel' : 'through the same link');
        return [`is in a wave (${w})`, `is not in a wave (${w})`];
    }
    default: return [`${c.type}`, `not ${c.type}`];
    }
}

export function conditionText(c) {
    return conditionWords(c)[c.negate ? 1 : 0];
}

// "If A and B → action"; a rule without conditions: "Always → action".
export function ruleSentence(r) {
    const conds = r.conditions || [];
    const head = conds.length ? `If ${conds.map(conditionText).join(' and ')}` : 'Always';
    return `${head} → ${actionText(r.action, r.delay_seconds)}`;
}

// A channel's mode in words ("approve all, 30 per hour"); null: it follows the default.
export function modeText(m) {
    if (!m || !m.mode) return 'follows the default';
    if (m.mode === 'manual') return 'manual';
    if (m.mode === 'rules') return 'rules';
    if (m.per_hour) return `approve all, at most ${fmtNum(m.per_hour)} an hour`;
    if (m.delay_seconds) return `approve all after ${fmtDelay(m.delay_seconds)}`;
    return 'approve all at once';
}
