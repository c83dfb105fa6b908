/* tritonc-server core: everything the frontends (HTTP now, gRPC later) see.
 * Transport-neutral: it speaks tc__infer_request / tc__infer_response
 * (proto/v2_types.h), plain structs and tc__error; frontends do the wire
 * format. One execution path and one set of statistics for every frontend.
 *
 * Thread rule: every tc__core_* function is thread-safe. Infer completion
 * callbacks run on a model instance thread and must not block. */
#ifndef TC_SRC_SERVER_CORE_CORE_H
#define TC_SRC_SERVER_CORE_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"
#include "model_config.pb-c.h"
#include "proto/v2_types.h"

typedef struct tc__core tc__core;

typedef enum tc__control_mode {
    TC__CONTROL_NONE = 0, /* load everything at start, never change */
    TC__CONTROL_POLL,     /* load everything, rescan every poll_secs */
    TC__CONTROL_EXPLICIT  /* load only load_models; load/unload API */
} tc__control_mode;

typedef struct tc__core_options {
    const char *const *repositories; /* model repository directories */
    size_t repository_count;
    tc__control_mode control_mode;
    const char *const *load_models; /* explicit mode: names to load at start ("*" = all) */
    size_t load_model_count;
    bool strict_model_config;
    bool strict_readiness; /* ready only when every model loaded fine */
    uint32_t poll_secs;    /* poll mode interval; 0 = 15 */
    const char *server_id; /* server metadata "name"; NULL = "triton" */
    /* Where backend plugins are looked for after the model's directory
     * (--backend-directory); NULL = only there. */
    const char *backend_directory;
    /* Initial global trace settings (--trace-*); NULL = tracing off. */
    const struct tc__trace_settings *trace;
} tc__core_options;

/* Scan the repositories and load models per the control mode. A model that
 * fails to load is logged and listed UNAVAILABLE; it does not fail startup.
 * TC_E_INVALID_ARG when a repository cannot be read. */
tc_code tc__core_new(const tc__core_options *opts, tc__core **out, tc__error *err);
/* Stop accepting work, finish everything queued (callbacks still run),
 * unload every model and free. */
void tc__core_free(tc__core *core);
/* Stop accepting new inferences (they fail UNAVAILABLE) and wait until every
 * accepted one has called back. Used at shutdown before the frontends stop. */
void tc__core_drain(tc__core *core);

bool tc__core_is_live(tc__core *core);
bool tc__core_is_ready(tc__core *core);

/* Server metadata: name, version (TC version string) and the extensions we
 * implement. Caller cleans `out` with tc__server_metadata_cleanup. */
tc_code tc__core_server_metadata(tc__core *core, tc__server_metadata *out);

/* ---- models ---------------------------------------------------------------- */

/* A READY model version held by the caller (it stays loaded until released). */
typedef struct tc__model_handle tc__model_handle;

/* `version` NULL or "" = highest READY version. NOT_FOUND with Triton's
 * "Request for unknown model: ..." messages when there is no such READY
 * version; TC_E_INVALID_ARG for a version that is not a number. */
tc_code tc__core_model_acquire(tc__core *core, const char *name, const char *version,
                               tc__model_handle **out, tc__error *err);
void tc__model_handle_release(tc__model_handle *h);
/* The normalised config; valid until release. */
const Inference__ModelConfig *tc__model_handle_config(const tc__model_handle *h);
int64_t tc__model_handle_version(const tc__model_handle *h);

/* Readiness of a model version: NOT_FOUND when the model (or the named
 * version) is unknown, else TC_OK with *ready. */
tc_code tc__core_model_is_ready(tc__core *core, const char *name, const char *version, bool *ready,
                                tc__error *err);
/* Model metadata (versions: the requested one, or every READY version). */
tc_code tc__core_model_metadata(tc__core *core, const char *name, const char *version,
                                tc__model_metadata *out, tc__error *err);

/* ---- inference -------------------------------------------------------------- */

/* Runs exactly once per accepted request, on a model instance thread.
 * `response` is NULL on failure (then `err` says why); the callee owns it
 * and frees it with tc__core_response_free. Output tensors have `binary`
 * set per the HTTP rules (requested binary_data, else binary_data_output). */
