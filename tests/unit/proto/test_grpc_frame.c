/* Tests for gRPC framing, compression and header values (grpc_frame.c). */
#include <stdio.h>
#include <string.h>

#include "tc_test.h"

#include "common/alloc.h"
#include "proto/grpc_frame.h"

#define GOLDEN TC_TEST_DATA_DIR "/golden/grpc/"

static uint8_t *read_file(const char *rel, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, GOLDEN "%s", rel);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("missing golden file %s", path);
    tc__buf b = TC__BUF_INIT;
    uint8_t chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        assert_int_equal(tc__buf_append(&b, chunk, n), TC_OK);
    fclose(f);
    return tc__buf_steal(&b, len);
}

/* ---- golden compressed frames ----------------------------------------------------- */

static void check_golden_frame(const char *run, const char *call, tc__grpc_encoding enc)
{
    char rel[256];
    size_t wire_len = 0;
    size_t pb_len = 0;
    snprintf(rel, sizeof rel, "%s/%s.request.wire.bin", run, call);
    uint8_t *wire = read_file(rel, &wire_len);
    snprintf(rel, sizeof rel, "%s/%s.request.pb", run, call);
    uint8_t *pb = read_file(rel, &pb_len);

    /* Reading the frame gives the message. */
    tc__grpc_reader *r = NULL;
    assert_int_equal(tc__grpc_reader_new(&r, 0, enc), TC_OK);
    size_t used = 0;
    assert_int_equal(tc__grpc_reader_feed(r, wire, wire_len, &used, NULL), TC_OK);
    assert_int_equal(used, wire_len);
    const uint8_t *msg = NULL;
    size_t len = 0;
    bool compressed = false;
    assert_int_equal(tc__grpc_reader_next(r, &msg, &len, &compressed, NULL), TC_OK);
    assert_true(compressed);
    assert_int_equal(len, pb_len);
    assert_memory_equal(msg, pb, pb_len);
    assert_int_equal(tc__grpc_reader_finish(r, NULL), TC_OK);
    tc__grpc_reader_free(r);

    /* zlib's default level reproduces grpcio's bytes exactly. */
    tc__buf out = TC__BUF_INIT;
    assert_int_equal(tc__grpc_frame_write(&out, pb, pb_len, enc, NULL), TC_OK);
    assert_int_equal(out.len, wire_len);
    assert_memory_equal(out.data, wire, wire_len);
    tc__buf_cleanup(&out);
    tc__free(wire);
    tc__free(pb);
}

static void test_golden_gzip(void **state)
{
    (void)state;
    check_golden_frame("simple_grpc_infer_client-gzip", "0001.ModelInfer", TC__GRPC_ENC_GZIP);
    check_golden_frame("simple_grpc_infer_client-gzip", "0003.ModelInfer", TC__GRPC_ENC_GZIP);
}

static void test_golden_deflate(void **state)
{
    (void)state;
    check_golden_frame("simple_grpc_infer_client-deflate", "0001.ModelInfer",
                       TC__GRPC_ENC_DEFLATE);
    check_golden_frame("simple_grpc_infer_client-deflate", "0003.ModelInfer",
                       TC__GRPC_ENC_DEFLATE);
}

/* ---- reader ------------------------------------------------------------------------ */

/* Three messages (one empty), framed back to back. */
static void make_stream(tc__buf *wire, tc__grpc_encoding enc)
{
    static const char *const msgs[3] = {"hello", "", "a longer message body with bytes"};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(tc__grpc_frame_write(wire, (const uint8_t *)msgs[i], strlen(msgs[i]),
                                              enc, NULL),
                         TC_OK);
}

