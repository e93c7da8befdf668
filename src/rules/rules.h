/* rules.h: the rule engine. A rule set is an ordered list of rules (a channel's first, then the
 * global ones); the first enabled rule whose conditions all hold decides what happens to a
 * join request. Pure: compiling reads JSON and calls back for lists; evaluating reads the
 * request and asks the context (what the store knows around it: waves, earlier declines),
 * and does no I/O of its own, so the dry run (dryrun.h) and deciding on arrival share it.
 *
 * A rule's spec (docs/api.md has the reference):
 *   {"conditions":[COND…], "action":"approve"|"decline"|"decline_and_ban"|"hold"|
 *    "approve_after"|"verify", "delay_seconds":N (approve_after only: 10..86400)}
 * COND is {"type":T, "negate":bool?, …} with T one of has_username, is_premium, is_scam,
 * is_fake, language_code {"in":[tag…]}, name_matches / bio_matches {"words":[…]} or
 * {"regex":"…"}, name_script {"script":"Han"}, bio_has_link, bio_has_mention, user_id_above
 * {"value":N}, invite_link {"link":"…"|null}, in_list {"list":"name"}, declined_before,
 * wave {"count":K,"minutes":M,"per":"link"|"channel"}, member_elsewhere, has_photo,
 * on_blocklist. No conditions: the rule always holds.
 *
 * The last three are asked of the context (below), which may not know. When there is no way to
 * ask (the blocklist service is off; the dry run asks nobody) the condition is unknown: its rule
 * does not hold, negated or not, and the verdict counts it. When the asking failed now (the
 * service or Telegram did not answer) the evaluation stops there: the verdict names the rule as
 * `later`, and no rule after it decides (a failed check must never let a request through to a
 * later "approve"). has_photo and on_blocklist cost a call each, so a rule asks them only after
 * its other conditions held.
 *
 * Text is compared folded (core/fold.h: case and Unicode form). Regular expressions are PCRE2
 * with UTF, UCP and CASELESS, bounded by a match limit: one that runs out counts as no match.
 *
 * Ownership: a rules_set owns everything it compiled and copies what it reads; it is read
 * only after compiling, so any number of threads may evaluate one set at once, each with its
 * own struct rules_scratch. */
#ifndef DM_RULES_H
#define DM_RULES_H

#include "core/common.h"

#include <jansson.h>

enum rule_action {
    RULE_APPROVE = 0,
    RULE_DECLINE,
    RULE_DECLINE_AND_BAN,
    RULE_HOLD,
    RULE_APPROVE_AFTER,
    RULE_VERIFY, /* the channel's challenge first (verify/verification.h) */
    RULE_ACTION_COUNT
};
const char *rule_action_name(int action); /* "approve", … "approve_after", "verify" */

#define RULES_DELAY_MIN 10
#define RULES_DELAY_MAX 86400
#define RULES_REGEX_MATCH_LIMIT 100000 /* PCRE2 match limit: a hostile pattern stops here */

/* What a request offers (strings borrowed, never NULL). */
struct rules_request {
    int64_t id, chat_id, user_id, tg_date;
    const char *first_name, *last_name, *username, *bio, *invite_link, *language_code;
    bool is_premium, is_scam, is_fake;
};

#define RULES_UNKNOWN (-1)
#define RULES_LATER (-2)

/* What the store knows around a request, asked only by the conditions that need it. */
struct rules_context {
    /* requests of r's channel (only through r's invite link, "" included, when same_link)
     * with tg_date in (r->tg_date - seconds, r->tg_date], r among them */
    int64_t (*wave_count)(void *ctx, const struct rules_request *r, bool same_link,
                          int64_t seconds);
    /* r's user has a declined request in r's channel */
    bool (*declined_before)(void *ctx, const struct rules_request *r);
    /* 1 yes, 0 no, RULES_UNKNOWN (no way to ask; NULL too), RULES_LATER (the asking failed
     * now). r's user was approved in another channel here; has a profile photo (a Telegram
     * call); is on the blocklist service */
    int (*member_elsewhere)(void *ctx, const struct rules_request *r);
    int (*has_photo)(void *ctx, const struct rules_request *r);
    int (*blocklisted)(void *ctx, const struct rules_request *r);
    void *ctx;
};

/* A named list as a rule reads it: user ids and lowercase usernames without '@'. */
struct rules_list;
void rules_list_add(struct rules_list *l, const char *entry); /* "123", "@Name" or "name" */
/* Fills l with the entries of the list `name`; DM_ENOTFOUND (message in err) when there is
 * no such list. */
typedef dm_err (*rules_list_loader)(void *ctx, const char *name, struct rules_list *l,
                                    struct dm_error *err);

struct rules_set;
struct rules_set *rules_set_new(void); /* NULL when out of memory */
void rules_set_free(struct rules_set *s);
/* Compiles spec and appends it as rule number rules_set_size(s). where names it in messages
 * ("rules[2]"): DM_EINVAL "rules[2].conditions[0].regex: …" for a bad rule (s unchanged).
 * Lists it names are loaded once per set through load(ctx, …). */
dm_err rules_set_add(struct rules_set *s, int64_t id, const char *name, const json_t *spec,
                     const char *where, rules_list_loader load, void *load_ctx,
                     struct dm_error *err);
size_t rules_set_size(const struct rules_set *s);

/* A rule as added: its id, name (borrowed from s), action and delay. */
struct rules_verdict {
    int index; /* in the set; -1: no rule matched */
    int64_t rule_id;
    const char *rule_name;
    int action;
    int64_t delay_seconds;
    int unknown; /* rules passed over because a condition was unknown */
    int later;   /* >= 0: the rule at this index could not be checked now (index is -1) */
    bool wave;   /* the rule that holds has a wave condition (not negated): a wave was caught */
};

/* Per-thread room for one evaluation at a time (folded text, regex match data). */
struct rules_scratch;
struct rules_scratch *rules_scratch_new(void); /* NULL when out of memory */
void rules_scratch_free(struct rules_scratch *x);

/* The first rule of s that holds for r. DM_ENOMEM only. */
dm_err rules_eval(const struct rules_set *s, const struct rules_request *r,
                  const struct rules_context *ctx, struct rules_scratch *x,
                  struct rules_verdict *out);

#endif
