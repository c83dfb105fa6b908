/* Infer request: strict decoding on the server, encoding on the client
 * (HTTP.md sections 6.1-6.8 and 8). */
#include <string.h>

#include "common/alloc.h"
#include "proto/v2_json.h"
#include "proto/v2_json_int.h"

/* Decoding state shared by the inputs of one request. */
typedef struct req_ctx {
    const uint8_t *body;
    size_t body_len;
    size_t pos; /* next unread byte of the binary section */
    size_t max_depth;
    size_t max_input_size;
    const char *model_name;
    tc__error *err;
} req_ctx;

static tc_code unable(tc__error *err, const char *what)
{
    return tc__error_set(err, TC_E_INVALID_ARG, "Unable to parse '%s'", what);
}

/* Map a reader result to an error naming the member. */
static tc_code member_rc(tc_code rc, tc__error *err, const char *what)
{
    if (rc == TC_E_NOMEM)
        return tc__error_set(err, rc, "out of memory");
    if (rc != TC_OK)
        return unable(err, what);
    return TC_OK;
}

static tc_code nomem(tc__error *err)
{
    return tc__error_set(err, TC_E_NOMEM, "out of memory");
}

static bool key_is(const char *key, const char *want)
{
    return strcmp(key, want) == 0;
}

static const char *model_suffix_fmt(const req_ctx *c)
{
    return c->model_name != NULL ? " for model '" : "";
}

/* ---- inputs ----------------------------------------------------------------- */

typedef struct input_params {
    bool has_binary;
    uint64_t binary_size;
} input_params;

static tc_code decode_input_param(req_ctx *c, tc__tensor *t, input_params *ip, const char *key,
                                  const tc__jl_value *v)
{
    if (key_is(key, "binary_data_size")) {
        if (!tc__jl_u64(v, &ip->binary_size))
            return unable(c->err, "binary_data_size");
        ip->has_binary = true;
        return TC_OK;
    }
    if (key_is(key, "shared_memory_region"))
        return member_rc(tc__jd_strdup(v, &t->shm.region), c->err, "shared_memory_region");
    if (key_is(key, "shared_memory_byte_size")) {
        if (!tc__jl_u64(v, &t->shm.byte_size))
            return unable(c->err, "shared_memory_byte_size");
        return TC_OK;
    }
    if (key_is(key, "shared_memory_offset")) {
        if (!tc__jl_u64(v, &t->shm.offset))
            return unable(c->err, "shared_memory_offset");
        return TC_OK;
    }
    tc_code rc = tc__jd_param(&t->params, key, v);
    if (rc == TC_E_NOMEM)
        return nomem(c->err);
    if (rc != TC_OK)
        return tc__error_set(c->err, rc,
                             "parameter '%s' of input '%s' should be either 'int', 'bool', "
                             "'double' or 'string'.",
                             key, t->name);
    return TC_OK;
}

static tc_code decode_input_params(req_ctx *c, tc__tensor *t, const tc__jl_value *params,
                                   input_params *ip)
{
    if (params == NULL)
        return TC_OK;
    if (!tc__jl_is(params, TC__JL_OBJECT))
        return unable(c->err, "parameters");
    for (const tc__jl_value *k = tc__jl_first(params); k != NULL; k = tc__jl_next(params, k)) {
        tc_code rc = decode_input_param(c, t, ip, k->v.s, tc__jd_nonnull(tc__jl_member(k)));
        if (rc != TC_OK)
            return rc;
    }
    return TC_OK;
}

/* Point the tensor at its blob in the binary section. */
static tc_code take_binary(req_ctx *c, tc__tensor *t, uint64_t size)
{
    size_t left = c->body_len - c->pos;
    if (size > left)
        return tc__error_set(
            c->err, TC_E_INVALID_ARG,
            "unexpected size for input '%s', expecting %llu additional bytes%s%s%s", t->name,
            (unsigned long long)(size - left), model_suffix_fmt(c),
            c->model_name ? c->model_name : "", c->model_name ? "'" : "");
    t->binary = true;
    t->data = c->body + c->pos;
    t->byte_size = (size_t)size;
    c->pos += (size_t)size;
    return TC_OK;
}

