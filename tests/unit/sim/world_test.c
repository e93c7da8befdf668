/* Unit tests of tgsim's world model: ids, join request state machine, update queues, limits. */
#include "core/common.h"
#include "sim/invites.h"
#include "sim/world.h"

#include "../check.h"

static void test_idmap(void)
{
    struct idmap m;
    idmap_init(&m);
    bool all_put = true;
    for (int64_t k = -50000; k < 50000; k += 3)
        all_put &= idmap_put(&m, k * 7919, (uint32_t)(k + 50000)) == DM_OK;
    CHECK(all_put && m.len == 33334);
    uint32_t v = 0;
    CHECK(idmap_get(&m, -50000 * 7919, &v) && v == 0);
    CHECK(idmap_get(&m, 49999 * 7919, &v) && v == 99999);
    CHECK(!idmap_get(&m, 1, &v));
    CHECK(idmap_put(&m, 0, 5) == DM_OK && idmap_get(&m, 0, &v) && v == 5);
    size_t len = m.len;
    CHECK(idmap_put(&m, 0, 6) == DM_OK && m.len == len && idmap_get(&m, 0, &v) && v == 6);
    idmap_release(&m);
    printf("idmap: put, get, replace over 33,334 keys\n");
}

struct fixture {
    struct world *w;
    struct sim_bot *bot, *bot_noright, *bot_outsider;
    struct sim_channel *ch;
    int64_t user, admin_user;
};

static void setup(struct fixture *f)
{
    struct dm_error err;
    CHECK(world_new(42, &f->w) == DM_OK);
    world_lock(f->w);
    CHECK(world_bot_add(f->w, "doorbot", "Door", "4242:secret", &f->bot, &err) == DM_OK);
    CHECK(f->bot->id == 4242);
    CHECK(world_bot_add(f->w, "weakbot", "Weak", NULL, &f->bot_noright, &err) == DM_OK);
    CHECK(f->bot_noright->token[0] && strchr(f->bot_noright->token, ':'));
    CHECK(world_bot_add(f->w, "otherbot", "Other", NULL, &f->bot_outsider, &err) == DM_OK);
    CHECK(world_bot_add(f->w, "DOORBOT", "Dup", NULL, &f->bot_outsider, &err) == DM_EEXISTS);
    CHECK(world_bot_add(f->w, "tokbot", "Dup", "4242:secret", &f->bot_outsider, &err) ==
          DM_EEXISTS);
    CHECK(world_bot_by_token(f->w, "4242:secret") == f->bot);
    CHECK(world_user_add(f->w, "Ann", "Lee", "ann", "bio", &f->user, &err) == DM_OK);
    CHECK(world_user_add(f->w, "Adm", NULL, NULL, NULL, &f->admin_user, &err) == DM_OK);
    int64_t unused;
    CHECK(world_user_add(f->w, "", NULL, NULL, NULL, &unused, &err) == DM_EINVAL);
    CHECK(world_user_add(f->w, "X", NULL, "bad name", NULL, &unused, &err) == DM_EINVAL);
    CHECK(world_user_add(f->w, "X", NULL, "Ann", NULL, &unused, &err) == DM_EEXISTS);
    CHECK(world_channel_add(f->w, "Chan", "chan", &f->ch, &err) == DM_OK);
    CHECK(f->ch->id < -1000000000000LL);
    CHECK(world_channel_by_username(f->w, "CHAN") == f->ch);
    CHECK(world_channel_set_admin(f->w, f->ch, f->bot->id, true, true, &err) == DM_OK);
    CHECK(world_channel_set_admin(f->w, f->ch, f->bot_noright->id, false, false, &err) == DM_OK);
    CHECK(world_channel_set_admin(f->w, f->ch, f->admin_user, true, true, &err) == DM_OK);
    CHECK(world_channel_set_admin(f->w, f->ch, 1, true, true, &err) == DM_ENOTFOUND);
    world_unlock(f->w);
}

static void teardown(struct fixture *f)
{
    world_free(f->w);
}

