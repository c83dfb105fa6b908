/**
 * @file backend.h
 * The backend plugin ABI of tritonc-server: how a shared object adds a
 * backend (config.pbtxt `backend: "NAME"`) without rebuilding the server.
 *
 * A plugin is `libtritonc_NAME.so` exporting one function,
 * `tc_backend_entry()` (TC_BACKEND_ENTRY_SYMBOL), which returns its
 * tc_backend_vtable. The server looks for it, in order, in the model's
 * directory (`<repository>/<model>/`), then in `<dir>/NAME/` and `<dir>/` of
 * `--backend-directory`. It stays loaded while a model uses it.
 *
 * Threads and lifetime: init() runs once per model version on a loading
 * thread; execute() runs on that version's instance threads, never twice at
 * once for the same (state, instance) pair, but different instances (config
 * `instance_group { count: N }`) run concurrently, so shared state must be
 * read-only or locked; fini() runs once after the last execute() returned.
 * Every pointer the functions below return is borrowed: a model's strings
 * stay valid until fini(), a request's data until execute() returns.
 *
 * The tc_backend_* functions are exported by the tritonc-server executable;
 * a plugin links against nothing (leave the symbols undefined: the default
 * for shared objects). Build one with
 *     cc -shared -fPIC -o libtritonc_NAME.so my_backend.c -I<prefix>/include
 * See examples/backend/scale_backend.c and docs/BACKENDS.md.
 */
#ifndef TC_TRITONC_BACKEND_H
#define TC_TRITONC_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include <tritonc/common.h>
#include <tritonc/tensor.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(TC_BUILDING_SERVER)
#define TC_BACKEND_API __attribute__((visibility("default")))
#else
#define TC_BACKEND_API
#endif

/** Put on a plugin's tc_backend_entry() so it is exported even when the
 * plugin is compiled with -fvisibility=hidden. */
#define TC_BACKEND_EXPORT __attribute__((visibility("default")))

/** The ABI version a plugin is built against; the server refuses others. */
#define TC_BACKEND_API_VERSION 1u
/** Name of the function every plugin exports (type tc_backend_entry_fn). */
#define TC_BACKEND_ENTRY_SYMBOL "tc_backend_entry"

/** The model version being loaded (init) or served. Opaque. */
typedef struct tc_backend_model tc_backend_model;
/** One request of an executed batch. Opaque. */
typedef struct tc_backend_request tc_backend_request;
/** An extra response of a decoupled model, before it is sent. Opaque. */
typedef struct tc_backend_response tc_backend_response;

/** What a plugin provides. Only `execute` may be called concurrently. */
typedef struct tc_backend_vtable {
    uint32_t api_version; /**< TC_BACKEND_API_VERSION */
    /**
     * Check the model's configuration and build per-model state in *state.
     * On failure return an error code and say why with
     * tc_backend_model_set_error(); the model is then UNAVAILABLE.
     */
    tc_code (*init)(tc_backend_model *model, void **state);
    /**
     * Execute `count` requests (a batch: several when dynamic batching
     * gathered them) on instance `instance` (0 .. instance count - 1). For
     * each request either add every output (tc_backend_request_output) or
     * set an error (tc_backend_request_set_error).
     */
    void (*execute)(void *state, uint32_t instance, tc_backend_request *const *requests,
                    size_t count);
    /** Release the state; no execute() runs any more. */
    void (*fini)(void *state);
} tc_backend_vtable;

/** Type of the exported entry point: the plugin's vtable (static storage). */
typedef const tc_backend_vtable *(*tc_backend_entry_fn)(void);
/** The entry point a plugin defines; the server finds it by name. @since 0.1.0 */
TC_BACKEND_EXPORT const tc_backend_vtable *tc_backend_entry(void);

/* ---- the model ------------------------------------------------------------------------ */

/** The model's name. @since 0.1.0 */
TC_BACKEND_API const char *tc_backend_model_name(const tc_backend_model *model);
/** The version being loaded or served. @since 0.1.0 */
TC_BACKEND_API int64_t tc_backend_model_version(const tc_backend_model *model);
/** The model's directory (holding config.pbtxt and the version folders). @since 0.1.0 */
TC_BACKEND_API const char *tc_backend_model_path(const tc_backend_model *model);
/**
 * The complete configuration as Triton renders it in JSON (the body of
 * GET /v2/models/NAME/config), or NULL when out of memory. @since 0.1.0
 */
