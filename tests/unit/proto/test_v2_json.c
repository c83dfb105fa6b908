/* Unit tests for the v2 JSON infer codec (src/proto/v2_json_request.c,
 * v2_json_response.c, v2_json_read.c, v2_json_write.c): golden replay of
 * what the upstream Python client sends, strict request validation, and
 * encode/decode round trips for every datatype. */
#include "tc_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "proto/bytes.h"
#include "proto/v2_json.h"

/* ---- helpers ------------------------------------------------------------------ */

typedef struct file_buf {
    uint8_t *data;
    size_t len;
} file_buf;

static file_buf read_file(const char *dir, const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    file_buf fb = {NULL, 0};
    tc__buf b = TC__BUF_INIT;
    uint8_t chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        assert_int_equal(tc__buf_append(&b, chunk, n), TC_OK);
    fclose(f);
    fb.data = tc__buf_steal(&b, &fb.len);
    return fb;
}

static file_buf golden(const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "golden/http/%s", rel);
    return read_file(TC_TEST_DATA_DIR, path);
}

/* json_header_length from a golden NNNN.request.json, or TC__NO_HEADER_LENGTH. */
static size_t golden_header_len(const char *rel)
{
    file_buf fb = golden(rel);
    const char *key = "\"json_header_length\": ";
    const char *p = strstr((const char *)fb.data, key);
    size_t len = TC__NO_HEADER_LENGTH;
    if (p != NULL)
        len = (size_t)strtoull(p + strlen(key), NULL, 10);
    tc__free(fb.data);
    return len;
}

static int32_t le_i32(const uint8_t *p)
{
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24);
}

/* Decode `text` as a whole-JSON request, expecting failure with `want` in
 * the message. */
static void expect_reject(const char *text, const char *want)
{
    tc__infer_request req;
    tc__error err;
    tc__error_clear(&err);
    tc_code rc = tc__v2_http_request_decode((const uint8_t *)text, strlen(text),
                                            TC__NO_HEADER_LENGTH, NULL, &req, &err);
    if (rc != TC_E_INVALID_ARG || strstr(err.msg, want) == NULL)
        fail_msg("body %s\n  rc %d msg '%s'\n  want '%s'", text, rc, err.msg, want);
    assert_null(req.inputs);
}

static void decode_ok(const char *text, tc__infer_request *req)
{
    tc__error err;
    tc__error_clear(&err);
    tc_code rc = tc__v2_http_request_decode((const uint8_t *)text, strlen(text),
                                            TC__NO_HEADER_LENGTH, NULL, req, &err);
    if (rc != TC_OK)
        fail_msg("body %s\n  rc %d msg '%s'", text, rc, err.msg);
}

/* ---- golden replay: decode ------------------------------------------------------ */

static void golden_simple_0001_decodes(void **state)
{
    (void)state;
    file_buf body = golden("simple_http_infer_client/0001.request.body.bin");
    size_t hlen = golden_header_len("simple_http_infer_client/0001.request.json");
    assert_int_equal(hlen, 319);
    assert_int_equal(body.len, 383);
    tc__infer_request req;
    tc__error err;
    assert_int_equal(tc__v2_http_request_decode(body.data, body.len, hlen, NULL, &req, &err),
                     TC_OK);
    assert_null(req.id);
    assert_null(req.model_name);
    assert_int_equal(req.input_count, 2);
    tc__tensor *in0 = &req.inputs[0];
    assert_string_equal(in0->name, "INPUT0");
    assert_int_equal(in0->dtype, TC_DTYPE_INT32);
    assert_int_equal(in0->ndim, 2);
    assert_int_equal(in0->shape[0], 1);
    assert_int_equal(in0->shape[1], 16);
    assert_false(in0->binary);
    assert_int_equal(in0->byte_size, 64);
    assert_ptr_equal(in0->data, in0->owned);
    for (int i = 0; i < 16; i++)
        assert_int_equal(le_i32(in0->data + 4 * i), i);
    tc__tensor *in1 = &req.inputs[1];
    assert_string_equal(in1->name, "INPUT1");
    assert_true(in1->binary);
    assert_null(in1->owned);
    assert_ptr_equal(in1->data, body.data + 319);
    assert_int_equal(in1->byte_size, 64);
    for (int i = 0; i < 16; i++)
        assert_int_equal(le_i32(in1->data + 4 * i), -1);
    assert_int_equal(req.output_count, 2);
    assert_string_equal(req.outputs[0].name, "OUTPUT0");
    assert_int_equal(req.outputs[0].binary, 1);
    assert_string_equal(req.outputs[1].name, "OUTPUT1");
    assert_int_equal(req.outputs[1].binary, 0);
    assert_int_equal(req.outputs[0].class_count, 0);
    assert_null(req.outputs[0].shm.region);
    assert_int_equal(req.binary_data_output, -1);
    assert_int_equal(req.params.count, 0);
    assert_int_equal(req.sequence_id, 0);
    tc__infer_request_cleanup(&req);
    tc__free(body.data);
}

