/* Built-in "tritonc_identity": output i = input i, byte for byte (models
 * simple_identity, custom_identity_int32). Config parameter
 * `execute_delay_ms` sleeps that long in every execution. Stateless after
 * init: instances may run at once. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/backend.h"
#include "common/alloc.h"

typedef struct identity_state {
    size_t count;
    const char **in_name; /* point into the config, valid until fini */
    const char **out_name;
    tc_dtype *dtype;
    uint64_t delay_ms;
} identity_state;

static void identity_fini(void *state)
{
    identity_state *s = state;
    if (s == NULL)
        return;
    tc__free(s->in_name);
    tc__free(s->out_name);
    tc__free(s->dtype);
    tc__free(s);
}

static tc_code identity_init(const tc__backend_model *model, void **state, tc__error *err)
{
    const Inference__ModelConfig *cfg = model->config;
    if (cfg->n_input == 0 || cfg->n_input != cfg->n_output)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "tritonc_identity needs as many outputs as inputs (at least one) in "
                             "model '%s'",
                             model->name);
    for (size_t i = 0; i < cfg->n_input; i++) {
        if (cfg->input[i]->data_type != cfg->output[i]->data_type)
            return tc__error_set(err, TC_E_INVALID_ARG,
                                 "tritonc_identity: input '%s' and output '%s' differ in datatype",
                                 cfg->input[i]->name, cfg->output[i]->name);
    }
    identity_state *s = tc__calloc(1, sizeof *s);
    if (s == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    s->count = cfg->n_input;
    s->in_name = tc__calloc(s->count, sizeof *s->in_name);
    s->out_name = tc__calloc(s->count, sizeof *s->out_name);
    s->dtype = tc__calloc(s->count, sizeof *s->dtype);
    if (s->in_name == NULL || s->out_name == NULL || s->dtype == NULL) {
        identity_fini(s);
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < s->count; i++) {
        s->in_name[i] = cfg->input[i]->name;
        s->out_name[i] = cfg->output[i]->name;
        s->dtype[i] = tc__backend_dtype(cfg->output[i]->data_type);
    }
    const char *delay = tc__backend_config_param(cfg, "execute_delay_ms");
    if (delay != NULL)
        s->delay_ms = strtoull(delay, NULL, 10);
    *state = s;
    return TC_OK;
}

static void sleep_ms(uint64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static tc_code execute_one(const identity_state *s, tc__backend_request *br)
{
    const tc__infer_request *r = br->request;
    for (size_t i = 0; i < s->count; i++) {
        const tc__tensor *in = NULL;
        for (size_t j = 0; j < r->input_count; j++) {
            if (strcmp(r->inputs[j].name, s->in_name[i]) == 0)
                in = &r->inputs[j];
        }
        if (in == NULL)
            continue; /* optional input left out: no output */
        /* Straight into the client's shm window when the core allows it:
         * one copy from the input (itself zero-copy from shm) to the output. */
        uint8_t *place = tc__backend_output_place(br, s->out_name[i], in->byte_size);
        if (place != NULL) {
            if (in->byte_size > 0)
                memmove(place, in->data, in->byte_size);
            if (tc__backend_output_add_placed(br->response, s->out_name[i], s->dtype[i], in->shape,
                                              in->ndim, place, in->byte_size) != TC_OK)
                return tc__error_set(&br->error, TC_E_NOMEM, "out of memory");
            continue;
        }
        uint8_t *copy = tc__memdup(in->data, in->byte_size);
        if (copy == NULL)
            return tc__error_set(&br->error, TC_E_NOMEM, "out of memory");
        tc_code rc = tc__backend_output_add(br->response, s->out_name[i], s->dtype[i], in->shape,
                                            in->ndim, copy, in->byte_size);
        if (rc != TC_OK)
            return tc__error_set(&br->error, rc, "out of memory");
    }
    return TC_OK;
}

static void identity_execute(void *state, uint32_t instance, tc__backend_request *reqs,
                             size_t count)
{
    (void)instance;
    const identity_state *s = state;
    if (s->delay_ms > 0)
        sleep_ms(s->delay_ms);
    for (size_t i = 0; i < count; i++)
        (void)execute_one(s, &reqs[i]);
}

/* A copy, unless the config asks for a delay. */
static bool identity_is_cheap(const void *state)
{
    return ((const identity_state *)state)->delay_ms == 0;
}

const tc__backend tc__backend_identity = {
    .name = "tritonc_identity",
    .is_cheap = identity_is_cheap,
    .init = identity_init,
    .execute = identity_execute,
    .fini = identity_fini,
};
