/* Plain C structs for the KServe v2 / Triton messages, shared by the client
 * and the server. JSON (HTTP) and protobuf (gRPC) both map onto these, so
 * validation and result handling are written once (STYLE.md section 3).
 *
 * Ownership: every char * and array here is owned by the enclosing struct
 * and freed by its _cleanup function, except tc__tensor.data, which points
 * either into tc__tensor.owned or into a buffer the caller keeps alive (the
 * request body the tensor was decoded from, or the client's input data). */
#ifndef TC_SRC_PROTO_V2_TYPES_H
#define TC_SRC_PROTO_V2_TYPES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tritonc/common.h>
#include <tritonc/tensor.h>

#include "common/error.h"

/* ---- parameters -------------------------------------------------------- */

typedef enum tc__param_type {
    TC__PARAM_BOOL,
    TC__PARAM_INT64,
    TC__PARAM_UINT64,
    TC__PARAM_DOUBLE,
    TC__PARAM_STRING
} tc__param_type;

typedef struct tc__param {
    char *key;
    tc__param_type type;
    union {
        bool b;
        int64_t i64;
        uint64_t u64;
        double d;
        char *s; /* owned, NUL-terminated */
    } v;
} tc__param;

typedef struct tc__params {
    tc__param *items;
    size_t count;
} tc__params;

/* Append a copy of key/value. TC_E_NOMEM on failure. */
tc_code tc__params_add_bool(tc__params *p, const char *key, bool v);
tc_code tc__params_add_int64(tc__params *p, const char *key, int64_t v);
tc_code tc__params_add_uint64(tc__params *p, const char *key, uint64_t v);
tc_code tc__params_add_double(tc__params *p, const char *key, double v);
tc_code tc__params_add_string(tc__params *p, const char *key, const char *v);
/* The parameter named `key`, or NULL. */
const tc__param *tc__params_find(const tc__params *p, const char *key);
void tc__params_cleanup(tc__params *p);

/* ---- tensors ----------------------------------------------------------- */

/* A reference to shared memory; region == NULL means "not in shared memory". */
typedef struct tc__shm_ref {
    char *region;
    uint64_t offset;
    uint64_t byte_size;
} tc__shm_ref;

/* An input tensor of a request, or an output tensor of a response. */
typedef struct tc__tensor {
    char *name;
    tc_dtype dtype;
    int64_t *shape;
    size_t ndim;
    const uint8_t *data; /* little-endian, row-major; BYTES length-prefixed */
    size_t byte_size;
    uint8_t *owned;    /* storage behind `data` when the tensor owns it, else NULL */
    bool binary;       /* HTTP: the data travels in the binary section */
    tc__shm_ref shm;   /* data lives in shared memory instead */
    tc__params params; /* tensor parameters not listed above */
} tc__tensor;

/* An output the request asks for. */
typedef struct tc__requested_output {
    char *name;
    int binary;           /* HTTP binary_data: -1 unset, 0 false, 1 true */
    uint32_t class_count; /* classification extension; 0 = off */
    tc__shm_ref shm;
    tc__params params; /* output parameters not listed above */
} tc__requested_output;

/* ---- inference --------------------------------------------------------- */

typedef struct tc__infer_request {
    char *model_name;
    char *model_version; /* NULL or "" = server's choice */
    char *id;            /* NULL or "" = none */
    tc__tensor *inputs;
    size_t input_count;
    tc__requested_output *outputs; /* output_count 0 = every model output */
    size_t output_count;
    /* Well-known request parameters (HTTP.md section 8), kept out of `params`. */
    uint64_t sequence_id;
    char *sequence_id_str; /* string correlation id, or NULL */
    bool sequence_start;
    bool sequence_end;
    uint64_t priority;
    uint64_t timeout_us;
    int binary_data_output; /* -1 unset, 0 false, 1 true */
    tc__params params;      /* custom request parameters */
    /* gRPC triton_enable_empty_final_response (GRPC.md section 6); added
     * after the first version: zero-initialise. */
    bool enable_empty_final_response;
    /* Server only, not on the wire: the frontend sets *cancelled when the
     * client has gone (stream reset, connection closed, deadline passed);
     * the core then fails the request with TC_E_CANCELLED instead of
     * executing it, if it has not started yet. NULL: never cancelled. */
    const atomic_bool *cancelled;
} tc__infer_request;

typedef struct tc__infer_response {
    char *model_name;
    char *model_version;
    char *id;
    tc__tensor *outputs;
    size_t output_count;
    tc__params params;
} tc__infer_response;

/* Product of a shape's dimensions; false on overflow or negative dims. */
bool tc__shape_elements(const int64_t *shape, size_t ndim, size_t *count);

void tc__tensor_cleanup(tc__tensor *t);
void tc__requested_output_cleanup(tc__requested_output *o);
void tc__infer_request_cleanup(tc__infer_request *r);
void tc__infer_response_cleanup(tc__infer_response *r);

/* ---- metadata and repository ---------------------------------------------- */

typedef struct tc__tensor_meta {
    char *name;
    tc_dtype dtype;
    int64_t *shape; /* -1 = variable dimension */
    size_t ndim;
} tc__tensor_meta;

typedef struct tc__server_metadata {
    char *name;
    char *version;
    char **extensions;
    size_t extension_count;
} tc__server_metadata;

typedef struct tc__model_metadata {
    char *name;
    char **versions;
    size_t version_count;
    char *platform;
    tc__tensor_meta *inputs;
    size_t input_count;
    tc__tensor_meta *outputs;
    size_t output_count;
} tc__model_metadata;

typedef struct tc__repo_entry {
    char *name;
    char *version; /* NULL when absent */
    char *state;   /* NULL when absent */
    char *reason;  /* NULL when absent */
} tc__repo_entry;

typedef struct tc__repo_index {
    tc__repo_entry *entries;
    size_t count;
} tc__repo_index;

void tc__server_metadata_cleanup(tc__server_metadata *m);
void tc__model_metadata_cleanup(tc__model_metadata *m);
void tc__repo_index_cleanup(tc__repo_index *idx);

#endif /* TC_SRC_PROTO_V2_TYPES_H */
