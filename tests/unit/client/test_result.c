/* tc_result accessors over decoded HTTP answers, and the metadata objects. */
#include "tc_test.h"

#include <stdint.h>
#include <string.h>

#include <tritonc/tritonc.h>

#include "client/result_internal.h"
#include "common/alloc.h"
#include "proto/v2_json.h"

/* A response: JSON header, then a BYTES blob (two elements) for S. */
static tc_result *make_result(void)
{
    static const char json[] =
        "{\"id\":\"r1\",\"model_name\":\"simple\",\"model_version\":\"1\",\"outputs\":["
        "{\"name\":\"S\",\"datatype\":\"BYTES\",\"shape\":[2],"
        "\"parameters\":{\"binary_data_size\":13}},"
        "{\"name\":\"J\",\"datatype\":\"INT32\",\"shape\":[1,2],\"data\":[7,-1]}]}";
    static const uint8_t blob[13] = {2, 0, 0, 0, 'h', 'i', 3, 0, 0, 0, 'a', 0, 'b'};
    size_t json_len = strlen(json);
    uint8_t *body = tc__malloc(json_len + sizeof blob);
    assert_non_null(body);
    memcpy(body, json, json_len);
    memcpy(body + json_len, blob, sizeof blob);
    tc_result *r = tc__result_new();
    assert_non_null(r);
    tc__result_from_http(r, 200, body, json_len + sizeof blob, json_len);
    return r;
}

static void test_accessors(void **state)
{
    (void)state;
    tc_result *r = make_result();
    assert_int_equal(tc_result_status(r), TC_OK);
    assert_string_equal(tc_result_error_message(r), "");
    assert_int_equal(tc_result_http_status(r), 200);
    assert_string_equal(tc_result_model_name(r), "simple");
    assert_string_equal(tc_result_model_version(r), "1");
    assert_string_equal(tc_result_id(r), "r1");
    assert_int_equal(tc_result_output_count(r), 2);
    assert_string_equal(tc_result_output_name(r, 0), "S");
    assert_string_equal(tc_result_output_name(r, 1), "J");
    assert_null(tc_result_output_name(r, 2));

    tc_dtype dt;
    const int64_t *shape;
    size_t ndim;
    const uint8_t *data;
    size_t size;
    assert_int_equal(tc_result_output_dtype(r, "J", &dt), TC_OK);
    assert_int_equal(dt, TC_DTYPE_INT32);
    assert_int_equal(tc_result_output_shape(r, "J", &shape, &ndim), TC_OK);
    assert_int_equal(ndim, 2);
    assert_int_equal(shape[1], 2);
    assert_int_equal(tc_result_output_data(r, "J", &data, &size), TC_OK);
    assert_int_equal(size, 8);
    int32_t v[2];
    memcpy(v, data, 8);
    assert_int_equal(v[0], 7);
    assert_int_equal(v[1], -1);
    assert_int_equal(tc_result_output_data(r, "nope", &data, &size), TC_E_NOT_FOUND);
    assert_int_equal(tc_result_output_data(r, NULL, &data, &size), TC_E_INVALID_ARG);
    tc_result_free(r);
}

