/* captcha.c: drawing a captcha into a PNG (see captcha.h). */
#include "core/common.h"
#include "verify/captcha.h"

#include <sodium.h>
#include <zlib.h>

/* 5x7 glyphs of the digits, a row a byte, the high of 5 bits on the left. */
static const unsigned char font[10][7] = {
    {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}, {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E},
    {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}, {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E},
    {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}, {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E},
    {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}, {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},
    {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}, {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C},
};

#define SCALE 6 /* pixels of a font cell */

static int rnd(int n)
{
    return (int)randombytes_uniform((uint32_t)n);
}

void captcha_digits(char out[CAPTCHA_DIGITS + 1])
{
    for (int i = 0; i < CAPTCHA_DIGITS; i++)
        out[i] = (char)('0' + rnd(10));
    out[CAPTCHA_DIGITS] = 0;
}

static void plot(unsigned char *img, int x, int y, unsigned char v)
{
    if (x >= 0 && x < CAPTCHA_W && y >= 0 && y < CAPTCHA_H) img[y * CAPTCHA_W + x] = v;
}

/* A digit with its top left at (x0, y0), slanted by `slant` pixels over its height. */
static void glyph(unsigned char *img, int d, int x0, int y0, int slant)
{
    for (int row = 0; row < 7; row++)
        for (int col = 0; col < 5; col++) {
            if (!(font[d][row] & (0x10 >> col))) continue;
            for (int dy = 0; dy < SCALE; dy++) {
                int y = row * SCALE + dy;
                int shift = slant * (7 * SCALE - y) / (7 * SCALE);
                for (int dx = 0; dx < SCALE; dx++)
                    plot(img, x0 + col * SCALE + dx + shift, y0 + y, (unsigned char)(10 + rnd(50)));
            }
        }
}

static void line(unsigned char *img, int x0, int y0, int x1, int y1, unsigned char v)
{
    int steps = DM_MAX(abs(x1 - x0), abs(y1 - y0));
    for (int i = 0; i <= steps; i++)
        plot(img, x0 + (x1 - x0) * i / DM_MAX(steps, 1), y0 + (y1 - y0) * i / DM_MAX(steps, 1), v);
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Appends a chunk of type t with data d[0..n) at *p. */
static unsigned char *chunk(unsigned char *p, const char *t, const unsigned char *d, size_t n)
{
    put32(p, (uint32_t)n);
    memcpy(p + 4, t, 4);
    if (n) memcpy(p + 8, d, n);
    put32(p + 8 + n, (uint32_t)crc32(0, p + 4, (uInt)(n + 4)));
    return p + 12 + n;
}

dm_err captcha_png(const char *digits, unsigned char **png, size_t *len)
{
    /* rows with their filter byte (0: none) before each */
    size_t raw_len = (size_t)(CAPTCHA_W + 1) * CAPTCHA_H;
    unsigned char *img = malloc((size_t)CAPTCHA_W * CAPTCHA_H), *raw = malloc(raw_len);
    uLongf zlen = compressBound((uLong)raw_len);
    unsigned char *z = malloc(zlen), *out = malloc(zlen + 64);
    if (!img || !raw || !z || !out) {
        free(img);
        free(raw);
        free(z);
        free(out);
        return DM_ENOMEM;
    }
    for (int i = 0; i < CAPTCHA_W * CAPTCHA_H; i++)
        img[i] = (unsigned char)(200 + rnd(56));
    for (int i = 0; i < 8; i++) /* lines under the digits */
        line(img, rnd(CAPTCHA_W), rnd(CAPTCHA_H), rnd(CAPTCHA_W), rnd(CAPTCHA_H),
             (unsigned char)(110 + rnd(70)));
    int step = (CAPTCHA_W - 10) / CAPTCHA_DIGITS;
    for (int i = 0; digits[i] && i < CAPTCHA_DIGITS; i++)
        glyph(img, digits[i] - '0', 8 + i * step + rnd(8), 6 + rnd(CAPTCHA_H - 7 * SCALE - 10),
              rnd(13) - 6);
    for (int i = 0; i < 3; i++) /* lines across them */
        line(img, 0, rnd(CAPTCHA_H), CAPTCHA_W - 1, rnd(CAPTCHA_H), (unsigned char)(60 + rnd(80)));
    for (int i = 0; i < CAPTCHA_W * CAPTCHA_H / 25; i++) /* speckles */
        img[rnd(CAPTCHA_W * CAPTCHA_H)] = (unsigned char)rnd(256);
    for (int y = 0; y < CAPTCHA_H; y++) {
        raw[y * (CAPTCHA_W + 1)] = 0;
        memcpy(raw + y * (CAPTCHA_W + 1) + 1, img + y * CAPTCHA_W, CAPTCHA_W);
    }
    int zr = compress2(z, &zlen, raw, (uLong)raw_len, 6);
    free(img);
    free(raw);
    if (zr != Z_OK) {
        free(z);
        free(out);
        return DM_ENOMEM;
    }
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    unsigned char ihdr[13];
    put32(ihdr, CAPTCHA_W);
    put32(ihdr + 4, CAPTCHA_H);
    ihdr[8] = 8;  /* bit depth */
    ihdr[9] = 0;  /* grayscale */
    ihdr[10] = 0; /* deflate */
    ihdr[11] = 0; /* adaptive filters */
    ihdr[12] = 0; /* no interlace */
    unsigned char *p = out;
    memcpy(p, sig, 8);
    p = chunk(p + 8, "IHDR", ihdr, sizeof ihdr);
    p = chunk(p, "IDAT", z, zlen);
    p = chunk(p, "IEND", NULL, 0);
    free(z);
    *png = out;
    *len = (size_t)(p - out);
    return DM_OK;
}
