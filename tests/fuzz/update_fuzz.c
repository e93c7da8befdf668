/* libFuzzer target: outside input that doorman parses itself besides TL: a Bot API update body
 * (JSON from Telegram or a webhook caller) read into a join request, and the date filters of the
 * API's query strings and bodies.
 * fuzz-sources: src/botapi/update.c src/core/date.c src/core/err.c
 * fuzz-pkgs: jansson */
#include "core/common.h"

#include "core/date.h"
#include "botapi/update.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The text fits its field and is not cut inside a UTF-8 sequence. */
static void check_text(const char *s, size_t field)
{
    size_t n = strnlen(s, field);
    if (n >= field) abort();
    if (n > 0 && ((unsigned char)s[n - 1] & 0xC0) == 0xC0) abort(); /* a lead byte at the end */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *u = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (u) {
        struct store_request r;
        struct store_chat c;
        struct dm_error e;
        dm_err rc = update_parse_join_request(u, 1700000000, &r, &c, &e);
        if (rc == DM_OK) {
            check_text(r.first_name, sizeof r.first_name);
            check_text(r.last_name, sizeof r.last_name);
            check_text(r.username, sizeof r.username);
            check_text(r.bio, sizeof r.bio);
            check_text(r.invite_link, sizeof r.invite_link);
            check_text(c.title, sizeof c.title);
            if (r.status != REQ_PENDING || r.tg_date <= 0 || c.chat_id != r.chat_id) abort();
        } else if (rc != DM_ENOTFOUND && rc != DM_EINVAL) {
            abort();
        }
        json_decref(u);
    }
    char s[64];
    size_t n = size < sizeof s - 1 ? size : sizeof s - 1;
    memcpy(s, data, n);
    s[n] = 0;
    int64_t t = 0;
    if (date_parse(s, true, &t) && t < 0) abort();
    return 0;
}
