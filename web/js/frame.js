// frame.js: the parts of index.html around the page: the top bar (who is signed in) and the banner
// that shows errors and notices.
import { $ } from './dom.js';
import { state } from './state.js';

export function showBanner(message, kind = 'error') {
    const b = $('#banner');
    $('#banner-text').textContent = message;
    b.className = `banner banner-${kind}`;
    b.hidden = false;
}

export function hideBanner() {
    $('#banner').hidden = true;
}

// The top bar shows only while signed in, with the admin's name.
export function showHeader() {
    $('#topbar').hidden = !state.me;
    $('#admin-name').textContent = state.me ? state.me.admin : '';
}
