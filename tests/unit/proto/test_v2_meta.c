/* Unit tests for src/proto/v2_json_meta.c and the params/cleanup helpers of
 * v2_types.c: server metadata, model metadata, repository index. */
#include "tc_test.h"

#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "proto/v2_json.h"

static tc__buf read_golden(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/golden/http/%s", TC_TEST_DATA_DIR, rel);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    tc__buf b = TC__BUF_INIT;
    uint8_t chunk[1024];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        assert_int_equal(tc__buf_append(&b, chunk, n), TC_OK);
    fclose(f);
    return b;
}

static void server_metadata_round_trip(void **state)
{
    (void)state;
    char *ext[2] = {"classification", "binary_tensor_data"};
    tc__server_metadata m = {.name = "triton", .version = "2.73.0dev", .extensions = ext,
                             .extension_count = 2};
    tc__buf b = TC__BUF_INIT;
    assert_int_equal(tc__v2_server_metadata_encode(&m, &b), TC_OK);
    assert_string_equal((char *)b.data, "{\"name\":\"triton\",\"version\":\"2.73.0dev\","
                                        "\"extensions\":[\"classification\","
                                        "\"binary_tensor_data\"]}");
    tc__server_metadata got;
    tc__error err;
    assert_int_equal(tc__v2_server_metadata_decode(b.data, b.len, &got, &err), TC_OK);
    assert_string_equal(got.name, "triton");
    assert_string_equal(got.version, "2.73.0dev");
    assert_int_equal(got.extension_count, 2);
    assert_string_equal(got.extensions[1], "binary_tensor_data");
    tc__server_metadata_cleanup(&got);
    assert_null(got.name);
    tc__buf_cleanup(&b);
}

static void server_metadata_golden_mock(void **state)
{
    (void)state;
    tc__buf b = read_golden("simple_http_health_metadata/0004.response.mock.body.bin");
    tc__server_metadata m;
    tc__error err;
    assert_int_equal(tc__v2_server_metadata_decode(b.data, b.len, &m, &err), TC_OK);
    assert_string_equal(m.name, "triton");
    assert_string_equal(m.version, "mock");
    assert_int_equal(m.extension_count, 5);
    assert_string_equal(m.extensions[0], "classification");
    assert_string_equal(m.extensions[4], "system_shared_memory");
    tc__server_metadata_cleanup(&m);
    tc__buf_cleanup(&b);
}

static void model_metadata_golden_mock(void **state)
{
    (void)state;
    tc__buf b = read_golden("simple_http_health_metadata/0005.response.mock.body.bin");
    tc__model_metadata m;
    tc__error err;
    assert_int_equal(tc__v2_model_metadata_decode(b.data, b.len, &m, &err), TC_OK);
    assert_string_equal(m.name, "simple");
    assert_int_equal(m.version_count, 1);
    assert_string_equal(m.versions[0], "1");
    assert_string_equal(m.platform, "mock");
    assert_int_equal(m.input_count, 2);
    assert_string_equal(m.inputs[1].name, "INPUT1");
    assert_int_equal(m.inputs[1].dtype, TC_DTYPE_INT32);
    assert_int_equal(m.inputs[1].ndim, 2);
    assert_int_equal(m.inputs[1].shape[1], 16);
    assert_int_equal(m.output_count, 2);
    assert_string_equal(m.outputs[0].name, "OUTPUT0");
    tc__model_metadata_cleanup(&m);
    tc__buf_cleanup(&b);
}