static void test_state_machine(void)
{
    struct fixture f;
    setup(&f);
    struct world *w = f.w;
    struct dm_error err;
    world_lock(w);
    CHECK(world_jr_add(w, f.ch, f.user, 1700000000, "https://t.me/+x", true, &err) == DM_OK);
    CHECK(world_jr_add(w, f.ch, f.user, 0, NULL, true, &err) == DM_EEXISTS);   /* already pending */
    CHECK(world_jr_add(w, f.ch, f.bot->id, 0, NULL, true, &err) == DM_EINVAL); /* bots don't ask */
    CHECK(world_bot_pending(f.bot) == 1);
    CHECK(world_bot_pending(f.bot_noright) == 0); /* no can_invite_users: no update */
    CHECK(world_bot_pending(f.bot_outsider) == 0);

    CHECK(world_jr_decide(w, -1, f.user, true, f.bot->id) == SIM_CHAT_NOT_FOUND);
    CHECK(world_jr_decide(w, f.ch->id, f.user, true, f.bot_noright->id) == SIM_ADMIN_REQUIRED);
    CHECK(world_jr_decide(w, f.ch->id, f.user, true, f.bot_outsider->id) == SIM_ADMIN_REQUIRED);
    CHECK(world_jr_decide(w, f.ch->id, f.admin_user, true, f.bot->id) == SIM_REQUESTER_MISSING);
    CHECK(world_jr_decide(w, f.ch->id, f.user, true, f.bot->id) == SIM_OK);
    struct sim_join_request *jr = world_jr_latest(w, f.ch, f.user);
    CHECK(jr && jr->status == JR_APPROVED && jr->decided_by == f.bot->id && jr->decisions == 1);
    CHECK(jr && jr->date == 1700000000 && jr->decided_at > 0);
    CHECK(world_is_member(f.ch, f.user));
    CHECK(world_jr_decide(w, f.ch->id, f.user, true, f.bot->id) == SIM_REQUESTER_MISSING);
    CHECK(world_jr_decide(w, f.ch->id, f.user, false, f.admin_user) == SIM_REQUESTER_MISSING);
    CHECK(jr && jr->decisions == 1);
    /* every call by an admin is on record, answered or not: two approves, one decline */
    CHECK(jr && jr->approve_calls == 2 && jr->decline_calls == 1);
    CHECK(world_jr_add(w, f.ch, f.user, 0, NULL, true, &err) == DM_EEXISTS); /* a member */

    /* pending, then joined another way: approving says USER_ALREADY_PARTICIPANT */
    int64_t u2;
    CHECK(world_user_add(w, "Bo", NULL, NULL, NULL, &u2, &err) == DM_OK);
    CHECK(world_jr_add(w, f.ch, u2, 0, NULL, true, &err) == DM_OK);
    CHECK(world_channel_add_member(w, f.ch, u2, &err) == DM_OK);
    CHECK(world_jr_decide(w, f.ch->id, u2, true, f.bot->id) == SIM_ALREADY_PARTICIPANT);
    CHECK(world_jr_latest(w, f.ch, u2)->status == JR_PENDING);
    /* a user account decides too; after a decline the user may ask again: a new record */
    int64_t u3;
    CHECK(world_user_add(w, "Cy", NULL, NULL, NULL, &u3, &err) == DM_OK);
    CHECK(world_jr_add(w, f.ch, u3, 0, NULL, true, &err) == DM_OK);
    CHECK(world_jr_decide(w, f.ch->id, u3, false, f.admin_user) == SIM_OK);
    CHECK(world_jr_latest(w, f.ch, u3)->decided_by == f.admin_user);
    CHECK(!world_is_member(f.ch, u3));
    size_t before = w->njrs;
    CHECK(world_jr_add(w, f.ch, u3, 0, NULL, true, &err) == DM_OK);
    CHECK(w->njrs == before + 1 && world_jr_latest(w, f.ch, u3)->status == JR_PENDING);
    CHECK(w->jrs[before - 1].status == JR_DECLINED && w->jrs[before - 1].decisions == 1);
    world_unlock(w);
    teardown(&f);
    printf("join requests: pending -> approved/declined once; HIDE_REQUESTER_MISSING, "
           "USER_ALREADY_PARTICIPANT, CHAT_ADMIN_REQUIRED, chat not found\n");
}

