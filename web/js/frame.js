// frame.js: the parts of index.html around the page: the top bar (who is signed in; its menu on a
// narrow screen) and the banner that shows errors and notices.
import { $ } from './dom.js';
import { state, can } from './state.js';

export function showBanner(message, kind = 'error') {
    const b = $('#banner');
    $('#banner-text').textContent = message;
    b.className = `banner banner-${kind}`;
    b.hidden = false;
}

export function hideBanner() {
    $('#banner').hidden = true;
}

// The top bar shows only while signed in, with the admin's name (its menu closed) and the pages
// the admin's role may use (a link's data-need names the least role).
export function showHeader() {
    $('#topbar').hidden = !state.me;
    $('#admin-name').textContent = state.me ? state.me.admin : '';
    for (const a of document.querySelectorAll('.nav a[data-need]')) a.hidden = !can(a.dataset.need);
    setMenu(false);
}

// Opens or closes the top bar's menu. On a narrow screen style.css shows the navigation and Log
// out only while it is open; on a wide one the menu button is hidden and they always show.
function setMenu(open) {
    $('#topbar').classList.toggle('menu-open', open);
    $('#menu-toggle').setAttribute('aria-expanded', String(open));
}

// Wires the menu button: it opens and closes the menu; following a link in the top bar, a click
// elsewhere and Escape close it (Escape gives the focus back to the button when it was in the menu).
export function initMenu() {
    const bar = $('#topbar');
    const btn = $('#menu-toggle');
    const isOpen = () => bar.classList.contains('menu-open');
    btn.addEventListener('click', () => setMenu(!isOpen()));
    bar.addEventListener('click', (ev) => {
        if (ev.target instanceof Element && ev.target.closest('a')) setMenu(false);
    });
    document.addEventListener('click', (ev) => {
        if (isOpen() && !bar.contains(ev.target)) setMenu(false);
    });
    document.addEventListener('keydown', (ev) => {
        if (ev.key !== 'Escape' || !isOpen()) return;
        const focused = bar.contains(document.activeElement);
        setMenu(false);
        if (focused) btn.focus();
    });
}
