/**
 * @file client.h
 * The transport-neutral client: health, metadata, model control,
 * statistics, trace and log settings, and inference (sync and async).
 *
 * A tc_client is created by a transport constructor (tc_http_client_new()
 * in http.h) and used through the functions below, which behave the same on
 * every transport. JSON documents (model config, statistics, trace and log
 * settings) are the JSON text Triton's HTTP endpoint serves; other
 * transports render the same JSON.
 *
 * Thread rule: a client is used by one thread at a time (serialize calls
 * yourself); different clients are independent. Async completion callbacks
 * run on the client's own I/O thread. Every timeout is in microseconds.
 *
 * Errors: each call returns a tc_code; tc_client_last_error() gives the
 * message of the client's last failed call, with a server's error text
 * passed through unchanged. Codes returned by every call below besides
 * those listed: TC_E_INVALID_ARG (NULL client or other required argument),
 * TC_E_NOMEM, TC_E_TRANSPORT (no answer), TC_E_TIMEOUT (deadline passed),
 * TC_E_PROTOCOL (unparsable answer), and the code mapped from the server's
 * error status (TC_E_INVALID_ARG 400, TC_E_NOT_FOUND 404, TC_E_INTERNAL 500,
 * TC_E_NOT_SUPPORTED 501, TC_E_UNAVAILABLE 503, TC_E_SERVER otherwise).
 *
 * Retries and several endpoints (since 0.2.0): a client made with a retry
 * policy (tc_http_options_set_retry(), tc_grpc_options_set_retry()) or over
 * several servers (tc_http_multi_client_new(), tc_grpc_multi_client_new())
 * is resilient:
 * - Which failures are retried: any call is retried when its request never
 *   reached the server (connection refused, host not resolved, connection
 *   reset or closed before the request was fully sent, a gRPC stream the
 *   server refused). Idempotent calls (health, server and model metadata,
 *   model config, statistics, repository index, trace and log settings
 *   reads, shared-memory status) are also retried after any transport
 *   failure (TC_E_TRANSPORT, TC_E_UNAVAILABLE). Inference, model load and
 *   unload, settings updates and shm registration are never resent once the
 *   request may have reached the server. Answers of the server (any other
 *   code) are never retried.
 * - Deadlines: the call's deadline (tc_request_set_client_timeout_us(), else
 *   the options' network timeout) bounds the whole call: no attempt starts
 *   after it, and a backoff that would end past it ends the call with the
 *   last failure instead. Each attempt also runs under that timeout.
 * - Sync calls sleep on the calling thread between attempts. Async calls
 *   are resent from the client's timer thread (nothing blocks an I/O
 *   thread); their callback still runs exactly once, with the outcome of the
 *   last attempt, on an I/O thread of the client (an endpoint's, or the
 *   timer thread when a resend could not start or the client is freed).
 *   The request is copied for resends; TC_BORROW data must stay valid until
 *   the callback has run, as always. tc_client_cancel() also ends a call
 *   waiting for a resend.
 * - Endpoints: each call (sync or async) goes to the next endpoint in round
 *   robin order, skipping those marked down. An endpoint is marked down by a
 *   transport failure and up again by any answer; the timer thread probes
 *   down endpoints with a `live` check after a backoff (the retry policy's,
 *   else 50 ms doubling to 1 s) and marks them up when live. When every
 *   endpoint is down, calls go to the one due for a probe first. A stream
 *   (tc_client_stream_start()) stays on the endpoint it started on and is
 *   never retried or moved. Shared-memory registration and unregistration
 *   go to every endpoint. Without a retry policy a multi-endpoint client
 *   makes one attempt per call (later calls avoid the failed endpoint).
 * - Log: each retry is logged at TC_LOG_INFO ("retrying ..."), endpoint
 *   state changes at TC_LOG_WARNING / TC_LOG_INFO.
 */
#ifndef TC_TRITONC_CLIENT_H
#define TC_TRITONC_CLIENT_H

#include <tritonc/common.h>
#include <tritonc/request.h>
#include <tritonc/result.h>
#include <tritonc/tensor.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque client handle; created by a transport constructor, freed by tc_client_free(). */
typedef struct tc_client tc_client;

/** Compression algorithms for request and response bodies. */
typedef enum tc_compression {
    TC_COMPRESSION_NONE = 0,   /**< no compression (default) */
    TC_COMPRESSION_GZIP = 1,   /**< gzip (RFC 1952) */
    TC_COMPRESSION_DEFLATE = 2 /**< zlib stream (RFC 1950), what Triton calls deflate */
} tc_compression;

