/* POST /v2/models/<m>[/versions/<v>]/infer: decode, hand to the core with
 * the connection suspended, encode the answer on the instance thread and
 * resume. Output blobs go out without a copy (iovec response) unless the
 * response is compressed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "frontend/http/http_internal.h"
#include "proto/model_config.h"
#include "proto/v2_json.h"

/* Response storage kept alive until MHD has sent it. */
typedef struct hold {
    tc__infer_response *resp;
    uint8_t *json;
} hold;

static void hold_free(void *cls)
{
    hold *h = cls;
    tc__core_response_free(h->resp);
    tc__free(h->json);
    tc__free(h);
}

static bool blob(const tc__tensor *t)
{
    return t->binary && t->shm.region == NULL && t->byte_size > 0;
}

static tc__http_reply compressed(int enc, const tc__buf *json, tc__infer_response *resp,
                                 bool any_binary)
{
    tc__http_reply reply = {200, NULL};
    tc__buf whole = TC__BUF_INIT;
    tc__buf z = TC__BUF_INIT;
    bool ok = tc__buf_append(&whole, json->data, json->len) == TC_OK;
    for (size_t i = 0; ok && i < resp->output_count; i++) {
        if (blob(&resp->outputs[i]))
            ok = tc__buf_append(&whole, resp->outputs[i].data, resp->outputs[i].byte_size) == TC_OK;
    }
    if (ok && tc__http_compress(enc, whole.data, whole.len, &z)) {
        size_t len;
        uint8_t *p = tc__buf_steal(&z, &len);
        reply.response = MHD_create_response_from_buffer_with_free_callback(len, p, tc__free);
        if (reply.response == NULL)
            tc__free(p);
        else
            (void)MHD_add_response_header(reply.response, "Content-Encoding",
                                          enc == 2 ? "gzip" : "deflate");
    } else if (ok) {
        /* Compression failed: send it as is. */
        size_t len;
        uint8_t *p = tc__buf_steal(&whole, &len);
        reply.response = MHD_create_response_from_buffer_with_free_callback(len, p, tc__free);
        if (reply.response == NULL)
            tc__free(p);
    }
    (void)any_binary;
    tc__buf_cleanup(&whole);
    tc__buf_cleanup(&z);
    return reply;
}

static tc__http_reply plain(tc__buf *json, tc__infer_response *resp, bool *owned)
{
    tc__http_reply reply = {200, NULL};
    size_t n = 1;
    for (size_t i = 0; i < resp->output_count; i++)
        n += blob(&resp->outputs[i]) ? 1 : 0;
    struct MHD_IoVec *iov = tc__calloc(n, sizeof *iov);
    hold *h = tc__calloc(1, sizeof *h);
    if (iov == NULL || h == NULL) {
        tc__free(iov);
        tc__free(h);
        return reply;
    }
    size_t json_len = json->len;
    h->json = tc__buf_steal(json, NULL);
    h->resp = resp;
    iov[0].iov_base = h->json;
    iov[0].iov_len = json_len;
    size_t k = 1;
    for (size_t i = 0; i < resp->output_count; i++) {
        if (blob(&resp->outputs[i])) {
            iov[k].iov_base = resp->outputs[i].data;
            iov[k].iov_len = resp->outputs[i].byte_size;
            k++;
        }
    }
    reply.response = MHD_create_response_from_iovec(iov, (unsigned)n, hold_free, h);
    tc__free(iov);
    if (reply.response == NULL) {
        h->resp = NULL;
        hold_free(h);
    } else {
        *owned = true;
    }
    return reply;
}

