/* libFuzzer target: server-side decoding of gRPC ModelInferRequest messages.
 * A decoded request is re-encoded with the client encoder, decoded again and
 * must give the same tensor bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/buf.h"
#include "proto/v2_pb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_same(const tc__infer_request *a, const tc__infer_request *b)
{
    if (a->input_count != b->input_count || a->output_count != b->output_count)
        __builtin_trap();
    for (size_t i = 0; i < a->input_count; i++) {
        const tc__tensor *x = &a->inputs[i];
        const tc__tensor *y = &b->inputs[i];
        if (x->byte_size != y->byte_size || x->dtype != y->dtype ||
            (x->byte_size > 0 && memcmp(x->data, y->data, x->byte_size) != 0))
            __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tc__infer_request req;
    void *backing = NULL;
    tc__error err;
    if (tc__pb_infer_request_decode(data, size, &req, &backing, &err) != TC_OK)
        return 0;
    tc__buf out = TC__BUF_INIT;
    if (tc__pb_infer_request_encode(&req, &out, &err) == TC_OK) {
        tc__infer_request again;
        void *backing2 = NULL;
        /* Everything we encode must decode (sequence_id > INT64_MAX is sent
         * as int64 bits and read back the same). */
        if (tc__pb_infer_request_decode(out.data, out.len, &again, &backing2, &err) != TC_OK)
            __builtin_trap();
        check_same(&req, &again);
        tc__infer_request_cleanup(&again);
        tc__pb_backing_free(backing2);
    }
    tc__buf_cleanup(&out);
    tc__infer_request_cleanup(&req);
    tc__pb_backing_free(backing);
    return 0;
}