/**
 * Completion callback of tc_client_infer_async(). Runs exactly once per
 * accepted request, on the client's I/O thread, including on timeout,
 * transport failure and shutdown (see tc_result_status()). The callee owns
 * `result` (never NULL) and releases it with tc_result_free(), possibly on
 * another thread. The callback must not block; it may submit more requests
 * on the same client, but tc_client_free() from it fails with TC_E_BUSY.
 */
typedef void (*tc_infer_cb)(tc_result *result, void *user_data);

/* ---- lifetime ---------------------------------------------------------- */

/**
 * Free a client. Requests still in flight end first: each callback runs
 * with TC_E_CANCELLED before this returns, and the I/O thread is joined.
 * NULL does nothing and returns TC_OK.
 * Unlike other `_free` functions this one can fail, as STYLE §2.4 requires:
 * @return TC_OK (freed); TC_E_BUSY when called on the client's own I/O
 *         thread (from a completion callback): nothing is freed.
 * @since 0.1.0
 */
TC_API tc_code tc_client_free(tc_client *client);

/**
 * Message of the client's last failed call ("" if none yet); valid until the
 * next call on the client. Never NULL (NULL client gives a static text).
 * @since 0.1.0
 */
TC_API const char *tc_client_last_error(const tc_client *client);

/* ---- per-call headers -------------------------------------------------- */

/**
 * Opaque list of extra headers (HTTP) / metadata (gRPC) for one call. Every
 * call below takes a `const tc_headers *`, NULL meaning none; the list is
 * only read during the call and may be reused. Thread rule: one thread at a
 * time, but a list that no one modifies may be read by several calls at once.
 */
typedef struct tc_headers tc_headers;

/**
 * Create an empty header list.
 * @param out  receives the list; caller owns it (tc_headers_free()).
 * @return TC_OK, TC_E_INVALID_ARG (NULL out), TC_E_NOMEM.  @since 0.1.0
 */
TC_API tc_code tc_headers_new(tc_headers **out);

/** Free a header list. NULL does nothing. @since 0.1.0 */
TC_API void tc_headers_free(tc_headers *headers);

/**
 * Append a header; both strings are copied.
 * @return TC_OK, TC_E_INVALID_ARG (NULL/empty name, CR or LF in either), TC_E_NOMEM.
 * @since 0.1.0
 */
TC_API tc_code tc_headers_add(tc_headers *headers, const char *name, const char *value);

/* ---- health ------------------------------------------------------------ */

/**
 * Ask whether the server is live. A "not live" answer (HTTP 400 or 503) is
 * TC_OK with `*live` false.  @since 0.1.0
 */
TC_API tc_code tc_client_is_server_live(tc_client *client, const tc_headers *headers, bool *live);

/**
 * Ask whether the server is ready. A "not ready" answer is TC_OK with
 * `*ready` false.  @since 0.1.0
 */
TC_API tc_code tc_client_is_server_ready(tc_client *client, const tc_headers *headers, bool *ready);

/**
 * Ask whether a model (version) is ready. `version` NULL or "" = the
 * server's choice. A known but not ready model (HTTP 400 or 503) is TC_OK
 * with `*ready` false; an unknown model returns TC_E_NOT_FOUND.  @since 0.1.0
 */
TC_API tc_code tc_client_is_model_ready(tc_client *client, const char *model, const char *version,
                                        const tc_headers *headers, bool *ready);

/* ---- server metadata --------------------------------------------------- */

/** Opaque server metadata (name, version, extensions). */
typedef struct tc_server_metadata tc_server_metadata;

/**
 * Fetch the server metadata.
 * @param out  receives the metadata; caller owns it (tc_server_metadata_free()).
 * @since 0.1.0
 */
TC_API tc_code tc_client_server_metadata(tc_client *client, const tc_headers *headers,
                                         tc_server_metadata **out);
/** Free server metadata. NULL does nothing. @since 0.1.0 */
TC_API void tc_server_metadata_free(tc_server_metadata *meta);
/** Server name ("triton"); never NULL. Owned by `meta`. @since 0.1.0 */
TC_API const char *tc_server_metadata_name(const tc_server_metadata *meta);
/** Server version string; never NULL. Owned by `meta`. @since 0.1.0 */
TC_API const char *tc_server_metadata_version(const tc_server_metadata *meta);
/** Number of advertised extensions. @since 0.1.0 */
TC_API size_t tc_server_metadata_extension_count(const tc_server_metadata *meta);
/** Extension `index`, or NULL when out of range. Owned by `meta`. @since 0.1.0 */
TC_API const char *tc_server_metadata_extension(const tc_server_metadata *meta, size_t index);

