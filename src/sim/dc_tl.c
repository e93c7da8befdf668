#include "core/common.h"
#include "sim/dc_tl.h"

#include "mtproto/tl_codec.h"
#include "sim/dc_layers.h"

#include <pthread.h>

#define DEF_MAX_FIELDS 96

/* A table definition parsed into the generated tables' shape (boxed objects are TL_K_OBJECT). */
struct def {
    int layer;
    uint32_t id;
    char name[64];
    char names[DEF_MAX_FIELDS][40];
    struct tl_field fields[DEF_MAX_FIELDS];
    unsigned nfields;
};

static struct def *defs;
static size_t ndefs;
static pthread_once_t defs_once = PTHREAD_ONCE_INIT;

static bool parse_type(const char *t, struct tl_field *f)
{
    static const struct {
        const char *name;
        uint8_t kind;
    } basic[] = {{"int", TL_K_INT},       {"long", TL_K_LONG},     {"double", TL_K_DOUBLE},
                 {"string", TL_K_STRING}, {"bytes", TL_K_BYTES},   {"Bool", TL_K_BOOL},
                 {"true", TL_K_TRUE},     {"int128", TL_K_INT128}, {"int256", TL_K_INT256}};
    char inner[64];
    if (strncmp(t, "Vector<", 7) == 0) {
        size_t n = strlen(t + 7);
        if (n < 2 || n >= sizeof inner || t[7 + n - 1] != '>') return false;
        memcpy(inner, t + 7, n - 1);
        inner[n - 1] = 0;
        t = inner;
        f->vector = TL_VEC_BOXED;
    }
    f->kind = TL_K_OBJECT;
    for (size_t i = 0; i < sizeof basic / sizeof basic[0]; i++)
        if (strcmp(t, basic[i].name) == 0) f->kind = basic[i].kind;
    return true;
}

/* "name#id a:# b:flags.3?true c:long = T" */
static bool parse_def(const char *tl, struct def *d)
{
    char buf[4096];
    if (dm_strlcpy(buf, tl, sizeof buf) >= sizeof buf) return false;
    char *save = NULL, *tok = strtok_r(buf, " ", &save);
    char *hash = tok ? strchr(tok, '#') : NULL;
    if (!hash || (size_t)(hash - tok) >= sizeof d->name) return false;
    memcpy(d->name, tok, (size_t)(hash - tok));
    d->name[hash - tok] = 0;
    d->id = (uint32_t)strtoul(hash + 1, NULL, 16);
    while ((tok = strtok_r(NULL, " ", &save)) != NULL && strcmp(tok, "=") != 0) {
        if (d->nfields >= DEF_MAX_FIELDS) return false;
        struct tl_field *f = &d->fields[d->nfields];
        char *colon = strchr(tok, ':');
        if (!colon || (size_t)(colon - tok) >= sizeof d->names[0]) return false;
        memcpy(d->names[d->nfields], tok, (size_t)(colon - tok));
        d->names[d->nfields][colon - tok] = 0;
        f->name = d->names[d->nfields];
        f->cond = TL_NO_COND;
        char *type = colon + 1, *q = strchr(type, '?');
        if (q) { /* flags.N?T: find the flags field by name */
            char *dot = strchr(type, '.');
            if (!dot || dot > q) return false;
            *dot = 0;
            for (unsigned i = 0; i < d->nfields; i++)
                if (strcmp(d->names[i], type) == 0 && d->fields[i].kind == TL_K_FLAGS)
                    f->cond = (uint8_t)i;
            f->bit = (uint8_t)strtoul(dot + 1, NULL, 10);
            if (f->cond == TL_NO_COND || f->bit > 31) return false;
            type = q + 1;
        }
        if (strcmp(type, "#") == 0)
            f->kind = TL_K_FLAGS;
        else if (!parse_type(type, f))
            return false;
        d->nfields++;
    }
    return true;
}

static void defs_load(void)
{
    defs = calloc(dc_layer_ndefs, sizeof *defs);
    if (!defs) return;
    for (size_t i = 0; i < dc_layer_ndefs; i++) {
        struct def *d = &defs[ndefs];
        d->layer = dc_layer_defs[i].layer;
        if (parse_def(dc_layer_defs[i].tl, d))
            ndefs++;
        else
            fprintf(stderr, "tgsim: cannot parse layer definition %.40s\n",
                    dc_layer_defs[i].tl); /* a table bug */
    }
}

/* The definition of name for the layer: the table's entry with the smallest layer >= it, else NULL
 * (ours). */
static const struct def *def_for(const char *name, int layer)
{
    pthread_once(&defs_once, defs_load);
    const struct def *best = NULL;
    if (layer >= TL_LAYER) return NULL;
    for (size_t i = 0; i < ndefs; i++)
        if (defs[i].layer >= layer && strcmp(defs[i].name, name) == 0 &&
            (!best || defs[i].layer < best->layer))
            best = &defs[i];
    return best;
}

static const struct def *def_by_id(uint32_t id)
{
    pthread_once(&defs_once, defs_load);
    for (size_t i = 0; i < ndefs; i++)
        if (defs[i].id == id) return &defs[i];
    return NULL;
}

