/* Shared pieces of the gRPC codec: packing, unpacking, parameters and typed
 * tensor contents (v2_pb_int.h). */
#include <string.h>

#include "common/alloc.h"
#include "proto/model_config.h"
#include "proto/v2_pb_int.h"

/* ---- packing ---------------------------------------------------------------- */

tc_code tc__pb_pack(const ProtobufCMessage *msg, tc__buf *out)
{
    if (msg == NULL || out == NULL)
        return TC_E_INVALID_ARG;
    size_t n = protobuf_c_message_get_packed_size(msg);
    if (tc__buf_reserve(out, n) != TC_OK)
        return TC_E_NOMEM;
    size_t written = protobuf_c_message_pack(msg, out->data + out->len);
    out->len += written;
    out->data[out->len] = 0;
    return written == n ? TC_OK : TC_E_INTERNAL;
}

tc_code tc__pb_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *msg, size_t len,
                      ProtobufCMessage **out, tc__error *err)
{
    if (out == NULL || desc == NULL || (msg == NULL && len > 0))
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    static const uint8_t empty[1] = {0};
    *out = protobuf_c_message_unpack(desc, tc__pb_allocator(), len, msg != NULL ? msg : empty);
    if (*out == NULL)
        return tc__error_set(err, TC_E_PROTOCOL, "failed to parse %s", desc->name);
    return TC_OK;
}

void tc__pb_backing_free(void *backing)
{
    if (backing != NULL)
        protobuf_c_message_free_unpacked(backing, tc__pb_allocator());
}

/* ---- scratch ------------------------------------------------------------------ */

void *tc__pb_scratch_alloc(tc__pb_scratch *s, size_t count, size_t size)
{
    void **ptrs = tc__reallocarray(s->ptrs, s->count + 1, sizeof *ptrs);
    if (ptrs == NULL)
        return NULL;
    s->ptrs = ptrs;
    void *p = tc__calloc(count ? count : 1, size ? size : 1);
    if (p != NULL)
        s->ptrs[s->count++] = p;
    return p;
}

void tc__pb_scratch_free(tc__pb_scratch *s)
{
    for (size_t i = 0; i < s->count; i++)
        tc__free(s->ptrs[i]);
    tc__free(s->ptrs);
    s->ptrs = NULL;
    s->count = 0;
}

char *tc__pb_str(const char *s)
{
    return (char *)(uintptr_t)(s != NULL ? s : "");
}

char *tc__pb_strdup_nonempty(const char *s, bool *nomem)
{
    if (s == NULL || s[0] == '\0')
        return NULL;
    char *c = tc__strdup(s);
    if (c == NULL)
        *nomem = true;
    return c;
}

tc_code tc__pb_shape_copy(const int64_t *src, size_t n, int64_t **dst, size_t *ndim)
{
    *dst = NULL;
    *ndim = 0;
    if (n == 0)
        return TC_OK;
    *dst = tc__memdup(src, n * sizeof *src);
    if (*dst == NULL)
        return TC_E_NOMEM;
    *ndim = n;
    return TC_OK;
}

/* ---- parameters ------------------------------------------------------------------ */

tc_code tc__pb_param_add(tc__params *p, const char *key, const Inference__InferParameter *v)
{
    if (v == NULL)
        return TC_E_INVALID_ARG;
    switch (v->parameter_choice_case) {
    case INFERENCE__INFER_PARAMETER__PARAMETER_CHOICE_BOOL_PARAM:
        return tc__params_add_bool(p, key, v->bool_param != 0);
    case INFERENCE__INFER_PARAMETER__PARAMETER_CHOICE_INT64_PARAM:
        return tc__params_add_int64(p, key, v->int64_param);
    case INFERENCE__INFER_PARAMETER__PARAMETER_CHOICE_STRING_PARAM:
        return tc__params_add_string(p, key, v->string_param);
    case INFERENCE__INFER_PARAMETER__PARAMETER_CHOICE_DOUBLE_PARAM:
        return tc__params_add_double(p, key, v->double_param);
    case INFERENCE__INFER_PARAMETER__PARAMETER_CHOICE_UINT64_PARAM:
        return tc__params_add_uint64(p, key, v->uint64_param);
    default:
        return TC_E_INVALID_ARG;
    }
}

