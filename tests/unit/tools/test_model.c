/* image_client model checks: what upstream's parse_model() accepts and its
 * error messages. */
#include "tc_test.h"

#include <string.h>

#include "model.h"

static const int64_t g_nchw[] = {-1, 3, 224, 224};
static const int64_t g_nhwc[] = {-1, 224, 200, 1};
static const int64_t g_vec[] = {-1, 1001};

static const char *g_config_nchw =
    "{\"name\":\"m\",\"max_batch_size\":8,\"input\":[{\"name\":\"input\",\"data_type\":"
    "\"TYPE_FP32\",\"format\":\"FORMAT_NCHW\",\"dims\":[3,224,224]}],\"output\":[{\"name\":"
    "\"probabilities\",\"dims\":[1001]}]}";

static int parse_one(const char *config, const int64_t *in_shape, size_t in_nd, tc_dtype out_dtype,
                     const int64_t *out_shape, size_t out_nd, ic_model *m, char *err,
                     size_t err_size)
{
    ic_tensor_desc in = {"input", TC_DTYPE_FP32, in_shape, in_nd};
    ic_tensor_desc out = {"probabilities", out_dtype, out_shape, out_nd};
    return ic_model_parse("m", config, &in, 1, &out, 1, m, err, err_size);
}

static void test_nchw(void **state)
{
    (void)state;
    ic_model m;
    char err[256];
    assert_int_equal(
        parse_one(g_config_nchw, g_nchw, 4, TC_DTYPE_FP32, g_vec, 2, &m, err, sizeof err), 0);
    assert_int_equal(m.max_batch_size, 8);
    assert_int_equal(m.format, IC_FORMAT_NCHW);
    assert_int_equal(m.channels, 3);
    assert_int_equal(m.height, 224);
    assert_int_equal(m.width, 224);
    assert_string_equal(m.input_name, "input");
    assert_string_equal(m.output_name, "probabilities");
    assert_int_equal(m.input_dtype, TC_DTYPE_FP32);
}

static void test_nhwc_grayscale_string_batch(void **state)
{
    (void)state;
    ic_model m;
    char err[256];
    /* int64 as a string, as the protobuf JSON mapping allows. */
    const char *cfg = "{\"max_batch_size\":\"4\",\"input\":[{\"format\":\"FORMAT_NHWC\"}]}";
    assert_int_equal(parse_one(cfg, g_nhwc, 4, TC_DTYPE_FP32, g_vec, 2, &m, err, sizeof err), 0);
    assert_int_equal(m.max_batch_size, 4);
    assert_int_equal(m.format, IC_FORMAT_NHWC);
    assert_int_equal(m.channels, 1);
    assert_int_equal(m.height, 224);
    assert_int_equal(m.width, 200);
}

static void test_no_batching(void **state)
{
    (void)state;
    ic_model m;
    char err[256];
    /* densenet_onnx: max_batch_size 0, input [3,224,224], output [1000]... */
    const char *cfg = "{\"input\":[{\"format\":\"FORMAT_NCHW\"}]}";
    static const int64_t out_shape[] = {1000, 1, 1};
    assert_int_equal(
        parse_one(cfg, g_nchw + 1, 3, TC_DTYPE_FP32, out_shape, 3, &m, err, sizeof err), 0);
    assert_int_equal(m.max_batch_size, 0);
    assert_int_equal(m.channels, 3);
    /* ...and a batch dimension in the metadata without batching is an error. */
    assert_int_equal(parse_one(cfg, g_nchw, 4, TC_DTYPE_FP32, out_shape, 3, &m, err, sizeof err),
                     -1);
    assert_string_equal(err, "expecting input to have 3 dimensions, model 'm' input has 4");
}

static void expect_error(const char *cfg, const int64_t *in_shape, size_t in_nd, tc_dtype out_dt,
                         const int64_t *out_shape, size_t out_nd, const char *want)
{
    ic_model m;
    char err[256];
    assert_int_equal(
        parse_one(cfg, in_shape, in_nd, out_dt, out_shape, out_nd, &m, err, sizeof err), -1);
    assert_string_equal(err, want);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error(g_config_nchw, g_nchw, 4, TC_DTYPE_INT32, g_vec, 2,
                 "expecting output datatype to be FP32, model 'm' output type is INT32");
    static const int64_t matrix[] = {-1, 10, 10};
    expect_error(g_config_nchw, g_nchw, 4, TC_DTYPE_FP32, matrix, 3,
                 "expecting model output to be a vector");
    expect_error(g_config_nchw, g_nchw, 3, TC_DTYPE_FP32, g_vec, 2,
                 "expecting input to have 4 dimensions, model 'm' input has 3");
    expect_error("{\"max_batch_size\":8,\"input\":[{\"name\":\"input\"}]}", g_nchw, 4,
                 TC_DTYPE_FP32, g_vec, 2,
                 "unexpected input format FORMAT_NONE, expecting FORMAT_NCHW or FORMAT_NHWC");
    expect_error("{\"max_batch_size\":8,\"input\":[]}", g_nchw, 4, TC_DTYPE_FP32, g_vec, 2,
                 "expecting 1 input in model configuration, got 0");
    static const int64_t four_ch[] = {-1, 4, 8, 8};
    expect_error(g_config_nchw, four_ch, 4, TC_DTYPE_FP32, g_vec, 2,
                 "expecting 1 or 3 channels, model 'm' input has 4");
    static const int64_t dyn[] = {-1, 3, -1, -1};
    expect_error(g_config_nchw, dyn, 4, TC_DTYPE_FP32, g_vec, 2,
                 "expecting a fixed image size, model 'm' input is -1x-1");
    expect_error("not json", g_nchw, 4, TC_DTYPE_FP32, g_vec, 2,
                 "cannot parse the model configuration of 'm'");
    expect_error("{\"max_batch_size\":8,\"input\":[{\"format\":\"FORMAT_XYZ\"}]}", g_nchw, 4,
                 TC_DTYPE_FP32, g_vec, 2, "unknown input format in the configuration of 'm'");
}

static void test_tensor_counts(void **state)
{
    (void)state;
    ic_model m;
    char err[256];
    ic_tensor_desc t[2] = {{"a", TC_DTYPE_FP32, g_nchw, 4}, {"b", TC_DTYPE_FP32, g_vec, 2}};
    assert_int_equal(ic_model_parse("m", g_config_nchw, t, 2, t + 1, 1, &m, err, sizeof err), -1);
    assert_string_equal(err, "expecting 1 input, got 2");
    assert_int_equal(ic_model_parse("m", g_config_nchw, t, 1, t, 2, &m, err, sizeof err), -1);
    assert_string_equal(err, "expecting 1 output, got 2");
    assert_int_equal(ic_model_parse("m", g_config_nchw, t, 1, t, 0, &m, err, sizeof err), -1);
    assert_string_equal(err, "expecting 1 output, got 0");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_nchw),          cmocka_unit_test(test_nhwc_grayscale_string_batch),
    cmocka_unit_test(test_no_batching),   cmocka_unit_test(test_errors),
    cmocka_unit_test(test_tensor_counts),
};

TC_TEST_MAIN(tests)