static void test_queue(void)
{
    struct fixture f;
    setup(&f);
    struct world *w = f.w;
    struct dm_error err;
    world_lock(w);
    int64_t first;
    CHECK(world_jr_add_many(w, f.ch, 100000, "Bulk", NULL, NULL, 0, 0, true, &first, &err) ==
          DM_OK);
    CHECK(world_user(w, first) && world_user(w, first + 99999) && !world_user(w, first + 100000));
    CHECK(world_jr_latest(w, f.ch, first + 99999)->status == JR_PENDING);
    struct sim_bot *b = f.bot;
    CHECK(world_bot_pending(b) == 100000);
    int64_t id0 = b->q[b->qhead].id;
    world_bot_confirm(b, id0 + 10);
    CHECK(world_bot_pending(b) == 99990 && b->q[b->qhead].id == id0 + 10);
    world_bot_confirm(b, id0); /* older offsets change nothing */
    CHECK(world_bot_pending(b) == 99990);
    world_bot_confirm(b, -5);
    CHECK(world_bot_pending(b) == 5 && b->q[b->qhead].id == id0 + 99995);
    world_bot_confirm(b, id0 + 100000);
    CHECK(world_bot_pending(b) == 0);
    CHECK(world_jr_add_many(w, f.ch, 1, "", NULL, NULL, 0, 0, true, &first, &err) == DM_EINVAL);

    json_t *only_messages = json_pack("[s]", "message");
    world_bot_set_allowed(b, only_messages);
    json_decref(only_messages);
    CHECK(world_jr_add_many(w, f.ch, 3, "Bulk", NULL, NULL, 0, 0, true, &first, &err) == DM_OK);
    CHECK(world_bot_pending(b) == 0);
    world_bot_set_allowed(b, NULL);
    CHECK(world_jr_add_many(w, f.ch, 3, "Bulk", NULL, NULL, 0, 0, true, &first, &err) == DM_OK);
    CHECK(world_bot_pending(b) == 3);
    world_unlock(w);
    teardown(&f);
    printf(
        "update queues: 100,000 requests, offsets (positive, older, negative), allowed_updates\n");
}

/* Requests only Telegram knows of (no bot update), and the service notifications of an account. */
static void test_unannounced_and_inbox(void)
{
    struct fixture f;
    setup(&f);
    struct world *w = f.w;
    struct dm_error err;
    world_lock(w);
    int64_t first;
    CHECK(world_jr_add(w, f.ch, f.user, 0, NULL, false, &err) == DM_OK);
    CHECK(world_jr_add_many(w, f.ch, 3, "Quiet", NULL, NULL, 0, 0, false, &first, &err) == DM_OK);
    CHECK(world_bot_pending(f.bot) == 0 && w->njrs == 4);
    CHECK(world_jr_latest(w, f.ch, first + 2)->status == JR_PENDING);
    CHECK(world_jr_decide(w, f.ch->id, f.user, true, f.admin_user) == SIM_OK);

    struct sim_account *a;
    CHECK(world_account_add(w, 0, "Acc", NULL, NULL, "+999 661 0001", 1, NULL, &a, &err) == DM_OK);
    char text[32];
    for (unsigned i = 0; i < SIM_MAX_INBOX + 5; i++) {
        snprintf(text, sizeof text, "Login code: %05u", i);
        CHECK(world_account_notify(a, text) == DM_OK);
    }
    CHECK(a->ninbox == SIM_MAX_INBOX && a->inbox[0].id == 6);
    CHECK(a->inbox[SIM_MAX_INBOX - 1].from_id == SIM_SERVICE_USER_ID);
    snprintf(text, sizeof text, "Login code: %05u", SIM_MAX_INBOX + 4);
    CHECK(strcmp(a->inbox[SIM_MAX_INBOX - 1].text, text) == 0);
    world_unlock(w);
    teardown(&f);
    printf("unannounced requests queue no update; an inbox keeps the last %u notifications\n",
           SIM_MAX_INBOX);
}

