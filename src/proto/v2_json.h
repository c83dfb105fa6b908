/* KServe v2 JSON codec with the binary tensor data extension (HTTP.md
 * sections 3-11). No I/O: callers hand in whole bodies and get back structs,
 * or hand in structs and get back the JSON header.
 *
 * Binary sections: an encoder writes only the JSON header. The caller sends
 * the binary blobs right after it, in the order of the tensors whose
 * `binary` flag is set (inputs for requests, outputs for responses), and
 * puts the JSON length in Inference-Header-Content-Length. */
#ifndef TC_SRC_PROTO_V2_JSON_H
#define TC_SRC_PROTO_V2_JSON_H

#include "common/buf.h"
#include "common/error.h"
#include "proto/v2_types.h"

/* No Inference-Header-Content-Length header: the whole body is JSON. */
#define TC__NO_HEADER_LENGTH SIZE_MAX

/* Limits applied while decoding (HTTP.md section 0). */
typedef struct tc__json_limits {
    size_t max_depth;      /* nesting of `data` arrays; 0 = default 100 */
    size_t max_input_size; /* JSON header and per-tensor JSON-computed size; 0 = default 64 MiB */
    /* Model named in the binary-size messages ("... for model '<m>'"); NULL
     * leaves that suffix out. Added after the first version: zero-initialise. */
    const char *model_name;
} tc__json_limits;

#define TC__JSON_DEFAULT_MAX_DEPTH      100
#define TC__JSON_DEFAULT_MAX_INPUT_SIZE ((size_t)1 << 26)

/* Server side. Decode an infer request body (already decompressed).
 * `header_len` is the Inference-Header-Content-Length value or
 * TC__NO_HEADER_LENGTH. Binary tensors get `data` pointing into `body`, which
 * must outlive `req`; JSON `data` is converted into `owned` storage.
 * Sets req->model_name/model_version to NULL (the URL decides).
 * `limits` may be NULL for defaults.
 * `header_len` 0 is the raw binary form (HTTP.md 6.5): decode then yields
 * one input named "raw_input" with dtype TC_DTYPE_INVALID, no shape and
 * `data` = the whole body; the caller fills in the model's only input.
 * Binary inputs get no size-versus-shape check here (the core does that). On failure `err` holds
 * the code (TC_E_INVALID_ARG for malformed or inconsistent input) and a message worded as Triton
 * words it; `req` is left cleaned up. */
tc_code tc__v2_http_request_decode(const uint8_t *body, size_t body_len, size_t header_len,
                                   const tc__json_limits *limits, tc__infer_request *req,
                                   tc__error *err);

/* Client side. Append the JSON header of `req` to `json`. Inputs with
 * `binary` set get parameters.binary_data_size = byte_size and no `data`;
 * inputs in shared memory get the shared_memory_* parameters; others carry
 * their data as JSON `data` (FP16/BF16 cannot: TC_E_INVALID_ARG). */
tc_code tc__v2_http_request_encode(const tc__infer_request *req, tc__buf *json, tc__error *err);

/* Server side. Append the JSON header of `resp` to `json`. Outputs with
 * `binary` set get parameters.binary_data_size; outputs in shared memory
 * carry only name, datatype and shape; others carry JSON `data`. */
tc_code tc__v2_http_response_encode(const tc__infer_response *resp, tc__buf *json, tc__error *err);

/* Client side. Decode an infer response body. Binary outputs point into
 * `body`, which must outlive `resp`. */
tc_code tc__v2_http_response_decode(const uint8_t *body, size_t body_len, size_t header_len,
                                    tc__infer_response *resp, tc__error *err);

/* ---- generate extension (HTTP.md section 15) ---- */

/* Server side. Decode a generate request body into `req` (cleaned up on
 * failure) against the model's inputs as its metadata lists them (full
 * shapes: -1 for variable dimensions, the batch dimension included; see
 * tc__model_config_metadata): keys naming a model input become tensors (a scalar or a flat
 * array, shaped into the input's shape as upstream does: fixed dimensions
 * first, the innermost variable one takes the rest, other variable ones
 * 1), "id" is the request id, "parameters" is read the same way one level
 * down, and other keys become request parameters (string, integer or
 * boolean). `max_size` bounds one tensor's bytes (0 = none). */
tc_code tc__v2_generate_request_decode(const uint8_t *body, size_t len,
                                       const tc__tensor_meta *inputs, size_t input_count,
                                       size_t max_size, tc__infer_request *req, tc__error *err);
/* Server side. Append one generate response object: "id" (when set),
 * "model_name", "model_version", the response parameters and outputs as
 * keys, sorted by name (the first of equal names wins); a one-element
 * output is written bare, others as a flat list. */
tc_code tc__v2_generate_response_encode(const tc__infer_response *resp, tc__buf *json,
                                        tc__error *err);

/* {"error":"<msg>"} */
tc_code tc__v2_error_encode(const char *msg, tc__buf *json);
/* Extract the "error" string of an error body into `err` (with `code`);
 * falls back to the raw body text when it is not such JSON. */
void tc__v2_error_decode(const uint8_t *body, size_t len, tc_code code, tc__error *err);

/* Server metadata, model metadata and repository index, both directions. */
tc_code tc__v2_server_metadata_encode(const tc__server_metadata *m, tc__buf *json);
tc_code tc__v2_server_metadata_decode(const uint8_t *body, size_t len, tc__server_metadata *m,
                                      tc__error *err);
tc_code tc__v2_model_metadata_encode(const tc__model_metadata *m, tc__buf *json);
tc_code tc__v2_model_metadata_decode(const uint8_t *body, size_t len, tc__model_metadata *m,
                                     tc__error *err);
tc_code tc__v2_repo_index_encode(const tc__repo_index *idx, tc__buf *json);
tc_code tc__v2_repo_index_decode(const uint8_t *body, size_t len, tc__repo_index *idx,
                                 tc__error *err);

#endif /* TC_SRC_PROTO_V2_JSON_H */