/* ---- model metadata ---------------------------------------------------- */

/** Opaque model metadata (name, versions, platform, input and output tensors). */
typedef struct tc_model_metadata tc_model_metadata;

/**
 * Fetch a model's metadata. `version` NULL or "" = the server's choice.
 * @param out  receives the metadata; caller owns it (tc_model_metadata_free()).
 * @return also TC_E_NOT_FOUND for an unknown model or version.  @since 0.1.0
 */
TC_API tc_code tc_client_model_metadata(tc_client *client, const char *model, const char *version,
                                        const tc_headers *headers, tc_model_metadata **out);
/** Free model metadata. NULL does nothing. @since 0.1.0 */
TC_API void tc_model_metadata_free(tc_model_metadata *meta);
/** Model name; never NULL. Owned by `meta`. @since 0.1.0 */
TC_API const char *tc_model_metadata_name(const tc_model_metadata *meta);
/** Platform or backend name; never NULL. Owned by `meta`. @since 0.1.0 */
TC_API const char *tc_model_metadata_platform(const tc_model_metadata *meta);
/** Number of versions listed. @since 0.1.0 */
TC_API size_t tc_model_metadata_version_count(const tc_model_metadata *meta);
/** Version `index`, or NULL when out of range. Owned by `meta`. @since 0.1.0 */
TC_API const char *tc_model_metadata_version(const tc_model_metadata *meta, size_t index);
/** Number of inputs. @since 0.1.0 */
TC_API size_t tc_model_metadata_input_count(const tc_model_metadata *meta);
/** Number of outputs. @since 0.1.0 */
TC_API size_t tc_model_metadata_output_count(const tc_model_metadata *meta);

/**
 * Describe input `index`: name, datatype and shape (-1 = variable
 * dimension). Out-params may be NULL when not wanted; pointers are owned by
 * `meta`.
 * @return TC_OK, TC_E_INVALID_ARG (NULL meta or index out of range).  @since 0.1.0
 */
TC_API tc_code tc_model_metadata_input(const tc_model_metadata *meta, size_t index,
                                       const char **name, tc_dtype *dtype, const int64_t **shape,
                                       size_t *ndim);
/** As tc_model_metadata_input(), for output `index`. @since 0.1.0 */
TC_API tc_code tc_model_metadata_output(const tc_model_metadata *meta, size_t index,
                                        const char **name, tc_dtype *dtype, const int64_t **shape,
                                        size_t *ndim);

/* ---- JSON documents ---------------------------------------------------- */

/**
 * Free a string returned by the library (JSON documents). NULL does nothing.
 * @since 0.1.0
 */
TC_API void tc_string_free(char *str);

/**
 * Fetch a model's configuration as JSON text (the ModelConfig JSON mapping
 * Triton serves at /v2/models/<m>/config).
 * @param json  receives a NUL-terminated string; caller owns it (tc_string_free()).
 * @return also TC_E_NOT_FOUND for an unknown model.  @since 0.1.0
 */
TC_API tc_code tc_client_model_config(tc_client *client, const char *model, const char *version,
                                      const tc_headers *headers, char **json);

/**
 * Fetch statistics as JSON text `{"model_stats":[...]}` (HTTP.md §10).
 * `model` NULL or "" = every model; `version` NULL or "" = every ready version.
 * @param json  receives a NUL-terminated string; caller owns it (tc_string_free()).
 * @since 0.1.0
 */
TC_API tc_code tc_client_model_statistics(tc_client *client, const char *model, const char *version,
                                          const tc_headers *headers, char **json);

/**
 * Fetch trace settings as JSON text. `model` NULL or "" = the global settings.
 * @param json  receives a NUL-terminated string; caller owns it (tc_string_free()).
 * @since 0.1.0
 */
TC_API tc_code tc_client_get_trace_settings(tc_client *client, const char *model,
                                            const tc_headers *headers, char **json);

/**
 * Update trace settings with a JSON object (HTTP.md §13: values as strings,
 * `trace_level` an array, `null` clears a per-model value) and receive the
 * settings now in force. `model` NULL or "" = the global settings.
 * @param json  receives a NUL-terminated string, or pass NULL to ignore it;
 *              caller owns it (tc_string_free()).
 * @since 0.1.0
 */
TC_API tc_code tc_client_update_trace_settings(tc_client *client, const char *model,
                                               const char *settings_json, const tc_headers *headers,
                                               char **json);

/**
 * Fetch log settings as JSON text (HTTP.md §14).
 * @param json  receives a NUL-terminated string; caller owns it (tc_string_free()).
 * @since 0.1.0
 */
