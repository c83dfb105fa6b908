/* An example backend plugin for tritonc-server (include/tritonc/backend.h):
 * OUTPUT0 = INPUT0 x factor, for INT32 or FP32 tensors of any shape.
 *
 * config.pbtxt:
 *     backend: "scale"
 *     parameters [ { key: "factor" value: { string_value: "3" } } ]
 *
 * A decoupled model (`model_transaction_policy { decoupled: true }`) sends
 * one response per element instead, each a one-element OUTPUT0, and ends
 * without a final payload. A request whose INPUT0 holds the INT32 value
 * -999 fails with INVALID_ARG (so tests can see a backend error).
 *
 * Build: cc -shared -fPIC -o libtritonc_scale.so scale_backend.c
 * and put the file in the model's directory or under --backend-directory. */
#include <stdlib.h>
#include <string.h>

#include <tritonc/backend.h>

typedef struct scale_state {
    double factor;
    bool decoupled;
} scale_state;

static tc_code scale_init(tc_backend_model *model, void **state)
{
    const char *f = tc_backend_model_parameter(model, "factor");
    char *end = NULL;
    double factor = f != NULL ? strtod(f, &end) : 2.0;
    if (f != NULL && (end == f || *end != '\0' || factor < 0)) {
        tc_backend_model_set_error(model,
                                   "scale: parameter 'factor' must be a number >= 0, got '%s'", f);
        return TC_E_INVALID_ARG;
    }
    scale_state *s = calloc(1, sizeof *s);
    if (s == NULL)
        return TC_E_NOMEM;
    s->factor = factor;
    s->decoupled = tc_backend_model_decoupled(model);
    *state = s;
    return TC_OK;
}

/* dst[i] = src[i] x factor for `n` elements of INT32 or FP32. */
static void scale_into(void *dst, const void *src, size_t n, tc_dtype dtype, double factor)
{
    for (size_t i = 0; i < n; i++) {
        if (dtype == TC_DTYPE_INT32) {
            int32_t v;
            memcpy(&v, (const char *)src + 4 * i, 4);
            v = (int32_t)((double)v * factor);
            memcpy((char *)dst + 4 * i, &v, 4);
        } else {
            float v;
            memcpy(&v, (const char *)src + 4 * i, 4);
            v = (float)((double)v * factor);
            memcpy((char *)dst + 4 * i, &v, 4);
        }
    }
}

/* One response per element, each OUTPUT0 of shape [1]. */
static void send_each(tc_backend_request *r, const tc_backend_tensor *in, double factor)
{
    static const int64_t one[1] = {1};
    for (size_t i = 0; i < in->byte_size / 4; i++) {
        tc_backend_response *resp = tc_backend_response_new(r);
        void *out = NULL;
        if (resp == NULL ||
            tc_backend_response_output(resp, "OUTPUT0", in->dtype, one, 1, 4, &out) != TC_OK) {
            tc_backend_response_free(resp);
            tc_backend_request_set_error(r, TC_E_NOMEM, "scale: out of memory");
            return;
        }
        scale_into(out, (const char *)in->data + 4 * i, 1, in->dtype, factor);
        if (tc_backend_response_send(r, resp) != TC_OK) {
            tc_backend_request_set_error(r, TC_E_INTERNAL, "scale: unable to send response %zu", i);
            return;
        }
    }
}

static void scale_execute(void *state, uint32_t instance, tc_backend_request *const *requests,
                          size_t count)
{
    (void)instance;
    const scale_state *s = state;
    for (size_t k = 0; k < count; k++) {
        tc_backend_request *r = requests[k];
        tc_backend_tensor in;
        if (tc_backend_request_input_by_name(r, "INPUT0", &in) != TC_OK) {
            tc_backend_request_set_error(r, TC_E_INVALID_ARG, "scale: missing input 'INPUT0'");
            continue;
        }
        if (in.dtype != TC_DTYPE_INT32 && in.dtype != TC_DTYPE_FP32) {
            tc_backend_request_set_error(r, TC_E_INVALID_ARG,
                                         "scale: INPUT0 must be INT32 or FP32");
            continue;
        }
        int32_t first = 0;
        if (in.dtype == TC_DTYPE_INT32 && in.byte_size >= 4)
            memcpy(&first, in.data, 4);
        if (first == -999) {
            tc_backend_request_set_error(r, TC_E_INVALID_ARG, "scale: refusing -999 (as asked)");
            continue;
        }
        if (s->decoupled) {
            send_each(r, &in, s->factor);
            continue;
        }
        void *out = NULL;
        if (tc_backend_request_output(r, "OUTPUT0", in.dtype, in.shape, in.ndim, in.byte_size,
                                      &out) != TC_OK) {
            tc_backend_request_set_error(r, TC_E_NOMEM, "scale: out of memory");
            continue;
        }
        scale_into(out, in.data, in.byte_size / 4, in.dtype, s->factor);
    }
}

static void scale_fini(void *state)
{
    free(state);
}

static const tc_backend_vtable k_scale = {
    TC_BACKEND_API_VERSION,
    scale_init,
    scale_execute,
    scale_fini,
};

TC_BACKEND_EXPORT const tc_backend_vtable *tc_backend_entry(void)
{
    return &k_scale;
}