static void test_limits(void)
{
    struct fixture f;
    setup(&f);
    struct world *w = f.w;
    struct dm_error err;
    world_lock(w);
    CHECK(world_ratelimit_take(w, f.bot) == 0); /* unlimited */
    world_set_rate_limit(w, 2);
    CHECK(world_ratelimit_take(w, f.bot) == 0);
    CHECK(world_ratelimit_take(w, f.bot) == 0);
    CHECK(world_ratelimit_take(w, f.bot) == 1);
    CHECK(world_ratelimit_take(w, f.bot_noright) == 0); /* per bot */
    CHECK(w->rate_limited == 1);

    struct sim_fault fault = {.method = "approveChatJoinRequest",
                              .count = 2,
                              .error_code = 429,
                              .description = "Too Many Requests: retry after 3",
                              .retry_after = 3};
    CHECK(world_fault_add(w, &fault, &err) == DM_OK);
    struct sim_fault got;
    CHECK(!world_fault_take(w, "getMe", &got));
    CHECK(world_fault_take(w, "approveChatJoinRequest", &got) && got.retry_after == 3);
    CHECK(world_fault_take(w, "approveChatJoinRequest", &got) && got.error_code == 429);
    CHECK(!world_fault_take(w, "approveChatJoinRequest", &got));
    CHECK(world_fault_add(w, &fault, &err) == DM_OK);
    fault.count = 0;
    CHECK(world_fault_add(w, &fault, &err) == DM_OK); /* disarms */
    CHECK(!world_fault_take(w, "approveChatJoinRequest", &got));
    world_stat_call(w, "getMe");
    world_stat_call(w, "getMe");
    CHECK(w->nstats == 1 && w->stats[0].calls == 2);
    world_unlock(w);
    teardown(&f);
    printf("limits: token bucket per bot, faults counted down and disarmed, call statistics\n");
}

/* Bans: rights, targets, the pending request dismissed, a new request refused, unbanning with
 * and without only_if_banned, temporary bans, a wave through one link spread over time. */