typedef void (*tc__infer_done_cb)(tc__infer_response *response, const tc__error *err,
                                  void *user_data);

/* Validate `req` against the model config and queue it. `req` (and the
 * buffers its tensors point into) must stay valid until `cb` has run.
 * req->model_name / model_version pick the model. On error nothing was
 * queued and `cb` never runs; otherwise it runs exactly once.
 * Scheduling follows the config: `dynamic_batching` gathers queued requests
 * into one backend execution; `sequence_batching` checks the sequence
 * parameters (sequence_id / sequence_id_str, sequence_start, sequence_end;
 * errors worded as EXTENSIONS.md section sequence, returned here), runs a
 * sequence's requests on one instance in arrival order and feeds the control
 * and state inputs. Decoupled models fail with TC_E_NOT_SUPPORTED (use
 * tc__core_infer_stream). */
tc_code tc__core_infer_async(tc__core *core, const tc__infer_request *req, tc__infer_done_cb cb,
                             void *user_data, tc__error *err);
void tc__core_response_free(tc__infer_response *resp);

/* Streaming and decoupled inference (gRPC ModelStreamInfer). `cb` runs once
 * per response on a model instance thread: for a non-decoupled model exactly
 * once with `final` true; for a decoupled model 0..n times with `final` false
 * and then exactly once more with `final` true (`response` NULL when the model
 * ended without a final payload). On an inference error: once with `response`
 * NULL, `err` set and `final` true. The callee owns each response
 * (tc__core_response_free). Responses of one request arrive in order; the
 * core never runs two callbacks of one request at once.
 * Same submission contract as tc__core_infer_async: on error nothing was
 * queued and `cb` never runs. Decoupled and non-decoupled models both work.
 * The core does not order responses across requests: with several
 * instances or batching, requests of one stream may complete out of
 * order, so a frontend that must answer in arrival order (gRPC streams for
 * non-decoupled models) reorders them itself. */
typedef void (*tc__infer_stream_cb)(tc__infer_response *response, const tc__error *err, bool final,
                                    void *user_data);
tc_code tc__core_infer_stream(tc__core *core, const tc__infer_request *req, tc__infer_stream_cb cb,
                              void *user_data, tc__error *err);

/* Largest request (input bytes) tc__core_infer_inline runs on the caller's thread. */
#define TC__CORE_INLINE_MAX_BYTES (64u * 1024u)

/* Run `req` on the calling thread when that costs no more than a hand-off:
 * the model's backend is cheap, the request is small, the queue is empty
 * and an instance is idle (never for decoupled, dynamic batching or
 * sequence models). Returns TC_E_BUSY (nothing done, `err` untouched)
 * when the request must go through tc__core_infer_async instead. Otherwise
 * the request ran (statistics included) and the result is as the async
 * callback would have seen it: TC_OK with `*response` (caller frees with
 * tc__core_response_free), or the error in `err`. */
tc_code tc__core_infer_inline(tc__core *core, const tc__infer_request *req,
                              tc__infer_response **response, tc__error *err);

/* ---- shared memory (system and CUDA; HTTP.md sections 11-12) ------------------ */

/* One namespace holds both kinds. Regions are created by clients and only
 * mapped (system) or IPC-opened (CUDA) here, never created. An in-flight
 * request referencing a region holds it: unregistering hides it at once
 * (status, new requests, the name is free again) and unmaps it when the
 * last such request has finished. The frontends apply the
 * --allow-client-shm gate to register and unregister; status always works. */
typedef enum tc__shm_kind { TC__SHM_SYSTEM = 0, TC__SHM_CUDA = 1 } tc__shm_kind;

typedef struct tc__shm_status {
    char *name;
    char *key;       /* system: the POSIX shm object name; CUDA: NULL */
    uint64_t offset; /* system: offset in the object */
    uint64_t byte_size;
    int64_t device_id; /* CUDA */
} tc__shm_status;

