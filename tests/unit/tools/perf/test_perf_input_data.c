/* tritonc-perf input data: perf_analyzer's JSON format (lists, nested
 * lists, content/shape, b64, BYTES, streams), --shape, generated data, and
 * the errors a user sees for data that does not fit the model. */
#include "tc_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input_data.h"

static perf_input_info simple_inputs[2] = {
    {"INPUT0", TC_DTYPE_INT32, {16}, 1},
    {"INPUT1", TC_DTYPE_INT32, {16}, 1},
};

static perf_input_info var_input = {"INPUT0", TC_DTYPE_INT32, {-1}, 1};
static perf_input_info str_input = {"INPUT0", TC_DTYPE_BYTES, {-1}, 1};

static int32_t i32_at(const perf_tensor *t, size_t i)
{
    int32_t v;
    memcpy(&v, t->data + i * 4, 4);
    return v;
}

static void test_plain_and_content_forms(void **state)
{
    (void)state;
    const char *json =
        "{\"data\": ["
        " {\"INPUT0\": [0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15],"
        "  \"INPUT1\": [[1,1,1,1,1,1,1,1],[1,1,1,1,1,1,1,1]]},"
        " {\"INPUT0\": {\"content\": [5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,-5], \"shape\": [16]},"
        "  \"INPUT1\": {\"b64\": \"AQAAAAEAAAABAAAAAQAAAAEAAAABAAAAAQAAAAEAAAABAAAAAQAAAAEAAAABAAAA"
        "AQAAAAEAAAABAAAAAgAAAA==\"}}]}";
    perf_dataset ds;
    char err[256] = "";
    assert_true(perf_dataset_from_json(json, simple_inputs, 2, NULL, 0, &ds, err, sizeof err));
    assert_int_equal(ds.nsteps, 2);
    assert_int_equal(ds.ninputs, 2);
    const perf_tensor *t = perf_dataset_tensor(&ds, 0, 0);
    assert_int_equal(t->byte_size, 64);
    assert_int_equal(t->ndim, 1);
    assert_int_equal(t->shape[0], 16);
    assert_int_equal(i32_at(t, 15), 15);
    t = perf_dataset_tensor(&ds, 0, 1);
    assert_int_equal(i32_at(t, 9), 1);
    t = perf_dataset_tensor(&ds, 1, 0);
    assert_int_equal(i32_at(t, 15), -5);
    t = perf_dataset_tensor(&ds, 1, 1);
    assert_int_equal(t->byte_size, 64);
    assert_int_equal(i32_at(t, 14), 1);
    assert_int_equal(i32_at(t, 15), 2);
    /* Steps cycle. */
    assert_ptr_equal(perf_dataset_tensor(&ds, 2, 0), perf_dataset_tensor(&ds, 0, 0));
    perf_dataset_cleanup(&ds);
}

static void test_variable_dims(void **state)
{
    (void)state;
    perf_dataset ds;
    char err[256] = "";
    perf_shape_opt shape;
    /* One variable dim is inferred from the element count. */
    assert_true(perf_dataset_from_json("{\"data\":[{\"INPUT0\":[1,2,3]}]}", &var_input, 1, NULL, 0,
                                       &ds, err, sizeof err));
    assert_int_equal(perf_dataset_tensor(&ds, 0, 0)->shape[0], 3);
    perf_dataset_cleanup(&ds);
    /* --shape wins, and must agree with the data. */
    assert_true(perf_shape_opt_parse("INPUT0:4", &shape, err, sizeof err));
    assert_false(perf_dataset_from_json("{\"data\":[{\"INPUT0\":[1,2,3]}]}", &var_input, 1, &shape,
                                        1, &ds, err, sizeof err));
    assert_non_null(strstr(err, "3 elements given, the shape needs 4"));
    /* Generated data needs a shape for variable dims. */
    assert_true(
        perf_dataset_generate(&var_input, 1, &shape, 1, PERF_FILL_ZERO, 0, &ds, err, sizeof err));
    assert_int_equal(perf_dataset_tensor(&ds, 0, 0)->byte_size, 16);
    assert_int_equal(i32_at(perf_dataset_tensor(&ds, 0, 0), 3), 0);
    perf_dataset_cleanup(&ds);
    assert_false(
        perf_dataset_generate(&var_input, 1, NULL, 0, PERF_FILL_RANDOM, 0, &ds, err, sizeof err));
    assert_non_null(strstr(err, "--shape INPUT0"));
    perf_shape_opt_cleanup(&shape);
}

