/* captcha.h: a captcha doorman draws itself: random digits drawn into a grayscale PNG with
 * noise (shifted, slanted glyphs of its own bitmap font, lines and speckles across them), so
 * the page carries no text a scraper could read and no third party is asked.
 *
 * Ownership: captcha_png's *png is malloc'd and owned by the caller. */
#ifndef DM_VERIFY_CAPTCHA_H
#define DM_VERIFY_CAPTCHA_H

#include "core/common.h"

#define CAPTCHA_DIGITS 5
#define CAPTCHA_W 200
#define CAPTCHA_H 70

/* CAPTCHA_DIGITS random digits (and a NUL) into out. */
void captcha_digits(char out[CAPTCHA_DIGITS + 1]);
/* The PNG of digits (ASCII '0'..'9'), with fresh noise each call. DM_ENOMEM only. */
dm_err captcha_png(const char *digits, unsigned char **png, size_t *len);

#endif
