/* Built-in backend registry and helpers shared by the built-ins. */
#include <string.h>
#include <time.h>

#include "backend/backend.h"
#include "common/alloc.h"
#include "common/log.h"

static const tc__backend *const k_builtins[] = {
    &tc__backend_add_sub, &tc__backend_identity, &tc__backend_sequence,
    &tc__backend_repeat,  &tc__backend_square,   &tc__backend_sequence_accumulate,
    &tc__backend_onnx,
};

/* Canonical example model names served by a built-in whatever backend or
 * platform their config names (so upstream's example repository works). */
static const struct {
    const char *model;
    const tc__backend *backend;
} k_canonical[] = {
    {"simple", &tc__backend_add_sub},
    {"simple_int8", &tc__backend_add_sub},
    {"simple_string", &tc__backend_add_sub},
    {"simple_identity", &tc__backend_identity},
    {"custom_identity_int32", &tc__backend_identity},
    {"simple_sequence", &tc__backend_sequence},
    {"simple_dyna_sequence", &tc__backend_sequence},
    {"simple_string_dyna_sequence", &tc__backend_sequence_accumulate},
    {"repeat_int32", &tc__backend_repeat},
    {"square_int32", &tc__backend_square},
};

const tc__backend *tc__backend_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof k_builtins / sizeof k_builtins[0]; i++) {
        if (strcmp(k_builtins[i]->name, name) == 0)
            return k_builtins[i];
    }
    return NULL;
}

tc_code tc__backend_select(const Inference__ModelConfig *cfg, const char *model_name,
                           const char *const *dirs, size_t dir_count, const tc__backend **out,
                           tc__error *err)
{
    const char *backend = cfg->backend != NULL ? cfg->backend : "";
    const char *platform = cfg->platform != NULL ? cfg->platform : "";
    const tc__backend *b = tc__backend_find(backend);
    if (b == NULL && strcmp(platform, "onnxruntime_onnx") == 0)
        b = &tc__backend_onnx;
    if (b != NULL) {
        *out = b;
        return TC_OK;
    }
    if (backend[0] != '\0') {
        tc_code rc = tc__backend_plugin_find(backend, dirs, dir_count, out, err);
        if (rc != TC_E_NOT_FOUND)
            return rc;
    }
    for (size_t i = 0; i < sizeof k_canonical / sizeof k_canonical[0]; i++) {
        if (strcmp(k_canonical[i].model, model_name) == 0) {
            tc__log(TC_LOG_INFO,
                    "model '%s' names backend '%s' platform '%s': served by built-in '%s'",
                    model_name, backend, platform, k_canonical[i].backend->name);
            *out = k_canonical[i].backend;
            return TC_OK;
        }
    }
    if (backend[0] == '\0' && platform[0] == '\0')
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "must specify 'backend' for '%s' (built-in backends: tritonc_add_sub, "
                             "tritonc_identity, tritonc_sequence, tritonc_sequence_accumulate, "
                             "tritonc_repeat, tritonc_square, onnxruntime)",
                             model_name);
    return tc__error_set(
        err, TC_E_INVALID_ARG,
        "unable to find backend '%s' (platform '%s') for model '%s'; built-in "
        "backends are tritonc_add_sub, tritonc_identity, tritonc_sequence, "
        "tritonc_sequence_accumulate, tritonc_repeat, tritonc_square and onnxruntime, and no "
        "plugin libtritonc_%s.so is in the model directory or --backend-directory",
        backend[0] != '\0' ? backend : platform, platform, model_name,
        backend[0] != '\0' ? backend : platform);
}

tc_code tc__backend_output_add(tc__infer_response *resp, const char *name, tc_dtype dtype,
                               const int64_t *shape, size_t ndim, uint8_t *owned, size_t byte_size)
{
    tc__tensor *grown = tc__reallocarray(resp->outputs, resp->output_count + 1, sizeof *grown);
    if (grown == NULL) {
        tc__free(owned);
        return TC_E_NOMEM;
    }
    resp->outputs = grown;
    tc__tensor *t = &grown[resp->output_count];
    memset(t, 0, sizeof *t);
    t->name = tc__strdup(name);
    t->shape = tc__memdup(shape, ndim * sizeof *shape);
    if (t->name == NULL || t->shape == NULL) {
        tc__free(t->name);
        tc__free(t->shape);
        tc__free(owned);
        memset(t, 0, sizeof *t);
        return TC_E_NOMEM;
    }
    t->dtype = dtype;
    t->ndim = ndim;
    t->owned = owned;
    t->data = owned;
    t->byte_size = byte_size;
    resp->output_count++;
    return TC_OK;
}