/* Build the reply for a response; takes ownership of `resp`. */
static tc__http_reply encode_response(tc__infer_response *resp, int enc)
{
    tc__buf json = TC__BUF_INIT;
    tc__error err;
    tc__error_clear(&err);
    tc__http_reply reply;
    bool owned = false;
    if (tc__v2_http_response_encode(resp, &json, &err) != TC_OK) {
        reply = tc__http_reply_error(err.code != TC_OK ? err.code : TC_E_INTERNAL, err.msg);
        goto out;
    }
    bool any_binary = false;
    for (size_t i = 0; i < resp->output_count; i++)
        any_binary = any_binary || blob(&resp->outputs[i]);
    /* Pad the JSON header with spaces (valid trailing JSON whitespace) to a
     * multiple of 8 bytes, so the first binary output starts aligned for any
     * element type in the client's receive buffer. */
    while (any_binary && json.len % 8 != 0) {
        if (tc__buf_append(&json, " ", 1) != TC_OK)
            break;
    }
    size_t json_len = json.len;
    reply = enc != 0 ? compressed(enc, &json, resp, any_binary) : plain(&json, resp, &owned);
    if (reply.response == NULL) {
        reply = tc__http_reply_status(500, "out of memory");
        goto out;
    }
    (void)MHD_add_response_header(reply.response, MHD_HTTP_HEADER_CONTENT_TYPE,
                                  any_binary ? "application/octet-stream" : "application/json");
    if (any_binary) {
        char len[32];
        (void)snprintf(len, sizeof len, "%zu", json_len);
        (void)MHD_add_response_header(reply.response, "Inference-Header-Content-Length", len);
    }
out:
    tc__buf_cleanup(&json);
    if (!owned)
        tc__core_response_free(resp);
    return reply;
}

/* Runs on a model instance thread. */
static void infer_done(tc__infer_response *resp, const tc__error *err, void *user_data)
{
    tc__http_req *r = user_data;
    tc__trace_stamp(r->trace, "HTTP_SEND_START");
    tc__http_answer(r, resp != NULL ? encode_response(resp, r->accept_encoding)
                                    : tc__http_reply_error(err->code, err->msg));
}

/* ---- raw binary request (HTTP.md 6.5) -------------------------------------------------- */

static tc_code raw_shape(const Inference__ModelInput *in, bool batching, size_t len, int64_t *shape,
                         size_t *ndim, tc__error *err)
{
    tc_dtype t = (tc_dtype)in->data_type;
    size_t n = 0;
    if (batching)
        shape[n++] = 1;
    if (t == TC_DTYPE_BYTES) {
        shape[n++] = 1;
        *ndim = n;
        return TC_OK;
    }
    size_t es = tc_dtype_size(t);
    if (es == 0 || len % es != 0 || in->n_dims > 8)
        return tc__error_set(err, TC_E_INVALID_ARG, "unexpected size for raw input '%s'", in->name);
    uint64_t known = 1;
    size_t variable = SIZE_MAX;
    for (size_t i = 0; i < in->n_dims; i++) {
        if (in->dims[i] < 0) {
            if (variable != SIZE_MAX)
                return tc__error_set(err, TC_E_INVALID_ARG,
                                     "raw input '%s' may have at most one variable dimension",
                                     in->name);
            variable = n + i;
        } else {
            known *= (uint64_t)in->dims[i];
        }
        shape[n + i] = in->dims[i];
    }
    n += in->n_dims;
    uint64_t elems = len / es;
    if (variable != SIZE_MAX && known > 0)
        shape[variable] = (int64_t)(elems / known);
    *ndim = n;
    return TC_OK;
}

