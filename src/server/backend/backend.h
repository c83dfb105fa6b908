/* Internal backend interface of tritonc-server (STYLE.md 2.4: the backend
 * states its concurrency).
 *
 * A backend is a vtable. The core calls init() once per loaded model
 * version, then execute() from that version's instance threads, then fini()
 * once after every execute() has returned. execute() is never run twice at
 * once for the same (state, instance) pair; different instances of one
 * model may run concurrently, so shared state must be read-only or locked.
 *
 * The shape follows the planned dlopen plugin ABI (include/tritonc/backend.h):
 * init = model initialise, execute = instance execute over a batch of
 * requests, fini = model finalise.
 *
 * Built-in backend names (config.pbtxt `backend:`), documented in
 * models/README.md:
 *   "tritonc_add_sub"   OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1
 *                       (integer types wrap, FP32/FP64, BYTES decimal strings)
 *   "tritonc_identity"  output i = input i; parameter execute_delay_ms */
#ifndef TC_SRC_SERVER_BACKEND_BACKEND_H
#define TC_SRC_SERVER_BACKEND_BACKEND_H

#include <stdint.h>

#include "common/error.h"
#include "model_config.pb-c.h"
#include "proto/v2_types.h"

/* What init() sees of the model. Borrowed for the call; `config` stays
 * valid until fini(). */
typedef struct tc__backend_model {
    const char *name;
    int64_t version;
    const char *path; /* the model directory */
    const Inference__ModelConfig *config;
} tc__backend_model;

/* One request of an executed batch. The backend appends one output per
 * model output to `response` (tc__backend_output_add) or sets `error`. */
typedef struct tc__backend_request {
    const tc__infer_request *request; /* validated against the config */
    uint64_t batch_size;              /* 1 when the model does not batch */
    tc__infer_response *response;
    tc__error error;
} tc__backend_request;

typedef struct tc__backend {
    const char *name;
    /* Check the config and build per-model state. */
    tc_code (*init)(const tc__backend_model *model, void **state, tc__error *err);
    /* Execute `count` requests on instance `instance`. Errors go per request. */
    void (*execute)(void *state, uint32_t instance, tc__backend_request *reqs, size_t count);
    /* Release the state; no execute() runs any more. */
    void (*fini)(void *state);
    /* Optional: true when execute() takes microseconds and never blocks (no
     * sleeps, locks held long or I/O), so the core may run small requests on
     * the frontend's thread instead of handing them to an instance thread.
     * NULL means false. */
    bool (*is_cheap)(const void *state);
} tc__backend;

extern const tc__backend tc__backend_add_sub;
extern const tc__backend tc__backend_identity;

/* The built-in named `name`, or NULL. */
const tc__backend *tc__backend_find(const char *name);

/* Pick the backend for a model: config `backend` naming a built-in, else a
 * canonical model name (simple, simple_int8, ...) served by its built-in
 * (logged), else TC_E_INVALID_ARG with a reason. */
tc_code tc__backend_select(const Inference__ModelConfig *cfg, const char *model_name,
                           const tc__backend **out, tc__error *err);

/* Append an output to `resp`, taking ownership of `owned` (tc__malloc'ed,
 * `byte_size` bytes; freed even on failure). */
tc_code tc__backend_output_add(tc__infer_response *resp, const char *name, tc_dtype dtype,
                               const int64_t *shape, size_t ndim, uint8_t *owned, size_t byte_size);

/* Value of string parameter `key` of the config, or NULL. */
const char *tc__backend_config_param(const Inference__ModelConfig *cfg, const char *key);

/* Protocol datatype of a config DataType. */
static inline tc_dtype tc__backend_dtype(Inference__DataType t)
{
    return (tc_dtype)t; /* the enums share numbers (tensor.h) */
}

#endif /* TC_SRC_SERVER_BACKEND_BACKEND_H */
