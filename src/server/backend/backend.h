/* Internal backend interface of tritonc-server (STYLE.md 2.4: the backend
 * states its concurrency).
 *
 * A backend is a vtable. The core calls init() once per loaded model
 * version, then execute() from that version's instance threads, then fini()
 * once after every execute() has returned. execute() is never run twice at
 * once for the same (state, instance) pair; different instances of one
 * model may run concurrently, so shared state must be read-only or locked.
 *
 * Plugins (include/tritonc/backend.h, plugin.c) are adapted to this vtable:
 * init = model initialise, execute = instance execute over a batch of
 * requests, fini = model finalise.
 *
 * Built-in backend names (config.pbtxt `backend:`), documented in
 * models/README.md:
 *   "tritonc_add_sub"   OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1
 *                       (integer types wrap, FP32/FP64, BYTES decimal strings)
 *   "tritonc_identity"  output i = input i; parameter execute_delay_ms
 *   "tritonc_sequence"  OUTPUT = (INPUT + START + END x CORRID) x READY
 *                       (simple_sequence, simple_dyna_sequence); with
 *                       implicit state, the state is added and updated
 *   "tritonc_sequence_accumulate"  per-sequence accumulator
 *                       (simple_string_dyna_sequence)
 *   "tritonc_repeat"    decoupled repeat_int32
 *   "tritonc_square"    decoupled square_int32 */
#ifndef TC_SRC_SERVER_BACKEND_BACKEND_H
#define TC_SRC_SERVER_BACKEND_BACKEND_H

#include <stdint.h>

#include "common/error.h"
#include "model_config.pb-c.h"
#include "proto/v2_types.h"

/* What init() sees of the model. Borrowed for the call; `config` stays
 * valid until fini(). */
struct tc__backend;
typedef struct tc__backend_model {
    const char *name;
    int64_t version;
    const char *path; /* the model directory */
    const Inference__ModelConfig *config;
    const struct tc__backend *backend; /* the backend being initialised */
} tc__backend_model;

struct tc__backend_request;

/* The core's sink for a decoupled response (set by the core). */
typedef tc_code (*tc__backend_send_fn)(struct tc__backend_request *br, tc__infer_response *resp);

/* One request of an executed batch. The backend appends one output per
 * model output to `response` (tc__backend_output_add) or sets `error`.
 *
 * Decoupled models (`model_transaction_policy { decoupled: true }`): the
 * backend may send any number of responses from execute() with
 * tc__backend_send (each built by tc__backend_response_new); they reach the
 * client at once, in order, with the final flag off. When execute() returns,
 * the request is complete: `error` set gives one final error; otherwise
 * `response` is the final response if the backend added outputs to it, and
 * a final flag without payload if it has none.
 *
 * Sequence models (`sequence_batching`): `request` also holds one input per
 * configured control (START, END, READY, CORRID; shape [1] plus the batch
 * dimension) and the implicit state input (`state[0].input_name`, zeros at
 * the start of a sequence); the backend returns the next state as output
 * `state[0].output_name`, which the core keeps and drops from the response. */
