#include "core/common.h"
#include "http/host.h"

#include <arpa/inet.h>

/* Letters, digits and what RFC 3986's reg-name and IPv6 literals use; no '@', '/', '?', '#'. */
static bool host_char(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           strchr("-._~!$&'()*+,;=%", ch) != NULL;
}

bool http_authority_split(const char *s, size_t len, char *host, size_t n, uint16_t *port)
{
    const char *h = s, *end = s + len, *rest;
    size_t hl;
    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (!close) return false;
        h = s + 1;
        hl = (size_t)(close - h);
        rest = close + 1;
        /* only an IPv6 address goes in brackets */
        char v6[INET6_ADDRSTRLEN];
        unsigned char a[16];
        if (hl == 0 || hl >= sizeof v6) return false;
        memcpy(v6, h, hl);
        v6[hl] = 0;
        if (inet_pton(AF_INET6, v6, a) != 1) return false;
    } else {
        const char *colon = memchr(s, ':', len);
        hl = (size_t)((colon ? colon : end) - s);
        rest = s + hl;
        for (size_t i = 0; i < hl; i++)
            if (!host_char((unsigned char)h[i])) return false;
    }
    if (hl == 0 || hl >= n) return false;
    *port = 0;
    if (rest < end) {
        if (*rest != ':') return false;
        unsigned long v = 0;
        size_t digits = 0;
        for (const char *p = rest + 1; p < end; p++, digits++) {
            if (*p < '0' || *p > '9' || digits >= 5) return false;
            v = v * 10 + (unsigned long)(*p - '0');
        }
        if (digits == 0 || v == 0 || v > 65535) return false;
        *port = (uint16_t)v;
    }
    memcpy(host, h, hl);
    host[hl] = 0;
    return true;
}

bool http_url_authority(const char *url, char *host, size_t n, uint16_t *port,
                        uint16_t *default_port)
{
    uint16_t def;
    const char *a;
    if (strncasecmp(url, "http://", 7) == 0) {
        def = 80;
        a = url + 7;
    } else if (strncasecmp(url, "https://", 8) == 0) {
        def = 443;
        a = url + 8;
    } else {
        return false;
    }
    size_t len = strcspn(a, "/?#");
    const char *at = memchr(a, '@', len);
    if (at) {
        len -= (size_t)(at + 1 - a);
        a = at + 1;
    }
    if (!http_authority_split(a, len, host, n, port)) return false;
    if (!*port) *port = def;
    if (default_port) *default_port = def;
    return true;
}

/* The same host: the same address when both are IP literals, else the same name. */
static bool same_host(const char *a, const char *b)
{
    unsigned char x[16], y[16];
    if (inet_pton(AF_INET, a, x) == 1) return inet_pton(AF_INET, b, y) == 1 && !memcmp(x, y, 4);
    if (inet_pton(AF_INET6, a, x) == 1) return inet_pton(AF_INET6, b, y) == 1 && !memcmp(x, y, 16);
    return strcasecmp(a, b) == 0;
}

bool http_host_is(const char *value, const char *host, uint16_t port, uint16_t default_port)
{
    char h[256];
    uint16_t p = 0;
    if (!http_authority_split(value, strlen(value), h, sizeof h, &p)) return false;
    return (p ? p : default_port) == port && same_host(h, host);
}

bool http_ip_is_loopback(const char *ip)
{
    unsigned char a[16];
    if (inet_pton(AF_INET, ip, a) == 1) return a[0] == 127;
    static const unsigned char one[16] = {[15] = 1};
    return inet_pton(AF_INET6, ip, a) == 1 && memcmp(a, one, 16) == 0;
}

static bool is_ip(const char *s)
{
    unsigned char a[16];
    return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* Finds in list, with ip NULL, the first entry that is not an IP literal; else the first that is
 * the same address as ip. It is copied to out[0..n) when out is not NULL. */
static bool ip_list_find(const char *list, const char *ip, char *out, size_t n)
{
    static const char sep[] = ", \t";
    for (const char *p = list + strspn(list, sep); *p; p += strspn(p, sep)) {
        size_t len = strcspn(p, sep);
        char entry[INET6_ADDRSTRLEN + 1];
        dm_strlcpy(entry, p, DM_MIN(len + 1, sizeof entry));
        p += len;
        if (ip ? is_ip(entry) && is_ip(ip) && same_host(entry, ip) : !is_ip(entry)) {
            if (out) dm_strlcpy(out, entry, n);
            return true;
        }
    }
    return false;
}

bool http_ip_list_valid(const char *list, char *bad, size_t n)
{
    return !ip_list_find(list, NULL, bad, n);
}

bool http_ip_in_list(const char *list, const char *ip)
{
    return ip_list_find(list, ip, NULL, 0);
}