/* Regions of `kind`, sorted by name; `name` non-NULL and non-empty: just
 * that one (NOT_FOUND "Unable to find system|cuda shared memory region:
 * '<r>'", or "The region named '<r>' is registered as CUDA|system shared
 * memory, not system|CUDA shared memory" for the other kind). Caller frees
 * with tc__shm_status_free. */
tc_code tc__core_shm_status(tc__core *core, tc__shm_kind kind, const char *name,
                            tc__shm_status **out, size_t *count, tc__error *err);
void tc__shm_status_free(tc__shm_status *s, size_t count);

/* Map [offset, offset + byte_size) of POSIX shm object `key` as region
 * `name`. INVALID_ARG: bad or reserved key, range outside the object;
 * ALREADY_EXISTS: the name is taken; INTERNAL: the object cannot be opened. */
tc_code tc__core_shm_register_system(tc__core *core, const char *name, const char *key,
                                     uint64_t offset, uint64_t byte_size, tc__error *err);
/* Open a cudaIpcMemHandle_t (`handle_len` must be 64) on `device_id`.
 * INVALID_ARG "... GPUs not supported" when no CUDA runtime or device. */
tc_code tc__core_shm_register_cuda(tc__core *core, const char *name, const uint8_t *raw_handle,
                                   size_t handle_len, int64_t device_id, uint64_t byte_size,
                                   tc__error *err);
/* Unregister region `name` of `kind` (unknown: TC_OK), or every region of
 * `kind` when `name` is NULL or empty. */
tc_code tc__core_shm_unregister(tc__core *core, tc__shm_kind kind, const char *name,
                                tc__error *err);

/* ---- statistics ---------------------------------------------------------------- */

typedef struct tc__stat_duration {
    uint64_t count;
    uint64_t ns;
} tc__stat_duration;

typedef struct tc__batch_stat {
    uint64_t batch_size;
    tc__stat_duration compute_input;
    tc__stat_duration compute_infer;
    tc__stat_duration compute_output;
} tc__batch_stat;

/* Why a request failed, as upstream's `reason` label of
 * nv_inference_request_failure says it. */
typedef enum tc__fail_reason {
    TC__FAIL_REJECTED, /* refused by the scheduler (unloading, sequence rules) */
    TC__FAIL_CANCELED, /* cancelled before it completed */
    TC__FAIL_BACKEND,  /* the backend's execute() reported an error */
    TC__FAIL_OTHER,    /* anything else: validation, shared memory, outputs */
    TC__FAIL_REASON_COUNT
} tc__fail_reason;

typedef struct tc__model_stats {
    char *name;
    char *version;
    uint64_t last_inference_ms;
    uint64_t inference_count;
    uint64_t execution_count;
    tc__stat_duration success, fail, queue, compute_input, compute_infer, compute_output, cache_hit,
        cache_miss;
    tc__batch_stat *batches; /* sorted by batch_size */
    size_t batch_count;
    uint64_t fail_by_reason[TC__FAIL_REASON_COUNT]; /* sums to fail.count */
    uint64_t pending_count; /* queued, not yet executing (a gauge) */
} tc__model_stats;

/* Statistics of READY versions: all models (`name` NULL), one model, or one
 * version. Caller frees with tc__model_stats_free. */
tc_code tc__core_model_stats(tc__core *core, const char *name, const char *version,
                             tc__model_stats **out, size_t *count, tc__error *err);
void tc__model_stats_free(tc__model_stats *stats, size_t count);

/* ---- model repository ------------------------------------------------------- */

tc_code tc__core_repo_index(tc__core *core, bool ready_only, tc__repo_index *out, tc__error *err);

/* A file override for a load: `path` is "<version>/<relative path>". */
typedef struct tc__load_file {
    const char *path;
    const uint8_t *data;
    size_t size;
} tc__load_file;

/* Load or reload `name`. `config_json` (NULL = none) replaces config.pbtxt;
 * `files` (require config_json) build an override directory. Only in
 * explicit mode (else UNAVAILABLE). Failures say "failed to load". */
tc_code tc__core_model_load(tc__core *core, const char *name, const char *config_json,
                            size_t config_len, const tc__load_file *files, size_t file_count,
                            tc__error *err);
