/* Unit tests for src/proto/bytes.c: BYTES length-prefix encoding. */
#include "tc_test.h"

#include <string.h>

#include "common/buf.h"
#include "proto/bytes.h"

static void bytes_append_then_iterate(void **state)
{
    (void)state;
    tc__buf b = TC__BUF_INIT;
    assert_int_equal(tc__bytes_append(&b, "he\0llo", 6), TC_OK);
    assert_int_equal(tc__bytes_append(&b, NULL, 0), TC_OK);
    assert_int_equal(tc__bytes_append(&b, "\xff", 1), TC_OK);
    assert_int_equal(b.len, 4 + 6 + 4 + 0 + 4 + 1);
    assert_memory_equal(b.data, "\x06\0\0\0he\0llo\0\0\0\0\x01\0\0\0\xff", b.len);
    size_t count = 0;
    assert_int_equal(tc__bytes_count(b.data, b.len, &count), TC_OK);
    assert_int_equal(count, 3);
    size_t pos = 0;
    const uint8_t *elem = NULL;
    size_t len = 99;
    assert_int_equal(tc__bytes_next(b.data, b.len, &pos, &elem, &len), TC_OK);
    assert_int_equal(len, 6);
    assert_memory_equal(elem, "he\0llo", 6);
    assert_int_equal(pos, 10);
    assert_int_equal(tc__bytes_next(b.data, b.len, &pos, &elem, &len), TC_OK);
    assert_int_equal(len, 0);
    assert_int_equal(tc__bytes_next(b.data, b.len, &pos, &elem, &len), TC_OK);
    assert_int_equal(len, 1);
    assert_int_equal(elem[0], 0xff);
    assert_int_equal(tc__bytes_next(b.data, b.len, &pos, &elem, &len), TC_E_NOT_FOUND);
    assert_int_equal(pos, b.len);
    tc__buf_cleanup(&b);
}

static void bytes_empty_buffer_has_no_elements(void **state)
{
    (void)state;
    size_t count = 7;
    assert_int_equal(tc__bytes_count(NULL, 0, &count), TC_OK);
    assert_int_equal(count, 0);
    size_t pos = 0;
    const uint8_t *elem;
    size_t len;
    assert_int_equal(tc__bytes_next(NULL, 0, &pos, &elem, &len), TC_E_NOT_FOUND);
}

static void bytes_rejects_truncation(void **state)
{
    (void)state;
    const uint8_t short_prefix[3] = {1, 0, 0};
    const uint8_t short_body[6] = {3, 0, 0, 0, 'a', 'b'};
    const uint8_t huge_len[5] = {0xff, 0xff, 0xff, 0xff, 'a'};
    const uint8_t ok_then_short[7] = {1, 0, 0, 0, 'a', 9, 0};
    size_t count = 0;
    assert_int_equal(tc__bytes_count(short_prefix, sizeof short_prefix, &count),
                     TC_E_INVALID_ARG);
    assert_int_equal(tc__bytes_count(short_body, sizeof short_body, &count), TC_E_INVALID_ARG);
    assert_int_equal(tc__bytes_count(huge_len, sizeof huge_len, &count), TC_E_INVALID_ARG);
    assert_int_equal(tc__bytes_count(ok_then_short, sizeof ok_then_short, &count),
                     TC_E_INVALID_ARG);
    /* Iteration stops at the bad element without moving past the end. */
    size_t pos = 0;
    const uint8_t *elem;
    size_t len;
    assert_int_equal(tc__bytes_next(ok_then_short, sizeof ok_then_short, &pos, &elem, &len),
                     TC_OK);
    assert_int_equal(tc__bytes_next(ok_then_short, sizeof ok_then_short, &pos, &elem, &len),
                     TC_E_INVALID_ARG);
    assert_int_equal(pos, 5);
    /* A position beyond the end is a caller error. */
    pos = 8;
    assert_int_equal(tc__bytes_next(ok_then_short, sizeof ok_then_short, &pos, &elem, &len),
                     TC_E_INVALID_ARG);
}

static void bytes_append_rejects_bad_args(void **state)
{
    (void)state;
    tc__buf b = TC__BUF_INIT;
    assert_int_equal(tc__bytes_append(&b, NULL, 1), TC_E_INVALID_ARG);
    assert_int_equal(tc__bytes_append(NULL, "a", 1), TC_E_INVALID_ARG);
    assert_int_equal(tc__bytes_append(&b, "a", (size_t)UINT32_MAX + 1), TC_E_INVALID_ARG);
    assert_int_equal(b.len, 0);
    tc__buf_cleanup(&b);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(bytes_append_then_iterate),
    cmocka_unit_test(bytes_empty_buffer_has_no_elements),
    cmocka_unit_test(bytes_rejects_truncation),
    cmocka_unit_test(bytes_append_rejects_bad_args),
};

TC_TEST_MAIN(tests)