static tc_code decode_input_header(req_ctx *c, const tc__jl_value *o, tc__tensor *t)
{
    if (!tc__jl_is(o, TC__JL_OBJECT))
        return unable(c->err, "inputs");
    tc_code rc = member_rc(tc__jd_strdup(tc__jd_get(o, "name"), &t->name), c->err, "name");
    if (rc != TC_OK)
        return rc;
    const tc__jl_value *dt = tc__jd_get(o, "datatype");
    if (!tc__jl_is(dt, TC__JL_STRING))
        return unable(c->err, "datatype");
    t->dtype = tc_dtype_from_name(dt->v.s);
    if (t->dtype == TC_DTYPE_INVALID)
        return tc__error_set(c->err, TC_E_INVALID_ARG, "invalid datatype '%s' for input '%s'",
                             dt->v.s, t->name);
    return member_rc(tc__jd_shape(tc__jd_get(o, "shape"), false, &t->shape, &t->ndim), c->err,
                     "shape");
}

static tc_code decode_input(req_ctx *c, const tc__jl_value *o, tc__tensor *t)
{
    tc_code rc = decode_input_header(c, o, t);
    if (rc != TC_OK)
        return rc;
    input_params ip = {false, 0};
    rc = decode_input_params(c, t, tc__jd_get(o, "parameters"), &ip);
    if (rc != TC_OK)
        return rc;
    const tc__jl_value *data = tc__jl_get(o, "data");
    bool has_data = data != NULL;
    data = tc__jd_nonnull(data);
    bool has_shm = t->shm.region != NULL;
    int kinds = (int)has_data + (int)ip.has_binary + (int)has_shm;
    size_t elements = 0;
    bool empty = tc__shape_elements(t->shape, t->ndim, &elements) && elements == 0;
    if (kinds > 1 || (kinds == 0 && !empty))
        return tc__error_set(c->err, TC_E_INVALID_ARG,
                             "Input must set only one of the following fields: 'data', "
                             "'binary_data_size' in 'parameters', 'shared_memory_region' in "
                             "'parameters'. But input '%s' sets %s",
                             t->name, kinds == 0 ? "none of them" : "more than one");
    if (has_shm)
        return TC_OK;
    if (t->shm.byte_size != 0 || t->shm.offset != 0)
        return tc__error_set(c->err, TC_E_INVALID_ARG,
                             "input '%s' sets shared memory parameters without "
                             "'shared_memory_region'",
                             t->name);
    if (ip.has_binary)
        return take_binary(c, t, ip.binary_size);
    if (has_data)
        return tc__jd_tensor_data(data, t, c->max_depth, c->max_input_size, c->err);
    return TC_OK;
}

static tc_code decode_inputs(req_ctx *c, const tc__jl_value *arr, tc__infer_request *req)
{
    if (!tc__jl_is(arr, TC__JL_ARRAY))
        return unable(c->err, "inputs");
    size_t n = arr->len;
    req->inputs = tc__calloc(n ? n : 1, sizeof *req->inputs);
    if (req->inputs == NULL)
        return nomem(c->err);
    size_t i = 0;
    for (const tc__jl_value *e = tc__jl_first(arr); e != NULL; e = tc__jl_next(arr, e), i++) {
        req->input_count = i + 1;
        tc_code rc = decode_input(c, tc__jd_nonnull(e), &req->inputs[i]);
        if (rc != TC_OK)
            return rc;
    }
    return TC_OK;
}

/* ---- outputs ---------------------------------------------------------------- */

