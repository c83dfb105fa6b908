/* Infer response: encoding on the server, tolerant decoding on the client
 * (HTTP.md 6.3-6.4), and error bodies (section 0). */
#include <string.h>

#include "common/alloc.h"
#include "proto/v2_json.h"
#include "proto/v2_json_int.h"

static tc_code nomem(tc__error *err)
{
    return tc__error_set(err, TC_E_NOMEM, "out of memory");
}

/* ---- encoding (server) -------------------------------------------------------- */

/* Strings go out as UTF-8 (RAW mode), as Triton writes them. */
static tc_code put_raw_str(tc__buf *b, const char *s)
{
    if (s == NULL)
        s = "";
    return tc__jw_string(b, s, strlen(s), TC__JW_RAW);
}

static tc_code encode_output(const tc__tensor *t, tc__buf *b, tc__error *err)
{
    const char *dtype = tc_dtype_name(t->dtype);
    if (dtype == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "output '%s' has an invalid datatype",
                             t->name ? t->name : "");
    tc_code rc = TC__JW_LIT(b, "{\"name\":");
    if (rc == TC_OK)
        rc = put_raw_str(b, t->name);
    if (rc == TC_OK)
        rc = TC__JW_LIT(b, ",\"datatype\":\"");
    if (rc == TC_OK)
        rc = tc__buf_append_str(b, dtype);
    if (rc == TC_OK)
        rc = TC__JW_LIT(b, "\",\"shape\":");
    if (rc == TC_OK)
        rc = tc__jw_shape(b, t->shape, t->ndim);
    if (rc == TC_OK && t->shm.region == NULL) {
        if (t->binary) {
            rc = TC__JW_LIT(b, ",\"parameters\":{\"binary_data_size\":");
            if (rc == TC_OK)
                rc = tc__jw_u64(b, t->byte_size);
            if (rc == TC_OK)
                rc = tc__buf_append(b, "}", 1);
        } else {
            rc = TC__JW_LIT(b, ",\"data\":");
            if (rc == TC_OK)
                rc = tc__jw_tensor_data(b, t->dtype, t->data, t->byte_size, TC__JW_RAW,
                                        t->name ? t->name : "", err);
            if (rc != TC_OK)
                return rc == TC_E_NOMEM ? nomem(err) : rc;
        }
    }
    if (rc == TC_OK)
        rc = tc__buf_append(b, "}", 1);
    return rc == TC_OK ? TC_OK : nomem(err);
}

static tc_code encode_params(const tc__params *p, tc__buf *b)
{
    tc_code rc = TC__JW_LIT(b, ",\"parameters\":{");
    for (size_t i = 0; i < p->count && rc == TC_OK; i++) {
        if (i > 0)
            rc = tc__buf_append(b, ",", 1);
        if (rc == TC_OK)
            rc = put_raw_str(b, p->items[i].key);
        if (rc == TC_OK)
            rc = tc__buf_append(b, ":", 1);
        if (rc == TC_OK && p->items[i].type == TC__PARAM_STRING)
            rc = put_raw_str(b, p->items[i].v.s);
        else if (rc == TC_OK)
            rc = tc__jw_param_value(b, &p->items[i]);
    }
    if (rc == TC_OK)
        rc = tc__buf_append(b, "}", 1);
    return rc;
}

