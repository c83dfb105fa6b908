/**
 * @file request.h
 * An inference request: model, options, input tensors and requested outputs.
 *
 * A tc_request is built once and may be sent any number of times, through
 * tc_client_infer() or tc_client_infer_async(), on any transport. Sending
 * never changes it. Inputs and outputs are addressed by name.
 *
 * Thread rule (for every function here): a request is used by one thread at
 * a time; different requests are independent.
 */
#ifndef TC_TRITONC_REQUEST_H
#define TC_TRITONC_REQUEST_H

#include <tritonc/common.h>
#include <tritonc/tensor.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque inference request. Created by tc_request_new(), freed by tc_request_free(). */
typedef struct tc_request tc_request;

/**
 * Create an empty request for `model_name` (copied).
 * @param out         receives the request; caller owns it (tc_request_free()).
 * @param model_name  NUL-terminated model name, non-empty.
 * @return TC_OK; TC_E_INVALID_ARG if an argument is NULL or the name empty;
 *         TC_E_NOMEM.
 * @since 0.1.0
 */
TC_API tc_code tc_request_new(tc_request **out, const char *model_name);

/**
 * Free a request. NULL does nothing. Requests already queued with
 * tc_client_infer_async() are unaffected (they hold what they need), but
 * TC_BORROW data must still live until their callbacks have run.
 * @since 0.1.0
 */
TC_API void tc_request_free(tc_request *req);

/* ---- request options ------------------------------------------------- */

/**
 * Replace the model name (copied).
 * @return TC_OK, TC_E_INVALID_ARG (NULL or empty), TC_E_NOMEM.  @since 0.1.0
 */
TC_API tc_code tc_request_set_model_name(tc_request *req, const char *model_name);

/**
 * Set the model version as a decimal string ("1"), copied. NULL or ""
 * (the default) lets the server pick the highest ready version.
 * @return TC_OK, TC_E_INVALID_ARG (NULL req or non-digit version), TC_E_NOMEM.  @since 0.1.0
 */
TC_API tc_code tc_request_set_model_version(tc_request *req, const char *version);

/**
 * Set the request id (copied) echoed back by the server; NULL or "" clears it.
 * @return TC_OK, TC_E_INVALID_ARG (NULL req), TC_E_NOMEM.  @since 0.1.0
 */
TC_API tc_code tc_request_set_id(tc_request *req, const char *id);

/**
 * Set a numeric sequence (correlation) id; 0 (the default) means "not in a
 * sequence". Clears any string id.
 * @return TC_OK, TC_E_INVALID_ARG (NULL req).  @since 0.1.0
 */
TC_API tc_code tc_request_set_sequence_id(tc_request *req, uint64_t sequence_id);

/**
 * Set a string sequence id (copied, at most 128 bytes); NULL or "" clears it.
 * Clears any numeric id.
 * @return TC_OK, TC_E_INVALID_ARG (NULL req, id too long), TC_E_NOMEM.  @since 0.1.0
 */
TC_API tc_code tc_request_set_sequence_id_str(tc_request *req, const char *sequence_id);

/**
 * Mark the request as the first (`start`) and/or last (`end`) of its sequence.
 * Both are sent whenever a sequence id is set.
 * @return TC_OK, TC_E_INVALID_ARG (NULL req).  @since 0.1.0
 */
TC_API tc_code tc_request_set_sequence_flags(tc_request *req, bool start, bool end);

/**
 * Set the scheduling priority; 0 (the default) means the model's default, 1 is highest.
 * @return TC_OK, TC_E_INVALID_ARG (NULL req).  @since 0.1.0
 */
TC_API tc_code tc_request_set_priority(tc_request *req, uint64_t priority);

/**
 * Set the server-side queue timeout in microseconds (the `timeout` request
 * parameter; the model's queue policy decides whether it is honoured).
 * 0 (the default) sends none.
 * @return TC_OK, TC_E_INVALID_ARG (NULL req).  @since 0.1.0
 */