static tc_code decode_output_param(tc__requested_output *out, const char *key,
                                   const tc__jl_value *v, tc__error *err)
{
    if (key_is(key, "binary_data")) {
        if (!tc__jl_is(v, TC__JL_BOOL))
            return unable(err, "binary_data");
        out->binary = v->v.b ? 1 : 0;
        return TC_OK;
    }
    if (key_is(key, "classification")) {
        uint64_t k;
        if (!tc__jl_u64(v, &k) || k > UINT32_MAX)
            return unable(err, "classification");
        out->class_count = (uint32_t)k;
        return TC_OK;
    }
    if (key_is(key, "shared_memory_region"))
        return member_rc(tc__jd_strdup(v, &out->shm.region), err, "shared_memory_region");
    if (key_is(key, "shared_memory_byte_size"))
        return tc__jl_u64(v, &out->shm.byte_size) ? TC_OK : unable(err, "shared_memory_byte_size");
    if (key_is(key, "shared_memory_offset"))
        return tc__jl_u64(v, &out->shm.offset) ? TC_OK : unable(err, "shared_memory_offset");
    tc_code rc = tc__jd_param(&out->params, key, v);
    if (rc == TC_E_NOMEM)
        return nomem(err);
    if (rc != TC_OK)
        return tc__error_set(err, rc,
                             "parameter '%s' of output '%s' should be either 'int', 'bool', "
                             "'double' or 'string'.",
                             key, out->name);
    return TC_OK;
}

static tc_code decode_output(const tc__jl_value *o, tc__requested_output *out, tc__error *err)
{
    out->binary = -1;
    if (!tc__jl_is(o, TC__JL_OBJECT))
        return unable(err, "outputs");
    tc_code rc = member_rc(tc__jd_strdup(tc__jd_get(o, "name"), &out->name), err, "name");
    if (rc != TC_OK)
        return rc;
    const tc__jl_value *params = tc__jd_get(o, "parameters");
    if (params == NULL)
        return TC_OK;
    if (!tc__jl_is(params, TC__JL_OBJECT))
        return unable(err, "parameters");
    for (const tc__jl_value *k = tc__jl_first(params); k != NULL; k = tc__jl_next(params, k)) {
        rc = decode_output_param(out, k->v.s, tc__jd_nonnull(tc__jl_member(k)), err);
        if (rc != TC_OK)
            return rc;
    }
    if (out->shm.region != NULL && out->binary == 1)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "Output can't set both 'shared_memory_region' and 'binary_data'");
    if (out->shm.region != NULL && out->class_count > 0)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "Output can't set both 'shared_memory_region' and 'classification'");
    return TC_OK;
}

static tc_code decode_outputs(const tc__jl_value *arr, tc__infer_request *req, tc__error *err)
{
    if (arr == NULL)
        return TC_OK;
    if (!tc__jl_is(arr, TC__JL_ARRAY))
        return unable(err, "outputs");
    size_t n = arr->len;
    req->outputs = tc__calloc(n ? n : 1, sizeof *req->outputs);
    if (req->outputs == NULL)
        return nomem(err);
    size_t i = 0;
    for (const tc__jl_value *e = tc__jl_first(arr); e != NULL; e = tc__jl_next(arr, e), i++) {
        req->output_count = i + 1;
        tc_code rc = decode_output(tc__jd_nonnull(e), &req->outputs[i], err);
        if (rc != TC_OK)
            return rc;
    }
    return TC_OK;
}

/* ---- request parameters ----------------------------------------------------- */

#define TC__MAX_SEQUENCE_ID_STR 128

static tc_code decode_sequence_id(const tc__jl_value *v, tc__infer_request *req, tc__error *err)
{
    if (tc__jl_is(v, TC__JL_STRING)) {
        size_t len = v->len;
        if (len > TC__MAX_SEQUENCE_ID_STR)
            return tc__error_set(err, TC_E_INVALID_ARG,
                                 "sequence_id string is longer than %d characters",
                                 TC__MAX_SEQUENCE_ID_STR);
        if (len == 0)
            return TC_OK;
        return member_rc(tc__jd_strdup(v, &req->sequence_id_str), err, "sequence_id");
    }
    if (!tc__jl_u64(v, &req->sequence_id))
        return unable(err, "sequence_id");
    return TC_OK;
}

static tc_code decode_bool(const tc__jl_value *v, bool *out, tc__error *err, const char *what)
{
    if (!tc__jl_is(v, TC__JL_BOOL))
        return unable(err, what);
    *out = v->v.b;
    return TC_OK;
}

