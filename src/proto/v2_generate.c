/* The generate extension's JSON (HTTP.md section 15, EXTENSIONS.md
 * "generate"): a flat request object whose keys are model inputs or request
 * parameters, and a flat response object whose keys are the outputs. */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "proto/v2_json.h"
#include "proto/v2_json_int.h"

/* Nesting allowed in a request: the object, "parameters", and a 1-D array. */
#define GENERATE_MAX_DEPTH 4

static const tc__tensor_meta *find_input(const tc__tensor_meta *in, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(in[i].name, name) == 0)
            return &in[i];
    }
    return NULL;
}

/* Shape the `count` elements given for `in`: fixed dimensions take their
 * share, the innermost variable one the rest, other variable ones 1. */
static tc_code shape_for(const tc__tensor_meta *in, size_t count, int64_t *shape, tc__error *err)
{
    size_t left = count;
    for (size_t i = in->ndim; i-- > 0;) {
        shape[i] = in->shape[i];
        if (in->shape[i] < 0)
            continue;
        if (in->shape[i] == 0 || left % (size_t)in->shape[i] != 0)
            goto bad;
        left /= (size_t)in->shape[i];
    }
    for (size_t i = in->ndim; i-- > 0;) {
        if (shape[i] < 0) {
            shape[i] = (int64_t)left;
            left = 1;
        }
    }
    if (left == 1)
        return TC_OK;
bad:
    return tc__error_set(err, TC_E_INVALID_ARG,
                         "The schema can not convert input '%s' to tensor with proper shape",
                         in->name);
}

static tc_code add_tensor(tc__infer_request *req, const tc__tensor_meta *in, const tc__jl_value *v,
                          size_t max_size, tc__error *err)
{
    for (size_t i = 0; i < req->input_count; i++) {
        if (strcmp(req->inputs[i].name, in->name) == 0)
            return tc__error_set(err, TC_E_INVALID_ARG, "input '%s' already exists in request",
                                 in->name);
    }
    if (in->ndim > 16)
        return tc__error_set(err, TC_E_INVALID_ARG, "input '%s' has too many dimensions", in->name);
    size_t count = tc__jl_is(v, TC__JL_ARRAY) ? v->len : 1;
    int64_t shape[16];
    tc_code rc = shape_for(in, count, shape, err);
    if (rc != TC_OK)
        return rc;
    tc__tensor *grown = tc__reallocarray(req->inputs, req->input_count + 1, sizeof *grown);
    if (grown == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    req->inputs = grown;
    tc__tensor *t = &grown[req->input_count];
    memset(t, 0, sizeof *t);
    req->input_count++;
    t->name = tc__strdup(in->name);
    t->shape = tc__memdup(shape, (in->ndim > 0 ? in->ndim : 1) * sizeof *shape);
    t->ndim = in->ndim;
    t->dtype = in->dtype;
    if (t->name == NULL || t->shape == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    /* One level of array: the value is a scalar or a flat list. */
    return tc__jd_tensor_value(v, t, 1, max_size, err);
}

/* Keys of `obj`: inputs become tensors, the rest request parameters;
 * "parameters" (at the top only) is read the same way, "id" (top) is the
 * request id. */
static tc_code read_members(const tc__jl_value *obj, bool top, const tc__tensor_meta *inputs,
                            size_t input_count, size_t max_size, tc__infer_request *req,
                            tc__error *err)
{
    for (const tc__jl_value *k = tc__jl_first(obj); k != NULL; k = tc__jl_next(obj, k)) {
        const char *key = k->v.s;
        const tc__jl_value *v = tc__jl_member(k);
        const tc__tensor_meta *in = find_input(inputs, input_count, key);
        tc_code rc;
        if (in != NULL) {
            rc = add_tensor(req, in, v, max_size, err);
        } else if (top && strcmp(key, "parameters") == 0) {
            if (!tc__jl_is(v, TC__JL_OBJECT))
                return tc__error_set(err, TC_E_INVALID_ARG,
                                     "Expected JSON object for keyword: 'parameters'");
            rc = read_members(v, false, inputs, input_count, max_size, req, err);
        } else if (top && strcmp(key, "id") == 0 && tc__jl_is(v, TC__JL_STRING)) {
            tc__free(req->id);
            rc = tc__jd_strdup(v, &req->id);
            if (rc == TC_E_INVALID_ARG)
                rc = tc__error_set(err, rc, "request 'id' must not contain NUL characters");
            else if (rc != TC_OK)
                rc = tc__error_set(err, rc, "out of memory");
        } else {
            rc = tc__jd_param(&req->params, key, v);
            if (rc == TC_E_INVALID_ARG || (rc == TC_OK && tc__jl_is(v, TC__JL_DOUBLE)))
                rc = tc__error_set(err, TC_E_INVALID_ARG,
                                   "parameter '%s' has invalid type. It should be either 'int', "
                                   "'bool', or 'string'.",
                                   key);
            else if (rc != TC_OK)
                rc = tc__error_set(err, rc, "out of memory");
        }
        if (rc != TC_OK)
            return rc;
    }
    return TC_OK;
}

tc_code tc__v2_generate_request_decode(const uint8_t *body, size_t len,
                                       const tc__tensor_meta *inputs, size_t input_count,
                                       size_t max_size, tc__infer_request *req, tc__error *err)
{
    memset(req, 0, sizeof *req);
    req->binary_data_output = -1;
    tc__jl_doc *doc = tc__jd_parse((const char *)body, len, GENERATE_MAX_DEPTH,
                                   "failed to parse the request JSON buffer", err);
    if (doc == NULL)
        return err->code;
    const tc__jl_value *root = tc__jl_root(doc);
    tc_code rc;
    if (!tc__jl_is(root, TC__JL_OBJECT))
        rc = tc__error_set(err, TC_E_INVALID_ARG, "generate request must be a JSON object");
    else
        rc = read_members(root, true, inputs, input_count, max_size, req, err);
    tc__jl_free(doc);
    if (rc != TC_OK)
        tc__infer_request_cleanup(req);
    return rc;
}

/* ---- response ------------------------------------------------------------------------ */

typedef enum key_kind { KEY_TEXT, KEY_PARAM, KEY_OUTPUT } key_kind;

typedef struct key {
    const char *name;
    key_kind kind;
    const char *text;       /* KEY_TEXT */
    const tc__param *param; /* KEY_PARAM */
    const tc__tensor *out;  /* KEY_OUTPUT */
} key;

static int cmp_key(const void *a, const void *b)
{
    return strcmp(((const key *)a)->name, ((const key *)b)->name);
}

/* Add unless the name is taken (the first one stays, as upstream's map). */
static void add_key(key *keys, size_t *n, key k)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(keys[i].name, k.name) == 0)
            return;
    }
    keys[(*n)++] = k;
}

