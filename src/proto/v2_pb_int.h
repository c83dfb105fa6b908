/* Private helpers of the gRPC codec (v2_pb_*.c). Not for use outside
 * src/proto. */
#ifndef TC_SRC_PROTO_V2_PB_INT_H
#define TC_SRC_PROTO_V2_PB_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/v2_pb.h"

/* A list of allocations freed together: the temporary protobuf-c structs an
 * encoder builds around borrowed data before packing. */
typedef struct tc__pb_scratch {
    void **ptrs;
    size_t count;
} tc__pb_scratch;

/* Zeroed storage for `count` * `size` bytes owned by `s`; NULL on failure. */
void *tc__pb_scratch_alloc(tc__pb_scratch *s, size_t count, size_t size);
void tc__pb_scratch_free(tc__pb_scratch *s);

/* protobuf-c wants writable char * even where it only reads; "" for NULL. */
char *tc__pb_str(const char *s);

/* A copy of a protobuf string, NULL when it is empty (or on OOM: check
 * `*nomem`). */
char *tc__pb_strdup_nonempty(const char *s, bool *nomem);

/* Add one InferParameter to `p` under `key`, any member accepted.
 * TC_E_INVALID_ARG when no member is set, TC_E_NOMEM. */
tc_code tc__pb_param_add(tc__params *p, const char *key, const Inference__InferParameter *v);

/* Build the InferParameter map entries of `p` (all types) in `s`, as an array
 * of `n` pointers to entries of descriptor `entry_desc` (the map's entry
 * message: every InferParameter map entry has the same layout). */
tc_code tc__pb_params_build(tc__pb_scratch *s, const tc__params *p,
                            const ProtobufCMessageDescriptor *entry_desc, void ***entries,
                            size_t *n);

/* Layout shared by every map<string, InferParameter> entry. */
typedef struct tc__pb_param_entry {
    ProtobufCMessage base;
    char *key;
    Inference__InferParameter *value;
} tc__pb_param_entry;

/* Convert typed InferTensorContents into little-endian raw bytes stored in
 * t->owned / t->data / t->byte_size, for t->dtype. `what` is "input" or
 * "output", `model` names the model in messages. A populated member other
 * than the one for the datatype, FP16/BF16, and out-of-range INT8/INT16/
 * UINT8/UINT16 values give TC_E_INVALID_ARG. */
tc_code tc__pb_contents_to_raw(const Inference__InferTensorContents *c, tc__tensor *t,
                               const char *what, const char *model, tc__error *err);

/* Fill `m` (an already initialised ModelInferResponse) from `resp`, borrowing
 * every string and data pointer of `resp`; temporaries go to `s`. */
tc_code tc__pb_response_build(tc__pb_scratch *s, const tc__infer_response *resp,
                              Inference__ModelInferResponse *m);

/* Copy a shape (NULL for ndim 0 is fine). */
tc_code tc__pb_shape_copy(const int64_t *src, size_t n, int64_t **dst, size_t *ndim);

#endif /* TC_SRC_PROTO_V2_PB_INT_H */