static tc_code decode_request_param(const char *key, const tc__jl_value *v, tc__infer_request *req,
                                    tc__error *err)
{
    if (key_is(key, "sequence_id"))
        return decode_sequence_id(v, req, err);
    if (key_is(key, "sequence_start"))
        return decode_bool(v, &req->sequence_start, err, key);
    if (key_is(key, "sequence_end"))
        return decode_bool(v, &req->sequence_end, err, key);
    if (key_is(key, "priority"))
        return tc__jl_u64(v, &req->priority) ? TC_OK : unable(err, key);
    if (key_is(key, "timeout"))
        return tc__jl_u64(v, &req->timeout_us) ? TC_OK : unable(err, key);
    if (key_is(key, "binary_data_output")) {
        bool b = false;
        tc_code rc = decode_bool(v, &b, err, key);
        if (rc == TC_OK)
            req->binary_data_output = b ? 1 : 0;
        return rc;
    }
    if (strncmp(key, "triton_", 7) == 0)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "parameter keys starting with 'triton_' are reserved for Triton "
                             "usage and should not be specified.");
    if (key_is(key, "headers"))
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "parameter key 'headers' is reserved for Triton usage and should "
                             "not be specified.");
    tc_code rc = tc__jd_param(&req->params, key, v);
    if (rc == TC_E_NOMEM)
        return nomem(err);
    if (rc != TC_OK)
        return tc__error_set(err, rc, "parameter '%s' should be either 'int', 'bool', or 'string'.",
                             key);
    return TC_OK;
}

static tc_code decode_request_params(const tc__jl_value *params, tc__infer_request *req,
                                     tc__error *err)
{
    if (params == NULL)
        return TC_OK;
    if (!tc__jl_is(params, TC__JL_OBJECT))
        return unable(err, "parameters");
    for (const tc__jl_value *k = tc__jl_first(params); k != NULL; k = tc__jl_next(params, k)) {
        tc_code rc = decode_request_param(k->v.s, tc__jd_nonnull(tc__jl_member(k)), req, err);
        if (rc != TC_OK)
            return rc;
    }
    return TC_OK;
}

/* ---- request --------------------------------------------------------------- */

/* Header-less body (HTTP.md 6.5): one anonymous input holding everything. */
static tc_code decode_raw(const uint8_t *body, size_t body_len, tc__infer_request *req,
                          tc__error *err)
{
    req->inputs = tc__calloc(1, sizeof *req->inputs);
    if (req->inputs == NULL)
        return nomem(err);
    req->input_count = 1;
    req->inputs[0].name = tc__strdup("raw_input");
    if (req->inputs[0].name == NULL)
        return nomem(err);
    req->inputs[0].binary = true;
    req->inputs[0].data = body;
    req->inputs[0].byte_size = body_len;
    return TC_OK;
}

static tc_code decode_root(req_ctx *c, const tc__jl_value *root, tc__infer_request *req)
{
    if (!tc__jl_is(root, TC__JL_OBJECT))
        return tc__error_set(c->err, TC_E_INVALID_ARG,
                             "failed to parse the request JSON buffer: not a JSON object");
    const tc__jl_value *id = tc__jl_get(root, "id");
    if (id != NULL) {
        tc_code rc = member_rc(tc__jd_strdup(id, &req->id), c->err, "id");
        if (rc != TC_OK)
            return rc;
    }
    tc_code rc = decode_request_params(tc__jd_get(root, "parameters"), req, c->err);
    if (rc != TC_OK)
        return rc;
    rc = decode_inputs(c, tc__jd_get(root, "inputs"), req);
    if (rc != TC_OK)
        return rc;
    rc = decode_outputs(tc__jd_get(root, "outputs"), req, c->err);
    if (rc != TC_OK)
        return rc;
    if (c->pos != c->body_len)
        return tc__error_set(c->err, TC_E_INVALID_ARG, "unexpected additional input data%s%s%s",
                             model_suffix_fmt(c), c->model_name ? c->model_name : "",
                             c->model_name ? "'" : "");
    return TC_OK;
}