TC_API tc_code tc_client_get_log_settings(tc_client *client, const tc_headers *headers,
                                          char **json);

/**
 * Update log settings with a JSON object and receive the settings now in force.
 * @param json  receives a NUL-terminated string, or NULL to ignore it;
 *              caller owns it (tc_string_free()).
 * @since 0.1.0
 */
TC_API tc_code tc_client_update_log_settings(tc_client *client, const char *settings_json,
                                             const tc_headers *headers, char **json);

/* ---- model repository -------------------------------------------------- */

/** Opaque repository index: one entry per model (or per model version). */
typedef struct tc_repository_index tc_repository_index;

/**
 * Fetch the repository index. `ready_only` lists only READY versions.
 * @param out  receives the index; caller owns it (tc_repository_index_free()).
 * @since 0.1.0
 */
TC_API tc_code tc_client_repository_index(tc_client *client, bool ready_only,
                                          const tc_headers *headers, tc_repository_index **out);
/** Free an index. NULL does nothing. @since 0.1.0 */
TC_API void tc_repository_index_free(tc_repository_index *index);
/** Number of entries. @since 0.1.0 */
TC_API size_t tc_repository_index_count(const tc_repository_index *index);
/** Model name of entry `i`, or NULL when out of range. Owned by `index`. @since 0.1.0 */
TC_API const char *tc_repository_index_name(const tc_repository_index *index, size_t i);
/** Version of entry `i`; "" when the entry has none or `i` is out of range. @since 0.1.0 */
TC_API const char *tc_repository_index_version(const tc_repository_index *index, size_t i);
/** State ("READY", "UNAVAILABLE", ...) of entry `i`; "" when none. @since 0.1.0 */
TC_API const char *tc_repository_index_state(const tc_repository_index *index, size_t i);
/** Reason of entry `i` ("unloaded"...); "" when none. @since 0.1.0 */
TC_API const char *tc_repository_index_reason(const tc_repository_index *index, size_t i);

/**
 * Opaque options for tc_client_load_model(): a configuration override and
 * files for an override directory. Thread rule: one thread at a time.
 */
typedef struct tc_load_options tc_load_options;

/**
 * Create empty load options.
 * @param out  receives the options; caller owns them (tc_load_options_free()).
 * @return TC_OK, TC_E_INVALID_ARG (NULL out), TC_E_NOMEM.  @since 0.1.0
 */
TC_API tc_code tc_load_options_new(tc_load_options **out);
/** Free load options. NULL does nothing. @since 0.1.0 */
TC_API void tc_load_options_free(tc_load_options *opts);

/**
 * Set a ModelConfig JSON (copied) that replaces the model's config.pbtxt and
 * forces a reload; NULL clears it.
 * @return TC_OK, TC_E_INVALID_ARG (NULL opts), TC_E_NOMEM.  @since 0.1.0
 */
TC_API tc_code tc_load_options_set_config(tc_load_options *opts, const char *config_json);

/**
 * Add a file of the override model directory, e.g. path "1/model.onnx";
 * the bytes are copied. Files require a config (tc_load_options_set_config()).
 * @return TC_OK, TC_E_INVALID_ARG (NULL opts or path, empty path, NULL data
 *         with size > 0), TC_E_NOMEM.
 * @since 0.1.0
 */
TC_API tc_code tc_load_options_add_file(tc_load_options *opts, const char *path, const void *data,
                                        size_t size);

/**
 * Load or reload a model (explicit model-control mode). Returns when the
 * load finished.
 * @param opts  NULL = load from the repository as is.
 * @return also the server's failure, e.g. TC_E_INVALID_ARG with a message
 *         containing "failed to load", or TC_E_UNAVAILABLE when the server
 *         does not allow model control.
 * @since 0.1.0
 */
TC_API tc_code tc_client_load_model(tc_client *client, const char *model,
                                    const tc_load_options *opts, const tc_headers *headers);

/**
 * Unload every version of a model; with `unload_dependents` also the models
 * loaded on its behalf.  @since 0.1.0
 */
TC_API tc_code tc_client_unload_model(tc_client *client, const char *model, bool unload_dependents,
                                      const tc_headers *headers);

/* ---- inference ------------------------------------------------------- */

/**
 * Run one inference and wait for its result.
 * @param result  receives the result whenever the request was attempted,
 *                even when the server answered with an error (its message
 *                and HTTP status are in the result); NULL when nothing was
 *                sent (invalid arguments, TC_E_NOMEM before sending). Caller
 *                owns it (tc_result_free()).
 * @return tc_result_status() of the result when there is one, otherwise the
 *         argument or allocation error. The message is also in
 *         tc_client_last_error().
 * @since 0.1.0
 */
