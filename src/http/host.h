/* host.h: reading and comparing the host part of URLs and Host headers, for refusing requests
 * that name a host the server does not go by (DNS rebinding: a page on an attacker's name that
 * resolves to our address sends that name as Host; see docs/api.md, Hosts).
 *
 * Pure functions of their arguments: no I/O, no allocation. Host names compare without regard to
 * ASCII case; IP literals compare as addresses, so "[::1]" and "[0:0::1]" are the same host. A
 * trailing dot is part of a name ("example.com." is another host). */
#ifndef DM_HTTP_HOST_H
#define DM_HTTP_HOST_H

#include "core/common.h"

/* Splits an authority, "name", "name:port", "[v6]" or "[v6]:port" (the first len bytes of s),
 * into the host (brackets removed) and *port (0 when it has none). False when it is not one:
 * empty host, a port that is not 1 to 65535 in decimal digits, an unclosed bracket, characters a
 * host cannot have, or a host longer than n - 1 bytes. */
bool http_authority_split(const char *s, size_t len, char *host, size_t n, uint16_t *port);

/* The host and port of an absolute http:// or https:// URL (scheme case-insensitive; userinfo
 * skipped); *port is the URL's port, else the scheme's (80 or 443), which is also *default_port.
 * False for other URLs. */
bool http_url_authority(const char *url, char *host, size_t n, uint16_t *port,
                        uint16_t *default_port);

/* Whether the Host header value `value` names host:port. A value without a port stands for
 * default_port (the scheme's port: a client leaves the port out when it is the default). */
bool http_host_is(const char *value, const char *host, uint16_t port, uint16_t default_port);

/* Whether ip (an IP literal without brackets) is a loopback address: 127.0.0.0/8 or ::1. */
bool http_ip_is_loopback(const char *ip);

/* A list of IP literals (no brackets) separated by commas and spaces, e.g. "127.0.0.1, ::1":
 * ip_list_valid tells whether every entry is one (an empty list is valid and holds nothing),
 * copying the first that is not to bad[0..n); ip_in_list whether ip is the same address as
 * one of them (as IP literals compare above). */
bool http_ip_list_valid(const char *list, char *bad, size_t n);
bool http_ip_in_list(const char *list, const char *ip);

#endif
