/* tl_codec.h: TL serialization driven by the generated tables in mtproto/tl/schema.h.
 *
 * Values are JSON trees (jansson), the same shape GramJS and Telethon print:
 *   object   {"_": "inputPeerChannel", "channel_id": 5, "access_hash": -77}
 *   int, long          JSON integer (a long may also be given as a decimal string when encoding)
 *   double             JSON real
 *   int128, int256     lowercase hex of the raw wire bytes (32 / 64 digits)
 *   string             JSON string (UTF-8; invalid bytes from the wire become U+FFFD)
 *   bytes              lowercase hex
 *   Bool               true / false
 *   flags.N?true       true when set, absent when not
 *   optional field     absent when its flag is clear
 *   #  (flags)         never present: computed from the optional fields when encoding
 *   Vector<T>          JSON array
 *
 * Decoding is bounded: every length is checked against the bytes left, vectors cannot claim
 * more elements than the bytes left / 4, and nesting stops at TL_MAX_DEPTH. gzip_packed is
 * unpacked wherever a boxed object is read, but only by a decoder given an allowance (struct
 * tl_inflate, tl_decode_gz): one gzip_packed inside another is refused, and all the gzip_packed
 * of one message together inflate to at most TL_MAX_GZIP bytes. tl_decode() has no allowance
 * and refuses gzip_packed: the handshake accepts no compression, and the session unpacks it where
 * Telegram sends it (a whole message, the result of an rpc_result), as tdlib does, so the
 * answers it hands on are decoded without.
 * Decoded trees own their data (nothing points into the input). */
#ifndef DM_MTPROTO_TL_CODEC_H
#define DM_MTPROTO_TL_CODEC_H

#include "core/common.h"
#include "core/buf.h"
#include "mtproto/tl/schema.h"

#include <jansson.h>

#define TL_MAX_DEPTH 64
#define TL_MAX_GZIP                                                                                \
    (16u << 20) /* bytes inflated from gzip_packed per message, all of them together */
#define TL_ID_vector 0x1cb5c415u

/* The gzip_packed allowance of one received message. Every gzip_packed unpacked for the message
 * (by tl_gzip_unpack, whoever calls it) draws on `left`, so however many the message carries, it
 * inflates to at most what the allowance started with (TL_MAX_GZIP: TL_INFLATE_INIT). `inside`
 * is true while the data of a gzip_packed is being decoded; a gzip_packed met then is refused,
 * so nesting is never accepted. Where no allowance is given (NULL) every gzip_packed is refused.
 * It belongs to the one message being decoded; it is not shared between threads. */
struct tl_inflate {
    size_t left;
    bool inside;
};
#define TL_INFLATE_INIT                                                                            \
    {                                                                                              \
        TL_MAX_GZIP, false                                                                         \
    }

/* Lookups in the generated tables; NULL when unknown. */
const struct tl_ctor *tl_ctor_by_id(uint32_t id);
const struct tl_ctor *tl_ctor_by_name(const char *name);
const struct tl_field *tl_ctor_field(const struct tl_ctor *c, const char *name);
/* The error table entry matching an rpc_error message ("FLOOD_WAIT_31" matches FLOOD_WAIT_%d);
 * NULL when the name is not in the schema's error list. */
const struct tl_error_def *tl_error_find(const char *message);

/* Decodes one value of shape `as` (NULL: a boxed object of any constructor, methods included)
 * from p[0..n). On success *out (if out is not NULL) receives a new reference the caller
 * releases with json_decref, and *used (if not NULL) the bytes consumed. With out == NULL the
 * value is only checked and skipped. A gzip_packed anywhere is DM_EPROTO. */
dm_err tl_decode(const uint8_t *p, size_t n, const struct tl_field *as, json_t **out, size_t *used,
                 struct dm_error *e);
/* tl_decode, with gzip_packed unpacked where a boxed object is read, drawing on *gz (NULL: none
 * accepted). A gzip_packed inside another is DM_EPROTO; past the allowance, DM_ETOOBIG. */
dm_err tl_decode_gz(const uint8_t *p, size_t n, const struct tl_field *as, struct tl_inflate *gz,
                    json_t **out, size_t *used, struct dm_error *e);

/* Appends the encoding of v as shape `as` (NULL: a boxed object named by its "_") to out. On
 * failure out may hold a partial encoding; the caller discards it. */
dm_err tl_encode(struct buf *out, const json_t *v, const struct tl_field *as, struct dm_error *e);

/* The shape of what a call returns: the method's result, or for a wrapper returning X
 * (invokeWithLayer, initConnection, ...) the result of the call in its "query". NULL when the
 * call is not a method object. */
const struct tl_field *tl_call_result(const json_t *call);

/* Typed accessors on decoded objects. They fail with DM_EPROTO and a message naming the field
 * when it is absent or of the wrong type. */
bool tl_is(const json_t *obj, const char *ctor_name);
dm_err tl_get_int(const json_t *obj, const char *field, int32_t *out, struct dm_error *e);
dm_err tl_get_long(const json_t *obj, const char *field, int64_t *out, struct dm_error *e);
dm_err tl_get_bool(const json_t *obj, const char *field, bool *out, struct dm_error *e);
/* Borrowed pointer into obj, valid while obj lives. */
dm_err tl_get_str(const json_t *obj, const char *field, const char **out, struct dm_error *e);
/* Decodes a bytes / int128 / int256 field (hex) into out[0..cap); *len receives its size. */
dm_err tl_get_bytes(const json_t *obj, const char *field, uint8_t *out, size_t cap, size_t *len,
                    struct dm_error *e);
/* Borrowed: the object or array in `field`. */
dm_err tl_get_obj(const json_t *obj, const char *field, const json_t **out, struct dm_error *e);

/* A new JSON hex string of p[0..n) (NULL on allocation failure). */
json_t *tl_hex(const void *p, size_t n);

/* Low-level little-endian writers used by hand-built messages (handshake, message headers). */
dm_err tl_put_u32(struct buf *out, uint32_t v);
dm_err tl_put_u64(struct buf *out, uint64_t v);
/* A TL string: length prefix (1 byte, or 0xfe + 3 bytes), data, zero padding to 4. */
dm_err tl_put_bytes(struct buf *out, const void *p, size_t n);
uint32_t tl_read_u32(const uint8_t *p);
uint64_t tl_read_u64(const uint8_t *p);
/* Reads a TL string at p[0..n): *data, *len, *used (with padding). DM_EPROTO when it overruns. */
dm_err tl_read_bytes(const uint8_t *p, size_t n, const uint8_t **data, size_t *len, size_t *used);
/* The packed_data of a gzip_packed at p[0..n) (after its constructor id; `at` is p's offset in the
 * whole input, for the message): inflates it (a gzip or a zlib stream) into plain, which this
 * initialises and the caller releases, also on failure; *used gets the input bytes it took. The
 * inflated bytes are taken from gz->left. DM_EPROTO when gz is NULL (no gzip_packed accepted
 * here) or gz->inside (nested), when the data overruns the input or does not inflate; DM_ETOOBIG
 * when it inflates past gz->left (which is then 0). The caller sets gz->inside while it decodes
 * plain, and clears it after. */
dm_err tl_gzip_unpack(const uint8_t *p, size_t n, size_t at, struct tl_inflate *gz, size_t *used,
                      struct buf *plain, struct dm_error *e);

#endif