static tc_code raw_request(const Inference__ModelConfig *cfg, const uint8_t *body, size_t len,
                           tc__infer_request *req, tc__error *err)
{
    memset(req, 0, sizeof *req);
    req->binary_data_output = 1;
    if (cfg->n_input != 1)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "Raw request must only have 1 input (found %zu) to be deduced but "
                             "got %zu inputs in '%s' model configuration",
                             (size_t)1, cfg->n_input, cfg->name);
    int64_t shape[10];
    size_t ndim = 0;
    tc_code rc = raw_shape(cfg->input[0], cfg->max_batch_size > 0, len, shape, &ndim, err);
    if (rc != TC_OK)
        return rc;
    req->inputs = tc__calloc(1, sizeof *req->inputs);
    if (req->inputs == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    req->input_count = 1;
    tc__tensor *t = &req->inputs[0];
    t->name = tc__strdup(cfg->input[0]->name);
    t->shape = tc__memdup(shape, ndim * sizeof *shape);
    t->ndim = ndim;
    t->dtype = (tc_dtype)cfg->input[0]->data_type;
    t->data = body;
    t->byte_size = len;
    t->binary = true;
    if (t->name == NULL || t->shape == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    return TC_OK;
}

/* ---- entry ------------------------------------------------------------------------------ */

static bool header_length(tc__http_req *r, size_t body_len, size_t *out, tc__http_reply *reply)
{
    *out = TC__NO_HEADER_LENGTH;
    const char *h =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Inference-Header-Content-Length");
    if (h == NULL)
        return true;
    char *end = NULL;
    unsigned long long v = strtoull(h, &end, 10);
    if (end == h || *end != '\0' || h[0] < '0' || h[0] > '9' || v > (unsigned long long)body_len) {
        char msg[256];
        (void)snprintf(msg, sizeof msg,
                       "inference header size should be in range (0, %zu), got: %.40s", body_len,
                       h);
        *reply = tc__http_reply_status(400, msg);
        return false;
    }
    *out = (size_t)v;
    return true;
}

static tc_code decode(tc__http_req *r, const uint8_t *body, size_t len, size_t header_len,
                      tc__error *err, bool *decoupled)
{
    tc__model_handle *mh = NULL;
    tc__core *core = r->srv->core;
    tc_code rc = tc__core_model_acquire(core, r->route.model, r->route.version, &mh, err);
    if (rc != TC_OK)
        return rc;
    const Inference__ModelConfig *cfg = tc__model_handle_config(mh);
    *decoupled = cfg->model_transaction_policy != NULL && cfg->model_transaction_policy->decoupled;
    if (*decoupled) {
        rc = tc__error_set(err, TC_E_NOT_SUPPORTED,
                           "HTTP end point doesn't support models with decoupled transaction "
                           "policy");
    } else if (header_len == 0 && len > 0) {
        rc = raw_request(cfg, body, len, &r->infer, err);
        r->infer_live = true;
    } else {
        tc__json_limits limits = {100, r->srv->max_input_size, r->route.model};
        rc = tc__v2_http_request_decode(body, len, header_len, &limits, &r->infer, err);
        r->infer_live = rc == TC_OK;
    }
    tc__model_handle_release(mh);
    if (rc != TC_OK)
        return rc;
    r->infer.model_name = tc__strdup(r->route.model);
    r->infer.model_version = r->route.version != NULL ? tc__strdup(r->route.version) : NULL;
    if (r->infer.model_name == NULL || (r->route.version != NULL && r->infer.model_version == NULL))
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    return TC_OK;
}

bool tc__http_infer_start(tc__http_req *r, tc__http_reply *reply)
{
    size_t len = r->body.len;
    const uint8_t *body = r->body.data;
    size_t plain_len = 0;
    if (!tc__http_decompress(r->conn, &r->body, r->srv->max_input_size, &r->plain, &plain_len,
                             reply))
        return false;
    if (r->plain != NULL) {
        body = r->plain;
        len = plain_len;
    }
    static const uint8_t empty[1] = {0};
    if (body == NULL)
        body = empty;
    size_t header_len;
    if (!header_length(r, len, &header_len, reply))
        return false;
    tc__error err;
    tc__error_clear(&err);
    bool decoupled = false;
    if (decode(r, body, len, header_len, &err, &decoupled) != TC_OK) {
        *reply = tc__http_reply_error(err.code, err.msg);
        return false;
    }
    r->accept_encoding = tc__http_pick_encoding(
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Accept-Encoding"));
    /* Small requests to cheap models run right here: a hand-off to an
     * instance thread and back would cost more than the execution. */
    tc__infer_response *resp = NULL;
    tc_code inline_rc =
        tc__core_infer_inline_traced(r->srv->core, &r->infer, r->trace, &resp, &err);
    if (inline_rc != TC_E_BUSY) {
        tc__trace_stamp(r->trace, "HTTP_SEND_START");
        *reply = resp != NULL ? encode_response(resp, r->accept_encoding)
                              : tc__http_reply_error(err.code, err.msg);
        return false;
    }
    /* Held across the submission: the callback answers (taking this lock)
     * only once the connection is suspended. */
    pthread_mutex_lock(&r->lock);
    tc__http_suspend_locked(r);
    tc_code rc =
        tc__core_infer_async_traced(r->srv->core, &r->infer, r->trace, infer_done, r, &err);
    pthread_mutex_unlock(&r->lock);
    if (rc != TC_OK)
        tc__http_answer(r, tc__http_reply_error(err.code, err.msg)); /* no callback will */
    return true;
}
