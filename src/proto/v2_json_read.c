/* json-c based readers shared by the v2 JSON decoders. */
#include <limits.h>
#include <string.h>

#include "common/alloc.h"
#include "proto/v2_json_int.h"

/* True when the digit run s[0..n) (no sign, no leading zeros) is greater
 * than the decimal `limit`. */
static bool digits_exceed(const char *s, size_t n, const char *limit)
{
    size_t ln = strlen(limit);
    if (n != ln)
        return n > ln;
    return memcmp(s, limit, n) > 0;
}

/* Scan JSON text for integer literals json-c would clamp: below INT64_MIN
 * or above UINT64_MAX. Returns the offset of the first one or SIZE_MAX. */
static size_t find_int_overflow(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        char c = s[i];
        if (c == '"') {
            for (i++; i < len && s[i] != '"'; i++) {
                if (s[i] == '\\')
                    i++;
            }
            i++;
            continue;
        }
        if (c != '-' && (c < '0' || c > '9')) {
            i++;
            continue;
        }
        size_t start = i;
        bool neg = c == '-';
        if (neg)
            i++;
        while (i < len && s[i] == '0')
            i++;
        size_t d0 = i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        bool is_int = !(i < len && (s[i] == '.' || s[i] == 'e' || s[i] == 'E'));
        const char *limit = neg ? "9223372036854775808" : "18446744073709551615";
        if (is_int && digits_exceed(s + d0, i - d0, limit))
            return start;
        while (i < len && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == 'e' ||
                           s[i] == 'E' || s[i] == '+' || s[i] == '-'))
            i++;
    }
    return SIZE_MAX;
}

static bool is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

json_object *tc__jr_parse(const char *text, size_t len, size_t depth, const char *what,
                          tc__error *err)
{
    if (len > INT_MAX || depth > INT_MAX) {
        tc__error_set(err, TC_E_INVALID_ARG, "failed to parse the %s: too large", what);
        return NULL;
    }
    size_t bad = find_int_overflow(text, len);
    if (bad != SIZE_MAX) {
        tc__error_set(err, TC_E_INVALID_ARG, "failed to parse the %s: integer out of range at %zu",
                      what, bad);
        return NULL;
    }
    struct json_tokener *tok = json_tokener_new_ex((int)depth);
    if (tok == NULL) {
        tc__error_set(err, TC_E_NOMEM, "out of memory");
        return NULL;
    }
    json_object *root = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (root == NULL || jerr != json_tokener_success) {
        const char *why = jerr == json_tokener_continue ? "unexpected end of input"
                                                        : json_tokener_error_desc(jerr);
        tc__error_set(err, TC_E_INVALID_ARG, "failed to parse the %s: %s at %zu", what, why, end);
        json_object_put(root);
        return NULL;
    }
    while (end < len && is_json_space(text[end]))
        end++;
    if (end < len) {
        tc__error_set(err, TC_E_INVALID_ARG,
                      "failed to parse the %s: the document root must not be followed by "
                      "other values at %zu",
                      what, end);
        json_object_put(root);
        return NULL;
    }
    return root;
}

bool tc__jr_u64(json_object *o, uint64_t *out)
{
    if (!json_object_is_type(o, json_type_int) || json_object_get_int64(o) < 0)
        return false;
    *out = json_object_get_uint64(o);
    return true;
}

bool tc__jr_i64(json_object *o, int64_t *out)
{
    if (!json_object_is_type(o, json_type_int))
        return false;
    int64_t v = json_object_get_int64(o);
    if (v == INT64_MAX && json_object_get_uint64(o) > (uint64_t)INT64_MAX)
        return false;
    *out = v;
    return true;
}

tc_code tc__jr_strdup(json_object *o, char **out)
{
    if (!json_object_is_type(o, json_type_string))
        return TC_E_INVALID_ARG;
    const char *s = json_object_get_string(o);
    size_t len = (size_t)json_object_get_string_len(o);
    if (memchr(s, '\0', len) != NULL)
        return TC_E_INVALID_ARG;
    char *copy = tc__strndup(s, len);
    if (copy == NULL)
        return TC_E_NOMEM;
    tc__free(*out);
    *out = copy;
    return TC_OK;
}

tc_code tc__jr_shape(json_object *o, bool allow_negative, int64_t **shape, size_t *ndim)
{
    if (!json_object_is_type(o, json_type_array))
        return TC_E_INVALID_ARG;
    size_t n = json_object_array_length(o);
    int64_t *dims = tc__calloc(n ? n : 1, sizeof *dims);
    if (dims == NULL)
        return TC_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        json_object *d = json_object_array_get_idx(o, i);
        if (!tc__jr_i64(d, &dims[i]) || (!allow_negative && dims[i] < 0)) {
            tc__free(dims);
            return TC_E_INVALID_ARG;
        }
    }
    tc__free(*shape);
    *shape = dims;
    *ndim = n;
    return TC_OK;
}