/* ---- encoding ---- */

struct wr {
    struct buf *out;
    int layer, depth;
    struct dm_error *e;
};

static dm_err enc_boxed(struct wr *w, const json_t *v);

static bool is_object_kind(const struct tl_field *f)
{
    return f->kind == TL_K_TYPE || f->kind == TL_K_ANY || f->kind == TL_K_OBJECT;
}

static dm_err put(struct wr *w, dm_err rc)
{
    return rc ? dm_fail(w->e, rc, "TL: message too large") : DM_OK;
}

/* A missing required field: its zero value, or an error for an object. */
static dm_err enc_default(struct wr *w, const char *ctor, const struct tl_field *f)
{
    if (f->vector)
        return put(w,
                   tl_put_u32(w->out, TL_ID_vector) || tl_put_u32(w->out, 0) ? DM_ETOOBIG : DM_OK);
    switch ((enum tl_kind)f->kind) {
    case TL_K_INT:
        return put(w, tl_put_u32(w->out, 0));
    case TL_K_LONG:
    case TL_K_DOUBLE:
        return put(w, tl_put_u64(w->out, 0));
    case TL_K_STRING:
    case TL_K_BYTES:
        return put(w, tl_put_bytes(w->out, "", 0));
    case TL_K_BOOL:
        return put(w, tl_put_u32(w->out, TL_ID_boolFalse));
    default:
        return dm_fail(w->e, DM_EINVAL, "TL: %s needs field %s", ctor, f->name);
    }
}

static dm_err enc_fields(struct wr *w, const json_t *obj, const char *ctor,
                         const struct tl_field *fields, unsigned nfields)
{
    uint32_t flagv[DEF_MAX_FIELDS > 256 ? DEF_MAX_FIELDS : 256] = {0};
    for (unsigned i = 0; i < nfields; i++) {
        const struct tl_field *f = &fields[i];
        if (f->cond == TL_NO_COND) continue;
        const json_t *v = json_object_get(obj, f->name);
        if (!v || json_is_null(v) || (f->kind == TL_K_TRUE && json_is_false(v))) continue;
        flagv[f->cond] |= 1u << f->bit;
    }
    dm_err rc = DM_OK;
    for (unsigned i = 0; i < nfields && !rc; i++) {
        const struct tl_field *f = &fields[i];
        const json_t *v = json_object_get(obj, f->name);
        if (f->kind == TL_K_FLAGS && !f->vector) {
            rc = put(w, tl_put_u32(w->out, flagv[i]));
            continue;
        }
        if (f->cond != TL_NO_COND && !(flagv[f->cond] >> f->bit & 1)) continue;
        if (f->kind == TL_K_TRUE && !f->vector) continue;
        if (!v || json_is_null(v)) {
            /* a flag set by another field of the same bit with this one absent: its zero value */
            rc = enc_default(w, ctor, f);
        } else if (is_object_kind(f) && f->vector) {
            if (!json_is_array(v))
                return dm_fail(w->e, DM_EINVAL, "TL: %s.%s must be an array", ctor, f->name);
            if (f->vector == TL_VEC_BOXED) rc = put(w, tl_put_u32(w->out, TL_ID_vector));
            if (!rc) rc = put(w, tl_put_u32(w->out, (uint32_t)json_array_size(v)));
            for (size_t k = 0; k < json_array_size(v) && !rc; k++)
                rc = enc_boxed(w, json_array_get(v, k));
        } else if (is_object_kind(f)) {
            rc = enc_boxed(w, v);
        } else {
            struct tl_field plain = *f;
            plain.cond = TL_NO_COND;
            rc = tl_encode(w->out, v, &plain, w->e);
        }
    }
    return rc;
}

static dm_err enc_boxed(struct wr *w, const json_t *v)
{
    const char *name = json_string_value(json_object_get(v, "_"));
    if (!name) return dm_fail(w->e, DM_EINVAL, "TL: an object needs its constructor name in \"_\"");
    if (++w->depth > TL_MAX_DEPTH) return dm_fail(w->e, DM_EINVAL, "TL: nested too deep");
    dm_err rc;
    const struct def *d = def_for(name, w->layer);
    if (d) {
        rc = put(w, tl_put_u32(w->out, d->id));
        if (!rc) rc = enc_fields(w, v, name, d->fields, d->nfields);
    } else {
        const struct tl_ctor *c = tl_ctor_by_name(name);
        if (!c) return dm_fail(w->e, DM_EINVAL, "TL: unknown constructor %s", name);
        rc = put(w, tl_put_u32(w->out, c->id));
        if (!rc) rc = enc_fields(w, v, name, &tl_fields[c->fields], c->nfields);
    }
    w->depth--;
    return rc;
}

dm_err dc_tl_encode(struct buf *out, const json_t *v, int layer, struct dm_error *e)
{
    struct wr w = {out, layer, 0, e};
    return enc_boxed(&w, v);
}

/* ---- decoding ---- */

