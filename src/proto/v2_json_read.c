/* Readers over the json_lite DOM shared by the v2 JSON decoders. */
#include <limits.h>
#include <string.h>

#include "common/alloc.h"
#include "proto/v2_json_int.h"

tc__jl_doc *tc__jd_parse(const char *text, size_t len, size_t depth, const char *what,
                         tc__error *err)
{
    if (len > INT_MAX || depth > INT_MAX) {
        tc__error_set(err, TC_E_INVALID_ARG, "failed to parse the %s: too large", what);
        return NULL;
    }
    tc__jl_doc *doc = NULL;
    size_t at = 0;
    tc__jl_status st = tc__jl_parse(text, len, depth, TC__JL_NONFINITE, &doc, &at);
    if (st == TC__JL_E_NOMEM) {
        tc__error_set(err, TC_E_NOMEM, "out of memory");
        return NULL;
    }
    if (st != TC__JL_OK) {
        tc__error_set(err, TC_E_INVALID_ARG, "failed to parse the %s: %s at %zu", what,
                      tc__jl_status_str(st), at);
        return NULL;
    }
    return doc;
}

const tc__jl_value *tc__jd_nonnull(const tc__jl_value *v)
{
    return v == NULL || v->type == TC__JL_NULL ? NULL : v;
}

const tc__jl_value *tc__jd_get(const tc__jl_value *o, const char *key)
{
    return tc__jd_nonnull(tc__jl_get(o, key));
}

tc_code tc__jd_strdup(const tc__jl_value *o, char **out)
{
    if (!tc__jl_is(o, TC__JL_STRING))
        return TC_E_INVALID_ARG;
    if (memchr(o->v.s, '\0', o->len) != NULL)
        return TC_E_INVALID_ARG;
    char *copy = tc__strndup(o->v.s, o->len);
    if (copy == NULL)
        return TC_E_NOMEM;
    tc__free(*out);
    *out = copy;
    return TC_OK;
}

tc_code tc__jd_shape(const tc__jl_value *o, bool allow_negative, int64_t **shape, size_t *ndim)
{
    if (!tc__jl_is(o, TC__JL_ARRAY))
        return TC_E_INVALID_ARG;
    size_t n = o->len;
    int64_t *dims = tc__calloc(n ? n : 1, sizeof *dims);
    if (dims == NULL)
        return TC_E_NOMEM;
    size_t i = 0;
    for (const tc__jl_value *d = tc__jl_first(o); d != NULL; d = tc__jl_next(o, d), i++) {
        if (!tc__jl_i64(d, &dims[i]) || (!allow_negative && dims[i] < 0)) {
            tc__free(dims);
            return TC_E_INVALID_ARG;
        }
    }
    tc__free(*shape);
    *shape = dims;
    *ndim = n;
    return TC_OK;
}

tc_code tc__jd_param(tc__params *p, const char *key, const tc__jl_value *v)
{
    int64_t i64;
    uint64_t u64;
    switch (v != NULL ? v->type : TC__JL_NULL) {
    case TC__JL_BOOL:
        return tc__params_add_bool(p, key, v->v.b);
    case TC__JL_DOUBLE:
        return tc__params_add_double(p, key, v->v.d);
    case TC__JL_INT:
        if (tc__jl_i64(v, &i64))
            return tc__params_add_int64(p, key, i64);
        if (tc__jl_u64(v, &u64))
            return tc__params_add_uint64(p, key, u64);
        return TC_E_INVALID_ARG;
    case TC__JL_STRING:
        if (memchr(v->v.s, '\0', v->len) != NULL)
            return TC_E_INVALID_ARG;
        return tc__params_add_string(p, key, v->v.s);
    default:
        return TC_E_INVALID_ARG;
    }
}

bool tc__shape_elements(const int64_t *shape, size_t ndim, size_t *count)
{
    size_t n = 1;
    for (size_t i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return false;
        uint64_t d = (uint64_t)shape[i];
        if (d != 0 && n > SIZE_MAX / d)
            return false;
        n *= (size_t)d;
    }
    *count = n;
    return true;
}

/* ---- JSON tensor data ----------------------------------------------------- */