tc_code tc__v2_http_request_decode(const uint8_t *body, size_t body_len, size_t header_len,
                                   const tc__json_limits *limits, tc__infer_request *req,
                                   tc__error *err)
{
    tc__error local;
    if (err == NULL)
        err = &local;
    if (req == NULL || (body == NULL && body_len > 0))
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    memset(req, 0, sizeof *req);
    req->binary_data_output = -1;
    req_ctx c = {body, body_len, 0, TC__JSON_DEFAULT_MAX_DEPTH, TC__JSON_DEFAULT_MAX_INPUT_SIZE,
                 NULL, err};
    if (limits != NULL) {
        c.max_depth = limits->max_depth ? limits->max_depth : c.max_depth;
        c.max_input_size = limits->max_input_size ? limits->max_input_size : c.max_input_size;
        c.model_name = limits->model_name;
    }
    tc__jl_doc *doc = NULL;
    tc_code rc;
    size_t json_len = header_len == TC__NO_HEADER_LENGTH ? body_len : header_len;
    if (json_len > body_len) {
        rc = tc__error_set(err, TC_E_INVALID_ARG,
                           "inference header size should be in range (0, %zu], got: %zu", body_len,
                           header_len);
        goto out;
    }
    if (json_len == 0 && header_len == 0) {
        rc = decode_raw(body, body_len, req, err);
        goto out;
    }
    if (json_len > c.max_input_size) {
        rc = tc__error_set(err, TC_E_INVALID_ARG,
                           "request JSON size of %zu exceeds the maximum allowed value of %zu. "
                           "Use --http-max-input-size to increase the limit.",
                           json_len, c.max_input_size);
        goto out;
    }
    /* Room for root object, inputs array and input object above `data`, plus
     * one because the parser's limit counts as json-c's did (a value at
     * depth >= the limit fails); walk_data enforces max_depth on `data`
     * exactly. */
    doc = tc__jd_parse((const char *)body, json_len, c.max_depth + 4, "request JSON buffer", err);
    if (doc == NULL) {
        rc = err->code;
        goto out;
    }
    c.pos = json_len;
    rc = decode_root(&c, tc__jl_root(doc), req);
out:
    tc__jl_free(doc);
    if (rc != TC_OK)
        tc__infer_request_cleanup(req);
    return rc;
}

/* ---- encoding (client) ------------------------------------------------------- */

/* Keys the encoder writes itself; a custom parameter may not reuse them. */
static bool is_reserved_request_key(const char *key)
{
    static const char *const reserved[] = {"sequence_id", "sequence_start", "sequence_end",
                                           "priority",    "timeout",        "binary_data_output",
                                           "headers"};
    if (strncmp(key, "triton_", 7) == 0)
        return true;
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
        if (strcmp(key, reserved[i]) == 0)
            return true;
    }
    return false;
}

/* Write `,"key":` (or without the comma for the first member). */
static tc_code put_key(tc__buf *b, bool *first, const char *key)
{
    tc_code rc = TC_OK;
    if (!*first)
        rc = tc__buf_append(b, ",", 1);
    *first = false;
    if (rc == TC_OK)
        rc = tc__jw_cstr(b, key);
    if (rc == TC_OK)
        rc = tc__buf_append(b, ":", 1);
    return rc;
}

static tc_code put_u64_member(tc__buf *b, bool *first, const char *key, uint64_t v)
{
    tc_code rc = put_key(b, first, key);
    return rc != TC_OK ? rc : tc__jw_u64(b, v);
}

static tc_code put_bool_member(tc__buf *b, bool *first, const char *key, bool v)
{
    tc_code rc = put_key(b, first, key);
    if (rc != TC_OK)
        return rc;
    return v ? TC__JW_LIT(b, "true") : TC__JW_LIT(b, "false");
}

static tc_code put_str_member(tc__buf *b, bool *first, const char *key, const char *v)
{
    tc_code rc = put_key(b, first, key);
    return rc != TC_OK ? rc : tc__jw_cstr(b, v);
}