tc_code tc__core_model_unload(tc__core *core, const char *name, bool unload_dependents,
                              tc__error *err);

/* ---- tracing ------------------------------------------------------------------ */

enum { TC__TRACE_LEVEL_TIMESTAMPS = 1, TC__TRACE_LEVEL_TENSORS = 2 };

typedef struct tc__trace_settings {
    uint32_t level; /* 0 = OFF, else TC__TRACE_LEVEL_* bits */
    int64_t rate;
    int64_t count;
    int64_t log_frequency;
    char file[256];
    char mode[32];
} tc__trace_settings;

/* An update: each `has_*` member says the value is given; `clear_*` (per
 * model only) reverts that value to the global one. */
typedef struct tc__trace_update {
    bool has_level, has_rate, has_count, has_log_frequency;
    bool clear_level, clear_rate, clear_count, clear_log_frequency;
    uint32_t level;
    int64_t rate, count, log_frequency;
} tc__trace_update;

/* `model` NULL = global. A per-model call needs a READY model (else
 * INVALID_ARG "Request for unknown model : <m>"). */
tc_code tc__core_trace_get(tc__core *core, const char *model, tc__trace_settings *out,
                           tc__error *err);
tc_code tc__core_trace_update(tc__core *core, const char *model, const tc__trace_update *u,
                              tc__error *err);

/* One sampled request's trace (core/trace.c). The frontend that began it
 * owns it: it stamps its own points, hands it to a *_traced entry point
 * (the core stamps REQUEST_START .. REQUEST_END, the last one before the
 * completion callback runs, and never touches it after that callback) and
 * ends it. Stamps come from one thread at a time, in time order. */
typedef struct tc__trace tc__trace;

/* Cheap check (one relaxed atomic load): may any request be sampled now? */
bool tc__core_trace_enabled(tc__core *core);
/* Sample a request to `model` under the effective settings (rate, count,
 * level): NULL when it is not traced (always when tracing is off). */
tc__trace *tc__core_trace_begin(tc__core *core, const char *model);
/* Record point `name` (a string literal: HTTP_RECV_START...) now, or at
 * `ns` (tc__now_ns clock). `t` NULL: nothing. */
void tc__trace_stamp(tc__trace *t, const char *name);
void tc__trace_stamp_at(tc__trace *t, const char *name, uint64_t ns);
/* Hand the trace to the trace file writer (written per log_frequency and
 * at tc__core_free) and free it. A trace that never reached the core
 * (no model version) is dropped. `t` NULL: nothing. */
void tc__trace_end(tc__trace *t);

/* The entry points above with a trace (NULL = untraced). */
tc_code tc__core_infer_async_traced(tc__core *core, const tc__infer_request *req, tc__trace *trace,
                                    tc__infer_done_cb cb, void *user_data, tc__error *err);
tc_code tc__core_infer_stream_traced(tc__core *core, const tc__infer_request *req, tc__trace *trace,
                                     tc__infer_stream_cb cb, void *user_data, tc__error *err);
tc_code tc__core_infer_inline_traced(tc__core *core, const tc__infer_request *req, tc__trace *trace,
                                     tc__infer_response **response, tc__error *err);

/* ---- log settings ------------------------------------------------------------- */

typedef struct tc__log_settings {
    char file[256];
    bool info, warning, error;
    uint32_t verbose_level;
    bool iso8601; /* log_format "ISO8601" instead of "default" */
} tc__log_settings;

/* Process-wide: the server's log hook (tc__server_log_cb) reads them. */
void tc__server_log_get(tc__log_settings *out);
/* Apply `in`. A `file` different from the current one is opened for
 * appending (the server flag; the endpoints never change it): false when
 * it cannot be opened (settings unchanged). */
bool tc__server_log_set(const tc__log_settings *in);
/* Close the log file (at exit). */
void tc__server_log_close(void);
/* A tc_log_cb writing lines to stderr (or the log file) in the configured
 * format: level letter, time, thread id, then the message. */
void tc__server_log_cb(tc_log_level level, const char *message, void *user_data);

#endif /* TC_SRC_SERVER_CORE_CORE_H */
