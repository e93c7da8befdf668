#include "core/common.h"
#include "tgsim_control.h"

#include "core/buf.h"

#include <curl/curl.h>

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    return buf_append(ctx, p, size * n) ? 0 : size * n;
}

json_t *tgsim_control(int port, const char *path, const char *body, char *why, size_t why_size)
{
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/control/%s", port, path);
    CURL *h = curl_easy_init();
    struct buf out;
    buf_init(&out, 1 << 20);
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
    if (body) curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    long status = 0;
    json_t *j = NULL;
    if (curl_easy_perform(h) == CURLE_OK &&
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200)
        j = json_loadb(out.data ? out.data : "", out.len, 0, NULL);
    if (!j) snprintf(why, why_size, "HTTP %ld %s", status, out.data ? out.data : "");
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    buf_release(&out);
    return j;
}
