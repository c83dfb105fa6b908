/* Built-in "tritonc_add_sub": OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 -
 * INPUT1 (models simple, simple_int8, simple_string). Integer types wrap
 * (two's complement), FP32/FP64 use IEEE arithmetic, BYTES elements are
 * decimal integers as text. Stateless after init: instances may run at once. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "common/alloc.h"
#include "proto/bytes.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the built-in backends assume a little-endian host"
#endif

typedef struct add_sub_state {
    tc_dtype dtype;
    const char *in_name[2]; /* point into the config, valid until fini */
    const char *out_name[2];
} add_sub_state;

static bool dtype_supported(tc_dtype t)
{
    return t != TC_DTYPE_INVALID && t != TC_DTYPE_BOOL && t != TC_DTYPE_FP16 && t != TC_DTYPE_BF16;
}

static tc_code add_sub_init(const tc__backend_model *model, void **state, tc__error *err)
{
    const Inference__ModelConfig *cfg = model->config;
    if (cfg->n_input != 2 || cfg->n_output != 2)
        return tc__error_set(
            err, TC_E_INVALID_ARG,
            "tritonc_add_sub needs 2 inputs and 2 outputs, model '%s' has %zu and %zu", model->name,
            cfg->n_input, cfg->n_output);
    tc_dtype t = tc__backend_dtype(cfg->input[0]->data_type);
    if (!dtype_supported(t) || tc__backend_dtype(cfg->input[1]->data_type) != t ||
        tc__backend_dtype(cfg->output[0]->data_type) != t ||
        tc__backend_dtype(cfg->output[1]->data_type) != t)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "tritonc_add_sub needs all tensors of one supported datatype "
                             "(integer, FP32, FP64 or STRING) in model '%s'",
                             model->name);
    add_sub_state *s = tc__calloc(1, sizeof *s);
    if (s == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    s->dtype = t;
    for (int i = 0; i < 2; i++) {
        s->in_name[i] = cfg->input[i]->name;
        s->out_name[i] = cfg->output[i]->name;
    }
    *state = s;
    return TC_OK;
}

static const tc__tensor *find_input(const tc__infer_request *r, const char *name)
{
    for (size_t i = 0; i < r->input_count; i++) {
        if (strcmp(r->inputs[i].name, name) == 0)
            return &r->inputs[i];
    }
    return NULL;
}

static uint64_t load_le(const uint8_t *p, size_t size)
{
    uint64_t v = 0;
    memcpy(&v, p, size);
    return v;
}

/* Fixed-size types: compute both outputs element by element. */
static tc_code run_fixed(tc_dtype t, const tc__tensor *a, const tc__tensor *b, uint8_t *sum,
                         uint8_t *diff, size_t n)
{
    size_t es = tc_dtype_size(t);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *pa = a->data + i * es;
        const uint8_t *pb = b->data + i * es;
        if (t == TC_DTYPE_FP32) {
            float x, y, r;
            memcpy(&x, pa, 4);
            memcpy(&y, pb, 4);
            r = x + y;
            memcpy(sum + i * 4, &r, 4);
            r = x - y;
            memcpy(diff + i * 4, &r, 4);
        } else if (t == TC_DTYPE_FP64) {
            double x, y, r;
            memcpy(&x, pa, 8);
            memcpy(&y, pb, 8);
            r = x + y;
            memcpy(sum + i * 8, &r, 8);
            r = x - y;
            memcpy(diff + i * 8, &r, 8);
        } else {
            /* Low bytes of a 64-bit unsigned sum are the wrapped result for
             * every integer width, signed or not. */
            uint64_t x = load_le(pa, es);
            uint64_t y = load_le(pb, es);
            uint64_t r = x + y;
            memcpy(sum + i * es, &r, es);
            r = x - y;
            memcpy(diff + i * es, &r, es);
        }
    }
    return TC_OK;
}

static int64_t parse_decimal(const uint8_t *p, size_t len)
{
    char tmp[64];
    if (len >= sizeof tmp)
        len = sizeof tmp - 1;
    memcpy(tmp, p, len);
    tmp[len] = '\0';
    return (int64_t)strtoll(tmp, NULL, 10);
}