tc_code tc__jr_param(tc__params *p, const char *key, json_object *v)
{
    int64_t i64;
    uint64_t u64;
    switch (json_object_get_type(v)) {
    case json_type_boolean:
        return tc__params_add_bool(p, key, json_object_get_boolean(v));
    case json_type_double:
        return tc__params_add_double(p, key, json_object_get_double(v));
    case json_type_int:
        if (tc__jr_i64(v, &i64))
            return tc__params_add_int64(p, key, i64);
        if (tc__jr_u64(v, &u64))
            return tc__params_add_uint64(p, key, u64);
        return TC_E_INVALID_ARG;
    case json_type_string: {
        const char *s = json_object_get_string(v);
        if (memchr(s, '\0', (size_t)json_object_get_string_len(v)) != NULL)
            return TC_E_INVALID_ARG;
        return tc__params_add_string(p, key, s);
    }
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

static tc_code convert_number(data_walk *w, json_object *v, size_t size)
{
    tc_dtype dt = w->t->dtype;
    if (dt == TC_DTYPE_FP32 || dt == TC_DTYPE_FP64) {
        json_type jt = json_object_get_type(v);
        if (jt != json_type_double && jt != json_type_int)
            return bad_element(w, "expected a number");
        double d = json_object_get_double(v);
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
        if (!tc__jr_u64(v, &u) || u > uint_max(size))
            return bad_element(w, "expected an unsigned integer in range");
        store_le(w->out, u, size);
        return TC_OK;
    }
    int64_t i;
    if (!tc__jr_i64(v, &i))
        return bad_element(w, "expected an integer in range");
    int64_t hi = (int64_t)(uint_max(size) >> 1);
    if (i > hi || i < -hi - 1)
        return bad_element(w, "expected an integer in range");
    store_le(w->out, (uint64_t)i, size);
    return TC_OK;
}

/* Convert one leaf into w->out (second pass only). */
static tc_code convert_leaf(data_walk *w, json_object *v)
{
    tc_dtype dt = w->t->dtype;
    if (dt == TC_DTYPE_BOOL) {
        if (!json_object_is_type(v, json_type_boolean))
            return bad_element(w, "expected true or false");
        *w->out++ = json_object_get_boolean(v) ? 1 : 0;
        return TC_OK;
    }
    if (dt == TC_DTYPE_BYTES) {
        size_t len = (size_t)json_object_get_string_len(v);
        store_le(w->out, len, 4);
        memcpy(w->out + 4, json_object_get_string(v), len);
        w->out += 4 + len;
        return TC_OK;
    }
    size_t size = tc_dtype_size(dt);
    tc_code rc = convert_number(w, v, size);
    w->out += size;
    return rc;
}

/* Walk nested arrays depth-first. First pass (w->out == NULL) counts leaves
 * and sizes BYTES strings; second pass converts. */
static tc_code walk_data(data_walk *w, json_object *v, size_t depth)
{
    if (!json_object_is_type(v, json_type_array)) {
        tc_code rc = TC_OK;
        if (w->out != NULL) {
            rc = convert_leaf(w, v);
        } else if (w->t->dtype == TC_DTYPE_BYTES) {
            if (!json_object_is_type(v, json_type_string))
                return bad_element(w, "expected a string");
            size_t len = (size_t)json_object_get_string_len(v);
            if (len > UINT32_MAX || len + 4 > SIZE_MAX - w->byte_size)
                return bad_element(w, "string too long");
            w->byte_size += 4 + len;
        }
        w->count++;
        return rc;
    }
    if (depth >= w->max_depth)
        return tc__error_set(w->err, TC_E_INVALID_ARG,
                             "Unable to parse 'data': nesting of input '%s' is deeper than %zu",
                             w->t->name, w->max_depth);
    size_t n = json_object_array_length(v);
    for (size_t i = 0; i < n; i++) {
        tc_code rc = walk_data(w, json_object_array_get_idx(v, i), depth + 1);
        if (rc != TC_OK)
            return rc;
    }
    return TC_OK;
}

static tc_code too_large(const tc__tensor *t, size_t max_size, tc__error *err)
{
    return tc__error_set(err, TC_E_INVALID_ARG,
                         "JSON data of input '%s' exceeds the maximum allowed size of %zu bytes. "
                         "Use --http-max-input-size to increase the limit.",
                         t->name, max_size);
}

tc_code tc__jr_tensor_data(json_object *data, tc__tensor *t, size_t max_depth, size_t max_size,
                           tc__error *err)
{
    if (t->dtype == TC_DTYPE_FP16 || t->dtype == TC_DTYPE_BF16)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "receiving %s data via JSON is not supported. Please use the binary "
                             "data format for input '%s'",
                             tc_dtype_name(t->dtype), t->name);
    size_t expect;
    if (!tc__shape_elements(t->shape, t->ndim, &expect))
        return tc__error_set(err, TC_E_INVALID_ARG, "shape of input '%s' is too large", t->name);
    size_t elem = tc_dtype_size(t->dtype);
    if (max_size != 0 && elem != 0 && expect > max_size / elem)
        return too_large(t, max_size, err);
    if (!json_object_is_type(data, json_type_array))
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "Unable to parse 'data': expected an array for input '%s'", t->name);
    data_walk w = {t, max_depth, 0, 0, NULL, err};
    tc_code rc = walk_data(&w, data, 0);
    if (rc != TC_OK)
        return rc;
    if (w.count != expect)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "Unable to parse 'data': Shape does not match true shape of 'data' "
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
    rc = walk_data(&w, data, 0);
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