static tc_code put_params(tc__buf *b, bool *first, const tc__params *p)
{
    tc_code rc = TC_OK;
    for (size_t i = 0; i < p->count && rc == TC_OK; i++) {
        rc = put_key(b, first, p->items[i].key);
        if (rc == TC_OK)
            rc = tc__jw_param_value(b, &p->items[i]);
    }
    return rc;
}

static tc_code put_shm(tc__buf *b, bool *first, const tc__shm_ref *shm)
{
    tc_code rc = put_str_member(b, first, "shared_memory_region", shm->region);
    if (rc == TC_OK)
        rc = put_u64_member(b, first, "shared_memory_byte_size", shm->byte_size);
    if (rc == TC_OK && shm->offset != 0)
        rc = put_u64_member(b, first, "shared_memory_offset", shm->offset);
    return rc;
}

static tc_code encode_input(const tc__tensor *t, tc__buf *b, tc__error *err)
{
    const char *dtype = tc_dtype_name(t->dtype);
    if (t->name == NULL || dtype == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "input '%s' has no name or datatype",
                             t->name ? t->name : "");
    tc_code rc = TC__JW_LIT(b, "{\"name\":");
    if (rc == TC_OK)
        rc = tc__jw_cstr(b, t->name);
    if (rc == TC_OK)
        rc = TC__JW_LIT(b, ",\"shape\":");
    if (rc == TC_OK)
        rc = tc__jw_shape(b, t->shape, t->ndim);
    if (rc == TC_OK)
        rc = TC__JW_LIT(b, ",\"datatype\":");
    if (rc == TC_OK)
        rc = tc__jw_cstr(b, dtype);
    bool json_data = t->shm.region == NULL && !t->binary;
    if (rc == TC_OK && (!json_data || t->params.count > 0)) {
        bool first = true;
        rc = TC__JW_LIT(b, ",\"parameters\":{");
        if (rc == TC_OK && t->shm.region != NULL)
            rc = put_shm(b, &first, &t->shm);
        else if (rc == TC_OK && t->binary)
            rc = put_u64_member(b, &first, "binary_data_size", t->byte_size);
        if (rc == TC_OK)
            rc = put_params(b, &first, &t->params);
        if (rc == TC_OK)
            rc = tc__buf_append(b, "}", 1);
    }
    if (rc == TC_OK && json_data) {
        rc = TC__JW_LIT(b, ",\"data\":");
        if (rc == TC_OK)
            rc = tc__jw_tensor_data(b, t->dtype, t->data, t->byte_size, TC__JW_ASCII, t->name, err);
        if (rc != TC_OK)
            return rc == TC_E_NOMEM ? nomem(err) : rc;
    }
    if (rc == TC_OK)
        rc = tc__buf_append(b, "}", 1);
    return rc == TC_OK ? TC_OK : nomem(err);
}

/* Output parameters in the upstream client's order: classification,
 * binary_data, shared memory, then custom ones. */
static tc_code encode_output(const tc__requested_output *o, tc__buf *b)
{
    tc_code rc = TC__JW_LIT(b, "{\"name\":");
    if (rc == TC_OK)
        rc = tc__jw_cstr(b, o->name);
    bool any = o->class_count > 0 || o->binary >= 0 || o->shm.region != NULL || o->params.count > 0;
    if (rc != TC_OK || !any)
        return rc == TC_OK ? tc__buf_append(b, "}", 1) : rc;
    bool first = true;
    rc = TC__JW_LIT(b, ",\"parameters\":{");
    if (rc == TC_OK && o->class_count > 0)
        rc = put_u64_member(b, &first, "classification", o->class_count);
    /* Shared-memory outputs force binary_data to false, as upstream does. */
    if (rc == TC_OK && o->binary >= 0)
        rc = put_bool_member(b, &first, "binary_data", o->binary == 1 && o->shm.region == NULL);
    if (rc == TC_OK && o->shm.region != NULL)
        rc = put_shm(b, &first, &o->shm);
    if (rc == TC_OK)
        rc = put_params(b, &first, &o->params);
    if (rc == TC_OK)
        rc = TC__JW_LIT(b, "}}");
    return rc;
}