TC_API tc_code tc_request_set_timeout_us(tc_request *req, uint64_t timeout_us);

/**
 * Set the client-side deadline in microseconds for the whole call (connect,
 * send, wait, receive). When it passes the call ends with TC_E_TIMEOUT.
 * 0 (the default) uses the client's network timeout.
 * @return TC_OK, TC_E_INVALID_ARG (NULL req).  @since 0.1.0
 */
TC_API tc_code tc_request_set_client_timeout_us(tc_request *req, uint64_t timeout_us);

/**
 * Set or replace a custom request parameter passed to the model. `key` must
 * not be one of the reserved names (sequence_id, sequence_start, sequence_end,
 * priority, timeout, headers, binary_data_output) nor start with "triton_".
 * Strings are copied.
 * @return TC_OK, TC_E_INVALID_ARG (NULL argument or reserved key), TC_E_NOMEM.
 * @since 0.1.0
 */
TC_API tc_code tc_request_set_parameter_string(tc_request *req, const char *key, const char *value);
/** As tc_request_set_parameter_string(), for a signed integer. @since 0.1.0 */
TC_API tc_code tc_request_set_parameter_int(tc_request *req, const char *key, int64_t value);
/** As tc_request_set_parameter_string(), for a boolean. @since 0.1.0 */
TC_API tc_code tc_request_set_parameter_bool(tc_request *req, const char *key, bool value);
/** As tc_request_set_parameter_string(), for a double. @since 0.1.0 */
TC_API tc_code tc_request_set_parameter_double(tc_request *req, const char *key, double value);

/**
 * Remove every custom parameter.
 * @return TC_OK, TC_E_INVALID_ARG (NULL req).  @since 0.1.0
 */
TC_API tc_code tc_request_clear_parameters(tc_request *req);

/**
 * Add a header (HTTP) or metadata entry (gRPC) sent with this request only,
 * after the client's own headers. Both strings are copied.
 * @return TC_OK, TC_E_INVALID_ARG (NULL/empty name, CR or LF in either), TC_E_NOMEM.
 * @since 0.1.0
 */
TC_API tc_code tc_request_add_header(tc_request *req, const char *name, const char *value);


/**
 * Ask a decoupled model to finish each request with an output-less "final"
 * response when it ends without one (the gRPC request parameter
 * `triton_enable_empty_final_response`). Only streams return such responses
 * (see stream.h); HTTP clients do not send the parameter. Default false.
 * @return TC_OK, TC_E_INVALID_ARG (NULL req).  @since 0.1.0
 */
TC_API tc_code tc_request_set_enable_empty_final_response(tc_request *req, bool enable);

/* ---- inputs ------------------------------------------------------------- */

/**
 * Add an input tensor without data. The shape is copied; `ndim` may be 0
 * (a scalar-shaped tensor with one element is `{1}`, not ndim 0).
 * Inputs travel as binary data by default (tc_request_input_set_binary()).
 * @param shape  `ndim` non-negative dimensions (may be NULL when ndim is 0).
 * @return TC_OK; TC_E_INVALID_ARG (NULL/empty name, invalid dtype, negative
 *         dimension); TC_E_ALREADY_EXISTS (an input with that name exists); TC_E_NOMEM.
 * @since 0.1.0
 */
TC_API tc_code tc_request_add_input(tc_request *req, const char *name, tc_dtype dtype,
                                    const int64_t *shape, size_t ndim);

/**
 * Replace the shape of an existing input (copied); its data is kept.
 * @return TC_OK, TC_E_INVALID_ARG, TC_E_NOT_FOUND (no such input), TC_E_NOMEM.  @since 0.1.0
 */
TC_API tc_code tc_request_input_set_shape(tc_request *req, const char *name, const int64_t *shape,
                                          size_t ndim);

