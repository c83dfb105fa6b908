/* Unit tests for src/common: buffers, base64, errors, the failing allocator. */
#include "tc_test.h"

#include <string.h>

#include "common/alloc.h"
#include "common/base64.h"
#include "common/buf.h"
#include "common/error.h"

static void buf_appends_and_terminates(void **state)
{
    (void)state;
    tc__buf b = TC__BUF_INIT;
    assert_int_equal(tc__buf_append_str(&b, "abc"), TC_OK);
    assert_int_equal(tc__buf_printf(&b, "-%d-", 42), TC_OK);
    assert_int_equal(tc__buf_append_u32le(&b, 0x01020304u), TC_OK);
    assert_int_equal(b.len, 3 + 4 + 4);
    assert_memory_equal(b.data, "abc-42-\x04\x03\x02\x01", 11);
    assert_int_equal(b.data[b.len], 0);
    tc__buf_cleanup(&b);
}

static void base64_round_trip(void **state)
{
    (void)state;
    const char *cases[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *want[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tc__buf enc = TC__BUF_INIT;
        tc__buf dec = TC__BUF_INIT;
        assert_int_equal(tc__base64_encode((const uint8_t *)cases[i], strlen(cases[i]), &enc),
                         TC_OK);
        assert_int_equal(enc.len, strlen(want[i]));
        assert_memory_equal(enc.len ? (const char *)enc.data : "", want[i], enc.len);
        assert_int_equal(tc__base64_decode(want[i], strlen(want[i]), &dec), TC_OK);
        assert_int_equal(dec.len, strlen(cases[i]));
        if (dec.len)
            assert_memory_equal(dec.data, cases[i], dec.len);
        tc__buf_cleanup(&enc);
        tc__buf_cleanup(&dec);
    }
}

static void base64_rejects_garbage(void **state)
{
    (void)state;
    tc__buf dec = TC__BUF_INIT;
    assert_int_equal(tc__base64_decode("Zm9", 3, &dec), TC_E_INVALID_ARG);
    assert_int_equal(tc__base64_decode("Zm9*", 4, &dec), TC_E_INVALID_ARG);
    assert_int_equal(tc__base64_decode("Z===", 4, &dec), TC_E_INVALID_ARG);
    tc__buf_cleanup(&dec);
}

static void error_codes_map_to_statuses(void **state)
{
    (void)state;
    assert_int_equal(tc__code_to_http_status(TC_E_NOT_FOUND), 404);
    assert_int_equal(tc__code_to_http_status(TC_E_INVALID_ARG), 400);
    assert_int_equal(tc__code_to_http_status(TC_E_NOT_SUPPORTED), 501);
    assert_int_equal(tc__code_to_http_status(TC_E_UNAVAILABLE), 503);
    assert_int_equal(tc__code_to_http_status(TC_E_ALREADY_EXISTS), 400);
    assert_int_equal(tc__code_from_http_status(404), TC_E_NOT_FOUND);
    assert_int_equal(tc__code_to_grpc_status(TC_E_NOT_SUPPORTED), 12);
    assert_int_equal(tc__code_from_grpc_status(14), TC_E_UNAVAILABLE);
    assert_string_equal(tc_code_name(TC_E_TIMEOUT), "TC_E_TIMEOUT");
    tc__error err;
    assert_int_equal(tc__error_set(&err, TC_E_NOT_FOUND, "model '%s'", "x"), TC_E_NOT_FOUND);
    assert_string_equal(err.msg, "model 'x'");
}

static void failing_allocator_fails_nth(void **state)
{
    (void)state;
    tc__alloc_fail_after(2);
    void *a = tc__malloc(8);
    void *b = tc__malloc(8);
    void *c = tc__malloc(8);
    assert_non_null(a);
    assert_null(b);
    assert_non_null(c);
    tc__free(a);
    tc__free(c);
    assert_null(tc__calloc(SIZE_MAX / 2, 4));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(buf_appends_and_terminates),
    cmocka_unit_test(base64_round_trip),
    cmocka_unit_test(base64_rejects_garbage),
    cmocka_unit_test(error_codes_map_to_statuses),
    cmocka_unit_test(failing_allocator_fails_nth),
};

TC_TEST_MAIN(tests)
