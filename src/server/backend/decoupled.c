/* Built-in decoupled backends (responses go out from execute() through
 * tc__backend_send; the final flag follows when execute() returns):
 *   "tritonc_repeat" (repeat_int32): inputs IN INT32 [-1], DELAY UINT32
 *     [-1], WAIT UINT32 [1]. For each element i of IN: sleep DELAY[i] ms
 *     (0 past the end of DELAY), send OUT = [IN[i]], IDX = [i]. Then sleep
 *     WAIT[0] ms and finish without a final payload.
 *   "tritonc_square" (square_int32): IN INT32 [1] = N sends N responses
 *     OUT = [N], then finishes without a final payload; N < 0 is an error.
 * Stateless after init: instances may run at once. */
#include <string.h>

#include "backend/backend.h"
#include "common/alloc.h"

typedef struct dec_state {
    bool repeat;
} dec_state;

static bool is_decoupled(const Inference__ModelConfig *cfg)
{
    return cfg->model_transaction_policy != NULL && cfg->model_transaction_policy->decoupled;
}

static tc_code dec_init_common(const tc__backend_model *model, void **state, bool repeat,
                               tc__error *err)
{
    if (!is_decoupled(model->config))
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "%s needs model_transaction_policy { decoupled: true } in model '%s'",
                             repeat ? "tritonc_repeat" : "tritonc_square", model->name);
    dec_state *s = tc__calloc(1, sizeof *s);
    if (s == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    s->repeat = repeat;
    *state = s;
    return TC_OK;
}

static tc_code repeat_init(const tc__backend_model *model, void **state, tc__error *err)
{
    return dec_init_common(model, state, true, err);
}

static tc_code square_init(const tc__backend_model *model, void **state, tc__error *err)
{
    return dec_init_common(model, state, false, err);
}

static void dec_fini(void *state)
{
    tc__free(state);
}

static uint32_t u32_at(const tc__tensor *t, size_t i)
{
    uint32_t v = 0;
    if (t != NULL && (i + 1) * sizeof v <= t->byte_size)
        memcpy(&v, t->data + i * sizeof v, sizeof v);
    return v;
}

/* Send one response holding OUT = [out] (and IDX = [idx] when `with_idx`). */
static tc_code send_one(tc__backend_request *br, int32_t out, uint32_t idx, bool with_idx)
{
    static const int64_t shape[1] = {1};
    tc__infer_response *resp = tc__backend_response_new(br);
    if (resp == NULL)
        return TC_E_NOMEM;
    uint8_t *p = tc__memdup(&out, sizeof out);
    tc_code rc = p != NULL ? TC_OK : TC_E_NOMEM;
    if (rc == TC_OK)
        rc = tc__backend_output_add(resp, "OUT", TC_DTYPE_INT32, shape, 1, p, sizeof out);
    if (rc == TC_OK && with_idx) {
        p = tc__memdup(&idx, sizeof idx);
        rc = p != NULL
                 ? tc__backend_output_add(resp, "IDX", TC_DTYPE_UINT32, shape, 1, p, sizeof idx)
                 : TC_E_NOMEM;
    }
    if (rc != TC_OK) {
        tc__infer_response_cleanup(resp);
        tc__free(resp);
        return rc;
    }
    return tc__backend_send(br, resp);
}

static void repeat_one(tc__backend_request *br)
{
    const tc__tensor *in = tc__backend_input(br->request, "IN");
    const tc__tensor *delay = tc__backend_input(br->request, "DELAY");
    const tc__tensor *wait = tc__backend_input(br->request, "WAIT");
    size_t n = in != NULL ? in->byte_size / sizeof(int32_t) : 0;
    for (size_t i = 0; i < n; i++) {
        tc__backend_sleep_ms(u32_at(delay, i));
        int32_t v;
        memcpy(&v, in->data + i * sizeof v, sizeof v);
        tc_code rc = send_one(br, v, (uint32_t)i, true);
        if (rc != TC_OK) {
            tc__error_set(&br->error, rc, "repeat: unable to send response %zu", i);
            return;
        }
    }
    tc__backend_sleep_ms(u32_at(wait, 0));
}

static void square_one(tc__backend_request *br)
{
    const tc__tensor *in = tc__backend_input(br->request, "IN");
    int32_t n = 0;
    if (in != NULL && in->byte_size >= sizeof n)
        memcpy(&n, in->data, sizeof n);
    if (n < 0) {
        tc__error_set(&br->error, TC_E_INVALID_ARG, "square: IN must not be negative, got %d", n);
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        tc_code rc = send_one(br, n, 0, false);
        if (rc != TC_OK) {
            tc__error_set(&br->error, rc, "square: unable to send response %d", i);
            return;
        }
    }
}

static void dec_execute(void *state, uint32_t instance, tc__backend_request *reqs, size_t count)
{
    (void)instance;
    const dec_state *s = state;
    for (size_t i = 0; i < count; i++) {
        if (s->repeat)
            repeat_one(&reqs[i]);
        else
            square_one(&reqs[i]);
    }
}

const tc__backend tc__backend_repeat = {
    .name = "tritonc_repeat",
    .init = repeat_init,
    .execute = dec_execute,
    .fini = dec_fini,
};

const tc__backend tc__backend_square = {
    .name = "tritonc_square",
    .init = square_init,
    .execute = dec_execute,
    .fini = dec_fini,
};