typedef struct tc__backend_request {
    const tc__infer_request *request; /* validated against the config */
    uint64_t batch_size;              /* 1 when the model does not batch */
    tc__infer_response *response;
    tc__error error;
    bool decoupled;           /* the model is decoupled: `send` works */
    tc__backend_send_fn send; /* core-owned; use tc__backend_send */
    void *core_data;          /* core-owned */
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
extern const tc__backend tc__backend_sequence;
extern const tc__backend tc__backend_sequence_accumulate;
extern const tc__backend tc__backend_repeat;
extern const tc__backend tc__backend_square;
/* `backend: "onnxruntime"` or `platform: "onnxruntime_onnx"`: ONNX models on
 * the CPU (src/onnx). */
extern const tc__backend tc__backend_onnx;

/* A new empty response for `br` (model name, version and request id
 * copied from br->response), or NULL when out of memory. */
tc__infer_response *tc__backend_response_new(const tc__backend_request *br);
/* Decoupled models: send `resp` now as a non-final response. Ownership
 * moves to the core in every case. TC_E_INVALID_ARG for a model that is not
 * decoupled; otherwise TC_OK or the postprocessing error (the response is
 * then dropped and the request goes on). Runs the frontend's callback on
 * the calling (instance) thread. */
tc_code tc__backend_send(tc__backend_request *br, tc__infer_response *resp);

/* Name of the sequence control input of `kind`
 * (INFERENCE__MODEL_SEQUENCE_BATCHING__CONTROL__KIND__*), or NULL. */
const char *tc__backend_control_input(const Inference__ModelConfig *cfg, int kind);
/* The input tensor `name` of `r`, or NULL. */
const tc__tensor *tc__backend_input(const tc__infer_request *r, const char *name);
/* First element of a numeric tensor (any integer or FP32/FP64 type, BOOL)
 * as int64; `dflt` when `t` is NULL or empty. */
int64_t tc__backend_scalar(const tc__tensor *t, int64_t dflt);
/* Sleep `ms` milliseconds. */
void tc__backend_sleep_ms(uint64_t ms);

/* The built-in named `name`, or NULL. */
const tc__backend *tc__backend_find(const char *name);

/* Pick the backend for a model: config `backend` naming a built-in, else a
 * plugin libtritonc_<backend>.so in one of `dirs` (plugin.c), else a
 * canonical model name (simple, simple_int8, ...) served by its built-in
 * (logged), else TC_E_INVALID_ARG with a reason. The caller owns one
 * reference to the result (tc__backend_release). */
tc_code tc__backend_select(const Inference__ModelConfig *cfg, const char *model_name,
                           const char *const *dirs, size_t dir_count, const tc__backend **out,
                           tc__error *err);

/* The plugin for backend `name`: <dir>/<name>/libtritonc_<name>.so or
 * <dir>/libtritonc_<name>.so for each of `dirs` in order, loaded once per
 * path and referenced (+1 for the caller). TC_E_NOT_FOUND when no file
 * exists (err untouched); TC_E_INVALID_ARG when one exists but cannot be
 * used (err says why). */
tc_code tc__backend_plugin_find(const char *name, const char *const *dirs, size_t dir_count,
                                const tc__backend **out, tc__error *err);
/* References on a backend: no-ops for built-ins; a plugin's library is
 * closed when its last reference goes. Thread-safe. */
void tc__backend_retain(const tc__backend *b);
void tc__backend_release(const tc__backend *b);

/* Append an output to `resp`, taking ownership of `owned` (tc__malloc'ed,
 * `byte_size` bytes; freed even on failure). */
tc_code tc__backend_output_add(tc__infer_response *resp, const char *name, tc_dtype dtype,
                               const int64_t *shape, size_t ndim, uint8_t *owned, size_t byte_size);

/* Where output `name` (`byte_size` bytes) of `br` may be built without a
 * copy: the client's shared-memory window for it, when the core allows it
 * (system memory, large enough, aliasing no input of the request), else
 * NULL (allocate and use tc__backend_output_add). A backend that writes
 * there adds the output with tc__backend_output_add_placed. Valid during
 * execute(); the window is the client's, so write only the output to it. */
uint8_t *tc__backend_output_place(const tc__backend_request *br, const char *name,
                                  size_t byte_size);
/* Append an output whose bytes the backend wrote at `placed`, a pointer
 * from tc__backend_output_place for the same name and size. */
tc_code tc__backend_output_add_placed(tc__infer_response *resp, const char *name, tc_dtype dtype,
                                      const int64_t *shape, size_t ndim, const uint8_t *placed,
                                      size_t byte_size);

/* Value of string parameter `key` of the config, or NULL. */
const char *tc__backend_config_param(const Inference__ModelConfig *cfg, const char *key);

/* Protocol datatype of a config DataType. */
static inline tc_dtype tc__backend_dtype(Inference__DataType t)
{
    return (tc_dtype)t; /* the enums share numbers (tensor.h) */
}

#endif /* TC_SRC_SERVER_BACKEND_BACKEND_H */