static void param_set(Inference__InferParameter *v, const tc__param *p)
{
    inference__infer_parameter__init(v);
    switch (p->type) {
    case TC__PARAM_BOOL:
        v->parameter_choice_case = INFERENCE__INFER_PARAMETER__PARAMETER_CHOICE_BOOL_PARAM;
        v->bool_param = p->v.b;
        break;
    case TC__PARAM_INT64:
        v->parameter_choice_case = INFERENCE__INFER_PARAMETER__PARAMETER_CHOICE_INT64_PARAM;
        v->int64_param = p->v.i64;
        break;
    case TC__PARAM_UINT64:
        v->parameter_choice_case = INFERENCE__INFER_PARAMETER__PARAMETER_CHOICE_UINT64_PARAM;
        v->uint64_param = p->v.u64;
        break;
    case TC__PARAM_DOUBLE:
        v->parameter_choice_case = INFERENCE__INFER_PARAMETER__PARAMETER_CHOICE_DOUBLE_PARAM;
        v->double_param = p->v.d;
        break;
    case TC__PARAM_STRING:
        v->parameter_choice_case = INFERENCE__INFER_PARAMETER__PARAMETER_CHOICE_STRING_PARAM;
        v->string_param = tc__pb_str(p->v.s);
        break;
    }
}

tc_code tc__pb_params_build(tc__pb_scratch *s, const tc__params *p,
                            const ProtobufCMessageDescriptor *entry_desc, void ***entries,
                            size_t *n)
{
    *entries = NULL;
    *n = 0;
    if (p == NULL || p->count == 0)
        return TC_OK;
    void **arr = tc__pb_scratch_alloc(s, p->count, sizeof *arr);
    tc__pb_param_entry *ents = tc__pb_scratch_alloc(s, p->count, sizeof *ents);
    Inference__InferParameter *vals = tc__pb_scratch_alloc(s, p->count, sizeof *vals);
    if (arr == NULL || ents == NULL || vals == NULL)
        return TC_E_NOMEM;
    for (size_t i = 0; i < p->count; i++) {
        entry_desc->message_init(&ents[i].base);
        ents[i].key = tc__pb_str(p->items[i].key);
        param_set(&vals[i], &p->items[i]);
        ents[i].value = &vals[i];
        arr[i] = &ents[i];
    }
    *entries = arr;
    *n = p->count;
    return TC_OK;
}

/* ---- typed contents ---------------------------------------------------------------- */

static void put_le(uint8_t *dst, uint64_t v, size_t size)
{
    for (size_t i = 0; i < size; i++)
        dst[i] = (uint8_t)(v >> (8 * i));
}

/* Which member of the contents each datatype reads (GRPC.md section 2.2). */
typedef enum contents_member {
    CM_NONE,
    CM_BOOL,
    CM_INT,
    CM_INT64,
    CM_UINT,
    CM_UINT64,
    CM_FP32,
    CM_FP64,
    CM_BYTES
} contents_member;

static contents_member member_for(tc_dtype dt)
{
    switch (dt) {
    case TC_DTYPE_BOOL:
        return CM_BOOL;
    case TC_DTYPE_INT8:
    case TC_DTYPE_INT16:
    case TC_DTYPE_INT32:
        return CM_INT;
    case TC_DTYPE_INT64:
        return CM_INT64;
    case TC_DTYPE_UINT8:
    case TC_DTYPE_UINT16:
    case TC_DTYPE_UINT32:
        return CM_UINT;
    case TC_DTYPE_UINT64:
        return CM_UINT64;
    case TC_DTYPE_FP32:
        return CM_FP32;
    case TC_DTYPE_FP64:
        return CM_FP64;
    case TC_DTYPE_BYTES:
        return CM_BYTES;
    default:
        return CM_NONE;
    }
}

/* The datatype named by a populated member in the mismatch message. */
static const char *member_dtype_name(contents_member m)
{
    static const char *const names[] = {"",       "BOOL", "INT32", "INT64", "UINT32",
                                        "UINT64", "FP32", "FP64",  "BYTES"};
    return names[m];
}

static size_t member_count(const Inference__InferTensorContents *c, contents_member m)
{
    switch (m) {
    case CM_BOOL:
        return c->n_bool_contents;
    case CM_INT:
        return c->n_int_contents;
    case CM_INT64:
        return c->n_int64_contents;
    case CM_UINT:
        return c->n_uint_contents;
    case CM_UINT64:
        return c->n_uint64_contents;
    case CM_FP32:
        return c->n_fp32_contents;
    case CM_FP64:
        return c->n_fp64_contents;
    case CM_BYTES:
        return c->n_bytes_contents;
    default:
        return 0;
    }
}