typedef struct data_walk {
    const tc__tensor *t;
    size_t max_depth;
    size_t count;     /* leaves seen */
    size_t byte_size; /* BYTES: serialized size so far */
    uint8_t *out;     /* second pass: where the next element goes */
    tc__error *err;
} data_walk;

static void store_le(uint8_t *p, uint64_t v, size_t size)
{
    for (size_t i = 0; i < size; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static tc_code bad_element(data_walk *w, const char *why)
{
    return tc__error_set(w->err, TC_E_INVALID_ARG,
                         "Unable to parse 'data': %s for input '%s' (element %zu, datatype %s)",
                         why, w->t->name, w->count, tc_dtype_name(w->t->dtype));
}

/* Unsigned and signed ranges of the integer datatypes. */
static uint64_t uint_max(size_t size)
{
    return size >= 8 ? UINT64_MAX : ((uint64_t)1 << (8 * size)) - 1;
}

static tc_code convert_number(data_walk *w, const tc__jl_value *v, size_t size)
{
    tc_dtype dt = w->t->dtype;
    if (dt == TC_DTYPE_FP32 || dt == TC_DTYPE_FP64) {
        double d;
        if (!tc__jl_double(v, &d))
            return bad_element(w, "expected a number");
        uint64_t bits = 0;
        if (dt == TC_DTYPE_FP32) {
            float f = (float)d;
            uint32_t b32;
            memcpy(&b32, &f, sizeof b32);
            bits = b32;
        } else {
            memcpy(&bits, &d, sizeof bits);
        }
        store_le(w->out, bits, size);
        return TC_OK;
    }
    if (dt >= TC_DTYPE_UINT8 && dt <= TC_DTYPE_UINT64) {
        uint64_t u;
        if (!tc__jl_u64(v, &u) || u > uint_max(size))
            return bad_element(w, "expected an unsigned integer in range");
        store_le(w->out, u, size);
        return TC_OK;
    }
    int64_t i;
    if (!tc__jl_i64(v, &i))
        return bad_element(w, "expected an integer in range");
    int64_t hi = (int64_t)(uint_max(size) >> 1);
    if (i > hi || i < -hi - 1)
        return bad_element(w, "expected an integer in range");
    store_le(w->out, (uint64_t)i, size);
    return TC_OK;
}

/* Convert one leaf into w->out (second pass only). */
static tc_code convert_leaf(data_walk *w, const tc__jl_value *v)
{
    tc_dtype dt = w->t->dtype;
    if (dt == TC_DTYPE_BOOL) {
        if (!tc__jl_is(v, TC__JL_BOOL))
            return bad_element(w, "expected true or false");
        *w->out++ = v->v.b ? 1 : 0;
        return TC_OK;
    }
    if (dt == TC_DTYPE_BYTES) {
        store_le(w->out, v->len, 4);
        memcpy(w->out + 4, v->v.s, v->len);
        w->out += 4 + v->len;
        return TC_OK;
    }
    size_t size = tc_dtype_size(dt);
    tc_code rc = convert_number(w, v, size);
    w->out += size;
    return rc;
}

/* A leaf: sized on the first pass (w->out == NULL), converted on the
 * second. */
static tc_code visit_leaf(data_walk *w, const tc__jl_value *v)
{
    tc_code rc = TC_OK;
    if (w->out != NULL) {
        rc = convert_leaf(w, v);
    } else if (w->t->dtype == TC_DTYPE_BYTES) {
        if (!tc__jl_is(v, TC__JL_STRING))
            return bad_element(w, "expected a string");
        if (v->len > UINT32_MAX || v->len + 4 > SIZE_MAX - w->byte_size)
            return bad_element(w, "string too long");
        w->byte_size += 4 + v->len;
    }
    w->count++;
    return rc;
}

/* Walk nested arrays depth-first. First pass (w->out == NULL) counts
 * leaves and sizes BYTES strings; second pass converts. */
static tc_code walk_data(data_walk *w, const tc__jl_value *v, size_t depth)
{
    if (!tc__jl_is(v, TC__JL_ARRAY))
        return visit_leaf(w, v);
    if (depth >= w->max_depth)
        return tc__error_set(w->err, TC_E_INVALID_ARG,
                             "Unable to parse 'data': nesting of input "
                             "'%s' is deeper than %zu",
                             w->t->name, w->max_depth);
    for (const tc__jl_value *e = tc__jl_first(v); e != NULL; e = tc__jl_next(v, e)) {
        tc_code rc = walk_data(w, e, depth + 1);
        if (rc != TC_OK)
            return rc;
    }
    return TC_OK;
}

/* A flat array of scalars (the usual case) holds its elements in the nodes
 * right after it: no recursion, and no first pass for fixed-size types. */
static bool is_flat(const tc__jl_value *a)
{
    return !(a->flags & TC__JL_F_NESTED);
}

static tc_code walk_flat(data_walk *w, const tc__jl_value *a)
{
    for (size_t i = 1; i <= a->len; i++) {
        tc_code rc = visit_leaf(w, a + i);
        if (rc != TC_OK)
            return rc;
    }
    return TC_OK;
}

static tc_code walk_root(data_walk *w, const tc__jl_value *data)
{
    if (tc__jl_is(data, TC__JL_ARRAY) && w->max_depth > 0 && is_flat(data))
        return walk_flat(w, data);
    return walk_data(w, data, 0);
}

static tc_code too_large(const tc__tensor *t, size_t max_size, tc__error *err)
{
    return tc__error_set(err, TC_E_INVALID_ARG,
                         "JSON data of input '%s' exceeds the maximum allowed size of %zu "
                         "bytes. "
                         "Use --http-max-input-size to increase the limit.",
                         t->name, max_size);
}

static tc_code tensor_data(const tc__jl_value *data, tc__tensor *t, size_t max_depth,
                           size_t max_size, bool scalar_ok, tc__error *err);

tc_code tc__jd_tensor_data(const tc__jl_value *data, tc__tensor *t, size_t max_depth,
                           size_t max_size, tc__error *err)
{
    return tensor_data(data, t, max_depth, max_size, false, err);
}

tc_code tc__jd_tensor_value(const tc__jl_value *data, tc__tensor *t, size_t max_depth,
                            size_t max_size, tc__error *err)
{
    return tensor_data(data, t, max_depth, max_size, true, err);
}

static tc_code tensor_data(const tc__jl_value *data, tc__tensor *t, size_t max_depth,
                           size_t max_size, bool scalar_ok, tc__error *err)
{
    if (t->dtype == TC_DTYPE_FP16 || t->dtype == TC_DTYPE_BF16)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "receiving %s data via JSON is not "
                             "supported. Please use the binary "
                             "data format for input '%s'",
                             tc_dtype_name(t->dtype), t->name);
    size_t expect;
    if (!tc__shape_elements(t->shape, t->ndim, &expect))
        return tc__error_set(err, TC_E_INVALID_ARG, "shape of input '%s' is too large", t->name);
    size_t elem = tc_dtype_size(t->dtype);
    if (max_size != 0 && elem != 0 && expect > max_size / elem)
        return too_large(t, max_size, err);
    bool array = tc__jl_is(data, TC__JL_ARRAY);
    if (!array && !(scalar_ok && data != NULL && !tc__jl_is(data, TC__JL_OBJECT)))
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "Unable to parse 'data': expected an array for input '%s'", t->name);
    data_walk w = {t, max_depth, 0, 0, NULL, err};
    tc_code rc = TC_OK;
    if (array && t->dtype != TC_DTYPE_BYTES && max_depth > 0 && is_flat(data))
        w.count = data->len; /* nothing to check before converting */
    else
        rc = walk_root(&w, data);
    if (rc != TC_OK)
        return rc;
    if (w.count != expect)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "Unable to parse 'data': Shape does not match true shape of "
                             "'data' "
                             "field for input '%s' (%zu elements, shape needs %zu)",
                             t->name, w.count, expect);
    size_t size = t->dtype == TC_DTYPE_BYTES ? w.byte_size : expect * elem;
    if (max_size != 0 && size > max_size)
        return too_large(t, max_size, err);
    uint8_t *buf = tc__malloc(size);
    if (buf == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    w.count = 0;
    w.out = buf;
    rc = walk_root(&w, data);
    if (rc != TC_OK) {
        tc__free(buf);
        return rc;
    }
    tc__free(t->owned);
    t->owned = buf;
    t->data = buf;
    t->byte_size = size;
    return TC_OK;
}
