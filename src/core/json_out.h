/* json_out.h: JSON text written straight into a buffer, for answers that are large and asked for
 * often (the Invite Requests list): no tree of values to build, dump and free, as jansson needs.
 *
 * The writer keeps track of commas; keys and values are written in document order. Text is
 * written as JSON strings that are always valid UTF-8, as dm_utf8_copy makes text: a character
 * cut short is dropped and any other byte that is not UTF-8 becomes U+FFFD; quotes, backslashes
 * and control characters are escaped. The first failure (the buffer's cap, nesting deeper than
 * JSON_OUT_DEPTH, an end that matches no begin) sticks: later calls do nothing and
 * json_out_finish returns it.
 *
 * Ownership: the writer borrows b (its caller's) for as long as it writes. */
#ifndef DM_JSON_OUT_H
#define DM_JSON_OUT_H

#include "core/buf.h"

#define JSON_OUT_DEPTH 16

struct json_out {
    struct buf *b;
    dm_err e;
    int depth;
    bool first[JSON_OUT_DEPTH]; /* nothing written yet at this level */
    char close[JSON_OUT_DEPTH]; /* what ends this level: } or ] */
    bool after_key;             /* a key was written: its value comes next, without a comma */
};

void json_out_init(struct json_out *o, struct buf *b);
void json_out_object(struct json_out *o);               /* { */
void json_out_array(struct json_out *o);                /* [ */
void json_out_end(struct json_out *o);                  /* } or ], whichever was begun last */
void json_out_key(struct json_out *o, const char *key); /* "key": (key is ASCII, not escaped) */
/* A key written as it is prepared: JSON_OUT_KEY("name") is the text ,"name": (the comma
 * before it, left out where none goes) and JSON_OUT_KEY_LEN("name") its length, both known at
 * compile time, so a table of fields writes each key with one copy, without measuring it. */
#define JSON_OUT_KEY(name) ",\"" name "\":"
#define JSON_OUT_KEY_LEN(name) (sizeof JSON_OUT_KEY(name) - 1)
void json_out_key_json(struct json_out *o, const char *key_json, size_t len);
/* A member of the object being written, its key prepared by JSON_OUT_KEY: the same as
 * json_out_key_json and then the value's call, written with one check for room (a list page
 * writes 1,350 members). json_out_member_raw writes `raw` (n bytes) as it is: JSON text the
 * caller made, such as true or null. */
void json_out_member_int(struct json_out *o, const char *key_json, size_t len, int64_t v);
void json_out_member_text(struct json_out *o, const char *key_json, size_t len, const char *s);
void json_out_member_raw(struct json_out *o, const char *key_json, size_t len, const char *raw,
                         size_t n);
void json_out_text(struct json_out *o, const char *s);
void json_out_int(struct json_out *o, int64_t v);
void json_out_bool(struct json_out *o, bool v);
void json_out_null(struct json_out *o);
/* DM_OK when every value was written and every begin ended; else the first failure. */
dm_err json_out_finish(struct json_out *o);

#endif