static void test_bans(void)
{
    struct fixture f;
    setup(&f);
    struct world *w = f.w;
    struct dm_error err;
    world_lock(w);
    int64_t chat = f.ch->id;
    CHECK(world_jr_add(w, f.ch, f.user, 0, "https://t.me/+x", true, &err) == DM_OK);
    CHECK(world_ban(w, chat, f.user, 0, false, f.bot_noright->id) == SIM_NO_BAN_RIGHT);
    CHECK(world_ban(w, chat, f.user, 0, false, f.bot_outsider->id) == SIM_NO_BAN_RIGHT);
    CHECK(world_ban(w, chat, 999, 0, false, f.bot->id) == SIM_USER_NOT_FOUND);
    CHECK(world_ban(w, chat, f.admin_user, 0, false, f.bot->id) == SIM_TARGET_ADMIN);
    CHECK(world_ban(w, chat, f.bot->id, 0, false, f.bot->id) == SIM_TARGET_ADMIN);
    CHECK(world_ban(w, -5, f.user, 0, false, f.bot->id) == SIM_CHAT_NOT_FOUND);
    CHECK(w->nbans == 0); /* refused calls leave no record */
    CHECK(world_ban(w, chat, f.user, 0, true, f.bot->id) == SIM_OK);
    CHECK(world_is_banned(w, f.ch, f.user));
    struct sim_join_request *jr = world_jr_latest(w, f.ch, f.user);
    CHECK(jr->status == JR_DECLINED && jr->by_ban && jr->decided_by == f.bot->id &&
          jr->decisions == 1);
    CHECK(world_jr_decide(w, chat, f.user, false, f.bot->id) == SIM_REQUESTER_MISSING);
    CHECK(world_jr_add(w, f.ch, f.user, 0, NULL, true, &err) == DM_EINVAL); /* banned */
    CHECK(world_channel_add_member(w, f.ch, f.user, &err) == DM_EINVAL);
    struct sim_ban *b = world_ban_record(w, f.ch, f.user);
    CHECK(b && b->ban_calls == 1 && b->banned_by == f.bot->id && b->until_date == 0);

    CHECK(world_unban(w, chat, f.user, true, f.bot->id) == SIM_OK);
    CHECK(!world_is_banned(w, f.ch, f.user) && b->unban_calls == 1 && b->unbanned_by == f.bot->id);
    CHECK(world_jr_add(w, f.ch, f.user, 0, NULL, true, &err) == DM_OK);
    CHECK(world_jr_decide(w, chat, f.user, true, f.bot->id) == SIM_OK);
    CHECK(world_is_member(f.ch, f.user) && world_member_count(f.ch) == 1);
    /* only_if_banned leaves a member alone; without it the member is removed */
    CHECK(world_unban(w, chat, f.user, true, f.bot->id) == SIM_OK && world_is_member(f.ch, f.user));
    CHECK(world_unban(w, chat, f.admin_user, true, f.bot->id) == SIM_OK);
    CHECK(world_unban(w, chat, f.admin_user, false, f.bot->id) == SIM_TARGET_ADMIN);
    CHECK(world_unban(w, chat, f.user, false, f.bot->id) == SIM_OK);
    CHECK(!world_is_member(f.ch, f.user) && world_member_count(f.ch) == 0);
    CHECK(world_channel_add_member(w, f.ch, f.user, &err) == DM_OK &&
          world_member_count(f.ch) == 1);
    /* a member banned leaves; until_date within 30 s or past 366 days is for ever */
    CHECK(world_ban(w, chat, f.user, world_now() + 10, false, f.admin_user) == SIM_OK);
    CHECK(!world_is_member(f.ch, f.user) && b->until_date == 0 && b->ban_calls == 2 &&
          b->banned_by == f.admin_user);
    CHECK(world_ban(w, chat, f.user, world_now() + 3600, false, f.bot->id) == SIM_OK);
    CHECK(b->until_date > world_now() && world_is_banned(w, f.ch, f.user));
    b->until_date = world_now() - 1; /* the ban ran out */
    CHECK(!world_is_banned(w, f.ch, f.user));

    /* a wave: 5 requests through one link, dates spread over 60 s ending at date */
    int64_t first;
    CHECK(world_jr_add_many(w, f.ch, 5, "Wave", NULL, "https://t.me/+wave", 1700000000, 60, true,
                            &first, &err) == DM_OK);
    struct sim_join_request *a = world_jr_latest(w, f.ch, first);
    struct sim_join_request *z = world_jr_latest(w, f.ch, first + 4);
    CHECK(a->date == 1700000000 - 60 && z->date == 1700000000 &&
          strcmp(a->invite_link, "https://t.me/+wave") == 0);
    CHECK(world_jr_add_many(w, f.ch, 1, "Wave", NULL, "", 0, 0, true, &first, &err) == DM_EINVAL);

    /* the CAS-style list */
    CHECK(world_cas_put(w, 77, 3, "spam", &err) == DM_OK && world_cas_get(w, 77)->offenses == 3);
    CHECK(world_cas_put(w, 77, 4, NULL, &err) == DM_OK && world_cas_get(w, 77)->offenses == 4 &&
          !world_cas_get(w, 77)->message && w->ncas == 1);
    CHECK(!world_cas_get(w, 78));
    world_unlock(w);
    teardown(&f);
    printf("bans: rights, targets, pending dismissed, unban, temporary; waves; CAS list\n");
}

/* Invite links (sim/invites.h): who may make them, the Bot API's checks, edit and revoke, the
 * counts of the requests through them, and the admin log's ids in the order of approvals. */