tc_code tc__backend_output_add_placed(tc__infer_response *resp, const char *name, tc_dtype dtype,
                                      const int64_t *shape, size_t ndim, const uint8_t *placed,
                                      size_t byte_size)
{
    tc_code rc = tc__backend_output_add(resp, name, dtype, shape, ndim, NULL, byte_size);
    if (rc == TC_OK)
        resp->outputs[resp->output_count - 1].data = placed; /* not owned: the client's window */
    return rc;
}

const char *tc__backend_config_param(const Inference__ModelConfig *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->n_parameters; i++) {
        const Inference__ModelConfig__ParametersEntry *e = cfg->parameters[i];
        if (e->key != NULL && strcmp(e->key, key) == 0 && e->value != NULL)
            return e->value->string_value;
    }
    return NULL;
}

tc__infer_response *tc__backend_response_new(const tc__backend_request *br)
{
    tc__infer_response *r = tc__calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    const tc__infer_response *f = br->response;
    bool ok = true;
    if (f != NULL && f->model_name != NULL)
        ok = ok && (r->model_name = tc__strdup(f->model_name)) != NULL;
    if (f != NULL && f->model_version != NULL)
        ok = ok && (r->model_version = tc__strdup(f->model_version)) != NULL;
    if (f != NULL && f->id != NULL)
        ok = ok && (r->id = tc__strdup(f->id)) != NULL;
    if (!ok) {
        tc__infer_response_cleanup(r);
        tc__free(r);
        return NULL;
    }
    return r;
}

tc_code tc__backend_send(tc__backend_request *br, tc__infer_response *resp)
{
    if (!br->decoupled || br->send == NULL) {
        tc__infer_response_cleanup(resp);
        tc__free(resp);
        return TC_E_INVALID_ARG;
    }
    return br->send(br, resp);
}

const char *tc__backend_control_input(const Inference__ModelConfig *cfg, int kind)
{
    const Inference__ModelSequenceBatching *sb = cfg->sequence_batching;
    if (cfg->scheduling_choice_case !=
            INFERENCE__MODEL_CONFIG__SCHEDULING_CHOICE_SEQUENCE_BATCHING ||
        sb == NULL)
        return NULL;
    for (size_t i = 0; i < sb->n_control_input; i++) {
        const Inference__ModelSequenceBatching__ControlInput *ci = sb->control_input[i];
        for (size_t j = 0; j < ci->n_control; j++) {
            if ((int)ci->control[j]->kind == kind)
                return ci->name;
        }
    }
    return NULL;
}

const tc__tensor *tc__backend_input(const tc__infer_request *r, const char *name)
{
    for (size_t i = 0; name != NULL && i < r->input_count; i++) {
        if (strcmp(r->inputs[i].name, name) == 0)
            return &r->inputs[i];
    }
    return NULL;
}

int64_t tc__backend_scalar(const tc__tensor *t, int64_t dflt)
{
    if (t == NULL || t->dtype == TC_DTYPE_BYTES)
        return dflt;
    size_t es = tc_dtype_size(t->dtype);
    if (es == 0 || t->byte_size < es)
        return dflt;
    const uint8_t *p = t->data;
    switch (t->dtype) {
    case TC_DTYPE_FP32: {
        float f;
        memcpy(&f, p, sizeof f);
        return (int64_t)f;
    }
    case TC_DTYPE_FP64: {
        double d;
        memcpy(&d, p, sizeof d);
        return (int64_t)d;
    }
    case TC_DTYPE_INT8:
        return (int8_t)p[0];
    case TC_DTYPE_INT16: {
        int16_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case TC_DTYPE_INT32: {
        int32_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    default: {
        uint64_t v = 0; /* unsigned types, BOOL, INT64: little-endian low bytes */
        memcpy(&v, p, es < sizeof v ? es : sizeof v);
        return (int64_t)v;
    }
    }
}

void tc__backend_sleep_ms(uint64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}
