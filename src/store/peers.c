/* peers.c: the access hashes of channels each session learned (store.h, session_peers). */
#include "core/common.h"
#include "store/db.h"
#include "store/store.h"

dm_err store_peer_put(struct store *st, const char *session, int64_t channel_id, int64_t hash,
                      int64_t now, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_text(&a, session, STORE_NAME_MAX);
    arg_int(&a, channel_id);
    arg_int(&a, hash);
    arg_int(&a, now);
    int64_t changes = 0;
    dm_err e = db_exec(st, S_PEER_PUT, &a, &changes, err);
    return !e && changes == 0 ? dm_fail(err, DM_ENOTFOUND, "no session named '%s'", session) : e;
}

dm_err store_peer_get(struct store *st, const char *session, int64_t channel_id, int64_t *hash,
                      struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_text(&a, session, STORE_NAME_MAX);
    arg_int(&a, channel_id);
    return db_read_one(st, S_PEER_GET, &a, row_int0, hash, "no access hash for that channel", err);
}

static void row_peer(const struct db_row *r, void *out)
{
    struct store_peer *p = out;
    p->channel_id = row_int(r, 0);
    p->access_hash = row_int(r, 1);
}

dm_err store_peer_list(struct store *st, const char *session, struct store_peer **out, size_t *n,
                       struct dm_error *err)
{
    *out = NULL;
    *n = 0;
    struct db_args a;
    args_init(&a);
    arg_text(&a, session, STORE_NAME_MAX);
    arg_int(&a, STORE_PEERS_MAX + 1);
    return db_read_all(st, S_PEER_LIST, &a, row_peer, sizeof **out, STORE_PEERS_MAX,
                       "access hashes in one session", (void **)out, n, err);
}