static bool has_sequence(const tc__infer_request *req)
{
    return req->sequence_id != 0 ||
           (req->sequence_id_str != NULL && req->sequence_id_str[0] != '\0');
}

static tc_code encode_request_params(const tc__infer_request *req, tc__buf *b, tc__error *err)
{
    for (size_t i = 0; i < req->params.count; i++) {
        if (is_reserved_request_key(req->params.items[i].key))
            return tc__error_set(err, TC_E_INVALID_ARG,
                                 "parameter '%s' is reserved and cannot be set as a custom "
                                 "parameter",
                                 req->params.items[i].key);
    }
    bool seq = has_sequence(req);
    if (!seq && req->priority == 0 && req->timeout_us == 0 && req->binary_data_output < 0 &&
        req->params.count == 0)
        return TC_OK;
    bool first = true;
    tc_code rc = TC__JW_LIT(b, ",\"parameters\":{");
    if (rc == TC_OK && seq) {
        if (req->sequence_id_str != NULL && req->sequence_id_str[0] != '\0')
            rc = put_str_member(b, &first, "sequence_id", req->sequence_id_str);
        else
            rc = put_u64_member(b, &first, "sequence_id", req->sequence_id);
        if (rc == TC_OK)
            rc = put_bool_member(b, &first, "sequence_start", req->sequence_start);
        if (rc == TC_OK)
            rc = put_bool_member(b, &first, "sequence_end", req->sequence_end);
    }
    if (rc == TC_OK && req->priority != 0)
        rc = put_u64_member(b, &first, "priority", req->priority);
    if (rc == TC_OK && req->timeout_us != 0)
        rc = put_u64_member(b, &first, "timeout", req->timeout_us);
    if (rc == TC_OK && req->binary_data_output >= 0)
        rc = put_bool_member(b, &first, "binary_data_output", req->binary_data_output == 1);
    if (rc == TC_OK)
        rc = put_params(b, &first, &req->params);
    if (rc == TC_OK)
        rc = tc__buf_append(b, "}", 1);
    return rc == TC_OK ? TC_OK : nomem(err);
}

tc_code tc__v2_http_request_encode(const tc__infer_request *req, tc__buf *json, tc__error *err)
{
    if (req == NULL || json == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    tc__error_clear(err);
    size_t start = json->len;
    tc_code rc = tc__buf_append(json, "{", 1);
    if (rc == TC_OK && req->id != NULL && req->id[0] != '\0') {
        rc = TC__JW_LIT(json, "\"id\":");
        if (rc == TC_OK)
            rc = tc__jw_cstr(json, req->id);
        if (rc == TC_OK)
            rc = tc__buf_append(json, ",", 1);
    }
    if (rc == TC_OK)
        rc = TC__JW_LIT(json, "\"inputs\":[");
    for (size_t i = 0; i < req->input_count && rc == TC_OK; i++) {
        if (i > 0)
            rc = tc__buf_append(json, ",", 1);
        if (rc == TC_OK)
            rc = encode_input(&req->inputs[i], json, err);
    }
    if (rc == TC_OK)
        rc = tc__buf_append(json, "]", 1);
    if (rc == TC_OK && req->output_count > 0) {
        rc = TC__JW_LIT(json, ",\"outputs\":[");
        for (size_t i = 0; i < req->output_count && rc == TC_OK; i++) {
            if (i > 0)
                rc = tc__buf_append(json, ",", 1);
            if (rc == TC_OK)
                rc = encode_output(&req->outputs[i], json);
        }
        if (rc == TC_OK)
            rc = tc__buf_append(json, "]", 1);
    }
    if (rc == TC_OK)
        rc = encode_request_params(req, json, err);
    if (rc == TC_OK)
        rc = tc__buf_append(json, "}", 1);
    if (rc != TC_OK) {
        /* Leave the buffer as it was; keep a more specific message if any. */
        json->len = start;
        if (json->data != NULL)
            json->data[start] = '\0';
        if (rc == TC_E_NOMEM)
            return nomem(err);
        if (err != NULL && err->code != rc)
            return tc__error_set(err, rc, "cannot encode the request");
    }
    return rc;
}