static tc_code bytes_contents_to_raw(const Inference__InferTensorContents *c, tc__tensor *t)
{
    tc__buf b = TC__BUF_INIT;
    for (size_t i = 0; i < c->n_bytes_contents; i++) {
        const ProtobufCBinaryData *e = &c->bytes_contents[i];
        if (e->len > UINT32_MAX || tc__buf_append_u32le(&b, (uint32_t)e->len) != TC_OK ||
            tc__buf_append(&b, e->data, e->len) != TC_OK) {
            tc__buf_cleanup(&b);
            return TC_E_NOMEM;
        }
    }
    size_t len = 0;
    uint8_t *data = tc__buf_steal(&b, &len);
    if (data == NULL)
        data = tc__calloc(1, 1);
    if (data == NULL)
        return TC_E_NOMEM;
    t->owned = data;
    t->data = data;
    t->byte_size = len;
    return TC_OK;
}

/* Element i of member m as 64 raw bits (floats by their bit pattern). */
static uint64_t member_bits(const Inference__InferTensorContents *c, contents_member m, size_t i)
{
    switch (m) {
    case CM_BOOL:
        return c->bool_contents[i] ? 1u : 0u;
    case CM_INT:
        return (uint64_t)(int64_t)c->int_contents[i];
    case CM_INT64:
        return (uint64_t)c->int64_contents[i];
    case CM_UINT:
        return c->uint_contents[i];
    case CM_UINT64:
        return c->uint64_contents[i];
    case CM_FP32: {
        uint32_t u;
        memcpy(&u, &c->fp32_contents[i], sizeof u);
        return u;
    }
    case CM_FP64: {
        uint64_t u;
        memcpy(&u, &c->fp64_contents[i], sizeof u);
        return u;
    }
    default:
        return 0;
    }
}

static bool in_range(tc_dtype dt, const Inference__InferTensorContents *c, size_t i)
{
    switch (dt) {
    case TC_DTYPE_INT8:
        return c->int_contents[i] >= INT8_MIN && c->int_contents[i] <= INT8_MAX;
    case TC_DTYPE_INT16:
        return c->int_contents[i] >= INT16_MIN && c->int_contents[i] <= INT16_MAX;
    case TC_DTYPE_UINT8:
        return c->uint_contents[i] <= UINT8_MAX;
    case TC_DTYPE_UINT16:
        return c->uint_contents[i] <= UINT16_MAX;
    default:
        return true;
    }
}

static tc_code check_members(const Inference__InferTensorContents *c, tc__tensor *t,
                             contents_member want, const char *what, const char *model,
                             tc__error *err)
{
    for (contents_member m = CM_BOOL; m <= CM_BYTES; m = (contents_member)(m + 1)) {
        if (m == want || member_count(c, m) == 0)
            continue;
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "unexpected explicit tensor data for %s tensor '%s' for model '%s' "
                             "of type '%s', expected datatype '%s'",
                             what, t->name, model, member_dtype_name(m),
                             tc_dtype_name(t->dtype) ? tc_dtype_name(t->dtype) : "");
    }
    return TC_OK;
}

tc_code tc__pb_contents_to_raw(const Inference__InferTensorContents *c, tc__tensor *t,
                               const char *what, const char *model, tc__error *err)
{
    contents_member want = member_for(t->dtype);
    if (want == CM_NONE)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "explicit tensor data is not supported for %s tensor '%s' for model "
                             "'%s' of type '%s'; send it in raw_input_contents",
                             what, t->name, model,
                             tc_dtype_name(t->dtype) ? tc_dtype_name(t->dtype) : "");
    tc_code rc = check_members(c, t, want, what, model, err);
    if (rc != TC_OK)
        return rc;
    if (want == CM_BYTES)
        return bytes_contents_to_raw(c, t) == TC_OK
                   ? TC_OK
                   : tc__error_set(err, TC_E_NOMEM, "out of memory");
    size_t n = member_count(c, want);
    size_t esize = tc_dtype_size(t->dtype);
    uint8_t *data = tc__calloc(n ? n : 1, esize);
    if (data == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (!in_range(t->dtype, c, i)) {
            tc__free(data);
            return tc__error_set(err, TC_E_INVALID_ARG,
                                 "value %lld at index %zu of %s tensor '%s' for model '%s' is "
                                 "out of range for datatype '%s'",
                                 want == CM_INT ? (long long)c->int_contents[i]
                                                : (long long)c->uint_contents[i],
                                 i, what, t->name, model, tc_dtype_name(t->dtype));
        }
        put_le(data + i * esize, member_bits(c, want, i), esize);
    }
    t->owned = data;
    t->data = data;
    t->byte_size = n * esize;
    return TC_OK;
}