static void test_invites(void)
{
    struct fixture f;
    setup(&f);
    struct world *w = f.w;
    struct dm_error err;
    world_lock(w);
    struct sim_invite *l = NULL;
    struct sim_invite_spec s = {.name = "Ads", .creates_join_request = true};
    CHECK(world_invite_create(w, f.ch, f.bot_noright->id, &s, &l, &err) == SIM_ADMIN_REQUIRED);
    CHECK(world_invite_create(w, f.ch, f.user, &s, &l, &err) == SIM_ADMIN_REQUIRED);
    struct sim_invite_spec bad = {.member_limit = 5, .creates_join_request = true};
    CHECK(world_invite_create(w, f.ch, f.bot->id, &bad, &l, &err) == SIM_LINK_BAD);
    bad = (struct sim_invite_spec){.name = "123456789012345678901234567890123"};
    CHECK(world_invite_create(w, f.ch, f.bot->id, &bad, &l, &err) == SIM_LINK_BAD);
    bad = (struct sim_invite_spec){.expire_date = 5};
    CHECK(world_invite_create(w, f.ch, f.bot->id, &bad, &l, &err) == SIM_LINK_BAD);
    bad = (struct sim_invite_spec){.member_limit = 100000};
    CHECK(world_invite_create(w, f.ch, f.bot->id, &bad, &l, &err) == SIM_LINK_BAD);
    CHECK(f.ch->nlinks == 0);
    CHECK(world_invite_create(w, f.ch, f.bot->id, &s, &l, &err) == SIM_OK);
    CHECK(l && strncmp(l->link, "https://t.me/+", 14) == 0 && strlen(l->link) == 30 &&
          strcmp(l->name, "Ads") == 0 && l->creator_id == f.bot->id && !l->revoked);
    char link[64];
    dm_strlcpy(link, l->link, sizeof link);
    CHECK(world_invite(f.ch, link) == l);

    CHECK(world_jr_add(w, f.ch, f.user, 0, link, true, &err) == DM_OK);
    CHECK(world_jr_add(w, f.ch, f.bot_noright->id, 0, link, true, &err) == DM_EINVAL); /* a bot */
    size_t pending, approved;
    world_invite_counts(w, f.ch, link, &pending, &approved);
    CHECK(pending == 1 && approved == 0);
    CHECK(world_jr_decide(w, f.ch->id, f.user, true, f.admin_user) == SIM_OK);
    world_invite_counts(w, f.ch, link, &pending, &approved);
    CHECK(pending == 0 && approved == 1);
    CHECK(world_jr_latest(w, f.ch, f.user)->log_id == 1);
    CHECK(world_jr_latest(w, f.ch, f.user)->decided_by == f.admin_user);

    struct sim_invite_spec e = {.name = NULL, .member_limit = 10};
    CHECK(world_invite_edit(f.ch, f.bot->id, link, &e, &l, &err) == SIM_OK);
    CHECK(l->name == NULL && l->member_limit == 10 && !l->creates_join_request);
    CHECK(world_invite_edit(f.ch, f.bot->id, "https://t.me/+none", &e, &l, &err) ==
          SIM_LINK_MISSING);
    CHECK(world_invite_revoke(f.ch, f.bot->id, link, &l) == SIM_OK && l->revoked);
    CHECK(world_invite_revoke(f.ch, f.bot->id, link, &l) == SIM_OK); /* twice is fine */
    CHECK(world_invite_edit(f.ch, f.bot->id, link, &e, &l, &err) == SIM_LINK_MISSING);
    CHECK(strcmp(sim_err_botapi(SIM_LINK_MISSING), "INVITE_HASH_EXPIRED") == 0);
    world_unlock(w);
    teardown(&f);
}

/* Access hashes (world_access_hash): a function of the seed, the account, the kind and the id. */
static void test_access_hashes(void)
{
    struct world *a = NULL, *b = NULL, *other = NULL;
    CHECK(world_new(7, &a) == DM_OK && world_new(7, &b) == DM_OK && world_new(8, &other) == DM_OK);
    int64_t h = world_access_hash(a, 1000, WORLD_HASH_CHANNEL, 555);
    CHECK(h != 0 && h == world_access_hash(a, 1000, WORLD_HASH_CHANNEL, 555));
    CHECK(h == world_access_hash(b, 1000, WORLD_HASH_CHANNEL, 555)); /* the same seed */
    CHECK(h != world_access_hash(other, 1000, WORLD_HASH_CHANNEL, 555));
    CHECK(h != world_access_hash(a, 1001, WORLD_HASH_CHANNEL, 555)); /* another account */
    CHECK(h != world_access_hash(a, 1000, WORLD_HASH_USER, 555));    /* another kind */
    CHECK(h != world_access_hash(a, 1000, WORLD_HASH_CHANNEL, 556));
    CHECK(world_access_hash(a, 1000, WORLD_HASH_USER, 555) !=
          world_access_hash(a, 555, WORLD_HASH_USER, 1000)); /* not symmetric */
    world_free(a);
    world_free(b);
    world_free(other);
    printf("access hashes: per seed, account, kind and id\n");
}

int main(void)
{
    test_idmap();
    test_state_machine();
    test_queue();
    test_unannounced_and_inbox();
    test_limits();
    test_bans();
    test_invites();
    test_access_hashes();
    return CHECK_DONE();
}