/* An output's elements: a bare value for one element, else a flat list. */
static tc_code put_output(tc__buf *b, const tc__tensor *t, tc__error *err)
{
    size_t count = 0;
    if (!tc__shape_elements(t->shape, t->ndim, &count))
        return tc__error_set(err, TC_E_INVALID_ARG, "output '%s' has an invalid shape", t->name);
    tc__buf list = TC__BUF_INIT;
    tc_code rc =
        tc__jw_tensor_data(&list, t->dtype, t->data, t->byte_size, TC__JW_RAW, t->name, err);
    if (rc == TC_OK && count == 1 && list.len >= 2)
        rc = tc__jw_raw(b, (const char *)list.data + 1, list.len - 2);
    else if (rc == TC_OK)
        rc = tc__jw_raw(b, (const char *)list.data, list.len);
    tc__buf_cleanup(&list);
    return rc;
}

tc_code tc__v2_generate_response_encode(const tc__infer_response *resp, tc__buf *json,
                                        tc__error *err)
{
    size_t cap = 3 + resp->params.count + resp->output_count;
    key *keys = tc__calloc(cap, sizeof *keys);
    if (keys == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    size_t n = 0;
    if (resp->id != NULL && resp->id[0] != '\0')
        add_key(keys, &n, (key){"id", KEY_TEXT, resp->id, NULL, NULL});
    add_key(keys, &n,
            (key){"model_name", KEY_TEXT, resp->model_name ? resp->model_name : "", NULL, NULL});
    add_key(keys, &n,
            (key){"model_version", KEY_TEXT, resp->model_version ? resp->model_version : "", NULL,
                  NULL});
    for (size_t i = 0; i < resp->params.count; i++)
        add_key(keys, &n,
                (key){resp->params.items[i].key, KEY_PARAM, NULL, &resp->params.items[i], NULL});
    for (size_t i = 0; i < resp->output_count; i++)
        add_key(keys, &n, (key){resp->outputs[i].name, KEY_OUTPUT, NULL, NULL, &resp->outputs[i]});
    qsort(keys, n, sizeof *keys, cmp_key);
    tc_code rc = TC__JW_LIT(json, "{");
    for (size_t i = 0; i < n && rc == TC_OK; i++) {
        if (i > 0)
            rc = TC__JW_LIT(json, ",");
        if (rc == TC_OK)
            rc = tc__jw_string(json, keys[i].name, strlen(keys[i].name), TC__JW_RAW);
        if (rc == TC_OK)
            rc = TC__JW_LIT(json, ":");
        if (rc != TC_OK)
            break;
        if (keys[i].kind == KEY_TEXT)
            rc = tc__jw_string(json, keys[i].text, strlen(keys[i].text), TC__JW_RAW);
        else if (keys[i].kind == KEY_PARAM)
            rc = tc__jw_param_value(json, keys[i].param);
        else
            rc = put_output(json, keys[i].out, err);
    }
    if (rc == TC_OK)
        rc = TC__JW_LIT(json, "}");
    tc__free(keys);
    if (rc != TC_OK && err->code == TC_OK)
        tc__error_set(err, rc, "out of memory");
    return rc;
}