/* Feed `wire` in chunks of `step` bytes; collect the messages joined by '|'. */
static void read_stream(const tc__buf *wire, size_t step, tc__grpc_encoding enc, tc__buf *got)
{
    tc__grpc_reader *r = NULL;
    assert_int_equal(tc__grpc_reader_new(&r, 1024, enc), TC_OK);
    size_t off = 0;
    while (off < wire->len) {
        size_t n = wire->len - off < step ? wire->len - off : step;
        size_t pos = 0;
        while (pos < n) {
            size_t used = 0;
            assert_int_equal(tc__grpc_reader_feed(r, wire->data + off + pos, n - pos, &used, NULL),
                             TC_OK);
            pos += used;
            const uint8_t *msg = NULL;
            size_t len = 0;
            while (tc__grpc_reader_next(r, &msg, &len, NULL, NULL) == TC_OK) {
                assert_int_equal(tc__buf_append(got, msg, len), TC_OK);
                assert_int_equal(tc__buf_append_str(got, "|"), TC_OK);
            }
        }
        off += n;
    }
    assert_false(tc__grpc_reader_pending(r));
    assert_int_equal(tc__grpc_reader_finish(r, NULL), TC_OK);
    tc__grpc_reader_free(r);
}

static void test_reader_every_split(void **state)
{
    (void)state;
    const tc__grpc_encoding encs[3] = {TC__GRPC_ENC_IDENTITY, TC__GRPC_ENC_GZIP,
                                       TC__GRPC_ENC_DEFLATE};
    for (size_t e = 0; e < 3; e++) {
        tc__buf wire = TC__BUF_INIT;
        make_stream(&wire, encs[e]);
        for (size_t step = 1; step <= wire.len; step++) {
            tc__buf got = TC__BUF_INIT;
            read_stream(&wire, step, encs[e], &got);
            assert_string_equal((const char *)got.data,
                                "hello||a longer message body with bytes|");
            tc__buf_cleanup(&got);
        }
        tc__buf_cleanup(&wire);
    }
}

static void test_reader_split_two_chunks(void **state)
{
    (void)state;
    /* Every cut point of a two-chunk delivery. */
    tc__buf wire = TC__BUF_INIT;
    make_stream(&wire, TC__GRPC_ENC_IDENTITY);
    for (size_t cut = 0; cut <= wire.len; cut++) {
        tc__grpc_reader *r = NULL;
        assert_int_equal(tc__grpc_reader_new(&r, 0, TC__GRPC_ENC_IDENTITY), TC_OK);
        size_t count = 0;
        const uint8_t *parts[2] = {wire.data, wire.data + cut};
        size_t lens[2] = {cut, wire.len - cut};
        for (size_t p = 0; p < 2; p++) {
            size_t pos = 0;
            do {
                size_t used = 0;
                assert_int_equal(
                    tc__grpc_reader_feed(r, parts[p] + pos, lens[p] - pos, &used, NULL), TC_OK);
                pos += used;
                const uint8_t *m = NULL;
                size_t l = 0;
                while (tc__grpc_reader_next(r, &m, &l, NULL, NULL) == TC_OK)
                    count++;
            } while (pos < lens[p]);
        }
        assert_int_equal(count, 3);
        tc__grpc_reader_free(r);
    }
    tc__buf_cleanup(&wire);
}

