/**
 * @file result.h
 * The outcome of one inference call: its status and, on success, the outputs.
 *
 * A result is handed to the caller by tc_client_infer() or to the completion
 * callback of tc_client_infer_async(); the receiver owns it and releases it
 * with tc_result_free(). Every pointer an accessor returns is owned by the
 * result and stays valid until tc_result_free().
 *
 * Thread rule: a result may move to another thread; accessors are read-only,
 * but the first BYTES element access of an output builds an index, so use a
 * result from one thread at a time.
 */
#ifndef TC_TRITONC_RESULT_H
#define TC_TRITONC_RESULT_H

#include <tritonc/common.h>
#include <tritonc/tensor.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque inference result. */
typedef struct tc_result tc_result;

/** Free a result. NULL does nothing. @since 0.1.0 */
TC_API void tc_result_free(tc_result *result);

/**
 * Status of the call: TC_OK when the server answered with outputs; a server
 * error mapped from its HTTP/gRPC status (TC_E_INVALID_ARG, TC_E_NOT_FOUND,
 * TC_E_INTERNAL, TC_E_UNAVAILABLE, TC_E_NOT_SUPPORTED, TC_E_SERVER...);
 * TC_E_TRANSPORT (no answer), TC_E_TIMEOUT (client deadline), TC_E_CANCELLED
 * (client freed with the call in flight), TC_E_PROTOCOL (unparsable answer),
 * TC_E_NOMEM. NULL gives TC_E_INVALID_ARG.
 * @since 0.1.0
 */
TC_API tc_code tc_result_status(const tc_result *result);

/**
 * Error text: the server's message unchanged when it sent one, else a
 * description of the local failure; "" on success. Never NULL.
 * @since 0.1.0
 */
TC_API const char *tc_result_error_message(const tc_result *result);

/**
 * HTTP status of the answer (200 on success), or 0 when there was no HTTP
 * answer (transport error, timeout, cancel, or a gRPC call).
 * @since 0.1.0
 */
TC_API long tc_result_http_status(const tc_result *result);

/** Model name from the answer, "" when unknown. Never NULL. @since 0.1.0 */
TC_API const char *tc_result_model_name(const tc_result *result);
/** Model version actually used ("1"), "" when unknown. Never NULL. @since 0.1.0 */
TC_API const char *tc_result_model_version(const tc_result *result);
/** Request id echoed back, "" when none. Never NULL. @since 0.1.0 */
TC_API const char *tc_result_id(const tc_result *result);

/** Number of outputs (0 on failure or NULL). @since 0.1.0 */
TC_API size_t tc_result_output_count(const tc_result *result);

/**
 * Name of output `index` (0 .. count-1), in the server's order, or NULL
 * when out of range.
 * @since 0.1.0
 */
TC_API const char *tc_result_output_name(const tc_result *result, size_t index);

/**
 * Datatype of the output called `name`.
 * @return TC_OK, TC_E_INVALID_ARG (NULL argument), TC_E_NOT_FOUND (no such output).
 * @since 0.1.0
 */
TC_API tc_code tc_result_output_dtype(const tc_result *result, const char *name, tc_dtype *dtype);

/**
 * Shape of the output called `name`: `*shape` points at `*ndim` dimensions
 * owned by the result (may be NULL when ndim is 0).
 * @return TC_OK, TC_E_INVALID_ARG, TC_E_NOT_FOUND.  @since 0.1.0
 */
TC_API tc_code tc_result_output_shape(const tc_result *result, const char *name,
                                      const int64_t **shape, size_t *ndim);

/**
 * Raw bytes of the output called `name`: little-endian, row-major; for BYTES
 * the length-prefixed serialization. JSON outputs are converted to the same
 * layout. `*data` may be NULL when `*byte_size` is 0. The data is aligned
 * for its datatype, so it may be read through a pointer to the element type
 * (e.g. `const float *`).
 * @return TC_OK, TC_E_INVALID_ARG, TC_E_NOT_FOUND.  @since 0.1.0
 */