static void test_bytes_elements(void **state)
{
    (void)state;
    tc_result *r = make_result();
    size_t count = 0;
    const uint8_t *e;
    size_t len;
    assert_int_equal(tc_result_output_bytes_count(r, "S", &count), TC_OK);
    assert_int_equal(count, 2);
    assert_int_equal(tc_result_output_bytes_element(r, "S", 1, &e, &len), TC_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(e, "a\0b", 3);
    assert_int_equal(tc_result_output_bytes_element(r, "S", 0, &e, &len), TC_OK);
    assert_int_equal(len, 2);
    assert_memory_equal(e, "hi", 2);
    assert_int_equal(tc_result_output_bytes_element(r, "S", 2, &e, &len), TC_E_INVALID_ARG);
    assert_int_equal(tc_result_output_bytes_count(r, "J", &count), TC_E_INVALID_ARG);
    tc_result_free(r);
}

static void test_error_answer(void **state)
{
    (void)state;
    static const char err[] = "{\"error\":\"Request for unknown model: 'x' is not found\"}";
    tc_result *r = tc__result_new();
    assert_non_null(r);
    uint8_t *body = tc__memdup(err, strlen(err));
    tc__result_from_http(r, 404, body, strlen(err), TC__NO_HEADER_LENGTH);
    assert_int_equal(tc_result_status(r), TC_E_NOT_FOUND);
    assert_int_equal(tc_result_http_status(r), 404);
    assert_string_equal(tc_result_error_message(r), "Request for unknown model: 'x' is not found");
    assert_int_equal(tc_result_output_count(r), 0);
    tc_result_free(r);
}

static void test_garbage_answer(void **state)
{
    (void)state;
    tc_result *r = tc__result_new();
    assert_non_null(r);
    uint8_t *body = tc__memdup("not json", 8);
    tc__result_from_http(r, 200, body, 8, TC__NO_HEADER_LENGTH);
    assert_int_equal(tc_result_status(r), TC_E_PROTOCOL);
    assert_true(strlen(tc_result_error_message(r)) > 0);
    tc_result_free(r);
}

static void test_null_safety(void **state)
{
    (void)state;
    assert_int_equal(tc_result_status(NULL), TC_E_INVALID_ARG);
    assert_non_null(tc_result_error_message(NULL));
    assert_string_equal(tc_result_model_name(NULL), "");
    assert_int_equal(tc_result_output_count(NULL), 0);
    tc_result_free(NULL);
    assert_string_equal(tc_server_metadata_name(NULL), "");
    assert_null(tc_repository_index_name(NULL, 0));
    assert_string_equal(tc_repository_index_state(NULL, 0), "");
    assert_int_equal(tc_model_metadata_input(NULL, 0, NULL, NULL, NULL, NULL), TC_E_INVALID_ARG);
}

/* An unpadded header (as upstream Triton sends) puts the blob at an odd
 * offset: the result still hands out data aligned for its element type. */
static void test_binary_output_is_aligned(void **state)
{
    (void)state;
    static const char json[] = "{\"model_name\":\"m\",\"model_version\":\"1\",\"outputs\":["
                               "{\"name\":\"F\",\"datatype\":\"FP64\",\"shape\":[2],"
                               "\"parameters\":{\"binary_data_size\":16}}]} ";
    const double values[2] = {1.5, -2.25};
    size_t json_len = strlen(json) - 1;
    if (json_len % 8 == 0)
        json_len++; /* keep the trailing space so the blob is misaligned */
    uint8_t *body = tc__malloc(json_len + sizeof values);
    assert_non_null(body);
    memcpy(body, json, json_len);
    memcpy(body + json_len, values, sizeof values);
    tc_result *r = tc__result_new();
    assert_non_null(r);
    tc__result_from_http(r, 200, body, json_len + sizeof values, json_len);
    assert_int_equal(tc_result_status(r), TC_OK);
    const uint8_t *data = NULL;
    size_t size = 0;
    assert_int_equal(tc_result_output_data(r, "F", &data, &size), TC_OK);
    assert_int_equal(size, sizeof values);
    assert_int_equal((uintptr_t)data % sizeof(double), 0);
    const double *d = (const double *)(const void *)data;
    assert_true(d[0] == 1.5 && d[1] == -2.25);
    tc_result_free(r);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_binary_output_is_aligned),
    cmocka_unit_test(test_accessors),    cmocka_unit_test(test_bytes_elements),
    cmocka_unit_test(test_error_answer), cmocka_unit_test(test_garbage_answer),
    cmocka_unit_test(test_null_safety),
};

TC_TEST_MAIN(tests)