/**
 * Append raw tensor bytes (little-endian, row-major; for BYTES the
 * length-prefixed serialization) to an input. Several appends concatenate.
 * With TC_BORROW nothing is copied: `data` must stay valid and unchanged
 * until the input is reset or the request freed, and, for each
 * tc_client_infer_async() that sent it, until that callback has run. With
 * TC_COPY the bytes are copied now.
 * @param byte_size  number of bytes at `data` (0 is allowed and adds nothing).
 * @return TC_OK, TC_E_INVALID_ARG (NULL data with byte_size > 0),
 *         TC_E_NOT_FOUND (no such input), TC_E_NOMEM.
 * @since 0.1.0
 */
TC_API tc_code tc_request_input_append(tc_request *req, const char *name, const void *data,
                                       size_t byte_size, tc_ownership ownership);

/**
 * Append one element to a BYTES input: the library writes the 4-byte length
 * prefix and copies the `len` bytes (which may contain NUL bytes).
 * @return TC_OK, TC_E_INVALID_ARG (the input is not BYTES, NULL elem with
 *         len > 0, len over 4 GiB - 1), TC_E_NOT_FOUND, TC_E_NOMEM.
 * @since 0.1.0
 */
TC_API tc_code tc_request_input_append_bytes(tc_request *req, const char *name, const void *elem,
                                             size_t len);

/**
 * Choose how an input's data travels over HTTP: `true` (default) in the
 * binary section, `false` as JSON `data` (not possible for FP16/BF16, which
 * then fail at send time with TC_E_INVALID_ARG). gRPC ignores this.
 * @return TC_OK, TC_E_INVALID_ARG, TC_E_NOT_FOUND.  @since 0.1.0
 */
TC_API tc_code tc_request_input_set_binary(tc_request *req, const char *name, bool binary);

/**
 * Drop an input's data (borrowed pointers are forgotten); name, datatype and
 * shape stay, so new data can be appended for the next call.
 * @return TC_OK, TC_E_INVALID_ARG, TC_E_NOT_FOUND.  @since 0.1.0
 */
TC_API tc_code tc_request_input_reset(tc_request *req, const char *name);

/**
 * Take an input's data from a registered shared-memory region instead of
 * the request: `byte_size` bytes at `offset` of the region called
 * `region_name` (registered with tc_client_system_shm_register() or
 * tc_client_cuda_shm_register(); the offset is relative to the registered
 * region). Any data appended so far is dropped (as tc_request_input_reset()).
 * The reference is sent as the `shared_memory_region`,
 * `shared_memory_byte_size` and (when non-zero) `shared_memory_offset`
 * tensor parameters; no data travels with the request. It stays until
 * tc_request_input_unset_shm(), tc_request_input_reset() or the next append,
 * which all switch the input back to inline data.
 * @param region_name  region name (copied), non-empty.
 * @return TC_OK, TC_E_INVALID_ARG (NULL/empty argument), TC_E_NOT_FOUND
 *         (no such input), TC_E_NOMEM.
 * @since 0.1.0
 */
TC_API tc_code tc_request_input_set_shm(tc_request *req, const char *name, const char *region_name,
                                        size_t byte_size, size_t offset);

/**
 * Switch an input back from shared memory to inline data (no data yet:
 * append it for the next call). Nothing happens when it is not in shared
 * memory. Appending data (tc_request_input_append(),
 * tc_request_input_append_bytes()) and tc_request_input_reset() do the same
 * implicitly.
 * @return TC_OK, TC_E_INVALID_ARG, TC_E_NOT_FOUND.  @since 0.1.0
 */
TC_API tc_code tc_request_input_unset_shm(tc_request *req, const char *name);

/**
 * Whether an input currently takes its data from shared memory.
 * @return TC_OK, TC_E_INVALID_ARG (NULL argument), TC_E_NOT_FOUND.  @since 0.1.0
 */
TC_API tc_code tc_request_input_is_shm(const tc_request *req, const char *name, bool *is_shm);

/**
 * Remove one input.
 * @return TC_OK, TC_E_INVALID_ARG, TC_E_NOT_FOUND.  @since 0.1.0
 */
TC_API tc_code tc_request_remove_input(tc_request *req, const char *name);

/**
 * Remove every input.
 * @return TC_OK, TC_E_INVALID_ARG (NULL req).  @since 0.1.0
 */
