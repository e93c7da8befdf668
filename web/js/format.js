// format.js: numbers, times, durations, names and status badges as the panel shows them.
import { h } from './dom.js';

const nf = new Intl.NumberFormat();
export const fmtNum = (n) => nf.format(n || 0);
// A count of the list's `counts`: past the count cap (exact false) each is a lower bound ("612+")
// and the total says how many were read ("more than 1,000": "1,000+").
export const fmtCount = (counts, key) => counts.exact === false
    ? `${nf.format(key === 'total' ? counts.total - 1 : counts[key] || 0)}+` : fmtNum(counts[key]);
const pad2 = (n) => String(n).padStart(2, '0');

export function fmtTime(ts) {
    if (!ts) return '—';
    const d = new Date(ts * 1000);
    return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ` +
        `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

export function fmtTimeFull(ts) {
    return ts ? new Date(ts * 1000).toString() : '';
}

export function fmtAgo(ts) {
    if (!ts) return 'never';
    const s = Math.max(0, Math.round(Date.now() / 1000 - ts));
    if (s < 60) return `${s} s ago`;
    if (s < 3600) return `${Math.floor(s / 60)} min ago`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
    return fmtTime(ts);
}

export function fmtDuration(s) {
    s = Math.max(0, Math.ceil(s));
    if (s < 60) return `${s} s`;
    const m = Math.floor(s / 60);
    return m < 60 ? `${m} min ${pad2(s % 60)} s` : `${Math.floor(m / 60)} h ${pad2(m % 60)} min`;
}

// "YYYY-MM-DD" (local calendar day) to Unix seconds at its start or its last second.
export function dayStart(day) {
    const [y, m, d] = day.split('-').map(Number);
    return Math.floor(new Date(y, m - 1, d).getTime() / 1000);
}
export function dayEnd(day) {
    const [y, m, d] = day.split('-').map(Number);
    return Math.floor(new Date(y, m - 1, d + 1).getTime() / 1000) - 1;
}

export function fullName(r) {
    return [r.first_name, r.last_name].filter(Boolean).join(' ') || '(no name)';
}

export const fmtPhone = (p) => (p ? (p.startsWith('+') ? p : '+' + p) : '');

// "Marta Kowalska · @marta_k · +48…": a Telegram account in one line.
export function accountLabel(a) {
    if (!a) return '';
    return [fullName(a), a.username ? '@' + a.username : '', fmtPhone(a.phone)].filter(Boolean).join(' · ');
}

export function badge(status, text) {
    return h('span.badge', { class: `badge-${status}` }, text || status);
}
