/* Input tensors for tritonc-perf: generation and perf_analyzer's JSON format. */
#include "input_data.h"

#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perf_util.h"

/* ---- --shape ------------------------------------------------------------ */

bool perf_shape_opt_parse(const char *text, perf_shape_opt *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *colon = strrchr(text, ':');
    if (colon == NULL || colon == text || colon[1] == '\0') {
        (void)snprintf(err, errlen, "--shape wants NAME:d1,d2,... (got '%s')", text);
        return false;
    }
    size_t name_len = (size_t)(colon - text);
    out->name = perf_calloc(name_len + 1, 1);
    if (out->name == NULL) {
        (void)snprintf(err, errlen, "out of memory");
        return false;
    }
    memcpy(out->name, text, name_len);
    const char *p = colon + 1;
    while (*p != '\0') {
        char dim[32];
        size_t n = strcspn(p, ",");
        int64_t v = 0;
        if (n == 0 || n >= sizeof dim || out->ndim == PERF_MAX_DIMS) {
            (void)snprintf(err, errlen, "--shape %s: bad dimension list", text);
            goto fail;
        }
        memcpy(dim, p, n);
        dim[n] = '\0';
        if (!perf_parse_i64(dim, &v) || v < 0) {
            (void)snprintf(err, errlen, "--shape %s: '%s' is not a dimension", text, dim);
            goto fail;
        }
        out->dims[out->ndim++] = v;
        p += n;
        if (*p == ',')
            p++;
    }
    return true;
fail:
    perf_shape_opt_cleanup(out);
    return false;
}

void perf_shape_opt_cleanup(perf_shape_opt *opt)
{
    free(opt->name);
    opt->name = NULL;
    opt->ndim = 0;
}

/* ---- shapes ------------------------------------------------------------- */

static const perf_shape_opt *find_shape(const perf_shape_opt *shapes, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(shapes[i].name, name) == 0)
            return &shapes[i];
    }
    return NULL;
}

static bool has_variable_dim(const int64_t *dims, size_t ndim)
{
    for (size_t i = 0; i < ndim; i++) {
        if (dims[i] < 0)
            return true;
    }
    return false;
}

static bool shape_fits(const perf_input_info *in, const int64_t *dims, size_t ndim)
{
    if (ndim != in->ndim)
        return false;
    for (size_t i = 0; i < ndim; i++) {
        if (in->dims[i] >= 0 && in->dims[i] != dims[i])
            return false;
    }
    return true;
}

/* The shape of `in` from --shape or the model; false when it stays variable. */
static bool resolve_shape(const perf_input_info *in, const perf_shape_opt *shapes, size_t nshapes,
                          perf_tensor *t, char *err, size_t errlen)
{
    const perf_shape_opt *opt = find_shape(shapes, nshapes, in->name);
    if (opt != NULL) {
        if (!shape_fits(in, opt->dims, opt->ndim)) {
            (void)snprintf(err, errlen, "--shape for input '%s' does not fit the model's dims",
                           in->name);
            return false;
        }
        memcpy(t->shape, opt->dims, opt->ndim * sizeof *t->shape);
        t->ndim = opt->ndim;
        return true;
    }
    if (has_variable_dim(in->dims, in->ndim)) {
        (void)snprintf(err, errlen,
                       "input '%s' has variable dimensions: give its shape with --shape %s:d1,...",
                       in->name, in->name);
        return false;
    }
    memcpy(t->shape, in->dims, in->ndim * sizeof *t->shape);
    t->ndim = in->ndim;
    return true;
}

static bool element_count(const int64_t *shape, size_t ndim, size_t *out)
{
    size_t n = 1;
    for (size_t i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (shape[i] > 0 && n > SIZE_MAX / (size_t)shape[i]))
            return false;
        n *= (size_t)shape[i];
    }
    *out = n;
    return true;
}

/* ---- generated data ------------------------------------------------------- */

