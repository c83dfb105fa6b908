/* Retry helpers: failure classification, exponential backoff with jitter,
 * and a deep copy of tc_request for async resends. */
#include "client/retry.h"

#include <string.h>

#include "client/request_internal.h"
#include "common/alloc.h"

tc_code tc__retry_cfg_set(tc__retry_cfg *cfg, uint32_t max_attempts, uint64_t initial_backoff_us,
                          uint64_t max_backoff_us)
{
    if (max_attempts > 1 && (initial_backoff_us == 0 || max_backoff_us < initial_backoff_us))
        return TC_E_INVALID_ARG;
    cfg->max_attempts = max_attempts;
    cfg->initial_backoff_us = max_attempts > 1 ? initial_backoff_us : 0;
    cfg->max_backoff_us = max_attempts > 1 ? max_backoff_us : 0;
    return TC_OK;
}

/* Wording of the transports (libcurl, the lean HTTP transport, gRPC) for
 * failures before the request was fully sent. */
static const char *const k_unsent[] = {
    "Failed to connect",    "failed to connect",   "Couldn't connect", "Could not connect",
    "Could not resolve",    "Couldn't resolve",    "cannot resolve",   "Send failure",
    "Failed sending data",  "refused the stream",  "REFUSED_STREAM",   "Connection refused",
};

tc__fail_kind tc__retry_classify(tc_code code, const char *msg)
{
    if (code != TC_E_TRANSPORT && code != TC_E_UNAVAILABLE)
        return TC__FAIL_FINAL;
    if (msg != NULL) {
        for (size_t i = 0; i < sizeof k_unsent / sizeof k_unsent[0]; i++) {
            if (strstr(msg, k_unsent[i]) != NULL)
                return TC__FAIL_UNSENT;
        }
    }
    return TC__FAIL_SENT;
}

bool tc__retry_allowed(tc__fail_kind kind, bool idempotent)
{
    return kind == TC__FAIL_UNSENT || (kind == TC__FAIL_SENT && idempotent);
}

