/* libFuzzer target: server-side decoding of v2 infer request bodies.
 * Input: 8 bytes (little-endian) choosing the Inference-Header-Content-Length,
 * then the body. Decoded requests are re-encoded with the client encoder. */
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "proto/v2_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    uint64_t sel = 0;
    for (size_t i = 0; i < 8; i++)
        sel |= (uint64_t)data[i] << (8 * i);
    const uint8_t *body = data + 8;
    size_t len = size - 8;
    /* len + 1 means "no header length", len + 2 an out-of-range one. */
    size_t pick = (size_t)(sel % ((uint64_t)len + 3));
    size_t header_len = pick == len + 1 ? TC__NO_HEADER_LENGTH : pick;
    tc__json_limits limits = {.max_depth = 0, .max_input_size = 1 << 20, .model_name = "m"};
    tc__infer_request req;
    tc__error err;
    if (tc__v2_http_request_decode(body, len, header_len, &limits, &req, &err) == TC_OK) {
        tc__buf json = TC__BUF_INIT;
        (void)tc__v2_http_request_encode(&req, &json, &err);
        tc__buf_cleanup(&json);
        tc__infer_request_cleanup(&req);
    }
    return 0;
}