static void model_metadata_round_trip_variable_dims(void **state)
{
    (void)state;
    int64_t in_shape[3] = {-1, 3, -1};
    int64_t out_shape[1] = {-1};
    tc__tensor_meta in = {.name = "IN", .dtype = TC_DTYPE_BYTES, .shape = in_shape, .ndim = 3};
    tc__tensor_meta out = {.name = "OUT", .dtype = TC_DTYPE_FP16, .shape = out_shape, .ndim = 1};
    char *versions[2] = {"1", "3"};
    tc__model_metadata m = {.name = "m", .versions = versions, .version_count = 2,
                            .platform = "onnxruntime_onnx", .inputs = &in, .input_count = 1,
                            .outputs = &out, .output_count = 1};
    tc__buf b = TC__BUF_INIT;
    assert_int_equal(tc__v2_model_metadata_encode(&m, &b), TC_OK);
    assert_string_equal((char *)b.data,
                        "{\"name\":\"m\",\"versions\":[\"1\",\"3\"],\"platform\":"
                        "\"onnxruntime_onnx\",\"inputs\":[{\"name\":\"IN\",\"datatype\":\"BYTES\","
                        "\"shape\":[-1,3,-1]}],\"outputs\":[{\"name\":\"OUT\",\"datatype\":"
                        "\"FP16\",\"shape\":[-1]}]}");
    tc__model_metadata got;
    tc__error err;
    assert_int_equal(tc__v2_model_metadata_decode(b.data, b.len, &got, &err), TC_OK);
    assert_int_equal(got.inputs[0].shape[0], -1);
    assert_int_equal(got.inputs[0].shape[1], 3);
    assert_int_equal(got.outputs[0].dtype, TC_DTYPE_FP16);
    assert_string_equal(got.versions[1], "3");
    tc__model_metadata_cleanup(&got);
    /* An invalid datatype cannot be encoded; the buffer is left as it was. */
    in.dtype = TC_DTYPE_INVALID;
    tc__buf_reset(&b);
    assert_int_equal(tc__v2_model_metadata_encode(&m, &b), TC_E_INVALID_ARG);
    assert_int_equal(b.len, 0);
    tc__buf_cleanup(&b);
}

static void repo_index_round_trip(void **state)
{
    (void)state;
    tc__repo_entry e[3] = {
        {.name = "never_loaded"},
        {.name = "simple", .version = "1", .state = "READY", .reason = ""},
        {.name = "gone", .version = "2", .state = "UNAVAILABLE", .reason = "unloaded"},
    };
    tc__repo_index idx = {e, 3};
    tc__buf b = TC__BUF_INIT;
    assert_int_equal(tc__v2_repo_index_encode(&idx, &b), TC_OK);
    assert_string_equal((char *)b.data,
                        "[{\"name\":\"never_loaded\"},{\"name\":\"simple\",\"version\":\"1\","
                        "\"state\":\"READY\"},{\"name\":\"gone\",\"version\":\"2\",\"state\":"
                        "\"UNAVAILABLE\",\"reason\":\"unloaded\"}]");
    tc__repo_index got;
    tc__error err;
    assert_int_equal(tc__v2_repo_index_decode(b.data, b.len, &got, &err), TC_OK);
    assert_int_equal(got.count, 3);
    assert_null(got.entries[0].version);
    assert_null(got.entries[0].state);
    assert_string_equal(got.entries[1].state, "READY");
    assert_null(got.entries[1].reason);
    assert_string_equal(got.entries[2].reason, "unloaded");
    tc__repo_index_cleanup(&got);
    tc__buf_reset(&b);
    tc__repo_index empty = {NULL, 0};
    assert_int_equal(tc__v2_repo_index_encode(&empty, &b), TC_OK);
    assert_string_equal((char *)b.data, "[]");
    assert_int_equal(tc__v2_repo_index_decode(b.data, b.len, &got, &err), TC_OK);
    assert_int_equal(got.count, 0);
    tc__repo_index_cleanup(&got);
    tc__buf_cleanup(&b);
}

static void meta_decoders_reject_garbage(void **state)
{
    (void)state;
    tc__error err;
    tc__server_metadata sm;
    tc__model_metadata mm;
    tc__repo_index ri;
    const char *s1 = "{\"version\":\"1\"}";
    assert_int_equal(tc__v2_server_metadata_decode((const uint8_t *)s1, strlen(s1), &sm, &err),
                     TC_E_PROTOCOL);
    const char *s2 = "{\"name\":\"x\",\"extensions\":[1]}";
    assert_int_equal(tc__v2_server_metadata_decode((const uint8_t *)s2, strlen(s2), &sm, &err),
                     TC_E_PROTOCOL);
    assert_null(sm.extensions);
    const char *m1 = "{\"name\":\"m\",\"inputs\":[{\"name\":\"a\",\"datatype\":\"FP32\","
                     "\"shape\":[1.5]}]}";
    assert_int_equal(tc__v2_model_metadata_decode((const uint8_t *)m1, strlen(m1), &mm, &err),
                     TC_E_PROTOCOL);
    assert_null(mm.inputs);
    const char *m2 = "{\"name\":\"m\",\"inputs\":[{\"name\":\"a\",\"shape\":[1]}]}";
    assert_int_equal(tc__v2_model_metadata_decode((const uint8_t *)m2, strlen(m2), &mm, &err),
                     TC_E_PROTOCOL);
    const char *r1 = "{\"name\":\"m\"}";
    assert_int_equal(tc__v2_repo_index_decode((const uint8_t *)r1, strlen(r1), &ri, &err),
                     TC_E_PROTOCOL);
    const char *r2 = "[{\"name\":\"m\",\"state\":1}]";
    assert_int_equal(tc__v2_repo_index_decode((const uint8_t *)r2, strlen(r2), &ri, &err),
                     TC_E_PROTOCOL);
    assert_null(ri.entries);
    assert_int_equal(tc__v2_repo_index_decode((const uint8_t *)"[", 1, &ri, &err),
                     TC_E_PROTOCOL);
}

