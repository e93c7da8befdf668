// state.js: what the panel remembers between pages (one object, shared by every module).

export const state = {
    me: null,          // {admin, csrf_token} once signed in
    page: null,        // the live page context: {alive, timers, leaving, later, onLeave}
    lastJobId: null,   // the decision job shown on the Invite Requests page
    lastLoadJobId: null, // the load job shown on the Sessions page
    afterLogin: null,  // the hash to return to after signing in
    flash: null,       // [message, kind] to show on the next page rendered
};