tc_code tc__v2_http_response_encode(const tc__infer_response *resp, tc__buf *json, tc__error *err)
{
    if (resp == NULL || json == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    tc__error_clear(err);
    size_t start = json->len;
    tc_code rc = tc__buf_reserve(json, 128 + 64 * resp->output_count);
    if (rc == TC_OK)
        rc = tc__buf_append(json, "{", 1);
    if (rc == TC_OK && resp->id != NULL && resp->id[0] != '\0') {
        rc = TC__JW_LIT(json, "\"id\":");
        if (rc == TC_OK)
            rc = put_raw_str(json, resp->id);
        if (rc == TC_OK)
            rc = tc__buf_append(json, ",", 1);
    }
    if (rc == TC_OK)
        rc = TC__JW_LIT(json, "\"model_name\":");
    if (rc == TC_OK)
        rc = put_raw_str(json, resp->model_name);
    if (rc == TC_OK)
        rc = TC__JW_LIT(json, ",\"model_version\":");
    if (rc == TC_OK)
        rc = put_raw_str(json, resp->model_version);
    if (rc == TC_OK && resp->params.count > 0)
        rc = encode_params(&resp->params, json);
    if (rc == TC_OK)
        rc = TC__JW_LIT(json, ",\"outputs\":[");
    for (size_t i = 0; i < resp->output_count && rc == TC_OK; i++) {
        if (i > 0)
            rc = tc__buf_append(json, ",", 1);
        if (rc == TC_OK)
            rc = encode_output(&resp->outputs[i], json, err);
    }
    if (rc == TC_OK)
        rc = TC__JW_LIT(json, "]}");
    if (rc != TC_OK) {
        json->len = start;
        if (json->data != NULL)
            json->data[start] = '\0';
        if (rc == TC_E_NOMEM)
            return nomem(err);
        if (err != NULL && err->code != rc)
            return tc__error_set(err, rc, "cannot encode the response");
    }
    return rc;
}

/* ---- decoding (client) --------------------------------------------------------- */

typedef struct resp_ctx {
    const uint8_t *body;
    size_t body_len;
    size_t pos;
    tc__error *err;
} resp_ctx;

static tc_code bad_response(tc__error *err, const char *what)
{
    return tc__error_set(err, TC_E_PROTOCOL, "invalid inference response: bad '%s'", what);
}

static tc_code decode_output_params(resp_ctx *c, const tc__jl_value *params, tc__tensor *t,
                                    bool *has_size, uint64_t *size)
{
    if (!tc__jl_is(params, TC__JL_OBJECT))
        return bad_response(c->err, "parameters");
    for (const tc__jl_value *k = tc__jl_first(params); k != NULL; k = tc__jl_next(params, k)) {
        const char *key = k->v.s;
        const tc__jl_value *v = tc__jd_nonnull(tc__jl_member(k));
        if (strcmp(key, "binary_data_size") == 0) {
            if (!tc__jl_u64(v, size))
                return bad_response(c->err, "binary_data_size");
            *has_size = true;
            continue;
        }
        /* Unknown scalar parameters are kept; anything else is skipped. */
        if (tc__jd_param(&t->params, key, v) == TC_E_NOMEM)
            return nomem(c->err);
    }
    return TC_OK;
}

static tc_code decode_output(resp_ctx *c, const tc__jl_value *o, tc__tensor *t)
{
    if (!tc__jl_is(o, TC__JL_OBJECT))
        return bad_response(c->err, "outputs");
    tc_code rc = tc__jd_strdup(tc__jd_get(o, "name"), &t->name);
    if (rc != TC_OK)
        return rc == TC_E_NOMEM ? nomem(c->err) : bad_response(c->err, "name");
    const tc__jl_value *dt = tc__jd_get(o, "datatype");
    if (!tc__jl_is(dt, TC__JL_STRING))
        return bad_response(c->err, "datatype");
    t->dtype = tc_dtype_from_name(dt->v.s);
    if (t->dtype == TC_DTYPE_INVALID)
        return bad_response(c->err, "datatype");
    rc = tc__jd_shape(tc__jd_get(o, "shape"), false, &t->shape, &t->ndim);
    if (rc != TC_OK)
        return rc == TC_E_NOMEM ? nomem(c->err) : bad_response(c->err, "shape");
    bool has_size = false;
    uint64_t size = 0;
    const tc__jl_value *params = tc__jd_get(o, "parameters");
    if (params != NULL) {
        rc = decode_output_params(c, params, t, &has_size, &size);
        if (rc != TC_OK)
            return rc;
    }
    if (has_size) {
        if (size > c->body_len - c->pos)
            return tc__error_set(c->err, TC_E_PROTOCOL,
                                 "invalid inference response: output '%s' needs %llu bytes, "
                                 "%zu left",
                                 t->name, (unsigned long long)size, c->body_len - c->pos);
        t->binary = true;
        t->data = c->body + c->pos;
        t->byte_size = (size_t)size;
        c->pos += (size_t)size;
        return TC_OK;
    }
    const tc__jl_value *data = tc__jd_get(o, "data");
    if (data == NULL)
        return TC_OK; /* shared memory output, or nothing to return */
    rc = tc__jd_tensor_data(data, t, TC__JSON_DEFAULT_MAX_DEPTH, 0, c->err);
    if (rc == TC_E_INVALID_ARG)
        c->err->code = TC_E_PROTOCOL;
    return rc == TC_E_INVALID_ARG ? TC_E_PROTOCOL : rc;
}

static tc_code decode_response_params(const tc__jl_value *params, tc__infer_response *resp,
                                      tc__error *err)
{
    if (params == NULL)
        return TC_OK;
    if (!tc__jl_is(params, TC__JL_OBJECT))
        return bad_response(err, "parameters");
    for (const tc__jl_value *k = tc__jl_first(params); k != NULL; k = tc__jl_next(params, k)) {
        tc_code rc = tc__jd_param(&resp->params, k->v.s, tc__jd_nonnull(tc__jl_member(k)));
        if (rc == TC_E_NOMEM)
            return nomem(err);
    }
    return TC_OK;
}

/* Copy an optional string member; absent and null leave *out NULL. */
static tc_code opt_string(const tc__jl_value *obj, const char *key, char **out, tc__error *err)
{
    const tc__jl_value *v = tc__jd_get(obj, key);
    if (v == NULL)
        return TC_OK;
    tc_code rc = tc__jd_strdup(v, out);
    if (rc == TC_E_NOMEM)
        return nomem(err);
    return rc == TC_OK ? TC_OK : bad_response(err, key);
}

static tc_code decode_response_root(resp_ctx *c, const tc__jl_value *root, tc__infer_response *resp)
{
    if (!tc__jl_is(root, TC__JL_OBJECT))
        return bad_response(c->err, "root");
    tc_code rc = opt_string(root, "id", &resp->id, c->err);
    if (rc == TC_OK)
        rc = opt_string(root, "model_name", &resp->model_name, c->err);
    if (rc == TC_OK)
        rc = opt_string(root, "model_version", &resp->model_version, c->err);
    if (rc == TC_OK)
        rc = decode_response_params(tc__jd_get(root, "parameters"), resp, c->err);
    if (rc != TC_OK)
        return rc;
    const tc__jl_value *outs = tc__jd_get(root, "outputs");
    if (outs == NULL)
        return TC_OK;
    if (!tc__jl_is(outs, TC__JL_ARRAY))
        return bad_response(c->err, "outputs");
    size_t n = outs->len;
    resp->outputs = tc__calloc(n ? n : 1, sizeof *resp->outputs);
    if (resp->outputs == NULL)
        return nomem(c->err);
    size_t i = 0;
    for (const tc__jl_value *e = tc__jl_first(outs); e != NULL; e = tc__jl_next(outs, e), i++) {
        resp->output_count = i + 1;
        rc = decode_output(c, tc__jd_nonnull(e), &resp->outputs[i]);
        if (rc != TC_OK)
            return rc;
    }
    return TC_OK;
}

tc_code tc__v2_http_response_decode(const uint8_t *body, size_t body_len, size_t header_len,
                                    tc__infer_response *resp, tc__error *err)
{
    tc__error local;
    if (err == NULL)
        err = &local;
    if (resp == NULL || (body == NULL && body_len > 0))
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    memset(resp, 0, sizeof *resp);
    size_t json_len = header_len == TC__NO_HEADER_LENGTH ? body_len : header_len;
    if (json_len > body_len)
        return tc__error_set(err, TC_E_PROTOCOL,
                             "invalid inference response: header length %zu exceeds body "
                             "length %zu",
                             json_len, body_len);
    /* Outputs are flat in practice; allow the request-side nesting anyway. */
    tc__jl_doc *doc = tc__jd_parse((const char *)body, json_len, TC__JSON_DEFAULT_MAX_DEPTH + 4,
                                   "response JSON", err);
    if (doc == NULL) {
        if (err->code != TC_E_NOMEM)
            err->code = TC_E_PROTOCOL;
        return err->code;
    }
    resp_ctx c = {body, body_len, json_len, err};
    tc_code rc = decode_response_root(&c, tc__jl_root(doc), resp);
    tc__jl_free(doc);
    if (rc != TC_OK)
        tc__infer_response_cleanup(resp);
    return rc;
}

/* ---- errors ------------------------------------------------------------------- */

tc_code tc__v2_error_encode(const char *msg, tc__buf *json)
{
    if (json == NULL)
        return TC_E_INVALID_ARG;
    size_t start = json->len;
    tc_code rc = TC__JW_LIT(json, "{\"error\":");
    if (rc == TC_OK)
        rc = put_raw_str(json, msg);
    if (rc == TC_OK)
        rc = tc__buf_append(json, "}", 1);
    if (rc != TC_OK) {
        json->len = start;
        if (json->data != NULL)
            json->data[start] = '\0';
    }
    return rc;
}

void tc__v2_error_decode(const uint8_t *body, size_t len, tc_code code, tc__error *err)
{
    if (err == NULL)
        return;
    err->code = code;
    err->msg[0] = '\0';
    if (body == NULL || len == 0)
        return;
    tc__error scratch;
    tc__jl_doc *doc = tc__jd_parse((const char *)body, len, 8, "error", &scratch);
    const tc__jl_value *e = tc__jd_get(tc__jl_root(doc), "error");
    if (tc__jl_is(e, TC__JL_STRING)) {
        tc__error_set(err, code, "%s", e->v.s);
    } else {
        size_t n = len < sizeof err->msg - 1 ? len : sizeof err->msg - 1;
        memcpy(err->msg, body, n);
        err->msg[n] = '\0';
    }
    tc__jl_free(doc);
}