static void test_bytes(void **state)
{
    (void)state;
    perf_dataset ds;
    char err[256] = "";
    assert_true(perf_dataset_from_json("{\"data\":[{\"INPUT0\":[\"ab\",\"\"]},"
                                       "{\"INPUT0\":{\"b64\":\"aGk=\",\"shape\":[1]}}]}",
                                       &str_input, 1, NULL, 0, &ds, err, sizeof err));
    const perf_tensor *t = perf_dataset_tensor(&ds, 0, 0);
    assert_int_equal(t->shape[0], 2);
    assert_int_equal(t->byte_size, 4 + 2 + 4);
    assert_memory_equal(t->data,
                        "\x02\x00\x00\x00"
                        "ab"
                        "\x00\x00\x00\x00",
                        10);
    t = perf_dataset_tensor(&ds, 1, 0);
    assert_int_equal(t->byte_size, 6);
    assert_memory_equal(t->data,
                        "\x02\x00\x00\x00"
                        "hi",
                        6);
    perf_dataset_cleanup(&ds);

    perf_shape_opt shape;
    assert_true(perf_shape_opt_parse("INPUT0:3", &shape, err, sizeof err));
    assert_true(
        perf_dataset_generate(&str_input, 1, &shape, 1, PERF_FILL_RANDOM, 5, &ds, err, sizeof err));
    assert_int_equal(perf_dataset_tensor(&ds, 0, 0)->byte_size, 3 * 9);
    perf_dataset_cleanup(&ds);
    perf_shape_opt_cleanup(&shape);
}

static void test_streams_and_types(void **state)
{
    (void)state;
    perf_input_info in[2] = {{"F", TC_DTYPE_FP16, {2}, 1}, {"B", TC_DTYPE_BOOL, {2}, 1}};
    perf_dataset ds;
    char err[256] = "";
    /* A list of steps (a stream) is flattened into steps. */
    assert_true(perf_dataset_from_json("{\"data\":[[{\"F\":[1.0,-2],\"B\":[true,false]},"
                                       "{\"F\":[0.5,0],\"B\":[0,1]}]]}",
                                       in, 2, NULL, 0, &ds, err, sizeof err));
    assert_int_equal(ds.nsteps, 2);
    const perf_tensor *t = perf_dataset_tensor(&ds, 0, 0);
    assert_memory_equal(t->data, "\x00\x3c\x00\xc0", 4); /* 1.0 and -2.0 in half */
    t = perf_dataset_tensor(&ds, 0, 1);
    assert_memory_equal(t->data, "\x01\x00", 2);
    t = perf_dataset_tensor(&ds, 1, 0);
    assert_memory_equal(t->data, "\x00\x38\x00\x00", 4); /* 0.5 */
    perf_dataset_cleanup(&ds);
}

