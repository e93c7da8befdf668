/* libFuzzer target: outside input that doorman parses itself besides TL: a Bot API update body
 * (JSON from Telegram or a webhook caller) read into a join request, the date filters of the
 * API's query strings and bodies, a Mini App's launch data (anyone's, before it is known to be
 * Telegram's) and a challenge's JSON (an admin's).
 * fuzz-sources: src/botapi/update.c src/core/date.c src/core/err.c src/verify/initdata.c
 * src/verify/challenge.c
 * fuzz-pkgs: jansson libsodium */
#include "core/common.h"

#include "botapi/update.h"
#include "core/date.h"
#include "verify/challenge.h"
#include "verify/initdata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A string the parser hands out: never NULL, a whole string of the update (jansson checked its
 * UTF-8), read to its end. */
static void check_text(const char *s)
{
    if (!s) abort();
    (void)strlen(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *u = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (u) {
        struct botapi_join_request r;
        struct dm_error e;
        dm_err rc = botapi_join_request_parse(u, &r, &e);
        if (rc == DM_OK) {
            const char *const texts[] = {r.chat_title, r.chat_username, r.first_name, r.last_name,
                                         r.username,   r.bio,           r.invite_link};
            for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
                check_text(texts[i]);
            if (r.date < 0) abort();
        } else if (rc != DM_ENOTFOUND && rc != DM_EINVAL) {
            abort();
        }
        struct dm_error ce;
        rc = challenge_check(u, &ce);
        if (rc != DM_OK && rc != DM_EINVAL) abort();
        json_decref(u);
    }
    struct initdata id;
    struct dm_error ie;
    dm_err ir =
        initdata_check((const char *)data, size, "123456:fuzz-token", 1700000000, 3600, &id, &ie);
    if (ir != DM_EINVAL && ir != DM_EAUTH && ir != DM_ETIMEOUT && ir != DM_ENOMEM) abort();
    char s[64];
    size_t n = size < sizeof s - 1 ? size : sizeof s - 1;
    memcpy(s, data, n);
    s[n] = 0;
    int64_t t = 0;
    if (date_parse(s, true, &t) && t < 0) abort();
    return 0;
}