static uint64_t next_random(uint64_t *state)
{
    /* splitmix64: fixed seed, so runs are reproducible. */
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint16_t float_to_half(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t exp8 = (x >> 23) & 0xffu;
    uint32_t mant = x & 0x7fffffu;
    if (exp8 == 0xffu)
        return (uint16_t)(sign | 0x7c00u | (mant != 0 ? 0x200u : 0));
    int32_t exp = (int32_t)exp8 - 127 + 15;
    if (exp >= 31)
        return (uint16_t)(sign | 0x7c00u);
    if (exp <= 0) {
        if (exp < -10)
            return (uint16_t)sign;
        mant |= 0x800000u;
        uint32_t shift = (uint32_t)(14 - exp);
        uint32_t h = mant >> shift;
        if ((mant >> (shift - 1)) & 1u)
            h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = sign | ((uint32_t)exp << 10) | (mant >> 13);
    if (mant & 0x1000u)
        h++; /* round half up; a carry into the exponent is still correct */
    return (uint16_t)h;
}

static uint16_t float_to_bf16(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    if ((x & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((x >> 16) | 0x40u); /* keep NaN a NaN */
    return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

/* Store `v` (or `u` for unsigned types) as one element of `dtype` at `dst`;
 * false when the value does not fit. The host is little-endian, as the wire. */
static bool store_number(tc_dtype dtype, double v, uint8_t *dst)
{
    switch (dtype) {
    case TC_DTYPE_BOOL:
    case TC_DTYPE_UINT8: {
        if (v < 0 || v > UINT8_MAX)
            return false;
        uint8_t x = (uint8_t)v;
        memcpy(dst, &x, 1);
        return true;
    }
    case TC_DTYPE_UINT16: {
        if (v < 0 || v > UINT16_MAX)
            return false;
        uint16_t x = (uint16_t)v;
        memcpy(dst, &x, sizeof x);
        return true;
    }
    case TC_DTYPE_UINT32: {
        if (v < 0 || v > UINT32_MAX)
            return false;
        uint32_t x = (uint32_t)v;
        memcpy(dst, &x, sizeof x);
        return true;
    }
    case TC_DTYPE_UINT64: {
        if (v < 0 || v >= 18446744073709551616.0)
            return false;
        uint64_t x = (uint64_t)v;
        memcpy(dst, &x, sizeof x);
        return true;
    }
    case TC_DTYPE_INT8: {
        if (v < INT8_MIN || v > INT8_MAX)
            return false;
        int8_t x = (int8_t)v;
        memcpy(dst, &x, 1);
        return true;
    }
    case TC_DTYPE_INT16: {
        if (v < INT16_MIN || v > INT16_MAX)
            return false;
        int16_t x = (int16_t)v;
        memcpy(dst, &x, sizeof x);
        return true;
    }
    case TC_DTYPE_INT32: {
        if (v < INT32_MIN || v > INT32_MAX)
            return false;
        int32_t x = (int32_t)v;
        memcpy(dst, &x, sizeof x);
        return true;
    }
    case TC_DTYPE_INT64: {
        if (v < -9223372036854775808.0 || v >= 9223372036854775808.0)
            return false;
        int64_t x = (int64_t)v;
        memcpy(dst, &x, sizeof x);
        return true;
    }
    case TC_DTYPE_FP16: {
        uint16_t x = float_to_half((float)v);
        memcpy(dst, &x, sizeof x);
        return true;
    }
    case TC_DTYPE_BF16: {
        uint16_t x = float_to_bf16((float)v);
        memcpy(dst, &x, sizeof x);
        return true;
    }
    case TC_DTYPE_FP32: {
        float x = (float)v;
        memcpy(dst, &x, sizeof x);
        return true;
    }
    case TC_DTYPE_FP64:
        memcpy(dst, &v, sizeof v);
        return true;
    default:
        return false;
    }
}

/* 64-bit integers beyond 2^53 do not survive a double; store them exactly. */
static bool store_int64(tc_dtype dtype, int64_t v, uint8_t *dst)
{
    if (dtype == TC_DTYPE_INT64) {
        memcpy(dst, &v, sizeof v);
        return true;
    }
    if (dtype == TC_DTYPE_UINT64 && v >= 0) {
        uint64_t u = (uint64_t)v;
        memcpy(dst, &u, sizeof u);
        return true;
    }
    return store_number(dtype, (double)v, dst);
}

static double random_value(tc_dtype dtype, uint64_t *state)
{
    uint64_t r = next_random(state);
    switch (dtype) {
    case TC_DTYPE_BOOL:
        return (double)(r & 1u);
    case TC_DTYPE_FP16:
    case TC_DTYPE_BF16:
    case TC_DTYPE_FP32:
    case TC_DTYPE_FP64:
        return (double)(r >> 11) / 9007199254740992.0; /* [0, 1) */
    default:
        /* Small non-negative integers: valid in every integer type, and
         * models that add or multiply them do not overflow. */
        return (double)(r % 100u);
    }
}

static bool fill_bytes(perf_tensor *t, size_t count, perf_fill fill, size_t len, uint64_t *state)
{
    if (len > UINT32_MAX || count > SIZE_MAX / (len + 4))
        return false;
    t->byte_size = count * (len + 4);
    t->data = perf_calloc(t->byte_size, 1);
    if (t->data == NULL)
        return false;
    uint8_t *p = t->data;
    for (size_t i = 0; i < count; i++) {
        uint32_t n = (uint32_t)len;
        memcpy(p, &n, sizeof n);
        p += sizeof n;
        for (size_t j = 0; j < len; j++)
            p[j] =
                fill == PERF_FILL_ZERO ? (uint8_t)'0' : (uint8_t)('a' + next_random(state) % 26u);
        p += len;
    }
    return true;
}

static bool fill_tensor(const perf_input_info *in, perf_tensor *t, perf_fill fill,
                        size_t string_length, uint64_t *state)
{
    size_t count = 0;
    if (!element_count(t->shape, t->ndim, &count))
        return false;
    if (in->dtype == TC_DTYPE_BYTES)
        return fill_bytes(t, count, fill, string_length, state);
    size_t esize = tc_dtype_size(in->dtype);
    if (esize == 0 || count > SIZE_MAX / esize)
        return false;
    t->byte_size = count * esize;
    t->data = perf_calloc(t->byte_size, 1);
    if (t->data == NULL)
        return false;
    if (fill == PERF_FILL_RANDOM) {
        for (size_t i = 0; i < count; i++)
            (void)store_number(in->dtype, random_value(in->dtype, state), t->data + i * esize);
    }
    return true;
}

static bool alloc_dataset(perf_dataset *out, size_t ninputs, size_t nsteps)
{
    memset(out, 0, sizeof *out);
    out->tensors = perf_calloc(ninputs * nsteps, sizeof *out->tensors);
    if (out->tensors == NULL || (ninputs != 0 && nsteps > SIZE_MAX / ninputs))
        return false;
    out->ninputs = ninputs;
    out->nsteps = nsteps;
    return true;
}

bool perf_dataset_generate(const perf_input_info *inputs, size_t ninputs,
                           const perf_shape_opt *shapes, size_t nshapes, perf_fill fill,
                           size_t string_length, perf_dataset *out, char *err, size_t errlen)
{
    uint64_t state = 0x7472697430ull;
    if (!alloc_dataset(out, ninputs, 1)) {
        (void)snprintf(err, errlen, "out of memory");
        return false;
    }
    for (size_t i = 0; i < ninputs; i++) {
        perf_tensor *t = &out->tensors[i];
        if (!resolve_shape(&inputs[i], shapes, nshapes, t, err, errlen))
            goto fail;
        if (!fill_tensor(&inputs[i], t, fill, string_length, &state)) {
            (void)snprintf(err, errlen, "cannot make data for input '%s'", inputs[i].name);
            goto fail;
        }
    }
    return true;
fail:
    perf_dataset_cleanup(out);
    return false;
}

/* ---- JSON ------------------------------------------------------------------ */

/* Flatten nested JSON arrays into `leaves` (borrowed pointers). */
static bool flatten(json_object *v, json_object ***leaves, size_t *n, size_t *cap)
{
    if (!json_object_is_type(v, json_type_array)) {
        if (*n == *cap) {
            size_t ncap = *cap == 0 ? 64 : *cap * 2;
            json_object **grown = perf_realloc_array(*leaves, ncap, sizeof(json_object *));
            if (grown == NULL)
                return false;
            *leaves = grown;
            *cap = ncap;
        }
        (*leaves)[(*n)++] = v;
        return true;
    }
    size_t len = json_object_array_length(v);
    for (size_t i = 0; i < len; i++) {
        if (!flatten(json_object_array_get_idx(v, i), leaves, n, cap))
            return false;
    }
    return true;
}

static bool encode_bytes(json_object **leaves, size_t n, perf_tensor *t, char *err, size_t errlen,
                         const char *name)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (!json_object_is_type(leaves[i], json_type_string)) {
            (void)snprintf(err, errlen, "input '%s': BYTES content must be strings", name);
            return false;
        }
        total += 4 + (size_t)json_object_get_string_len(leaves[i]);
    }
    t->data = perf_calloc(total, 1);
    if (t->data == NULL)
        return false;
    t->byte_size = total;
    uint8_t *p = t->data;
    for (size_t i = 0; i < n; i++) {
        uint32_t len = (uint32_t)json_object_get_string_len(leaves[i]);
        memcpy(p, &len, sizeof len);
        memcpy(p + 4, json_object_get_string(leaves[i]), len);
        p += 4 + len;
    }
    return true;
}

static bool store_leaf(tc_dtype dtype, json_object *leaf, uint8_t *dst)
{
    if (json_object_is_type(leaf, json_type_boolean))
        return store_number(dtype, json_object_get_boolean(leaf) ? 1.0 : 0.0, dst);
    if (json_object_is_type(leaf, json_type_int))
        return store_int64(dtype, json_object_get_int64(leaf), dst);
    if (json_object_is_type(leaf, json_type_double))
        return store_number(dtype, json_object_get_double(leaf), dst);
    return false;
}

static bool encode_numbers(const perf_input_info *in, json_object **leaves, size_t n,
                           perf_tensor *t, char *err, size_t errlen)
{
    size_t esize = tc_dtype_size(in->dtype);
    if (esize == 0 || n > SIZE_MAX / esize) {
        (void)snprintf(err, errlen, "input '%s': unsupported datatype", in->name);
        return false;
    }
    t->byte_size = n * esize;
    t->data = perf_calloc(t->byte_size, 1);
    if (t->data == NULL)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!store_leaf(in->dtype, leaves[i], t->data + i * esize)) {
            (void)snprintf(err, errlen, "input '%s': element %zu is not a valid %s", in->name, i,
                           tc_dtype_name(in->dtype));
            return false;
        }
    }
    return true;
}

/* Take the shape from a JSON "shape" array. */
static bool json_shape(json_object *shape, perf_tensor *t)
{
    if (!json_object_is_type(shape, json_type_array))
        return false;
    size_t n = json_object_array_length(shape);
    if (n > PERF_MAX_DIMS)
        return false;
    for (size_t i = 0; i < n; i++) {
        json_object *d = json_object_array_get_idx(shape, i);
        if (!json_object_is_type(d, json_type_int) || json_object_get_int64(d) < 0)
            return false;
        t->shape[i] = json_object_get_int64(d);
    }
    t->ndim = n;
    return true;
}

/* Without an explicit shape: --shape or the model's dims, or, with exactly
 * one variable dimension, that dimension inferred from the element count. */
static bool implicit_shape(const perf_input_info *in, const perf_shape_opt *shapes, size_t nshapes,
                           size_t count, perf_tensor *t, char *err, size_t errlen)
{
    size_t nvar = 0;
    size_t var = 0;
    size_t fixed = 1;
    if (find_shape(shapes, nshapes, in->name) != NULL || !has_variable_dim(in->dims, in->ndim))
        return resolve_shape(in, shapes, nshapes, t, err, errlen);
    for (size_t i = 0; i < in->ndim; i++) {
        if (in->dims[i] < 0) {
            nvar++;
            var = i;
        } else {
            fixed *= (size_t)in->dims[i];
        }
    }
    if (nvar != 1 || fixed == 0 || count % fixed != 0)
        return resolve_shape(in, shapes, nshapes, t, err, errlen);
    memcpy(t->shape, in->dims, in->ndim * sizeof *t->shape);
    t->shape[var] = (int64_t)(count / fixed);
    t->ndim = in->ndim;
    return true;
}

static bool decode_b64(const perf_input_info *in, json_object *b64, perf_tensor *t, size_t *count,
                       char *err, size_t errlen)
{
    uint8_t *raw = NULL;
    size_t len = 0;
    if (!json_object_is_type(b64, json_type_string) ||
        !perf_base64_decode(json_object_get_string(b64), (size_t)json_object_get_string_len(b64),
                            &raw, &len)) {
        (void)snprintf(err, errlen, "input '%s': \"b64\" is not base64 text", in->name);
        return false;
    }
    if (in->dtype != TC_DTYPE_BYTES) {
        t->data = raw;
        t->byte_size = len;
        *count = len / tc_dtype_size(in->dtype);
        if (len % tc_dtype_size(in->dtype) != 0) {
            (void)snprintf(err, errlen, "input '%s': %zu bytes is not a whole number of %s",
                           in->name, len, tc_dtype_name(in->dtype));
            return false;
        }
        return true;
    }
    /* For BYTES the decoded bytes are one element. */
    t->data = perf_calloc(len + 4, 1);
    if (t->data == NULL || len > UINT32_MAX) {
        free(raw);
        return false;
    }
    uint32_t n32 = (uint32_t)len;
    memcpy(t->data, &n32, 4);
    if (len > 0)
        memcpy(t->data + 4, raw, len);
    t->byte_size = len + 4;
    *count = 1;
    free(raw);
    return true;
}

static bool check_count(const perf_input_info *in, const perf_tensor *t, size_t count, char *err,
                        size_t errlen)
{
    size_t want = 0;
    if (!shape_fits(in, t->shape, t->ndim)) {
        (void)snprintf(err, errlen, "input '%s': shape does not fit the model's dims", in->name);
        return false;
    }
    if (!element_count(t->shape, t->ndim, &want) || want != count) {
        (void)snprintf(err, errlen, "input '%s': %zu elements given, the shape needs %zu", in->name,
                       count, want);
        return false;
    }
    return true;
}

static bool parse_tensor(const perf_input_info *in, json_object *v, const perf_shape_opt *shapes,
                         size_t nshapes, perf_tensor *t, char *err, size_t errlen)
{
    json_object *content = v;
    json_object *shape = NULL;
    json_object *b64 = NULL;
    size_t count = 0;
    bool has_shape = false;
    if (json_object_is_type(v, json_type_object)) {
        has_shape = json_object_object_get_ex(v, "shape", &shape);
        if (has_shape && !json_shape(shape, t)) {
            (void)snprintf(err, errlen, "input '%s': bad \"shape\"", in->name);
            return false;
        }
        if (json_object_object_get_ex(v, "b64", &b64)) {
            if (!decode_b64(in, b64, t, &count, err, errlen))
                return false;
            if (!has_shape && !implicit_shape(in, shapes, nshapes, count, t, err, errlen))
                return false;
            return check_count(in, t, count, err, errlen);
        }
        if (!json_object_object_get_ex(v, "content", &content)) {
            (void)snprintf(err, errlen, "input '%s': an object needs \"content\" or \"b64\"",
                           in->name);
            return false;
        }
    }
    json_object **leaves = NULL;
    size_t cap = 0;
    bool ok = flatten(content, &leaves, &count, &cap);
    if (ok && !has_shape)
        ok = implicit_shape(in, shapes, nshapes, count, t, err, errlen);
    if (ok)
        ok = in->dtype == TC_DTYPE_BYTES ? encode_bytes(leaves, count, t, err, errlen, in->name)
                                         : encode_numbers(in, leaves, count, t, err, errlen);
    if (ok)
        ok = check_count(in, t, count, err, errlen);
    free(leaves);
    return ok;
}

static bool parse_step(json_object *step, const perf_input_info *inputs, size_t ninputs,
                       const perf_shape_opt *shapes, size_t nshapes, perf_tensor *tensors,
                       size_t index, char *err, size_t errlen)
{
    if (!json_object_is_type(step, json_type_object)) {
        (void)snprintf(err, errlen, "data entry %zu is not an object", index);
        return false;
    }
    for (size_t i = 0; i < ninputs; i++) {
        json_object *v = NULL;
        if (!json_object_object_get_ex(step, inputs[i].name, &v)) {
            (void)snprintf(err, errlen, "data entry %zu has no input '%s'", index, inputs[i].name);
            return false;
        }
        if (!parse_tensor(&inputs[i], v, shapes, nshapes, &tensors[i], err, errlen))
            return false;
    }
    return true;
}

/* Collect the step objects: entries of "data", with streams flattened. */
static bool collect_steps(json_object *data, json_object ***steps, size_t *n)
{
    size_t cap = 0;
    *steps = NULL;
    *n = 0;
    size_t len = json_object_array_length(data);
    for (size_t i = 0; i < len; i++) {
        json_object *e = json_object_array_get_idx(data, i);
        if (!flatten(e, steps, n, &cap))
            return false;
    }
    return true;
}

bool perf_dataset_from_json(const char *text, const perf_input_info *inputs, size_t ninputs,
                            const perf_shape_opt *shapes, size_t nshapes, perf_dataset *out,
                            char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_object *steps_arr = NULL;
    json_object **steps = NULL;
    size_t nsteps = 0;
    bool ok = false;
    json_object *root = json_tokener_parse(text);
    if (root == NULL || !json_object_object_get_ex(root, "data", &steps_arr) ||
        !json_object_is_type(steps_arr, json_type_array)) {
        (void)snprintf(err, errlen, "input data is not JSON of the form {\"data\": [...]}");
        goto out;
    }
    if (!collect_steps(steps_arr, &steps, &nsteps) || nsteps == 0) {
        (void)snprintf(err, errlen, "input data has no entries in \"data\"");
        goto out;
    }
    if (!alloc_dataset(out, ninputs, nsteps)) {
        (void)snprintf(err, errlen, "out of memory");
        goto out;
    }
    ok = true;
    for (size_t s = 0; s < nsteps && ok; s++)
        ok = parse_step(steps[s], inputs, ninputs, shapes, nshapes, &out->tensors[s * ninputs], s,
                        err, errlen);
out:
    if (!ok)
        perf_dataset_cleanup(out);
    free(steps);
    json_object_put(root);
    return ok;
}

bool perf_dataset_from_file(const char *path, const perf_input_info *inputs, size_t ninputs,
                            const perf_shape_opt *shapes, size_t nshapes, perf_dataset *out,
                            char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        (void)snprintf(err, errlen, "cannot open input data file '%s'", path);
        return false;
    }
    size_t cap = 1 << 16;
    size_t used = 0;
    char *text = perf_calloc(cap, 1);
    bool ok = text != NULL;
    while (ok) {
        size_t got = fread(text + used, 1, cap - used - 1, f);
        used += got;
        if (got == 0)
            break;
        if (used + 1 == cap) {
            char *grown = perf_realloc_array(text, cap, 2);
            ok = grown != NULL;
            if (ok) {
                text = grown;
                cap *= 2;
            }
        }
    }
    (void)fclose(f);
    if (!ok) {
        (void)snprintf(err, errlen, "out of memory reading '%s'", path);
        free(text);
        return false;
    }
    text[used] = '\0';
    ok = perf_dataset_from_json(text, inputs, ninputs, shapes, nshapes, out, err, errlen);
    free(text);
    return ok;
}

const perf_tensor *perf_dataset_tensor(const perf_dataset *ds, size_t step, size_t input)
{
    return &ds->tensors[(step % ds->nsteps) * ds->ninputs + input];
}

void perf_dataset_cleanup(perf_dataset *ds)
{
    if (ds->tensors != NULL) {
        for (size_t i = 0; i < ds->ninputs * ds->nsteps; i++)
            free(ds->tensors[i].data);
    }
    free(ds->tensors);
    memset(ds, 0, sizeof *ds);
}

/* ---- base64 ---------------------------------------------------------------- */

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

bool perf_base64_decode(const char *text, size_t len, uint8_t **out, size_t *out_len)
{
    uint8_t *buf = perf_calloc(len / 4 * 3 + 3, 1);
    if (buf == NULL)
        return false;
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    bool padded = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
            continue;
        if (c == '=') {
            padded = true;
            continue;
        }
        int v = b64_value(c);
        if (v < 0 || padded) {
            free(buf);
            return false;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[n++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1u;
        }
    }
    if (bits >= 6) { /* a lone sixth of a byte is not valid base64 */
        free(buf);
        return false;
    }
    *out = buf;
    *out_len = n;
    return true;
}