struct rd {
    const uint8_t *p;
    size_t n, pos;
    int depth;
    struct tl_inflate *gz; /* NULL: gzip_packed refused */
    struct dm_error *e;
};

static dm_err dec_boxed(struct rd *r, json_t **out);

static dm_err short_input(struct rd *r)
{
    return dm_fail(r->e, DM_EPROTO, "TL: the input ends at offset %zu", r->pos);
}

static dm_err dec_fields(struct rd *r, const char *ctor, const struct tl_field *fields,
                         unsigned nfields, json_t **out)
{
    json_t *obj = json_pack("{s:s}", "_", ctor);
    if (!obj) return dm_fail(r->e, DM_ENOMEM, "TL: out of memory");
    uint32_t flagv[256] = {0};
    dm_err rc = DM_OK;
    for (unsigned i = 0; i < nfields && !rc; i++) {
        const struct tl_field *f = &fields[i];
        if (f->cond != TL_NO_COND && !(flagv[f->cond] >> f->bit & 1)) continue;
        json_t *v = NULL;
        if (f->kind == TL_K_FLAGS && !f->vector) {
            if (r->n - r->pos < 4)
                rc = short_input(r);
            else
                flagv[i] = tl_read_u32(r->p + r->pos), r->pos += 4;
            continue;
        }
        if (f->kind == TL_K_TRUE && !f->vector) {
            v = json_true();
        } else if (is_object_kind(f) && f->vector) {
            uint32_t count = 0;
            size_t head = f->vector == TL_VEC_BOXED ? 8 : 4;
            if (r->n - r->pos < head) {
                rc = short_input(r);
                break;
            }
            if (f->vector == TL_VEC_BOXED && tl_read_u32(r->p + r->pos) != TL_ID_vector) {
                rc = dm_fail(r->e, DM_EPROTO, "TL: %s.%s is not a vector", ctor, f->name);
                break;
            }
            count = tl_read_u32(r->p + r->pos + head - 4);
            r->pos += head;
            if (count > (r->n - r->pos) / 4) {
                rc = dm_fail(r->e, DM_EPROTO, "TL: %s.%s claims %u elements", ctor, f->name, count);
                break;
            }
            v = json_array();
            for (uint32_t k = 0; k < count && !rc && v; k++) {
                json_t *el = NULL;
                rc = dec_boxed(r, &el);
                if (!rc) json_array_append_new(v, el);
            }
        } else if (is_object_kind(f)) {
            rc = dec_boxed(r, &v);
        } else {
            struct tl_field plain = *f;
            plain.cond = TL_NO_COND;
            size_t used = 0;
            rc = tl_decode_gz(r->p + r->pos, r->n - r->pos, &plain, r->gz, &v, &used, r->e);
            r->pos += used;
        }
        if (!rc && (!v || json_object_set_new(obj, f->name, v)))
            rc = dm_fail(r->e, DM_ENOMEM, "TL: out of memory");
        else if (rc)
            json_decref(v);
    }
    if (rc)
        json_decref(obj);
    else
        *out = obj;
    return rc;
}

static dm_err dec_boxed(struct rd *r, json_t **out)
{
    if (r->n - r->pos < 4) return short_input(r);
    if (++r->depth > TL_MAX_DEPTH) return dm_fail(r->e, DM_EPROTO, "TL: nested too deep");
    uint32_t id = tl_read_u32(r->p + r->pos);
    r->pos += 4;
    dm_err rc;
    const struct tl_ctor *c;
    const struct def *d;
    if (id == TL_ID_gzip_packed) {
        size_t used = 0;
        struct buf plain;
        rc = tl_gzip_unpack(r->p + r->pos, r->n - r->pos, r->pos, r->gz, &used, &plain, r->e);
        r->pos += used;
        if (!rc) {
            struct rd inner = {(const uint8_t *)plain.data, plain.len, 0, r->depth, r->gz, r->e};
            r->gz->inside = true; /* a gzip_packed in there is refused */
            rc = dec_boxed(&inner, out);
            r->gz->inside = false;
            if (!rc && inner.pos != inner.n) {
                rc = dm_fail(r->e, DM_EPROTO, "TL: %zu bytes left over inside gzip_packed",
                             inner.n - inner.pos);
                json_decref(*out);
            }
        }
        buf_release(&plain);
    } else if ((c = tl_ctor_by_id(id)) != NULL) {
        rc = dec_fields(r, c->name, &tl_fields[c->fields], c->nfields, out);
    } else if ((d = def_by_id(id)) != NULL) {
        rc = dec_fields(r, d->name, d->fields, d->nfields, out);
    } else {
        rc = dm_fail(r->e, DM_EPROTO, "TL: unknown constructor 0x%08x", id);
    }
    r->depth--;
    return rc;
}

dm_err dc_tl_decode(const uint8_t *p, size_t n, struct tl_inflate *gz, json_t **out, size_t *used,
                    struct dm_error *e)
{
    struct rd r = {p, n, 0, 0, gz, e};
    dm_err rc = dec_boxed(&r, out);
    if (!rc && used) *used = r.pos;
    return rc;
}