static void params_helpers(void **state)
{
    (void)state;
    tc__params p = {NULL, 0};
    assert_int_equal(tc__params_add_bool(&p, "b", true), TC_OK);
    assert_int_equal(tc__params_add_int64(&p, "i", INT64_MIN), TC_OK);
    assert_int_equal(tc__params_add_uint64(&p, "u", UINT64_MAX), TC_OK);
    assert_int_equal(tc__params_add_double(&p, "d", 0.25), TC_OK);
    assert_int_equal(tc__params_add_string(&p, "s", "text"), TC_OK);
    assert_int_equal(tc__params_add_string(&p, "s", "later"), TC_OK);
    assert_int_equal(tc__params_add_string(&p, "x", NULL), TC_E_INVALID_ARG);
    assert_int_equal(p.count, 6);
    assert_true(tc__params_find(&p, "b")->v.b);
    assert_true(tc__params_find(&p, "i")->v.i64 == INT64_MIN);
    assert_true(tc__params_find(&p, "u")->v.u64 == UINT64_MAX);
    assert_true(tc__params_find(&p, "d")->v.d == 0.25);
    /* The last entry with a key wins, as with duplicate JSON keys. */
    assert_string_equal(tc__params_find(&p, "s")->v.s, "later");
    assert_null(tc__params_find(&p, "missing"));
    assert_null(tc__params_find(NULL, "b"));
    tc__alloc_fail_after(1);
    assert_int_equal(tc__params_add_string(&p, "y", "v"), TC_E_NOMEM);
    tc__alloc_fail_after(2);
    assert_int_equal(tc__params_add_string(&p, "y", "v"), TC_E_NOMEM);
    tc__alloc_fail_after(3);
    assert_int_equal(tc__params_add_string(&p, "y", "v"), TC_E_NOMEM);
    tc__alloc_fail_after(0);
    assert_int_equal(p.count, 6);
    tc__params_cleanup(&p);
    assert_null(p.items);
    assert_int_equal(p.count, 0);
    tc__params_cleanup(&p);
}

static void cleanup_functions_reset(void **state)
{
    (void)state;
    tc__infer_request req = {0};
    req.inputs = tc__calloc(1, sizeof *req.inputs);
    req.input_count = 1;
    req.inputs[0].name = tc__strdup("a");
    req.inputs[0].owned = tc__malloc(4);
    req.inputs[0].data = req.inputs[0].owned;
    req.inputs[0].shm.region = tc__strdup("r");
    req.sequence_id_str = tc__strdup("s");
    assert_int_equal(tc__params_add_bool(&req.params, "k", true), TC_OK);
    tc__infer_request_cleanup(&req);
    assert_null(req.inputs);
    assert_int_equal(req.input_count, 0);
    assert_int_equal(req.binary_data_output, -1);
    tc__infer_request_cleanup(&req);
    tc__infer_request_cleanup(NULL);
    tc__infer_response_cleanup(NULL);
    tc__tensor_cleanup(NULL);
    tc__requested_output_cleanup(NULL);
    tc__server_metadata_cleanup(NULL);
    tc__model_metadata_cleanup(NULL);
    tc__repo_index_cleanup(NULL);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(server_metadata_round_trip),
    cmocka_unit_test(server_metadata_golden_mock),
    cmocka_unit_test(model_metadata_golden_mock),
    cmocka_unit_test(model_metadata_round_trip_variable_dims),
    cmocka_unit_test(repo_index_round_trip),
    cmocka_unit_test(meta_decoders_reject_garbage),
    cmocka_unit_test(params_helpers),
    cmocka_unit_test(cleanup_functions_reset),
};

TC_TEST_MAIN(tests)