static void expect_error(const char *json, const char *message)
{
    perf_dataset ds;
    char err[256] = "";
    assert_false(perf_dataset_from_json(json, simple_inputs, 2, NULL, 0, &ds, err, sizeof err));
    if (strstr(err, message) == NULL)
        fprintf(stderr, "error was: %s\n", err);
    assert_non_null(strstr(err, message));
    assert_null(ds.tensors);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("not json", "{\"data\": [...]}");
    expect_error("{\"data\": []}", "no entries");
    expect_error("{\"data\": [{\"INPUT0\": [1]}]}", "1 elements given, the shape needs 16");
    expect_error("{\"data\": [{\"INPUT0\": [0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]}]}",
                 "no input 'INPUT1'");
    expect_error("{\"data\": [{\"INPUT0\": [0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,\"x\"],"
                 " \"INPUT1\": [0]}]}",
                 "element 15 is not a valid INT32");
    expect_error("{\"data\": [{\"INPUT0\": [0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,4294967296],"
                 " \"INPUT1\": [0]}]}",
                 "not a valid INT32");
    expect_error("{\"data\": [{\"INPUT0\": {\"b64\": \"!!\"}, \"INPUT1\": [0]}]}", "not base64");
    expect_error("{\"data\": [{\"INPUT0\": {\"b64\": \"AQID\"}, \"INPUT1\": [0]}]}",
                 "3 bytes is not a whole number of INT32");
    expect_error("{\"data\": [{\"INPUT0\": {\"shape\": [16]}, \"INPUT1\": [0]}]}",
                 "needs \"content\" or \"b64\"");
    expect_error("{\"data\": [{\"INPUT0\": {\"content\": [1,2], \"shape\": [2]},"
                 " \"INPUT1\": [0]}]}",
                 "shape does not fit");
    expect_error("{\"data\": [7]}", "data entry 0 is not an object");
}

static void test_shape_option(void **state)
{
    (void)state;
    perf_shape_opt s;
    char err[256] = "";
    assert_true(perf_shape_opt_parse("a:b:1,2,3", &s, err, sizeof err));
    assert_string_equal(s.name, "a:b"); /* names may contain ':' */
    assert_int_equal(s.ndim, 3);
    assert_int_equal(s.dims[2], 3);
    perf_shape_opt_cleanup(&s);
    assert_false(perf_shape_opt_parse("INPUT0", &s, err, sizeof err));
    assert_false(perf_shape_opt_parse("INPUT0:", &s, err, sizeof err));
    assert_false(perf_shape_opt_parse("INPUT0:1,,2", &s, err, sizeof err));
    assert_false(perf_shape_opt_parse("INPUT0:-1", &s, err, sizeof err));
    assert_false(perf_shape_opt_parse(":4", &s, err, sizeof err));
}

static void test_base64(void **state)
{
    (void)state;
    uint8_t *out = NULL;
    size_t n = 0;
    assert_true(perf_base64_decode("aGVsbG8=", 8, &out, &n));
    assert_int_equal(n, 5);
    assert_memory_equal(out, "hello", 5);
    free(out);
    assert_true(perf_base64_decode("aGVsbG8", 7, &out, &n)); /* padding optional */
    assert_int_equal(n, 5);
    free(out);
    assert_true(perf_base64_decode("", 0, &out, &n));
    assert_int_equal(n, 0);
    free(out);
    assert_false(perf_base64_decode("a", 1, &out, &n));
    assert_false(perf_base64_decode("aGk=aGk=", 8, &out, &n)); /* data after padding */
    assert_false(perf_base64_decode("a*b=", 4, &out, &n));
}

static void test_random_is_reproducible(void **state)
{
    (void)state;
    perf_dataset a;
    perf_dataset b;
    char err[256] = "";
    assert_true(
        perf_dataset_generate(simple_inputs, 2, NULL, 0, PERF_FILL_RANDOM, 0, &a, err, sizeof err));
    assert_true(
        perf_dataset_generate(simple_inputs, 2, NULL, 0, PERF_FILL_RANDOM, 0, &b, err, sizeof err));
    assert_memory_equal(a.tensors[1].data, b.tensors[1].data, 64);
    for (size_t i = 0; i < 16; i++) {
        int32_t v = i32_at(&a.tensors[0], i);
        assert_true(v >= 0 && v < 100);
    }
    perf_dataset_cleanup(&a);
    perf_dataset_cleanup(&b);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_plain_and_content_forms),
    cmocka_unit_test(test_variable_dims),
    cmocka_unit_test(test_bytes),
    cmocka_unit_test(test_streams_and_types),
    cmocka_unit_test(test_errors),
    cmocka_unit_test(test_shape_option),
    cmocka_unit_test(test_base64),
    cmocka_unit_test(test_random_is_reproducible),
};

TC_TEST_MAIN(tests)
