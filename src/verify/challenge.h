/* challenge.h: a channel's challenge, what an applicant must do before the rules' "verify"
 * lets the request through (verify/verification.h runs it). Pure: reads and checks JSON, picks
 * texts by language; no I/O.
 *
 * The spec (docs/api.md has the reference):
 *   {"steps":[STEP…],               1 to 4 of "rules", "question", "captcha", "text", each once,
 *                                   shown in this order
 *    "time_limit_seconds":T,        10..86400 (default 600): no answer by then is a timeout
 *    "on_pass":"approve"|"queue",   queue: left pending for the admins, the answer attached
 *    "on_fail":"decline"|"decline_and_ban",
 *    "ban_after":N,                 0..100: with "decline", the N-th failure in the channel bans
 *                                   (0: never)
 *    "on_timeout":"decline"|"queue"|"approve",
 *    "captcha_attempts":K,          1..10 wrong captcha answers before the step fails
 *    "correct_choice":I,            the question's right choice, from 0
 *    "delivery":"web_app"|"buttons", how a private message brings it (jobs/deliver.h): a button
 *                                   that opens the Mini App (default), or the steps themselves
 *                                   as inline buttons (jobs/dm_challenge.h), which serve "rules"
 *                                   and "question" only: a challenge with a captcha or free text
 *                                   goes as the Mini App's button whatever this says
 *    "texts":{"default":TEXTS, "<language tag>":TEXTS…}}   at most 20 languages
 * TEXTS: "title", "rules" (the rules' text) and "accept" (the checkbox's label) for "rules",
 * "question" and "choices" (2 to 8) for "question", "prompt" for "text"; optional: "captcha"
 * (what to type), "submit" (the button), "passed" and "failed" (shown at the end), "message"
 * and "open" (the private message that brings the Mini App, and its button's label), "welcome"
 * and "decline" (templates of the private messages after an approval and a decline, jobs/notice.h;
 * "" or absent: none). "default" must
 * hold every text its steps need; another language any of them (a missing one is found as
 * challenge_text says); its "choices", when given, as many as the default's. Texts are plain: the
 * Mini App shows them as text, never as markup.
 *
 * Ownership: a struct challenge owns the JSON it parsed; texts returned are borrowed from it. */
#ifndef DM_VERIFY_CHALLENGE_H
#define DM_VERIFY_CHALLENGE_H

#include "core/common.h"

#include <jansson.h>

enum challenge_step { STEP_RULES = 0, STEP_QUESTION, STEP_CAPTCHA, STEP_TEXT, STEP_COUNT };
const char *challenge_step_name(int step); /* "rules", "question", "captcha", "text" */

enum challenge_outcome { OUTCOME_APPROVE = 0, OUTCOME_QUEUE, OUTCOME_DECLINE, OUTCOME_BAN };
enum challenge_delivery { DELIVERY_WEB_APP = 0, DELIVERY_BUTTONS };

#define CHALLENGE_LANGS_MAX 20
#define CHALLENGE_TIME_MIN 10 /* seconds */
#define CHALLENGE_TIME_MAX 86400
#define CHALLENGE_CHOICES_MAX 8

/* DM_EINVAL naming the field ("texts.ru.choices: …"; ": …" for spec itself) when spec is not a
 * valid challenge. */
dm_err challenge_check(const json_t *spec, struct dm_error *err);

struct challenge {
    json_t *spec;
    bool steps[STEP_COUNT];
    int64_t time_limit;               /* seconds */
    int on_pass, on_fail, on_timeout; /* enum challenge_outcome */
    int ban_after, captcha_attempts, correct_choice;
    int delivery; /* enum challenge_delivery, as the spec says */
};
/* Parses and checks stored text into *c (challenge_release frees it). */
dm_err challenge_parse(const char *text, struct challenge *c, struct dm_error *err);
void challenge_release(struct challenge *c);
/* The time limit of stored text, in seconds; DM_EINVAL when it is not a valid challenge. */
dm_err challenge_time_limit(const char *text, int64_t *seconds);

/* Whether a private message brings c as inline buttons: its delivery is "buttons" and every
 * step can be one (rules, question). */
bool challenge_by_buttons(const struct challenge *c);

/* The text `key` for an applicant whose language_code is lang: the exact tag's, else its
 * primary language's ("pt" for "pt-br"), else the default's; "" when none. */
const char *challenge_text(const struct challenge *c, const char *lang, const char *key);
/* The choices for lang (found as challenge_text finds a text), borrowed. */
const json_t *challenge_choices(const struct challenge *c, const char *lang);
/* The language lang gets its texts in: the exact tag in "texts", else its primary language,
 * else "default". */
const char *challenge_language(const struct challenge *c, const char *lang);

#endif
