/* Built-in backend registry and helpers shared by the built-ins. */
#include <string.h>

#include "backend/backend.h"
#include "common/alloc.h"
#include "common/log.h"

static const tc__backend *const k_builtins[] = {&tc__backend_add_sub, &tc__backend_identity};

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
                           const tc__backend **out, tc__error *err)
{
    const char *backend = cfg->backend != NULL ? cfg->backend : "";
    const char *platform = cfg->platform != NULL ? cfg->platform : "";
    const tc__backend *b = tc__backend_find(backend);
    if (b != NULL) {
        *out = b;
        return TC_OK;
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
                             "tritonc_identity)",
                             model_name);
    return tc__error_set(err, TC_E_INVALID_ARG,
                         "unable to find backend '%s' (platform '%s') for model '%s'; built-in "
                         "backends are tritonc_add_sub and tritonc_identity",
                         backend[0] != '\0' ? backend : platform, platform, model_name);
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

const char *tc__backend_config_param(const Inference__ModelConfig *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->n_parameters; i++) {
        const Inference__ModelConfig__ParametersEntry *e = cfg->parameters[i];
        if (e->key != NULL && strcmp(e->key, key) == 0 && e->value != NULL)
            return e->value->string_value;
    }
    return NULL;
}
