/* Bad input to tc_onnx: corrupt and truncated model bytes, unsupported
 * operators and external data, and run-time inputs that contradict the model.
 * Every case must fail cleanly with a specific code and message. */
#include "onnx.pb-c.h"
#include "onnx_test_util.h"
#include "tc_test.h"

/* A one-node model: Y = op(X), X float [-1, 4]; optionally with an
 * initializer that claims external data. Returns packed bytes (tc__free). */
static uint8_t *make_model(const char *op, const char *node_name, bool external, size_t *size)
{
    Onnx__TensorShapeProto__Dimension d0 = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
    Onnx__TensorShapeProto__Dimension d1 = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
    d0.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
    d0.dim_param = "N";
    d1.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    d1.dim_value = 4;
    Onnx__TensorShapeProto__Dimension *dims[2] = {&d0, &d1};
    Onnx__TensorShapeProto shape = ONNX__TENSOR_SHAPE_PROTO__INIT;
    shape.n_dim = 2;
    shape.dim = dims;
    Onnx__TypeProto__Tensor tt = ONNX__TYPE_PROTO__TENSOR__INIT;
    tt.has_elem_type = 1;
    tt.elem_type = 1;
    tt.shape = &shape;
    Onnx__TypeProto type = ONNX__TYPE_PROTO__INIT;
    type.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    type.tensor_type = &tt;
    Onnx__ValueInfoProto x = ONNX__VALUE_INFO_PROTO__INIT;
    x.name = "X";
    x.type = &type;
    Onnx__ValueInfoProto y = ONNX__VALUE_INFO_PROTO__INIT;
    y.name = "Y";
    y.type = &type;
    Onnx__ValueInfoProto *ins[1] = {&x};
    Onnx__ValueInfoProto *outs[1] = {&y};
    char *nin[1] = {"X"};
    char *nout[1] = {"Y"};
    Onnx__NodeProto node = ONNX__NODE_PROTO__INIT;
    node.n_input = 1;
    node.input = nin;
    node.n_output = 1;
    node.output = nout;
    node.op_type = (char *)op;
    node.name = (char *)node_name;
    Onnx__NodeProto *nodes[1] = {&node};
    Onnx__StringStringEntryProto loc = ONNX__STRING_STRING_ENTRY_PROTO__INIT;
    loc.key = "location";
    loc.value = "weights.bin";
    Onnx__StringStringEntryProto *locs[1] = {&loc};
    int64_t wdims[1] = {4};
    Onnx__TensorProto w = ONNX__TENSOR_PROTO__INIT;
    w.name = "W";
    w.has_data_type = 1;
    w.data_type = 1;
    w.n_dims = 1;
    w.dims = wdims;
    w.n_external_data = 1;
    w.external_data = locs;
    w.has_data_location = 1;
    w.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    Onnx__TensorProto *inits[1] = {&w};
    Onnx__GraphProto g = ONNX__GRAPH_PROTO__INIT;
    g.n_node = 1;
    g.node = nodes;
    g.n_input = 1;
    g.input = ins;
    g.n_output = 1;
    g.output = outs;
    g.n_initializer = external ? 1 : 0;
    g.initializer = inits;
    Onnx__OperatorSetIdProto opset = ONNX__OPERATOR_SET_ID_PROTO__INIT;
    opset.domain = "";
    opset.has_version = 1;
    opset.version = 13;
    Onnx__OperatorSetIdProto *opsets[1] = {&opset};
    Onnx__ModelProto m = ONNX__MODEL_PROTO__INIT;
    m.has_ir_version = 1;
    m.ir_version = 8;
    m.n_opset_import = 1;
    m.opset_import = opsets;
    m.graph = &g;
    *size = onnx__model_proto__get_packed_size(&m);
    uint8_t *buf = tc__malloc(*size);
    assert_non_null(buf);
    (void)onnx__model_proto__pack(&m, buf);
    return buf;
}

static void test_unsupported_operator(void **state)
{
    (void)state;
    size_t size;
    uint8_t *bytes = make_model("FancyOp", "my_fancy_node", false, &size);
    tc__onnx_model *m = NULL;
    tc__error err = {0};
    assert_int_equal(tc__onnx_model_new_from_bytes(&m, bytes, size, 1, &err), TC_E_NOT_SUPPORTED);
    assert_null(m);
    assert_non_null(strstr(err.msg, "FancyOp"));
    assert_non_null(strstr(err.msg, "my_fancy_node"));
    tc__free(bytes);
}

static void test_external_data(void **state)
{
    (void)state;
    size_t size;
    uint8_t *bytes = make_model("Relu", "r", true, &size);
    tc__onnx_model *m = NULL;
    tc__error err = {0};
    assert_int_equal(tc__onnx_model_new_from_bytes(&m, bytes, size, 1, &err), TC_E_NOT_SUPPORTED);
    assert_non_null(strstr(err.msg, "external"));
    tc__free(bytes);
}