TC_API tc_code tc_client_infer(tc_client *client, const tc_request *req, tc_result **result);

/**
 * Send `req` and return without waiting for the answer. `req` may be freed
 * or changed once this returns (copied data is kept by the client); input
 * data attached with TC_BORROW must stay valid and unchanged until `cb` has
 * run. The first call starts the client's I/O thread.
 * @param cb  completion callback, run exactly once on the client's I/O thread.
 * @return TC_OK if queued (`cb` will run exactly once); any other code
 *         (TC_E_INVALID_ARG, TC_E_NOMEM, TC_E_TRANSPORT when the I/O thread
 *         cannot start) means nothing was queued and `cb` will never run.
 * @note   Not thread-safe: serialize calls on one client (calls from the
 *         client's own callbacks are allowed).
 * @since 0.1.0
 */
TC_API tc_code tc_client_infer_async(tc_client *client, const tc_request *req, tc_infer_cb cb,
                                     void *user_data);

/**
 * As tc_client_infer_async(), and also return an id naming this call for
 * tc_client_cancel(). Ids are unique per client, never 0, and never reused.
 * @param call_id  receives the id (may be NULL when not wanted); written only on TC_OK.
 * @return as tc_client_infer_async().
 * @note   Not thread-safe, as tc_client_infer_async().
 * @since 0.1.0
 */
TC_API tc_code tc_client_infer_async_id(tc_client *client, const tc_request *req, tc_infer_cb cb,
                                        void *user_data, uint64_t *call_id);

/**
 * Run several inferences, one after another (upstream's InferMulti): each
 * request is sent even when an earlier one failed.
 * @param results  an array of `count` slots; on return every slot holds a
 *                 result the caller owns (tc_result_free()): the server's
 *                 answer, or for a request that could not be sent a result
 *                 whose status and message say why. A slot is NULL only
 *                 when even that result could not be allocated.
 * @return TC_OK when every result is TC_OK, else the first failing status
 *         (TC_E_INVALID_ARG for NULL arguments or `count` 0: then no slot is
 *         written).
 * @note   Not thread-safe, as tc_client_infer(); not from a callback.
 * @since 0.1.0
 */
TC_API tc_code tc_client_infer_multi(tc_client *client, const tc_request *const *requests,
                                     size_t count, tc_result **results);

/**
 * Completion of tc_client_infer_multi_async(): `results[i]` answers
 * `requests[i]`. The array belongs to the library and is valid during the
 * call; the callee owns each result (tc_result_free()), which may be NULL
 * only when memory ran out. Runs on the client's I/O thread, or on the
 * calling thread when the last result is already in when the submission
 * loop ends. Must not block.
 */
typedef void (*tc_multi_cb)(tc_result **results, size_t count, void *user_data);

/**
 * Send several requests at once and call back once with all their results
 * (upstream's AsyncInferMulti). Requests may be freed once this returns, as
 * with tc_client_infer_async().
 * @return TC_OK when at least one request was sent: `cb` runs exactly once,
 *         and a request that could not be sent has a result that says why.
 *         Otherwise the first error (TC_E_INVALID_ARG, TC_E_NOMEM,
 *         TC_E_TRANSPORT...) and `cb` never runs.
 * @note   Not thread-safe, as tc_client_infer_async().
 * @since 0.1.0
 */
TC_API tc_code tc_client_infer_multi_async(tc_client *client, const tc_request *const *requests,
                                           size_t count, tc_multi_cb cb, void *user_data);

/**
 * Cancel an async call started by tc_client_infer_async_id(). When it is
 * still pending, its request is abandoned (gRPC: RST_STREAM CANCEL, the
 * server cancels the inference) and its callback runs once with
 * TC_E_CANCELLED, on the I/O thread, possibly before this returns. When it
 * already completed (or is completing right now) nothing happens.
 * @return TC_OK (cancellation requested, or the call was already done: the
 *         callback runs exactly once either way); TC_E_INVALID_ARG (NULL
 *         client or id 0); TC_E_NOT_SUPPORTED (HTTP clients).
 * @note   Thread-safe: may be called from any thread, including the
 *         client's callbacks, while another thread uses the client.
 * @since 0.1.0
 */
TC_API tc_code tc_client_cancel(tc_client *client, uint64_t call_id);

#ifdef __cplusplus
}
#endif
#endif /* TC_TRITONC_CLIENT_H */