TC_API tc_code tc_request_clear_inputs(tc_request *req);

/** Number of inputs, 0 for NULL. @since 0.1.0 */
TC_API size_t tc_request_input_count(const tc_request *req);

/**
 * Total bytes appended to an input so far.
 * @return TC_OK, TC_E_INVALID_ARG, TC_E_NOT_FOUND.  @since 0.1.0
 */
TC_API tc_code tc_request_input_byte_size(const tc_request *req, const char *name,
                                          size_t *byte_size);

/* ---- requested outputs --------------------------------------------------- */

/**
 * Ask for an output by name (copied). With no requested output at all the
 * server returns every output of the model, as binary data unless
 * tc_request_set_binary_outputs() says otherwise. A requested output is
 * returned as binary data by default.
 * @return TC_OK, TC_E_INVALID_ARG, TC_E_ALREADY_EXISTS, TC_E_NOMEM.  @since 0.1.0
 */
TC_API tc_code tc_request_add_output(tc_request *req, const char *name);

/**
 * Choose binary (`true`, the default) or JSON (`false`) for one requested
 * output over HTTP. The result accessors work the same either way.
 * @return TC_OK, TC_E_INVALID_ARG, TC_E_NOT_FOUND.  @since 0.1.0
 */
TC_API tc_code tc_request_output_set_binary(tc_request *req, const char *name, bool binary);

/**
 * Ask for the top `class_count` classification results of an output
 * (classification extension; 0 turns it off). The output then comes back
 * as BYTES elements "<value>:<index>[:<label>]".
 * @return TC_OK, TC_E_INVALID_ARG, TC_E_NOT_FOUND.  @since 0.1.0
 */
TC_API tc_code tc_request_output_set_class_count(tc_request *req, const char *name,
                                                 uint32_t class_count);

/**
 * Ask the server to write a requested output into a registered
 * shared-memory region: at most `byte_size` bytes at `offset` of the
 * region called `region_name` (relative to the registered region). The
 * result then carries no data for it; tc_result_output_shm() tells where
 * it went and tc_result_output_read_shm() (shm.h) reads it from a system
 * region. Over HTTP the output is sent with `binary_data: false` followed
 * by the shared_memory_* parameters, as the upstream clients send it; a
 * binary setting made with tc_request_output_set_binary() applies again
 * once the reference is removed. Setting a class count as well is refused
 * by the server.
 * @return TC_OK, TC_E_INVALID_ARG (NULL/empty argument), TC_E_NOT_FOUND
 *         (no such requested output), TC_E_NOMEM.
 * @since 0.1.0
 */
TC_API tc_code tc_request_output_set_shm(tc_request *req, const char *name, const char *region_name,
                                         size_t byte_size, size_t offset);

/**
 * Have a requested output returned in the response again instead of
 * shared memory. Nothing happens when it is not in shared memory.
 * @return TC_OK, TC_E_INVALID_ARG, TC_E_NOT_FOUND.  @since 0.1.0
 */
TC_API tc_code tc_request_output_unset_shm(tc_request *req, const char *name);

/**
 * Remove one requested output.
 * @return TC_OK, TC_E_INVALID_ARG, TC_E_NOT_FOUND.  @since 0.1.0
 */
TC_API tc_code tc_request_remove_output(tc_request *req, const char *name);

/**
 * Remove every requested output.
 * @return TC_OK, TC_E_INVALID_ARG (NULL req).  @since 0.1.0
 */
TC_API tc_code tc_request_clear_outputs(tc_request *req);

/**
 * Choose binary (`true`, the default) or JSON for the outputs returned when
 * no output is requested explicitly (HTTP `binary_data_output`).
 * @return TC_OK, TC_E_INVALID_ARG (NULL req).  @since 0.1.0
 */
TC_API tc_code tc_request_set_binary_outputs(tc_request *req, bool binary);

#ifdef __cplusplus
}
#endif
#endif /* TC_TRITONC_REQUEST_H */