/* ---- response encode ------------------------------------------------------------ */

static void response_encode_binary_and_json(void **state)
{
    (void)state;
    int64_t shape[2] = {1, 2};
    uint8_t i32[8] = {0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0};
    float f[2] = {3.3f, 1.0f};
    uint8_t f32[8];
    memcpy(f32, f, sizeof f32);
    tc__tensor outs[3] = {
        {.name = "OUTPUT0", .dtype = TC_DTYPE_INT32, .shape = shape, .ndim = 2, .data = i32,
         .byte_size = 8, .binary = true},
        {.name = "OUTPUT1", .dtype = TC_DTYPE_FP32, .shape = shape, .ndim = 2, .data = f32,
         .byte_size = 8},
        {.name = "OUTPUT2", .dtype = TC_DTYPE_INT32, .shape = shape, .ndim = 2,
         .shm = {.region = "out", .byte_size = 8}},
    };
    tc__infer_response resp = {.model_name = "simple", .model_version = "1", .outputs = outs,
                               .output_count = 3};
    tc__buf b = TC__BUF_INIT;
    tc__error err;
    assert_int_equal(tc__v2_http_response_encode(&resp, &b, &err), TC_OK);
    assert_string_equal((char *)b.data,
                        "{\"model_name\":\"simple\",\"model_version\":\"1\",\"outputs\":["
                        "{\"name\":\"OUTPUT0\",\"datatype\":\"INT32\",\"shape\":[1,2],"
                        "\"parameters\":{\"binary_data_size\":8}},"
                        "{\"name\":\"OUTPUT1\",\"datatype\":\"FP32\",\"shape\":[1,2],"
                        "\"data\":[3.299999952316284,1.0]},"
                        "{\"name\":\"OUTPUT2\",\"datatype\":\"INT32\",\"shape\":[1,2]}]}");
    tc__buf_cleanup(&b);
}

/* ---- strict request validation ------------------------------------------------- */

#define IN_OK "{\"name\":\"X\",\"datatype\":\"INT32\",\"shape\":[2],\"data\":[1,2]}"

static void request_rejects_missing_inputs(void **state)
{
    (void)state;
    expect_reject("{}", "Unable to parse 'inputs'");
    expect_reject("{\"inputs\":{}}", "Unable to parse 'inputs'");
    expect_reject("[]", "failed to parse the request JSON buffer");
    expect_reject("{\"inputs\":[", "failed to parse the request JSON buffer");
    expect_reject("{\"inputs\":[]} x", "failed to parse the request JSON buffer");
}

static void request_decodes_minimal(void **state)
{
    (void)state;
    tc__infer_request req;
    decode_ok("{\"inputs\":[" IN_OK "]}", &req);
    assert_int_equal(req.input_count, 1);
    assert_int_equal(req.inputs[0].byte_size, 8);
    assert_int_equal(le_i32(req.inputs[0].data + 4), 2);
    assert_int_equal(req.output_count, 0);
    tc__infer_request_cleanup(&req);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(golden_simple_0001_decodes),
    cmocka_unit_test(response_encode_binary_and_json),
    cmocka_unit_test(request_rejects_missing_inputs),
    cmocka_unit_test(request_decodes_minimal),
};

TC_TEST_MAIN(tests)
