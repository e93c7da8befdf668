/* account_backend.h: what an implementation of account.h supplies (bot_account.c,
 * session_account.c). Only account.c and the implementations include this.
 *
 * An implementation's handle starts with struct account (its `base`), filled by the open
 * function; account.c calls through ops and frees nothing itself: close frees the handle. A
 * NULL entry is something the implementation cannot do; account.c answers for it. */
#ifndef DM_TELEGRAM_ACCOUNT_BACKEND_H
#define DM_TELEGRAM_ACCOUNT_BACKEND_H

#include "telegram/account.h"

struct account_ops {
    dm_err (*usable)(struct account *a, struct dm_error *err);
    void (*check)(struct account *a, struct account_check *out);
    double (*rate)(struct account *a);
    dm_err (*channel)(struct account *a, int64_t chat_id, struct account_channel *out,
                      struct tg_error *te);
    dm_err (*find)(struct account *a, const struct account_ref *ref, struct account_channel *out,
                   struct tg_error *te);
    dm_err (*role)(struct account *a, const struct account_channel *ch, enum account_role *out,
                   struct tg_error *te);
    void (*decide)(struct account *a, bool approve, const struct account_request *r,
                   struct tg_error *te);
    dm_err (*list_pending)(struct account *a, const struct account_channel *ch,
                           const struct account_cursor *from, int limit, int64_t now,
                           struct account_page *out, struct tg_error *te);
    dm_err (*decide_channel)(struct account *a, const struct account_channel *ch, bool approve,
                             const char *link, struct tg_error *te);
    dm_err (*link_write)(struct account *a, const struct account_channel *ch,
                         enum account_link_op op, const char *link,
                         const struct account_link_spec *spec, struct store_link *out,
                         struct tg_error *te);
    dm_err (*links)(struct account *a, const struct account_channel *ch, struct store_link **out,
                    size_t *n, struct tg_error *te);
    dm_err (*joins)(struct account *a, const struct account_channel *ch, int64_t after_event,
                    int64_t before_event, struct account_join **out, size_t *n,
                    struct tg_error *te);
    dm_err (*ban)(struct account *a, const struct account_request *r, bool ban,
                  struct tg_error *te);
    dm_err (*has_photo)(struct account *a, const struct account_request *r, bool *out,
                        struct tg_error *te);
    void (*close)(struct account *a);
};

struct account {
    const struct account_ops *ops;
    const struct accounts *as; /* borrowed */
    char name[STORE_NAME_MAX];
};

/* Each makes its handle with base filled; DM_ENOMEM only. */
dm_err bot_account_open(const struct accounts *as, struct account **out);
dm_err session_account_open(const struct accounts *as, const char *name, struct account **out);

#endif