static uint64_t next_rand(uint64_t *s)
{
    /* xorshift64* */
    uint64_t x = *s != 0 ? *s : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

uint64_t tc__retry_backoff_us(const tc__retry_cfg *cfg, uint32_t attempt, uint64_t *rng)
{
    uint64_t b = cfg->initial_backoff_us;
    for (uint32_t i = 1; i < attempt && b < cfg->max_backoff_us; i++)
        b = b > UINT64_MAX / 2 ? UINT64_MAX : b * 2;
    if (b > cfg->max_backoff_us)
        b = cfg->max_backoff_us;
    uint64_t half = b / 2;
    return b - half + next_rand(rng) % (half + 1);
}

/* ---- request copy ---------------------------------------------------------------- */

static tc_code dup_str(char **dst, const char *src)
{
    *dst = NULL;
    if (src == NULL)
        return TC_OK;
    *dst = tc__strdup(src);
    return *dst == NULL ? TC_E_NOMEM : TC_OK;
}

static tc_code copy_params(tc__params *dst, const tc__params *src)
{
    memset(dst, 0, sizeof *dst);
    tc_code rc = TC_OK;
    for (size_t i = 0; rc == TC_OK && i < src->count; i++) {
        const tc__param *p = &src->items[i];
        switch (p->type) {
        case TC__PARAM_BOOL:
            rc = tc__params_add_bool(dst, p->key, p->v.b);
            break;
        case TC__PARAM_INT64:
            rc = tc__params_add_int64(dst, p->key, p->v.i64);
            break;
        case TC__PARAM_UINT64:
            rc = tc__params_add_uint64(dst, p->key, p->v.u64);
            break;
        case TC__PARAM_DOUBLE:
            rc = tc__params_add_double(dst, p->key, p->v.d);
            break;
        case TC__PARAM_STRING:
            rc = tc__params_add_string(dst, p->key, p->v.s);
            break;
        }
    }
    return rc;
}

static tc_code copy_shm(tc__shm_ref *dst, const tc__shm_ref *src)
{
    *dst = *src;
    return dup_str(&dst->region, src->region);
}

static tc_code copy_tensor(tc__tensor *dst, const tc__tensor *src)
{
    memset(dst, 0, sizeof *dst);
    dst->dtype = src->dtype;
    dst->ndim = src->ndim;
    dst->binary = src->binary;
    dst->byte_size = src->byte_size;
    tc_code rc = dup_str(&dst->name, src->name);
    if (rc == TC_OK && src->ndim > 0) {
        dst->shape = tc__memdup(src->shape, src->ndim * sizeof *src->shape);
        if (dst->shape == NULL)
            rc = TC_E_NOMEM;
    }
    if (rc == TC_OK)
        rc = copy_shm(&dst->shm, &src->shm);
    if (rc == TC_OK)
        rc = copy_params(&dst->params, &src->params);
    if (rc == TC_OK && src->owned != NULL && src->data != NULL) {
        dst->owned = tc__memdup(src->data, src->byte_size);
        dst->data = dst->owned;
        if (dst->owned == NULL)
            rc = TC_E_NOMEM;
    } else if (rc == TC_OK) {
        dst->data = src->data;
    }
    return rc;
}

static tc_code copy_output(tc__requested_output *dst, const tc__requested_output *src)
{
    memset(dst, 0, sizeof *dst);
    dst->binary = src->binary;
    dst->class_count = src->class_count;
    tc_code rc = dup_str(&dst->name, src->name);
    if (rc == TC_OK)
        rc = copy_shm(&dst->shm, &src->shm);
    if (rc == TC_OK)
        rc = copy_params(&dst->params, &src->params);
    return rc;
}

static tc_code copy_data(tc__input_data *dst, const tc__input_data *src)
{
    memset(dst, 0, sizeof *dst);
    dst->typed = src->typed;
    dst->byte_size = src->byte_size;
    if (src->count == 0)
        return TC_OK;
    dst->chunks = tc__calloc(src->count, sizeof *dst->chunks);
    if (dst->chunks == NULL)
        return TC_E_NOMEM;
    for (size_t i = 0; i < src->count; i++) {
        const tc__chunk *c = &src->chunks[i];
        tc__chunk *d = &dst->chunks[i];
        dst->count = i + 1;
        d->len = c->len;
        if (c->owned == NULL) {
            d->data = c->data; /* borrowed: valid until the callback (TC_BORROW rule) */
            continue;
        }
        d->owned = tc__malloc(c->len > 0 ? c->len : 1);
        if (d->owned == NULL)
            return TC_E_NOMEM;
        if (c->len > 0)
            memcpy(d->owned, c->data, c->len);
        d->data = d->owned;
        d->cap = c->len;
    }
    return TC_OK;
}

tc_code tc__request_clone(const tc_request *src, tc_request **out)
{
    *out = NULL;
    tc_request *r = tc__calloc(1, sizeof *r);
    if (r == NULL)
        return TC_E_NOMEM;
    const tc__infer_request *s = &src->base;
    tc__infer_request *d = &r->base;
    d->sequence_id = s->sequence_id;
    d->sequence_start = s->sequence_start;
    d->sequence_end = s->sequence_end;
    d->priority = s->priority;
    d->timeout_us = s->timeout_us;
    d->binary_data_output = s->binary_data_output;
    d->enable_empty_final_response = s->enable_empty_final_response;
    r->binary_outputs = src->binary_outputs;
    r->client_timeout_us = src->client_timeout_us;
    r->typed_contents = src->typed_contents;
    r->has_grpc_compression = src->has_grpc_compression;
    r->grpc_compression = src->grpc_compression;
    tc_code rc = dup_str(&d->model_name, s->model_name);
    if (rc == TC_OK)
        rc = dup_str(&d->model_version, s->model_version);
    if (rc == TC_OK)
        rc = dup_str(&d->id, s->id);
    if (rc == TC_OK)
        rc = dup_str(&d->sequence_id_str, s->sequence_id_str);
    if (rc == TC_OK)
        rc = copy_params(&d->params, &s->params);
    if (rc == TC_OK)
        rc = tc__hlist_copy(&r->headers, &src->headers);
    if (rc == TC_OK && s->input_count > 0) {
        d->inputs = tc__calloc(s->input_count, sizeof *d->inputs);
        r->data = tc__calloc(s->input_count, sizeof *r->data);
        if (d->inputs == NULL || r->data == NULL)
            rc = TC_E_NOMEM;
        for (size_t i = 0; rc == TC_OK && i < s->input_count; i++) {
            d->input_count = i + 1;
            rc = copy_tensor(&d->inputs[i], &s->inputs[i]);
            if (rc == TC_OK)
                rc = copy_data(&r->data[i], &src->data[i]);
        }
    }
    if (rc == TC_OK && s->output_count > 0) {
        d->outputs = tc__calloc(s->output_count, sizeof *d->outputs);
        if (d->outputs == NULL)
            rc = TC_E_NOMEM;
        for (size_t i = 0; rc == TC_OK && i < s->output_count; i++) {
            d->output_count = i + 1;
            rc = copy_output(&d->outputs[i], &s->outputs[i]);
        }
    }
    if (rc != TC_OK) {
        tc_request_free(r);
        return rc;
    }
    *out = r;
    return TC_OK;
}