TC_BACKEND_API const char *tc_backend_model_config_json(tc_backend_model *model);
/** Value of the config's string parameter `key` (`parameters`), or NULL. @since 0.1.0 */
TC_BACKEND_API const char *tc_backend_model_parameter(const tc_backend_model *model,
                                                      const char *key);
/** max_batch_size of the configuration (0: the model does not batch). @since 0.1.0 */
TC_BACKEND_API int32_t tc_backend_model_max_batch_size(const tc_backend_model *model);
/** True for `model_transaction_policy { decoupled: true }`. @since 0.1.0 */
TC_BACKEND_API bool tc_backend_model_decoupled(const tc_backend_model *model);
/** Say why init() failed (printf-style; the text is copied). @since 0.1.0 */
TC_BACKEND_API void tc_backend_model_set_error(tc_backend_model *model, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- requests ------------------------------------------------------------------------- */

/** A request's input tensor, borrowed until execute() returns. */
typedef struct tc_backend_tensor {
    const char *name;
    tc_dtype dtype;
    const int64_t *shape; /**< batch dimension first when the model batches */
    size_t ndim;
    const void *data; /**< BYTES: 4-byte little-endian length + bytes, per element */
    size_t byte_size;
} tc_backend_tensor;

/** Number of inputs of the request (configured inputs, plus sequence controls). @since 0.1.0 */
TC_BACKEND_API size_t tc_backend_request_input_count(const tc_backend_request *request);
/** Input `index` (0 .. count - 1). TC_E_INVALID_ARG when out of range. @since 0.1.0 */
TC_BACKEND_API tc_code tc_backend_request_input(const tc_backend_request *request, size_t index,
                                                tc_backend_tensor *out);
/** Input `name`. TC_E_NOT_FOUND when the request has none. @since 0.1.0 */
TC_BACKEND_API tc_code tc_backend_request_input_by_name(const tc_backend_request *request,
                                                        const char *name, tc_backend_tensor *out);
/** The request's batch size (1 when the model does not batch). @since 0.1.0 */
TC_BACKEND_API uint64_t tc_backend_request_batch_size(const tc_backend_request *request);
/** The request's id ("" when none). @since 0.1.0 */
TC_BACKEND_API const char *tc_backend_request_id(const tc_backend_request *request);
/**
 * Add output `name` to the request's response and get its buffer of
 * `byte_size` bytes to fill before execute() returns. The buffer may be the
 * client's shared-memory region: write only the output into it.
 * TC_E_NOMEM, or TC_E_INVALID_ARG for a bad argument. @since 0.1.0
 */
TC_BACKEND_API tc_code tc_backend_request_output(tc_backend_request *request, const char *name,
                                                 tc_dtype dtype, const int64_t *shape, size_t ndim,
                                                 size_t byte_size, void **buffer);
/**
 * Fail the request (printf-style message, copied); outputs already added
 * are dropped. The code is reported to the client as its HTTP/gRPC status
 * (TC_E_INVALID_ARG: 400 / INVALID_ARGUMENT, others: 500 / INTERNAL ...).
 * @since 0.1.0
 */
TC_BACKEND_API void tc_backend_request_set_error(tc_backend_request *request, tc_code code,
                                                 const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- decoupled models ----------------------------------------------------------------- */

/**
 * A new empty response for `request` of a decoupled model, or NULL (out of
 * memory, or the model is not decoupled). Fill it with
 * tc_backend_response_output() and pass it to tc_backend_response_send().
 * @since 0.1.0
 */
TC_BACKEND_API tc_backend_response *tc_backend_response_new(tc_backend_request *request);
/** As tc_backend_request_output(), for a decoupled response. @since 0.1.0 */
TC_BACKEND_API tc_code tc_backend_response_output(tc_backend_response *response, const char *name,
                                                  tc_dtype dtype, const int64_t *shape, size_t ndim,
                                                  size_t byte_size, void **buffer);
/**
 * Send `response` to the client now (not final: the request completes when
 * execute() returns). Takes ownership of `response` in every case.
 * @since 0.1.0
 */
TC_BACKEND_API tc_code tc_backend_response_send(tc_backend_request *request,
                                                tc_backend_response *response);
/** Drop a response that will not be sent. NULL is a no-op. @since 0.1.0 */
TC_BACKEND_API void tc_backend_response_free(tc_backend_response *response);

#ifdef __cplusplus
}
#endif
#endif /* TC_TRITONC_BACKEND_H */