static tc_code run_bytes(const tc__tensor *a, const tc__tensor *b, tc__buf *sum, tc__buf *diff,
                         size_t n, tc__error *err)
{
    size_t pa = 0;
    size_t pb = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *ea;
        const uint8_t *eb;
        size_t la;
        size_t lb;
        if (tc__bytes_next(a->data, a->byte_size, &pa, &ea, &la) != TC_OK ||
            tc__bytes_next(b->data, b->byte_size, &pb, &eb, &lb) != TC_OK)
            return tc__error_set(err, TC_E_INVALID_ARG, "malformed BYTES input");
        uint64_t x = (uint64_t)parse_decimal(ea, la);
        uint64_t y = (uint64_t)parse_decimal(eb, lb);
        char text[32];
        int k = snprintf(text, sizeof text, "%" PRId64, (int64_t)(x + y));
        if (tc__bytes_append(sum, text, (size_t)k) != TC_OK)
            return tc__error_set(err, TC_E_NOMEM, "out of memory");
        k = snprintf(text, sizeof text, "%" PRId64, (int64_t)(x - y));
        if (tc__bytes_append(diff, text, (size_t)k) != TC_OK)
            return tc__error_set(err, TC_E_NOMEM, "out of memory");
    }
    return TC_OK;
}

static size_t element_count(const tc__tensor *t)
{
    size_t n = 1;
    for (size_t i = 0; i < t->ndim; i++)
        n *= (size_t)t->shape[i];
    return n;
}

static tc_code execute_one(const add_sub_state *s, tc__backend_request *br)
{
    const tc__tensor *a = find_input(br->request, s->in_name[0]);
    const tc__tensor *b = find_input(br->request, s->in_name[1]);
    if (a == NULL || b == NULL)
        return tc__error_set(&br->error, TC_E_INVALID_ARG, "add_sub: missing input");
    size_t n = element_count(a);
    if (element_count(b) != n)
        return tc__error_set(&br->error, TC_E_INVALID_ARG,
                             "add_sub: inputs '%s' and '%s' differ in element count", a->name,
                             b->name);
    tc__buf sum = TC__BUF_INIT;
    tc__buf diff = TC__BUF_INIT;
    tc_code rc;
    if (s->dtype == TC_DTYPE_BYTES) {
        rc = run_bytes(a, b, &sum, &diff, n, &br->error);
    } else {
        size_t bytes = n * tc_dtype_size(s->dtype);
        rc = tc__buf_reserve(&sum, bytes);
        if (rc == TC_OK)
            rc = tc__buf_reserve(&diff, bytes);
        if (rc == TC_OK) {
            sum.len = bytes;
            diff.len = bytes;
            rc = run_fixed(s->dtype, a, b, sum.data, diff.data, n);
        }
        if (rc != TC_OK)
            tc__error_set(&br->error, rc, "out of memory");
    }
    if (rc != TC_OK)
        goto out;
    size_t len;
    uint8_t *p = tc__buf_steal(&sum, &len);
    rc = tc__backend_output_add(br->response, s->out_name[0], s->dtype, a->shape, a->ndim, p, len);
    if (rc == TC_OK) {
        p = tc__buf_steal(&diff, &len);
        rc = tc__backend_output_add(br->response, s->out_name[1], s->dtype, a->shape, a->ndim, p,
                                    len);
    }
    if (rc != TC_OK)
        tc__error_set(&br->error, rc, "out of memory");
out:
    tc__buf_cleanup(&sum);
    tc__buf_cleanup(&diff);
    return rc;
}

static void add_sub_execute(void *state, uint32_t instance, tc__backend_request *reqs, size_t count)
{
    (void)instance;
    const add_sub_state *s = state;
    for (size_t i = 0; i < count; i++)
        (void)execute_one(s, &reqs[i]);
}

static void add_sub_fini(void *state)
{
    tc__free(state);
}

/* Element-wise integer or string arithmetic on small tensors. */
static bool add_sub_is_cheap(const void *state)
{
    (void)state;
    return true;
}

const tc__backend tc__backend_add_sub = {
    .name = "tritonc_add_sub",
    .is_cheap = add_sub_is_cheap,
    .init = add_sub_init,
    .execute = add_sub_execute,
    .fini = add_sub_fini,
};