static void test_reader_oversized(void **state)
{
    (void)state;
    tc__grpc_reader *r = NULL;
    assert_int_equal(tc__grpc_reader_new(&r, 16, TC__GRPC_ENC_IDENTITY), TC_OK);
    static const uint8_t big[5] = {0, 0, 0, 0, 17};
    size_t used = 0;
    tc__error err;
    assert_int_equal(tc__grpc_reader_feed(r, big, sizeof big, &used, &err), TC_E_INVALID_ARG);
    assert_string_equal(err.msg, "grpc: received message larger than max (17 vs. 16)");
    /* Sticky. */
    assert_int_equal(tc__grpc_reader_feed(r, big, 1, &used, NULL), TC_E_INVALID_ARG);
    tc__grpc_reader_free(r);

    /* A 4 GiB prefix with the default limit is refused before buffering. */
    assert_int_equal(tc__grpc_reader_new(&r, 0, TC__GRPC_ENC_IDENTITY), TC_OK);
    static const uint8_t huge[5] = {0, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(tc__grpc_reader_feed(r, huge, sizeof huge, &used, &err), TC_E_INVALID_ARG);
    tc__grpc_reader_free(r);

    /* Exactly the limit is fine. */
    assert_int_equal(tc__grpc_reader_new(&r, 3, TC__GRPC_ENC_IDENTITY), TC_OK);
    static const uint8_t ok[8] = {0, 0, 0, 0, 3, 'a', 'b', 'c'};
    assert_int_equal(tc__grpc_reader_feed(r, ok, sizeof ok, &used, NULL), TC_OK);
    const uint8_t *m = NULL;
    size_t l = 0;
    assert_int_equal(tc__grpc_reader_next(r, &m, &l, NULL, NULL), TC_OK);
    assert_int_equal(l, 3);
    tc__grpc_reader_free(r);
}

static void test_reader_bad_flags(void **state)
{
    (void)state;
    tc__grpc_reader *r = NULL;
    size_t used = 0;
    tc__error err;
    static const uint8_t flag2[5] = {2, 0, 0, 0, 0};
    assert_int_equal(tc__grpc_reader_new(&r, 0, TC__GRPC_ENC_GZIP), TC_OK);
    assert_int_equal(tc__grpc_reader_feed(r, flag2, 5, &used, &err), TC_E_PROTOCOL);
    tc__grpc_reader_free(r);

    static const uint8_t flag1[5] = {1, 0, 0, 0, 0};
    assert_int_equal(tc__grpc_reader_new(&r, 0, TC__GRPC_ENC_IDENTITY), TC_OK);
    assert_int_equal(tc__grpc_reader_feed(r, flag1, 5, &used, &err), TC_E_PROTOCOL);
    assert_non_null(strstr(err.msg, "identity"));
    tc__grpc_reader_free(r);

    /* Compressed garbage fails at next(). */
    static const uint8_t junk[8] = {1, 0, 0, 0, 3, 'x', 'y', 'z'};
    assert_int_equal(tc__grpc_reader_new(&r, 0, TC__GRPC_ENC_GZIP), TC_OK);
    assert_int_equal(tc__grpc_reader_feed(r, junk, 8, &used, NULL), TC_OK);
    const uint8_t *m = NULL;
    size_t l = 0;
    assert_int_equal(tc__grpc_reader_next(r, &m, &l, NULL, &err), TC_E_PROTOCOL);
    assert_int_equal(tc__grpc_reader_next(r, &m, &l, NULL, NULL), TC_E_PROTOCOL);
    tc__grpc_reader_free(r);
}

static void test_reader_incomplete(void **state)
{
    (void)state;
    tc__grpc_reader *r = NULL;
    size_t used = 0;
    tc__error err;
    static const uint8_t part[7] = {0, 0, 0, 0, 4, 'a', 'b'};
    assert_int_equal(tc__grpc_reader_new(&r, 0, TC__GRPC_ENC_IDENTITY), TC_OK);
    assert_int_equal(tc__grpc_reader_finish(r, NULL), TC_OK);
    assert_int_equal(tc__grpc_reader_feed(r, part, 3, &used, NULL), TC_OK);
    assert_true(tc__grpc_reader_pending(r));
    assert_int_equal(tc__grpc_reader_finish(r, &err), TC_E_PROTOCOL);
    assert_string_equal(err.msg, "grpc: stream ended mid-message");
    assert_int_equal(tc__grpc_reader_feed(r, part + 3, 4, &used, NULL), TC_OK);
    const uint8_t *m = NULL;
    size_t l = 0;
    assert_int_equal(tc__grpc_reader_next(r, &m, &l, NULL, NULL), TC_E_NOT_FOUND);
    assert_int_equal(tc__grpc_reader_finish(r, NULL), TC_E_PROTOCOL);
    tc__grpc_reader_free(r);
}

/* ---- compression -------------------------------------------------------------------- */

static void test_decompress_limit(void **state)
{
    (void)state;
    uint8_t zeros[4096];
    memset(zeros, 0, sizeof zeros);
    const tc__grpc_encoding encs[2] = {TC__GRPC_ENC_GZIP, TC__GRPC_ENC_DEFLATE};
    for (size_t e = 0; e < 2; e++) {
        tc__buf z = TC__BUF_INIT;
        assert_int_equal(tc__grpc_compress(encs[e], zeros, sizeof zeros, &z, NULL), TC_OK);
        assert_true(z.len < 100);
        tc__buf out = TC__BUF_INIT;
        tc__error err;
        assert_int_equal(tc__grpc_decompress(encs[e], z.data, z.len, 4095, &out, &err),
                         TC_E_INVALID_ARG);
        assert_int_equal(out.len, 0);
        assert_int_equal(tc__grpc_decompress(encs[e], z.data, z.len, 4096, &out, &err), TC_OK);
        assert_int_equal(out.len, 4096);
        assert_memory_equal(out.data, zeros, 4096);
        tc__buf_reset(&out);
        /* Truncated stream and trailing garbage. */
        assert_int_equal(tc__grpc_decompress(encs[e], z.data, z.len - 1, 0, &out, &err),
                         TC_E_PROTOCOL);
        assert_int_equal(tc__buf_append(&z, "x", 1), TC_OK);
        assert_int_equal(tc__grpc_decompress(encs[e], z.data, z.len, 0, &out, &err),
                         TC_E_PROTOCOL);
        tc__buf_cleanup(&out);
        tc__buf_cleanup(&z);
    }
    /* The reader applies its limit to the decompressed size. */
    tc__buf wire = TC__BUF_INIT;
    assert_int_equal(tc__grpc_frame_write(&wire, zeros, sizeof zeros, TC__GRPC_ENC_GZIP, NULL),
                     TC_OK);
    tc__grpc_reader *r = NULL;
    assert_int_equal(tc__grpc_reader_new(&r, 1000, TC__GRPC_ENC_GZIP), TC_OK);
    size_t used = 0;
    assert_int_equal(tc__grpc_reader_feed(r, wire.data, wire.len, &used, NULL), TC_OK);
    const uint8_t *m = NULL;
    size_t l = 0;
    assert_int_equal(tc__grpc_reader_next(r, &m, &l, NULL, NULL), TC_E_INVALID_ARG);
    tc__grpc_reader_free(r);
    tc__buf_cleanup(&wire);
}

static void test_gzip_header(void **state)
{
    (void)state;
    tc__buf z = TC__BUF_INIT;
    assert_int_equal(tc__grpc_compress(TC__GRPC_ENC_GZIP, (const uint8_t *)"abc", 3, &z, NULL),
                     TC_OK);
    static const uint8_t hdr[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    assert_memory_equal(z.data, hdr, sizeof hdr);
    tc__buf_reset(&z);
    assert_int_equal(tc__grpc_compress(TC__GRPC_ENC_DEFLATE, (const uint8_t *)"abc", 3, &z, NULL),
                     TC_OK);
    assert_int_equal(z.data[0], 0x78);
    assert_int_equal(z.data[1], 0x9c);
    tc__buf_cleanup(&z);
}

/* ---- header values -------------------------------------------------------------------- */

static void test_timeout(void **state)
{
    (void)state;
    uint64_t us = 0;
    assert_int_equal(tc__grpc_timeout_parse("1H", 2, &us), TC_OK);
    assert_int_equal(us, 3600000000ull);
    assert_int_equal(tc__grpc_timeout_parse("2M", 2, &us), TC_OK);
    assert_int_equal(us, 120000000ull);
    assert_int_equal(tc__grpc_timeout_parse("3S", 2, &us), TC_OK);
    assert_int_equal(us, 3000000);
    assert_int_equal(tc__grpc_timeout_parse("4m", 2, &us), TC_OK);
    assert_int_equal(us, 4000);
    assert_int_equal(tc__grpc_timeout_parse("99999999u", 9, &us), TC_OK);
    assert_int_equal(us, 99999999);
    assert_int_equal(tc__grpc_timeout_parse("1n", 2, &us), TC_OK);
    assert_int_equal(us, 1);
    assert_int_equal(tc__grpc_timeout_parse("1000n", 5, &us), TC_OK);
    assert_int_equal(us, 1);
    assert_int_equal(tc__grpc_timeout_parse("99999999H", 9, &us), TC_OK);
    const char *bad[] = {"", "S", "1", "100000000S", "1s", "-1S", "1 S", "1.5S"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(tc__grpc_timeout_parse(bad[i], strlen(bad[i]), &us), TC_E_INVALID_ARG);

    char buf[TC__GRPC_TIMEOUT_MAX];
    tc__grpc_timeout_format(100, buf);
    assert_string_equal(buf, "100u");
    tc__grpc_timeout_format(99999999, buf);
    assert_string_equal(buf, "99999999u");
    tc__grpc_timeout_format(100000001, buf);
    assert_string_equal(buf, "100001m");
    tc__grpc_timeout_format(UINT64_MAX, buf);
    assert_string_equal(buf, "99999999H");
    for (uint64_t v = 1; v < 99999999ull * 3600000000ull; v = v * 3 + 1) {
        tc__grpc_timeout_format(v, buf);
        assert_int_equal(tc__grpc_timeout_parse(buf, strlen(buf), &us), TC_OK);
        assert_true(us >= v);
    }
}

static void test_grpc_message(void **state)
{
    (void)state;
    tc__buf b = TC__BUF_INIT;
    const char *msg = "bad 100% caf\xc3\xa9\n";
    assert_int_equal(tc__grpc_message_encode(msg, strlen(msg), &b), TC_OK);
    assert_string_equal((const char *)b.data, "bad 100%25 caf%C3%A9%0A");
    tc__buf d = TC__BUF_INIT;
    assert_int_equal(tc__grpc_message_decode((const char *)b.data, b.len, &d), TC_OK);
    assert_string_equal((const char *)d.data, msg);
    tc__buf_reset(&d);
    assert_int_equal(tc__grpc_message_decode("50%zz%4", 7, &d), TC_OK);
    assert_string_equal((const char *)d.data, "50%zz%4");
    tc__buf_cleanup(&b);
    tc__buf_cleanup(&d);
}

static void test_encodings_and_status(void **state)
{
    (void)state;
    assert_int_equal(tc__grpc_encoding_parse("gzip", 4), TC__GRPC_ENC_GZIP);
    assert_int_equal(tc__grpc_encoding_parse(" Deflate ", 9), TC__GRPC_ENC_DEFLATE);
    assert_int_equal(tc__grpc_encoding_parse("", 0), TC__GRPC_ENC_IDENTITY);
    assert_int_equal(tc__grpc_encoding_parse("snappy", 6), TC__GRPC_ENC_UNKNOWN);
    const char *acc = "identity, deflate, gzip";
    unsigned mask = tc__grpc_accept_encoding_parse(acc, strlen(acc));
    assert_int_equal(mask, TC__GRPC_ENC_ALL);
    assert_int_equal(tc__grpc_accept_encoding_parse("br,gzip", 7),
                     TC__GRPC_ENC_BIT(TC__GRPC_ENC_IDENTITY) |
                         TC__GRPC_ENC_BIT(TC__GRPC_ENC_GZIP));
    tc__buf b = TC__BUF_INIT;
    assert_int_equal(tc__grpc_accept_encoding_format(mask, &b), TC_OK);
    assert_string_equal((const char *)b.data, acc);
    tc__buf_cleanup(&b);
    int st = -1;
    assert_int_equal(tc__grpc_status_parse("14", 2, &st), TC_OK);
    assert_int_equal(st, 14);
    assert_int_equal(tc__code_from_grpc_status(st), TC_E_UNAVAILABLE);
    assert_int_equal(tc__grpc_status_parse("99", 2, &st), TC_OK);
    assert_int_equal(st, 2);
    assert_int_equal(tc__grpc_status_parse("1x", 2, &st), TC_E_INVALID_ARG);
    assert_string_equal(tc__grpc_status_name(8), "RESOURCE_EXHAUSTED");
    assert_string_equal(tc__grpc_status_name(42), "UNKNOWN");
    assert_int_equal(tc__code_to_grpc_status(TC_E_NOT_SUPPORTED), 12);
    uint8_t prefix[5];
    assert_int_equal(tc__grpc_prefix_write(prefix, true, 0x01020304), TC_OK);
    static const uint8_t want[5] = {1, 1, 2, 3, 4};
    assert_memory_equal(prefix, want, 5);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_golden_gzip),
    cmocka_unit_test(test_golden_deflate),
    cmocka_unit_test(test_reader_every_split),
    cmocka_unit_test(test_reader_split_two_chunks),
    cmocka_unit_test(test_reader_oversized),
    cmocka_unit_test(test_reader_bad_flags),
    cmocka_unit_test(test_reader_incomplete),
    cmocka_unit_test(test_decompress_limit),
    cmocka_unit_test(test_gzip_header),
    cmocka_unit_test(test_timeout),
    cmocka_unit_test(test_grpc_message),
    cmocka_unit_test(test_encodings_and_status),
};

TC_TEST_MAIN(tests)