static void test_corrupt_and_truncated(void **state)
{
    (void)state;
    size_t size;
    uint8_t *bytes = make_model("Relu", "r", false, &size);
    tc__error err = {0};
    /* every prefix: either a clean error or a model that still works */
    for (size_t n = 0; n < size; n++) {
        tc__onnx_model *m = NULL;
        tc_code rc = tc__onnx_model_new_from_bytes(&m, bytes, n, 1, &err);
        assert_true(rc == TC_OK || rc == TC_E_INVALID_ARG || rc == TC_E_NOT_SUPPORTED);
        assert_true(rc == TC_OK || m == NULL);
        tc__onnx_model_free(m);
    }
    /* flipped bytes */
    for (size_t n = 0; n < size; n++) {
        uint8_t saved = bytes[n];
        bytes[n] ^= 0xA5;
        tc__onnx_model *m = NULL;
        (void)tc__onnx_model_new_from_bytes(&m, bytes, size, 1, &err);
        tc__onnx_model_free(m);
        bytes[n] = saved;
    }
    tc__onnx_model *m = NULL;
    static const char junk[] = "this is not a protobuf model at all \xff\xff\xff\xff";
    assert_int_equal(tc__onnx_model_new_from_bytes(&m, junk, sizeof junk, 1, &err),
                     TC_E_INVALID_ARG);
    assert_int_equal(tc__onnx_model_new_from_file(&m, "/nonexistent/model.onnx", 1, &err),
                     TC_E_NOT_FOUND);
    tc__free(bytes);
}

static void test_run_mismatch(void **state)
{
    (void)state;
    size_t size;
    uint8_t *bytes = make_model("Relu", "r", false, &size);
    tc__onnx_model *m = NULL;
    tc__error err = {0};
    assert_int_equal(tc__onnx_model_new_from_bytes(&m, bytes, size, 1, &err), TC_OK);
    tc__free(bytes);
    float data[8] = {-1, 2, -3, 4, 5, -6, 7, -8};
    int64_t shape[2] = {2, 4};
    tc__onnx_input in = {"X", TC_DTYPE_FP32, 2, shape, data, sizeof data};
    tc__onnx_output out;
    memset(&out, 0, sizeof out);
    assert_int_equal(tc__onnx_model_run(m, &in, 1, &out, 1, &err), TC_OK);
    const float *y = out.data;
    assert_true(y[0] == 0.0f && y[1] == 2.0f && y[7] == 0.0f);

    tc__onnx_input bad = in;
    bad.dtype = TC_DTYPE_INT32;
    assert_int_equal(tc__onnx_model_run(m, &bad, 1, &out, 1, &err), TC_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "datatype"));
    int64_t wrong[2] = {2, 5};
    bad = in;
    bad.shape = wrong;
    assert_int_equal(tc__onnx_model_run(m, &bad, 1, &out, 1, &err), TC_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "dimension 1"));
    bad = in;
    bad.rank = 1;
    assert_int_equal(tc__onnx_model_run(m, &bad, 1, &out, 1, &err), TC_E_INVALID_ARG);
    bad = in;
    bad.byte_size = 12;
    assert_int_equal(tc__onnx_model_run(m, &bad, 1, &out, 1, &err), TC_E_INVALID_ARG);
    bad = in;
    bad.name = "Z";
    assert_int_equal(tc__onnx_model_run(m, &bad, 1, &out, 1, &err), TC_E_INVALID_ARG);
    assert_int_equal(tc__onnx_model_run(m, NULL, 0, &out, 1, &err), TC_E_INVALID_ARG);
    out.name = "nope";
    assert_int_equal(tc__onnx_model_run(m, &in, 1, &out, 1, &err), TC_E_NOT_FOUND);
    float small[2];
    out.name = "Y";
    out.buffer = small;
    out.buffer_size = sizeof small;
    assert_int_equal(tc__onnx_model_run(m, &in, 1, &out, 1, &err), TC_E_INVALID_ARG);
    float big[8];
    out.buffer = big;
    out.buffer_size = sizeof big;
    int64_t one[2] = {1, 4};
    in.shape = one;
    in.byte_size = 16;
    assert_int_equal(tc__onnx_model_run(m, &in, 1, &out, 1, &err), TC_OK); /* re-plan */
    assert_true(big[1] == 2.0f && out.shape[0] == 1);
    tc__onnx_model_free(m);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    size_t size;
    uint8_t *bytes = make_model("Relu", "r", false, &size);
    float data[4] = {1, -2, 3, -4};
    int64_t shape[2] = {1, 4};
    tc__onnx_input in = {"X", TC_DTYPE_FP32, 2, shape, data, sizeof data};
    for (unsigned long n = 1; n < 200; n++) {
        tc__error err = {0};
        tc__onnx_model *m = NULL;
        tc__onnx_output out;
        memset(&out, 0, sizeof out);
        tc__alloc_fail_after(n);
        tc_code rc = tc__onnx_model_new_from_bytes(&m, bytes, size, 1, &err);
        if (rc == TC_OK)
            rc = tc__onnx_model_run(m, &in, 1, &out, 1, &err);
        tc__alloc_fail_after(0);
        assert_true(rc == TC_OK || rc == TC_E_NOMEM || rc == TC_E_INVALID_ARG);
        tc__onnx_model_free(m);
    }
    tc__free(bytes);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_unsupported_operator), cmocka_unit_test(test_external_data),
    cmocka_unit_test(test_corrupt_and_truncated), cmocka_unit_test(test_run_mismatch),
    cmocka_unit_test(test_alloc_failures),
};

TC_TEST_MAIN(tests)
