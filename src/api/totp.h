/* totp.h: time-based one-time passwords as authenticator apps make them (RFC 6238 over
 * RFC 4226's HOTP): HMAC-SHA-1, 30-second steps from the Unix epoch, 6 digits. Secrets are
 * TOTP_SECRET_BYTES random bytes, shown and kept as base32 (RFC 4648, no padding). Pure
 * functions: no I/O, no clock (the caller passes the time). */
#ifndef DM_API_TOTP_H
#define DM_API_TOTP_H

#include "core/common.h"

#define TOTP_STEP 30
#define TOTP_SECRET_BYTES 20
#define TOTP_BASE32_MAX 64 /* the base32 of a secret (32 characters) + NUL, with room */

/* Writes the base32 of key (n bytes, at most 32) into out, NUL-terminated. */
void totp_base32(const unsigned char *key, size_t n, char out[TOTP_BASE32_MAX]);
/* The 6-digit code of the base32 secret for time step `step` (Unix time / TOTP_STEP); -1 when
 * the secret is not base32 of 1 to 40 bytes. */
int totp_code(const char *secret, int64_t step);
/* Whether code (6 digits) is the secret's for the step of `now`, the one before or the one
 * after (clocks drift); *step gets the step it matched. */
bool totp_check(const char *secret, const char *code, int64_t now, int64_t *step);

#endif
