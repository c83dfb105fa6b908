/* The inside of tc_request, shared with the transports that send it. */
#ifndef TC_SRC_CLIENT_REQUEST_INTERNAL_H
#define TC_SRC_CLIENT_REQUEST_INTERNAL_H

#include <tritonc/client.h>
#include <tritonc/request.h>

#include "client/client_internal.h"
#include "proto/v2_types.h"

/* A piece of an input's data: borrowed from the caller (owned == NULL) or
 * owned by the request (owned == data, `cap` bytes allocated). */
typedef struct tc__chunk {
    const uint8_t *data;
    size_t len;
    uint8_t *owned;
    size_t cap;
} tc__chunk;

typedef struct tc__input_data {
    tc__chunk *chunks;
    size_t count;
    size_t byte_size; /* sum of the chunk lengths */
    int typed;        /* gRPC: TC__TYPED_DEFAULT, _RAW or _TYPED */
} tc__input_data;

enum { TC__TYPED_DEFAULT = 0, TC__TYPED_RAW = 1, TC__TYPED_TYPED = 2 };

struct tc_request {
    /* inputs[i].data/byte_size are left empty here: the sender fills them in
     * a shallow copy from data[i]; inputs[i].owned is always NULL. */
    tc__infer_request base;
    tc__input_data *data; /* parallel to base.inputs */
    bool binary_outputs;  /* default kind when no output is requested */
    tc__hlist headers;
    uint64_t client_timeout_us;
    /* gRPC only */
    bool typed_contents;          /* default for inputs left TC__TYPED_DEFAULT */
    bool has_grpc_compression;    /* grpc_compression overrides the client's */
    tc_compression grpc_compression;
};

#endif /* TC_SRC_CLIENT_REQUEST_INTERNAL_H */
