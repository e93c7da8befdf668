/* verification.h: running a request's verification, from the URL a delivery hands to Telegram
 * to the decision. A rule's "verify" verdict begins it (jobs/judge.h: the request stays pending,
 * its verification created with the channel's challenge and deadline); a delivery (the
 * join-request query's sendChatJoinRequestWebApp, or a private message with a web_app button)
 * asks verification_start for the Mini App's URL; the applicant opens it in Telegram, and the
 * page (web/app/verify.js) opens the verification with its launch data and sends the answers.
 *
 * Each step is one store transaction with its audit entry ("verify_sent", "verify_opened",
 * "verify_answered", "verify_passed", "verify_failed", "verify_timed_out"; admin
 * STORE_RULES_ADMIN). The end records the request's verdict and due action as the rules do
 * (store_verdicts_record), so the decision is made by the rules' decision jobs:
 *   passed     on_pass: approve, or queue (pending for the admins, the answer attached)
 *   failed     on_fail: decline, or decline and ban; with ban_after N, the N-th failure of the
 *              user in the channel declines and bans
 *   timed out  on_timeout: decline, queue or approve (verification_timeouts, called by the
 *              rules' thread: the deadline is in the store, so it holds across restarts)
 *
 * Launch data (verify/initdata.h) must be signed by the bot's token, at most
 * VERIFY_LAUNCH_MAX_AGE old, name the request's applicant, and may open a verification once
 * (store_webapp_nonce_use: a replay is refused); answers must come with the launch data that
 * opened it.
 *
 * Errors for the applicant (messages fit to show): DM_EINVAL, DM_EAUTH, DM_ETIMEOUT from the
 * launch data; DM_EEXISTS a replayed launch; DM_EFORBIDDEN not the applicant, or not the launch
 * that opened it; DM_ENOTFOUND no such verification; DM_ECONFLICT it is over (or not open yet
 * for answers). Any other is the store's. */
#ifndef DM_VERIFY_VERIFICATION_H
#define DM_VERIFY_VERIFICATION_H

#include "core/common.h"
#include "store/store.h"

#include <jansson.h>

#define VERIFY_LAUNCH_MAX_AGE 3600 /* seconds a Mini App's launch data is taken */
#define VERIFY_PATH "/app/verify"  /* the Mini App's page, under the public URL */

/* The Mini App's URL for request_id into url: "<public_url>/app/verify?r=<id>" (public_url's
 * trailing slashes dropped). DM_ETOOBIG when url is too small. */
dm_err verification_url(const char *public_url, int64_t request_id, char *url, size_t size);
/* The Mini App's URL for request_id into url (verification_url), marking its
 * verification sent (when it was created; *first, when not NULL, tells whether this call did:
 * of deliveries racing, one is first). DM_ENOTFOUND when the request has no verification,
 * DM_ECONFLICT when it is over, DM_ETOOBIG when url is too small. */
dm_err verification_start(struct store *st, const char *public_url, int64_t request_id, int64_t now,
                          char *url, size_t size, bool *first, struct dm_error *err);

/* A launch of the Mini App: its data as Telegram sent it, the bot token it must be signed with
 * (borrowed, secret), and the request the page names. */
struct verify_launch {
    const char *data;
    size_t len;
    const char *bot_token;
    int64_t request_id;
    int64_t now;
};

/* Opens the verification for the applicant: *view (owned by the caller) is what the page shows:
 * {"request_id","language","name","title","submit","passed","failed","deadline","steps":[{"kind":"rules",
 * "text","accept"},{"kind":"question","question","choices":[…]},{"kind":"captcha","prompt",
 * "image":"data:image/png;base64,…"},{"kind":"text","prompt"}]} (the right choice and the
 * captcha's digits are not in it). */
dm_err verification_open(struct store *st, const struct verify_launch *l, json_t **view,
                         struct dm_error *err);

/* The applicant's answers: accepted the rules; choice (-1: none); the captcha's digits; the
 * free text (at most STORE_ANSWER_MAX - 1 bytes, cut at a character). */
struct verify_answer {
    bool accepted;
    int choice;
    const char *captcha;
    const char *text;
};
/* Takes the answers: *result (owned by the caller) is {"state":"passed"|"failed"} or, after a
 * wrong captcha with attempts left, {"state":"opened","retry":"captcha","image":"data:…",
 * "attempts_left":n} (the other answers are kept for the next try). */
dm_err verification_answer(struct store *st, const struct verify_launch *l,
                           const struct verify_answer *a, json_t **result, struct dm_error *err);

/* ---- brought as a private message with inline buttons (jobs/dm_challenge.h) ----
 *
 * The message shows one step at a time: the rules with an accept button (state sent), then the
 * question with one button per choice (state opened; sent when there are no rules), then the
 * end (passed, failed, timed out) without buttons. Each button's callback_data is
 * "v<request_id>:<tag>", tag the first 16 hex digits of HMAC-SHA-256 keyed with the
 * verification's random dm_key over "<request_id>:<state>:<button>": it names neither the choice
 * nor whether it is right, and a step taken changes the state, so a button pressed again (a
 * replay, an old message) matches nothing. */

/* Claims request_id's verification for a private message with buttons: created -> sent with a
 * new dm_key and the applicant's language (the request's language_code) ("verify_sent" in the
 * audit); *first tells whether this call did. DM_ENOTFOUND when it has none, DM_ECONFLICT when
 * it is over. */
dm_err verification_dm_start(struct store *st, int64_t request_id, const char *lang, int64_t now,
                             bool *first, struct dm_error *err);
/* The message for v as it stands, in its applicant's language: *text (owned) and *keyboard
 * (owned; an inline_keyboard array, NULL at the end). */
dm_err verification_dm_message(const struct store_verification *v, char **text, json_t **keyboard);
/* A press of callback data `data` by user_id: the step taken (one transaction with its audit
 * entry and, at the end, the verdict as verification_answer records it). *note gets what to
 * show the applicant (answerCallbackQuery's text), *request_id the request the data named.
 * DM_EINVAL: not doorman's data; DM_ENOTFOUND: no such verification; DM_EFORBIDDEN: another
 * user's; DM_ECONFLICT: a button no longer valid (a replay, a step taken, the end, the time
 * over). Any other is the store's. */
dm_err verification_dm_press(struct store *st, const char *data, int64_t user_id, int64_t now,
                             int64_t *request_id, char *note, size_t note_size,
                             struct dm_error *err);

/* Ends the open verifications past their deadline (up to limit) as their challenge says;
 * *ended gets how many. */
dm_err verification_timeouts(struct store *st, int64_t now, int limit, int *ended,
                             struct dm_error *err);

#endif
