/* libFuzzer target: client-side decoding of v2 infer response bodies.
 * Input: 8 bytes (little-endian) choosing the header length, then the body.
 * Decoded responses are re-encoded with the server encoder. */
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
    size_t pick = (size_t)(sel % ((uint64_t)len + 3));
    size_t header_len = pick == len + 1 ? TC__NO_HEADER_LENGTH : pick;
    tc__infer_response resp;
    tc__error err;
    if (tc__v2_http_response_decode(body, len, header_len, &resp, &err) == TC_OK) {
        tc__buf json = TC__BUF_INIT;
        (void)tc__v2_http_response_encode(&resp, &json, &err);
        tc__buf_cleanup(&json);
        tc__infer_response_cleanup(&resp);
    }
    return 0;
}
