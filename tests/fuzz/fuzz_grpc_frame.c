/* libFuzzer target: the gRPC message reader fed in chunks of random sizes,
 * with decompression under a small limit. Input: byte 0 picks the encoding
 * and the message limit, byte 1 seeds the chunk sizes, the rest is the
 * stream. Reading the same stream in one chunk must give the same messages. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/buf.h"
#include "proto/grpc_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read `len` bytes in chunks chosen by `seed`; append "<len>:<bytes>" of
 * every message to `got`. Returns the last code (TC_OK at a clean end). */
static tc_code read_all(const uint8_t *s, size_t len, tc__grpc_encoding enc, size_t limit,
                        uint32_t seed, tc__buf *got)
{
    tc__grpc_reader *r = NULL;
    if (tc__grpc_reader_new(&r, limit, enc) != TC_OK)
        return TC_E_NOMEM;
    size_t off = 0;
    tc_code rc = TC_OK;
    while (off < len && rc == TC_OK) {
        size_t step = len;
        if (seed != 0) {
            seed = seed * 1103515245u + 12345u;
            step = 1 + (seed >> 16) % 64;
        }
        size_t used = 0;
        size_t n = len - off < step ? len - off : step;
        rc = tc__grpc_reader_feed(r, s + off, n, &used, NULL);
        off += used;
        const uint8_t *m = NULL;
        size_t ml = 0;
        tc_code nrc;
        while (rc == TC_OK && (nrc = tc__grpc_reader_next(r, &m, &ml, NULL, NULL)) != TC_E_NOT_FOUND) {
            if (nrc != TC_OK) {
                rc = nrc;
                break;
            }
            (void)tc__buf_printf(got, "%zu:", ml);
            (void)tc__buf_append(got, m, ml);
        }
    }
    if (rc == TC_OK)
        rc = tc__grpc_reader_finish(r, NULL);
    tc__grpc_reader_free(r);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    tc__grpc_encoding enc = (tc__grpc_encoding)(data[0] % 3);
    size_t limit = (data[0] & 0x80) ? 1024 : 65536;
    uint32_t seed = (uint32_t)data[1] | 1u;
    tc__buf a = TC__BUF_INIT;
    tc__buf b = TC__BUF_INIT;
    tc_code ra = read_all(data + 2, size - 2, enc, limit, 0, &a);
    tc_code rb = read_all(data + 2, size - 2, enc, limit, seed, &b);
    if (ra != rb || a.len != b.len || (a.len > 0 && memcmp(a.data, b.data, a.len) != 0))
        __builtin_trap();
    /* Direct decompression and a compress/decompress round trip. */
    tc__buf out = TC__BUF_INIT;
    (void)tc__grpc_decompress(enc, data + 2, size - 2, limit, &out, NULL);
    tc__buf_reset(&out);
    tc__buf z = TC__BUF_INIT;
    if (tc__grpc_compress(enc, data + 2, size - 2, &z, NULL) == TC_OK) {
        if (tc__grpc_decompress(enc, z.data, z.len, size, &out, NULL) != TC_OK ||
            out.len != size - 2 || (out.len > 0 && memcmp(out.data, data + 2, out.len) != 0))
            __builtin_trap();
    }
    /* Header values never crash. */
    uint64_t us = 0;
    size_t hl = size - 2 < 12 ? size - 2 : 12;
    (void)tc__grpc_timeout_parse((const char *)data + 2, hl, &us);
    tc__buf_reset(&out);
    (void)tc__grpc_message_decode((const char *)data + 2, size - 2, &out);
    (void)tc__grpc_accept_encoding_parse((const char *)data + 2, size - 2);
    tc__buf_cleanup(&z);
    tc__buf_cleanup(&out);
    tc__buf_cleanup(&a);
    tc__buf_cleanup(&b);
    return 0;
}