TC_API tc_code tc_result_output_data(const tc_result *result, const char *name,
                                     const uint8_t **data, size_t *byte_size);

/**
 * Number of elements of the BYTES output called `name`.
 * @return TC_OK; TC_E_INVALID_ARG (NULL argument, or the output is not BYTES);
 *         TC_E_NOT_FOUND; TC_E_PROTOCOL (truncated length prefix); TC_E_NOMEM.
 * @since 0.1.0
 */
TC_API tc_code tc_result_output_bytes_count(tc_result *result, const char *name, size_t *count);

/**
 * Element `index` of the BYTES output called `name`: `*elem` points at `*len`
 * bytes inside the result (not NUL-terminated; may contain NUL bytes).
 * Constant time after the first call on that output.
 * @return TC_OK; TC_E_INVALID_ARG (NULL argument, not BYTES, index out of range);
 *         TC_E_NOT_FOUND; TC_E_PROTOCOL; TC_E_NOMEM.
 * @since 0.1.0
 */
TC_API tc_code tc_result_output_bytes_element(tc_result *result, const char *name, size_t index,
                                              const uint8_t **elem, size_t *len);

/**
 * Whether the output called `name` was written into shared memory instead
 * of the response (its requested output pointed at a region).
 * @return TC_OK, TC_E_INVALID_ARG (NULL argument), TC_E_NOT_FOUND.  @since 0.1.0
 */
TC_API tc_code tc_result_output_is_shm(const tc_result *result, const char *name, bool *is_shm);

/**
 * Where the output called `name` was written: region name, byte size and
 * offset inside the registered region. The byte size is the one the server
 * reported for the output when it did (its actual size), else the one the
 * request offered. Out-params may be NULL when not wanted; `*region_name`
 * is owned by the result.
 * @return TC_OK; TC_E_INVALID_ARG (NULL result or name, or the output is
 *         not in shared memory); TC_E_NOT_FOUND (no such output).
 * @since 0.1.0
 */
TC_API tc_code tc_result_output_shm(const tc_result *result, const char *name,
                                    const char **region_name, size_t *byte_size, size_t *offset);


/**
 * The moments of one inference call, as upstream's RequestTimers: when the
 * call started, when sending began and ended, when receiving began and
 * ended, and when the call ended (its result was complete, just before it
 * was returned or handed to the callback). Constants may be added later;
 * their values never change.
 */
typedef enum tc_timer_kind {
    TC_TIMER_REQUEST_START = 0, /**< the infer call (or stream send) was entered */
    TC_TIMER_SEND_START = 1,    /**< the first request byte was handed to the transport */
    TC_TIMER_SEND_END = 2,      /**< the last request byte was handed to the transport */
    TC_TIMER_RECV_START = 3,    /**< the first response byte arrived */
    TC_TIMER_RECV_END = 4,      /**< the response was complete and decoded */
    TC_TIMER_REQUEST_END = 5    /**< the result was ready for the caller */
} tc_timer_kind;

/**
 * One timestamp of the call that produced `result`, in nanoseconds of the
 * monotonic clock (CLOCK_MONOTONIC; only differences are meaningful).
 * Recorded stamps are ordered: REQUEST_START <= SEND_START <= SEND_END <=
 * RECV_START <= RECV_END <= REQUEST_END. Every path fills them: HTTP sync
 * and async, gRPC sync and async. For a gRPC stream response the send
 * stamps are those of the oldest request not yet fully answered when the
 * response arrived (the request that produced it for non-decoupled models),
 * and the receive stamps are the response's own.
 * A call that failed before or while sending may lack the later stamps.
 * @return TC_OK; TC_E_INVALID_ARG (NULL argument or unknown `kind`);
 *         TC_E_NOT_FOUND (that moment was not recorded; `*ns` is set to 0).
 * @note   Read-only; safe from any thread that may use the result.
 * @since  0.1.0
 */
TC_API tc_code tc_result_timer_ns(const tc_result *result, tc_timer_kind kind, uint64_t *ns);

#ifdef __cplusplus
}
#endif
#endif /* TC_TRITONC_RESULT_H */
