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

static void golden_simple_0003_decodes(void **state)
{
    (void)state;
    file_buf body = golden("simple_http_infer_client/0003.request.body.bin");
    size_t hlen = golden_header_len("simple_http_infer_client/0003.request.json");
    assert_int_equal(hlen, 241);
    tc__infer_request req;
    tc__error err;
    assert_int_equal(tc__v2_http_request_decode(body.data, body.len, hlen, NULL, &req, &err),
                     TC_OK);
    assert_int_equal(req.input_count, 2);
    assert_int_equal(req.output_count, 0);
    assert_null(req.outputs == NULL ? NULL : req.outputs[0].name);
    assert_int_equal(req.binary_data_output, 1);
    assert_int_equal(req.params.count, 0);
    assert_true(req.inputs[1].binary);
    assert_ptr_equal(req.inputs[1].data, body.data + 241);
    assert_int_equal(le_i32(req.inputs[0].data + 60), 15);
    tc__infer_request_cleanup(&req);
    tc__free(body.data);
}

/* BYTES element i of a serialized buffer. */
static void assert_bytes_elem(const uint8_t *data, size_t size, size_t index, const void *want,
                              size_t want_len)
{
    size_t pos = 0;
    const uint8_t *elem = NULL;
    size_t len = 0;
    for (size_t i = 0; i <= index; i++)
        assert_int_equal(tc__bytes_next(data, size, &pos, &elem, &len), TC_OK);
    assert_int_equal(len, want_len);
    if (want_len > 0)
        assert_memory_equal(elem, want, want_len);
}

static void golden_string_0001_decodes(void **state)
{
    (void)state;
    file_buf body = golden("simple_http_string_infer_client/0001.request.body.bin");
    size_t hlen = golden_header_len("simple_http_string_infer_client/0001.request.json");
    assert_int_equal(hlen, 345);
    tc__infer_request req;
    tc__error err;
    assert_int_equal(tc__v2_http_request_decode(body.data, body.len, hlen, NULL, &req, &err),
                     TC_OK);
    assert_int_equal(req.input_count, 2);
    tc__tensor *in0 = &req.inputs[0];
    assert_int_equal(in0->dtype, TC_DTYPE_BYTES);
    assert_true(in0->binary);
    assert_int_equal(in0->byte_size, 86);
    size_t count = 0;
    assert_int_equal(tc__bytes_count(in0->data, in0->byte_size, &count), TC_OK);
    assert_int_equal(count, 16);
    assert_bytes_elem(in0->data, in0->byte_size, 0, "0", 1);
    assert_bytes_elem(in0->data, in0->byte_size, 15, "15", 2);
    tc__tensor *in1 = &req.inputs[1];
    assert_false(in1->binary);
    assert_int_equal(in1->byte_size, 16 * 5);
    for (size_t i = 0; i < 16; i++)
        assert_bytes_elem(in1->data, in1->byte_size, i, "1", 1);
    assert_int_equal(req.outputs[0].binary, 1);
    assert_int_equal(req.outputs[1].binary, 0);
    tc__infer_request_cleanup(&req);
    tc__free(body.data);
}

/* Runs 0002/0003 (and 0004/0005) send the same BYTES tensor as binary and
 * as JSON: both must decode to the same serialized bytes. */
static void check_string_pair(const char *bin_run, const char *json_run, const void *elem,
                              size_t elem_len)
{
    char rel[256];
    snprintf(rel, sizeof rel, "simple_http_string_infer_client/%s.request.body.bin", bin_run);
    file_buf bin = golden(rel);
    snprintf(rel, sizeof rel, "simple_http_string_infer_client/%s.request.json", bin_run);
    size_t hlen = golden_header_len(rel);
    snprintf(rel, sizeof rel, "simple_http_string_infer_client/%s.request.body.bin", json_run);
    file_buf js = golden(rel);
    tc__infer_request a;
    tc__infer_request b;
    tc__error err;
    assert_int_equal(tc__v2_http_request_decode(bin.data, bin.len, hlen, NULL, &a, &err), TC_OK);
    assert_int_equal(
        tc__v2_http_request_decode(js.data, js.len, TC__NO_HEADER_LENGTH, NULL, &b, &err), TC_OK);
    assert_true(a.inputs[0].binary);
    assert_false(b.inputs[0].binary);
    assert_int_equal(a.inputs[0].byte_size, 16 * (4 + elem_len));
    assert_int_equal(a.inputs[0].byte_size, b.inputs[0].byte_size);
    assert_memory_equal(a.inputs[0].data, b.inputs[0].data, a.inputs[0].byte_size);
    for (size_t i = 0; i < 16; i++)
        assert_bytes_elem(b.inputs[0].data, b.inputs[0].byte_size, i, elem, elem_len);
    assert_int_equal(a.outputs[0].binary, 1);
    assert_int_equal(b.outputs[0].binary, 0);
    tc__infer_request_cleanup(&a);
    tc__infer_request_cleanup(&b);
    tc__free(bin.data);
    tc__free(js.data);
}

static void golden_string_nul_decodes(void **state)
{
    (void)state;
    check_string_pair("0002", "0003", "he\0llo", 6);
    check_string_pair("0004", "0005", "\0\1\2\3", 4);
}

static void golden_shm_0005_decodes(void **state)
{
    (void)state;
    file_buf body = golden("simple_http_shm_client/0005.request.body.bin");
    tc__infer_request req;
    tc__error err;
    assert_int_equal(tc__v2_http_request_decode(body.data, body.len, TC__NO_HEADER_LENGTH, NULL,
                                                &req, &err),
                     TC_OK);
    assert_int_equal(req.input_count, 2);
    assert_string_equal(req.inputs[0].shm.region, "input_data");
    assert_int_equal(req.inputs[0].shm.byte_size, 64);
    assert_int_equal(req.inputs[0].shm.offset, 0);
    assert_int_equal(req.inputs[1].shm.offset, 64);
    assert_null(req.inputs[0].data);
    assert_false(req.inputs[0].binary);
    assert_string_equal(req.outputs[1].shm.region, "output_data");
    assert_int_equal(req.outputs[1].shm.byte_size, 64);
    assert_int_equal(req.outputs[1].shm.offset, 64);
    assert_int_equal(req.outputs[1].binary, 0);
    assert_int_equal(req.inputs[0].params.count, 0);
    tc__infer_request_cleanup(&req);
    tc__free(body.data);
}

/* image_client's header (golden/http/image_client/0003.request.body.txt),
 * with a zero-filled blob in place of the 602,112-byte image. */
static const char k_image_header[] =
    "{\"id\":\"1\",\"inputs\":[{\"name\":\"input\",\"shape\":[3,224,224],\"datatype\":\"FP32\","
    "\"parameters\":{\"binary_data_size\":602112}}],\"outputs\":[{\"name\":\"probabilities\","
    "\"parameters\":{\"classification\":3,\"binary_data\":true}}]}";

static void golden_image_header_decodes(void **state)
{
    (void)state;
    size_t hlen = sizeof k_image_header - 1;
    assert_int_equal(hlen, 207);
    size_t len = hlen + 602112;
    uint8_t *body = tc__calloc(len, 1);
    assert_non_null(body);
    memcpy(body, k_image_header, hlen);
    tc__infer_request req;
    tc__error err;
    assert_int_equal(tc__v2_http_request_decode(body, len, hlen, NULL, &req, &err), TC_OK);
    assert_string_equal(req.id, "1");
    assert_int_equal(req.inputs[0].ndim, 3);
    assert_int_equal(req.inputs[0].shape[2], 224);
    assert_int_equal(req.inputs[0].byte_size, 602112);
    assert_int_equal(req.outputs[0].class_count, 3);
    assert_int_equal(req.outputs[0].binary, 1);
    tc__infer_request_cleanup(&req);
    tc__free(body);
}

/* Optional: the real 602 KB image body from the shared spec directory. */
static void golden_image_body_from_shared(void **state)
{
    (void)state;
    FILE *f = fopen(TC_SHARED_DIR "/spec/golden/http/image_client/0003.request.body.bin", "rb");
    if (f == NULL) {
        skip();
        return;
    }
    fclose(f);
    file_buf body = read_file(TC_SHARED_DIR, "spec/golden/http/image_client/0003.request.body.bin");
    tc__infer_request req;
    tc__error err;
    assert_int_equal(tc__v2_http_request_decode(body.data, body.len, 207, NULL, &req, &err),
                     TC_OK);
    /* First pixel value is 187.0f per the golden description. */
    float first;
    memcpy(&first, req.inputs[0].data, sizeof first);
    assert_true(first == 187.0f);
    tc__infer_request_cleanup(&req);
    tc__free(body.data);
}

/* ---- golden replay: encode ------------------------------------------------------ */

/* Compare an encoded header with the first `hlen` bytes of a golden body. */
static void assert_header_equals_golden(const tc__infer_request *req, const char *rel,
                                        size_t hlen)
{
    file_buf body = golden(rel);
    if (hlen == TC__NO_HEADER_LENGTH)
        hlen = body.len;
    tc__buf b = TC__BUF_INIT;
    tc__error err;
    tc__error_clear(&err);
    tc_code rc = tc__v2_http_request_encode(req, &b, &err);
    if (rc != TC_OK)
        fail_msg("encode failed: %s", err.msg);
    if (b.len != hlen || memcmp(b.data, body.data, hlen) != 0)
        fail_msg("encoded:\n%s\ngolden:\n%.*s", (char *)b.data, (int)hlen, (char *)body.data);
    tc__buf_cleanup(&b);
    tc__free(body.data);
}

static int64_t k_shape_1x16[2] = {1, 16};

static void fill_i32(uint8_t *out, int32_t first, int32_t step)
{
    for (int i = 0; i < 16; i++) {
        uint32_t v = (uint32_t)(first + step * i);
        out[4 * i] = (uint8_t)v;
        out[4 * i + 1] = (uint8_t)(v >> 8);
        out[4 * i + 2] = (uint8_t)(v >> 16);
        out[4 * i + 3] = (uint8_t)(v >> 24);
    }
}

static void golden_simple_encodes(void **state)
{
    (void)state;
    uint8_t in0[64];
    uint8_t in1[64];
    fill_i32(in0, 0, 1);
    fill_i32(in1, -1, 0);
    tc__tensor inputs[2] = {
        {.name = "INPUT0", .dtype = TC_DTYPE_INT32, .shape = k_shape_1x16, .ndim = 2,
         .data = in0, .byte_size = 64},
        {.name = "INPUT1", .dtype = TC_DTYPE_INT32, .shape = k_shape_1x16, .ndim = 2,
         .data = in1, .byte_size = 64, .binary = true},
    };
    tc__requested_output outputs[2] = {{.name = "OUTPUT0", .binary = 1},
                                       {.name = "OUTPUT1", .binary = 0}};
    tc__infer_request req = {.inputs = inputs, .input_count = 2, .outputs = outputs,
                             .output_count = 2, .binary_data_output = -1};
    assert_header_equals_golden(&req, "simple_http_infer_client/0001.request.body.bin", 319);
    req.outputs = NULL;
    req.output_count = 0;
    req.binary_data_output = 1;
    assert_header_equals_golden(&req, "simple_http_infer_client/0003.request.body.bin", 241);
}

static void golden_string_encodes(void **state)
{
    (void)state;
    tc__buf bin = TC__BUF_INIT;
    tc__buf ones = TC__BUF_INIT;
    for (int i = 0; i < 16; i++) {
        char num[4];
        int n = snprintf(num, sizeof num, "%d", i);
        assert_int_equal(tc__bytes_append(&bin, num, (size_t)n), TC_OK);
        assert_int_equal(tc__bytes_append(&ones, "1", 1), TC_OK);
    }
    tc__tensor inputs[2] = {
        {.name = "INPUT0", .dtype = TC_DTYPE_BYTES, .shape = k_shape_1x16, .ndim = 2,
         .data = bin.data, .byte_size = bin.len, .binary = true},
        {.name = "INPUT1", .dtype = TC_DTYPE_BYTES, .shape = k_shape_1x16, .ndim = 2,
         .data = ones.data, .byte_size = ones.len},
    };
    tc__requested_output outputs[2] = {{.name = "OUTPUT0", .binary = 1},
                                       {.name = "OUTPUT1", .binary = 0}};
    tc__infer_request req = {.inputs = inputs, .input_count = 2, .outputs = outputs,
                             .output_count = 2, .binary_data_output = -1};
    assert_header_equals_golden(&req, "simple_http_string_infer_client/0001.request.body.bin",
                                345);
    /* 0002-0005: one input, "he\0llo" then 00 01 02 03, binary then JSON. */
    const struct {
        const char *elem;
        size_t len;
        const char *bin_run;
        const char *json_run;
    } pairs[] = {{"he\0llo", 6, "0002", "0003"}, {"\0\1\2\3", 4, "0004", "0005"}};
    for (size_t p = 0; p < 2; p++) {
        tc__buf data = TC__BUF_INIT;
        for (int i = 0; i < 16; i++)
            assert_int_equal(tc__bytes_append(&data, pairs[p].elem, pairs[p].len), TC_OK);
        tc__tensor in = {.name = "INPUT0", .dtype = TC_DTYPE_BYTES, .shape = k_shape_1x16,
                         .ndim = 2, .data = data.data, .byte_size = data.len, .binary = true};
        tc__requested_output out = {.name = "OUTPUT0", .binary = 1};
        tc__infer_request one = {.inputs = &in, .input_count = 1, .outputs = &out,
                                 .output_count = 1, .binary_data_output = -1};
        char rel[256];
        snprintf(rel, sizeof rel, "simple_http_string_infer_client/%s.request.body.bin",
                 pairs[p].bin_run);
        assert_header_equals_golden(&one, rel, 167);
        in.binary = false;
        out.binary = 0;
        snprintf(rel, sizeof rel, "simple_http_string_infer_client/%s.request.body.bin",
                 pairs[p].json_run);
        assert_header_equals_golden(&one, rel, TC__NO_HEADER_LENGTH);
        tc__buf_cleanup(&data);
    }
    tc__buf_cleanup(&bin);
    tc__buf_cleanup(&ones);
}

static void golden_shm_encodes(void **state)
{
    (void)state;
    tc__tensor inputs[2] = {
        {.name = "INPUT0", .dtype = TC_DTYPE_INT32, .shape = k_shape_1x16, .ndim = 2,
         .shm = {.region = "input_data", .byte_size = 64}},
        {.name = "INPUT1", .dtype = TC_DTYPE_INT32, .shape = k_shape_1x16, .ndim = 2,
         .shm = {.region = "input_data", .byte_size = 64, .offset = 64}},
    };
    tc__requested_output outputs[2] = {
        {.name = "OUTPUT0", .binary = 1, .shm = {.region = "output_data", .byte_size = 64}},
        {.name = "OUTPUT1", .binary = 0,
         .shm = {.region = "output_data", .byte_size = 64, .offset = 64}},
    };
    tc__infer_request req = {.inputs = inputs, .input_count = 2, .outputs = outputs,
                             .output_count = 2, .binary_data_output = -1};
    assert_header_equals_golden(&req, "simple_http_shm_client/0005.request.body.bin",
                                TC__NO_HEADER_LENGTH);
}

static void golden_image_encodes(void **state)
{
    (void)state;
    int64_t shape[3] = {3, 224, 224};
    tc__tensor in = {.name = "input", .dtype = TC_DTYPE_FP32, .shape = shape, .ndim = 3,
                     .byte_size = 602112, .binary = true};
    tc__requested_output out = {.name = "probabilities", .binary = 1, .class_count = 3};
    tc__infer_request req = {.id = "1", .inputs = &in, .input_count = 1, .outputs = &out,
                             .output_count = 1, .binary_data_output = -1};
    tc__buf b = TC__BUF_INIT;
    tc__error err;
    assert_int_equal(tc__v2_http_request_encode(&req, &b, &err), TC_OK);
    assert_string_equal((char *)b.data, k_image_header);
    tc__buf_cleanup(&b);
}

#define REQ1(input) "{\"inputs\":[" input "]}"
#define INPUT(dt, shape, rest) "{\"name\":\"X\",\"datatype\":\"" dt "\",\"shape\":" shape rest "}"

static void request_rejects_bad_input_fields(void **state)
{
    (void)state;
    expect_reject(REQ1("{\"datatype\":\"INT32\",\"shape\":[1],\"data\":[1]}"),
                  "Unable to parse 'name'");
    expect_reject(REQ1("{\"name\":5,\"datatype\":\"INT32\",\"shape\":[1],\"data\":[1]}"),
                  "Unable to parse 'name'");
    expect_reject(REQ1("{\"name\":\"X\",\"shape\":[1],\"data\":[1]}"),
                  "Unable to parse 'datatype'");
    expect_reject(REQ1(INPUT("FLOAT", "[1]", ",\"data\":[1]")),
                  "invalid datatype 'FLOAT' for input 'X'");
    expect_reject(REQ1(INPUT("INT32", "[-1]", ",\"data\":[1]")), "Unable to parse 'shape'");
    expect_reject(REQ1(INPUT("INT32", "[1.0]", ",\"data\":[1]")), "Unable to parse 'shape'");
    expect_reject(REQ1(INPUT("INT32", "1", ",\"data\":[1]")), "Unable to parse 'shape'");
    expect_reject(REQ1("{\"name\":\"X\",\"datatype\":\"INT32\",\"data\":[1]}"),
                  "Unable to parse 'shape'");
    expect_reject("{\"id\":1,\"inputs\":[" IN_OK "]}", "Unable to parse 'id'");
    expect_reject(REQ1("5"), "Unable to parse 'inputs'");
}

static void request_rejects_data_kind_conflicts(void **state)
{
    (void)state;
    const char *want = "Input must set only one of the following fields: 'data', "
                       "'binary_data_size' in 'parameters', 'shared_memory_region' in "
                       "'parameters'. But";
    expect_reject(REQ1(INPUT("INT32", "[1]", "")), want);
    expect_reject(
        REQ1(INPUT("INT32", "[1]", ",\"data\":[1],\"parameters\":{\"binary_data_size\":4}")),
        want);
    expect_reject(REQ1(INPUT("INT32", "[1]",
                             ",\"data\":[1],\"parameters\":{\"shared_memory_region\":\"r\","
                             "\"shared_memory_byte_size\":4}")),
                  want);
    expect_reject(REQ1(INPUT("INT32", "[1]",
                             ",\"parameters\":{\"binary_data_size\":0,"
                             "\"shared_memory_region\":\"r\"}")),
                  want);
    expect_reject(REQ1(INPUT("INT32", "[1]", ",\"parameters\":{\"binary_data_size\":-4}")),
                  "Unable to parse 'binary_data_size'");
    expect_reject(REQ1(INPUT("INT32", "[1]", ",\"parameters\":{\"binary_data_size\":\"4\"}")),
                  "Unable to parse 'binary_data_size'");
    expect_reject(REQ1(INPUT("INT32", "[1]",
                             ",\"parameters\":{\"shared_memory_region\":1}")),
                  "Unable to parse 'shared_memory_region'");
    expect_reject(REQ1(INPUT("INT32", "[1]", ",\"data\":[1],\"parameters\":{\"p\":[1]}")),
                  "parameter 'p' of input 'X' should be either");
}

static void request_accepts_empty_tensor_without_data(void **state)
{
    (void)state;
    tc__infer_request req;
    decode_ok(REQ1(INPUT("FP32", "[0,3]", "")), &req);
    assert_int_equal(req.inputs[0].byte_size, 0);
    assert_false(req.inputs[0].binary);
    tc__infer_request_cleanup(&req);
}

static void request_rejects_bad_data_values(void **state)
{
    (void)state;
    expect_reject(REQ1(INPUT("INT32", "[3]", ",\"data\":[1,2]")),
                  "Unable to parse 'data': Shape does not match true shape of 'data' field");
    expect_reject(REQ1(INPUT("INT32", "[1]", ",\"data\":[1,2]")),
                  "Shape does not match true shape");
    expect_reject(REQ1(INPUT("INT32", "[1]", ",\"data\":1")), "Unable to parse 'data'");
    expect_reject(REQ1(INPUT("BOOL", "[2]", ",\"data\":[true,1]")), "expected true or false");
    expect_reject(REQ1(INPUT("UINT8", "[1]", ",\"data\":[-1]")), "unsigned integer in range");
    expect_reject(REQ1(INPUT("UINT8", "[1]", ",\"data\":[256]")), "unsigned integer in range");
    expect_reject(REQ1(INPUT("UINT16", "[1]", ",\"data\":[65536]")), "unsigned integer");
    expect_reject(REQ1(INPUT("UINT32", "[1]", ",\"data\":[4294967296]")), "unsigned integer");
    expect_reject(REQ1(INPUT("UINT64", "[1]", ",\"data\":[1.0]")), "unsigned integer");
    expect_reject(REQ1(INPUT("INT8", "[1]", ",\"data\":[-129]")), "integer in range");
    expect_reject(REQ1(INPUT("INT8", "[1]", ",\"data\":[128]")), "integer in range");
    expect_reject(REQ1(INPUT("INT16", "[1]", ",\"data\":[32768]")), "integer in range");
    expect_reject(REQ1(INPUT("INT32", "[1]", ",\"data\":[2147483648]")), "integer in range");
    expect_reject(REQ1(INPUT("INT32", "[1]", ",\"data\":[1.5]")), "integer in range");
    expect_reject(REQ1(INPUT("INT64", "[1]", ",\"data\":[9223372036854775808]")),
                  "integer in range");
    expect_reject(REQ1(INPUT("INT32", "[1]", ",\"data\":[\"1\"]")), "integer in range");
    expect_reject(REQ1(INPUT("FP32", "[1]", ",\"data\":[\"1\"]")), "expected a number");
    expect_reject(REQ1(INPUT("FP64", "[1]", ",\"data\":[true]")), "expected a number");
    expect_reject(REQ1(INPUT("BYTES", "[1]", ",\"data\":[1]")), "expected a string");
    expect_reject(REQ1(INPUT("FP16", "[1]", ",\"data\":[1.0]")),
                  "receiving FP16 data via JSON is not supported");
    expect_reject(REQ1(INPUT("BF16", "[1]", ",\"data\":[1.0]")),
                  "receiving BF16 data via JSON is not supported");
    /* json-c clamps out-of-range literals; the codec must not. */
    expect_reject(REQ1(INPUT("UINT64", "[1]", ",\"data\":[18446744073709551616]")),
                  "integer out of range");
    expect_reject(REQ1(INPUT("INT64", "[1]", ",\"data\":[-9223372036854775809]")),
                  "integer out of range");
}

/* `levels` nested arrays around one element. */
static char *nested_request(size_t levels)
{
    tc__buf b = TC__BUF_INIT;
    assert_int_equal(tc__buf_append_str(&b, "{\"inputs\":[{\"name\":\"X\",\"datatype\":\"INT32\","
                                            "\"shape\":[1],\"data\":"),
                     TC_OK);
    for (size_t i = 0; i < levels; i++)
        assert_int_equal(tc__buf_append(&b, "[", 1), TC_OK);
    assert_int_equal(tc__buf_append(&b, "7", 1), TC_OK);
    for (size_t i = 0; i < levels; i++)
        assert_int_equal(tc__buf_append(&b, "]", 1), TC_OK);
    assert_int_equal(tc__buf_append_str(&b, "}]}"), TC_OK);
    return (char *)tc__buf_steal(&b, NULL);
}

static void request_nesting_limit(void **state)
{
    (void)state;
    char *ok = nested_request(100);
    tc__infer_request req;
    decode_ok(ok, &req);
    assert_int_equal(le_i32(req.inputs[0].data), 7);
    tc__infer_request_cleanup(&req);
    tc__free(ok);
    char *deep = nested_request(101);
    tc__error err;
    assert_int_equal(tc__v2_http_request_decode((const uint8_t *)deep, strlen(deep),
                                                TC__NO_HEADER_LENGTH, NULL, &req, &err),
                     TC_E_INVALID_ARG);
    tc__free(deep);
    /* A smaller configured limit applies too. */
    char *five = nested_request(5);
    tc__json_limits lim = {.max_depth = 4};
    assert_int_equal(tc__v2_http_request_decode((const uint8_t *)five, strlen(five),
                                                TC__NO_HEADER_LENGTH, &lim, &req, &err),
                     TC_E_INVALID_ARG);
    tc__free(five);
}

static void request_nested_data_flattens(void **state)
{
    (void)state;
    tc__infer_request req;
    decode_ok(REQ1(INPUT("INT16", "[2,3]", ",\"data\":[[1,2,3],[-4,5,6]]")), &req);
    const uint8_t want[12] = {1, 0, 2, 0, 3, 0, 0xfc, 0xff, 5, 0, 6, 0};
    assert_int_equal(req.inputs[0].byte_size, 12);
    assert_memory_equal(req.inputs[0].data, want, 12);
    tc__infer_request_cleanup(&req);
}

static void request_max_input_size(void **state)
{
    (void)state;
    const char *text = REQ1(INPUT("INT64", "[1000000]", ",\"data\":[1]"));
    tc__json_limits lim = {.max_input_size = 1024};
    tc__infer_request req;
    tc__error err;
    assert_int_equal(tc__v2_http_request_decode((const uint8_t *)text, strlen(text),
                                                TC__NO_HEADER_LENGTH, &lim, &req, &err),
                     TC_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "Use --http-max-input-size to increase the limit."));
}

static void request_binary_size_checks(void **state)
{
    (void)state;
    const char json[] = REQ1(INPUT("INT32", "[2]", ",\"parameters\":{\"binary_data_size\":8}"));
    size_t hlen = sizeof json - 1;
    uint8_t body[sizeof json + 16];
    memcpy(body, json, hlen);
    memset(body + hlen, 0x11, 16);
    tc__infer_request req;
    tc__error err;
    /* Exact size works. */
    assert_int_equal(tc__v2_http_request_decode(body, hlen + 8, hlen, NULL, &req, &err), TC_OK);
    assert_ptr_equal(req.inputs[0].data, body + hlen);
    tc__infer_request_cleanup(&req);
    /* Too few bytes. */
    assert_int_equal(tc__v2_http_request_decode(body, hlen + 5, hlen, NULL, &req, &err),
                     TC_E_INVALID_ARG);
    assert_string_equal(err.msg, "unexpected size for input 'X', expecting 3 additional bytes");
    tc__json_limits lim = {.model_name = "simple"};
    assert_int_equal(tc__v2_http_request_decode(body, hlen + 5, hlen, &lim, &req, &err),
                     TC_E_INVALID_ARG);
    assert_string_equal(err.msg, "unexpected size for input 'X', expecting 3 additional bytes "
                                 "for model 'simple'");
    /* Leftover bytes. */
    assert_int_equal(tc__v2_http_request_decode(body, hlen + 9, hlen, &lim, &req, &err),
                     TC_E_INVALID_ARG);
    assert_string_equal(err.msg, "unexpected additional input data for model 'simple'");
    assert_int_equal(tc__v2_http_request_decode(body, hlen + 9, hlen, NULL, &req, &err),
                     TC_E_INVALID_ARG);
    assert_string_equal(err.msg, "unexpected additional input data");
    /* Header longer than the body. */
    assert_int_equal(tc__v2_http_request_decode(body, hlen, hlen + 1, NULL, &req, &err),
                     TC_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "inference header size should be in range"));
    /* Without a header length the whole body must be JSON. */
    assert_int_equal(tc__v2_http_request_decode(body, hlen + 8, TC__NO_HEADER_LENGTH, NULL, &req,
                                                &err),
                     TC_E_INVALID_ARG);
}

static void request_raw_binary_form(void **state)
{
    (void)state;
    const uint8_t body[6] = {1, 2, 3, 4, 5, 6};
    tc__infer_request req;
    tc__error err;
    assert_int_equal(tc__v2_http_request_decode(body, sizeof body, 0, NULL, &req, &err), TC_OK);
    assert_int_equal(req.input_count, 1);
    assert_string_equal(req.inputs[0].name, "raw_input");
    assert_int_equal(req.inputs[0].dtype, TC_DTYPE_INVALID);
    assert_true(req.inputs[0].binary);
    assert_ptr_equal(req.inputs[0].data, body);
    assert_int_equal(req.inputs[0].byte_size, 6);
    tc__infer_request_cleanup(&req);
}

#define REQP(params) "{\"inputs\":[" IN_OK "],\"parameters\":" params "}"

static void request_params_decode(void **state)
{
    (void)state;
    tc__infer_request req;
    decode_ok(REQP("{\"sequence_id\":18446744073709551615,\"sequence_start\":true,"
                   "\"sequence_end\":false,\"priority\":2,\"timeout\":1500,"
                   "\"binary_data_output\":false,\"s\":\"v\",\"i\":-3,\"u\":"
                   "18446744073709551615,\"b\":true,\"d\":0.5}"),
              &req);
    assert_true(req.sequence_id == UINT64_MAX);
    assert_null(req.sequence_id_str);
    assert_true(req.sequence_start);
    assert_false(req.sequence_end);
    assert_int_equal(req.priority, 2);
    assert_int_equal(req.timeout_us, 1500);
    assert_int_equal(req.binary_data_output, 0);
    assert_int_equal(req.params.count, 5);
    const tc__param *p = tc__params_find(&req.params, "s");
    assert_int_equal(p->type, TC__PARAM_STRING);
    assert_string_equal(p->v.s, "v");
    p = tc__params_find(&req.params, "i");
    assert_int_equal(p->type, TC__PARAM_INT64);
    assert_int_equal(p->v.i64, -3);
    p = tc__params_find(&req.params, "u");
    assert_int_equal(p->type, TC__PARAM_UINT64);
    assert_true(p->v.u64 == UINT64_MAX);
    p = tc__params_find(&req.params, "b");
    assert_int_equal(p->type, TC__PARAM_BOOL);
    assert_true(p->v.b);
    p = tc__params_find(&req.params, "d");
    assert_int_equal(p->type, TC__PARAM_DOUBLE);
    assert_true(p->v.d == 0.5);
    assert_null(tc__params_find(&req.params, "sequence_id"));
    tc__infer_request_cleanup(&req);
    decode_ok(REQP("{\"sequence_id\":\"corr-1\"}"), &req);
    assert_string_equal(req.sequence_id_str, "corr-1");
    assert_int_equal(req.sequence_id, 0);
    tc__infer_request_cleanup(&req);
}

static void request_params_reject(void **state)
{
    (void)state;
    expect_reject(REQP("{\"sequence_id\":-1}"), "Unable to parse 'sequence_id'");
    expect_reject(REQP("{\"sequence_id\":1.5}"), "Unable to parse 'sequence_id'");
    expect_reject(REQP("{\"sequence_id\":true}"), "Unable to parse 'sequence_id'");
    char long_id[200];
    memset(long_id, 'a', 129);
    long_id[129] = '\0';
    char text[512];
    snprintf(text, sizeof text, REQP("{\"sequence_id\":\"%s\"}"), long_id);
    expect_reject(text, "sequence_id string is longer than 128 characters");
    long_id[128] = '\0';
    snprintf(text, sizeof text, REQP("{\"sequence_id\":\"%s\"}"), long_id);
    tc__infer_request req;
    decode_ok(text, &req);
    assert_int_equal(strlen(req.sequence_id_str), 128);
    tc__infer_request_cleanup(&req);
    expect_reject(REQP("{\"sequence_start\":1}"), "Unable to parse 'sequence_start'");
    expect_reject(REQP("{\"sequence_end\":\"true\"}"), "Unable to parse 'sequence_end'");
    expect_reject(REQP("{\"priority\":-1}"), "Unable to parse 'priority'");
    expect_reject(REQP("{\"timeout\":\"5\"}"), "Unable to parse 'timeout'");
    expect_reject(REQP("{\"binary_data_output\":1}"), "Unable to parse 'binary_data_output'");
    expect_reject(REQP("{\"triton_x\":1}"),
                  "parameter keys starting with 'triton_' are reserved");
    expect_reject(REQP("{\"headers\":\"x\"}"), "'headers' is reserved");
    expect_reject(REQP("{\"c\":[1]}"), "parameter 'c' should be either 'int', 'bool', or "
                                       "'string'.");
    expect_reject(REQP("{\"c\":{}}"), "should be either 'int', 'bool', or 'string'.");
    expect_reject(REQP("{\"c\":null}"), "should be either 'int', 'bool', or 'string'.");
    expect_reject(REQP("[]"), "Unable to parse 'parameters'");
}

#define REQO(outputs) "{\"inputs\":[" IN_OK "],\"outputs\":" outputs "}"

static void request_outputs_decode(void **state)
{
    (void)state;
    tc__infer_request req;
    decode_ok(REQO("[{\"name\":\"A\"},{\"name\":\"B\",\"parameters\":{\"classification\":4,"
                   "\"binary_data\":true,\"x\":\"y\"}},{\"name\":\"C\",\"parameters\":{"
                   "\"binary_data\":false,\"shared_memory_region\":\"r\","
                   "\"shared_memory_byte_size\":64,\"shared_memory_offset\":8}}]"),
              &req);
    assert_int_equal(req.output_count, 3);
    assert_int_equal(req.outputs[0].binary, -1);
    assert_int_equal(req.outputs[1].class_count, 4);
    assert_int_equal(req.outputs[1].binary, 1);
    assert_string_equal(tc__params_find(&req.outputs[1].params, "x")->v.s, "y");
    assert_string_equal(req.outputs[2].shm.region, "r");
    assert_int_equal(req.outputs[2].shm.byte_size, 64);
    assert_int_equal(req.outputs[2].shm.offset, 8);
    assert_int_equal(req.outputs[2].binary, 0);
    tc__infer_request_cleanup(&req);
}

static void request_outputs_reject(void **state)
{
    (void)state;
    expect_reject(REQO("[{}]"), "Unable to parse 'name'");
    expect_reject(REQO("{}"), "Unable to parse 'outputs'");
    expect_reject(REQO("[{\"name\":\"A\",\"parameters\":{\"binary_data\":1}}]"),
                  "Unable to parse 'binary_data'");
    expect_reject(REQO("[{\"name\":\"A\",\"parameters\":{\"classification\":-1}}]"),
                  "Unable to parse 'classification'");
    expect_reject(REQO("[{\"name\":\"A\",\"parameters\":{\"classification\":1.5}}]"),
                  "Unable to parse 'classification'");
    expect_reject(REQO("[{\"name\":\"A\",\"parameters\":{\"binary_data\":true,"
                       "\"shared_memory_region\":\"r\",\"shared_memory_byte_size\":4}}]"),
                  "Output can't set both 'shared_memory_region' and 'binary_data'");
    expect_reject(REQO("[{\"name\":\"A\",\"parameters\":{\"classification\":2,"
                       "\"shared_memory_region\":\"r\",\"shared_memory_byte_size\":4}}]"),
                  "Output can't set both 'shared_memory_region' and 'classification'");
    expect_reject(REQO("[{\"name\":\"A\",\"parameters\":{\"shared_memory_byte_size\":-4}}]"),
                  "Unable to parse 'shared_memory_byte_size'");
}

/* ---- round trips ------------------------------------------------------------------ */

typedef struct rt_case {
    tc_dtype dtype;
    const void *data;
    size_t byte_size;
    bool json_ok; /* representable as JSON data */
} rt_case;

static const uint8_t k_bool[3] = {1, 0, 1};
static const uint8_t k_u8[3] = {0, 127, 255};
static const uint16_t k_u16[3] = {0, 1, UINT16_MAX};
static const uint32_t k_u32[3] = {0, 1, UINT32_MAX};
static const uint64_t k_u64[3] = {0, 1, UINT64_MAX};
static const int8_t k_i8[3] = {INT8_MIN, -1, INT8_MAX};
static const int16_t k_i16[3] = {INT16_MIN, 0, INT16_MAX};
static const int32_t k_i32[3] = {INT32_MIN, 42, INT32_MAX};
static const int64_t k_i64[3] = {INT64_MIN, -1, INT64_MAX};
static const uint16_t k_f16[3] = {0x3c00, 0x8000, 0x7c00};
static const float k_f32[6] = {3.3f, -0.0f, 1e-40f, 3.4028235e38f, 0.1f, 16777217.0f};
static const double k_f64[6] = {0.1, -0.0, 5e-324, 1.7976931348623157e308, 1e21, 123.456};
/* "he\0llo", "", "\xff\xfe" (not UTF-8), "\xc3\xa9" (U+00E9) */
static const uint8_t k_bytes_any[] = {6, 0, 0, 0, 'h', 'e', 0, 'l', 'l', 'o', 0, 0, 0, 0,
                                      2, 0, 0, 0, 0xff, 0xfe, 2, 0, 0, 0, 0xc3, 0xa9};
static const uint8_t k_bytes_utf8[] = {6, 0, 0, 0, 'h', 'e', 0, 'l', 'l', 'o', 0, 0, 0, 0,
                                       2, 0, 0, 0, 0xc3, 0xa9, 4, 0, 0, 0, 0xf0, 0x9f, 0x98, 0x80,
                                       3, 0, 0, 0, '"', '\\', '\n'};

#define RT(dt, arr, json) {dt, arr, sizeof arr, json}

static const rt_case k_rt_cases[] = {
    RT(TC_DTYPE_BOOL, k_bool, true),   RT(TC_DTYPE_UINT8, k_u8, true),
    RT(TC_DTYPE_UINT16, k_u16, true),  RT(TC_DTYPE_UINT32, k_u32, true),
    RT(TC_DTYPE_UINT64, k_u64, true),  RT(TC_DTYPE_INT8, k_i8, true),
    RT(TC_DTYPE_INT16, k_i16, true),   RT(TC_DTYPE_INT32, k_i32, true),
    RT(TC_DTYPE_INT64, k_i64, true),   RT(TC_DTYPE_FP16, k_f16, false),
    RT(TC_DTYPE_BF16, k_f16, false),   RT(TC_DTYPE_FP32, k_f32, true),
    RT(TC_DTYPE_FP64, k_f64, true),    RT(TC_DTYPE_BYTES, k_bytes_any, false),
    RT(TC_DTYPE_BYTES, k_bytes_utf8, true),
};

static int64_t rt_elements(const rt_case *c)
{
    if (c->dtype == TC_DTYPE_BYTES) {
        size_t n = 0;
        assert_int_equal(tc__bytes_count(c->data, c->byte_size, &n), TC_OK);
        return (int64_t)n;
    }
    return (int64_t)(c->byte_size / tc_dtype_size(c->dtype));
}

/* Encode one request with `c` as input, JSON or binary, decode it as the
 * server would, and compare the raw bytes. */
static void request_round_trip_one(const rt_case *c, bool binary)
{
    int64_t shape[1] = {rt_elements(c)};
    tc__tensor in = {.name = "IN", .dtype = c->dtype, .shape = shape, .ndim = 1,
                     .data = c->data, .byte_size = c->byte_size, .binary = binary};
    tc__infer_request req = {.inputs = &in, .input_count = 1, .binary_data_output = -1};
    tc__buf b = TC__BUF_INIT;
    tc__error err;
    tc_code rc = tc__v2_http_request_encode(&req, &b, &err);
    if (!binary && !c->json_ok) {
        assert_int_equal(rc, TC_E_INVALID_ARG);
        assert_int_equal(b.len, 0);
        tc__buf_cleanup(&b);
        return;
    }
    assert_int_equal(rc, TC_OK);
    size_t hlen = b.len;
    if (binary)
        assert_int_equal(tc__buf_append(&b, c->data, c->byte_size), TC_OK);
    tc__infer_request got;
    rc = tc__v2_http_request_decode(b.data, b.len, hlen, NULL, &got, &err);
    if (rc != TC_OK)
        fail_msg("%s %s: %s\n%s", tc_dtype_name(c->dtype), binary ? "binary" : "json", err.msg,
                 (char *)b.data);
    assert_int_equal(got.inputs[0].dtype, c->dtype);
    assert_int_equal(got.inputs[0].shape[0], shape[0]);
    assert_int_equal(got.inputs[0].binary, binary);
    assert_int_equal(got.inputs[0].byte_size, c->byte_size);
    if (memcmp(got.inputs[0].data, c->data, c->byte_size) != 0)
        fail_msg("%s %s: bytes differ\n%s", tc_dtype_name(c->dtype), binary ? "binary" : "json",
                 (char *)b.data);
    tc__infer_request_cleanup(&got);
    tc__buf_cleanup(&b);
}

static void request_round_trip_all_dtypes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof k_rt_cases / sizeof k_rt_cases[0]; i++) {
        request_round_trip_one(&k_rt_cases[i], false);
        request_round_trip_one(&k_rt_cases[i], true);
    }
}

/* Server encodes a response with `c` as output, client decodes it. */
static void response_round_trip_one(const rt_case *c, bool binary)
{
    int64_t shape[1] = {rt_elements(c)};
    tc__tensor out = {.name = "OUT", .dtype = c->dtype, .shape = shape, .ndim = 1,
                      .data = c->data, .byte_size = c->byte_size, .binary = binary};
    tc__infer_response resp = {.model_name = "m", .model_version = "3", .id = "r1",
                               .outputs = &out, .output_count = 1};
    tc__buf b = TC__BUF_INIT;
    tc__error err;
    tc_code rc = tc__v2_http_response_encode(&resp, &b, &err);
    bool fp16 = c->dtype == TC_DTYPE_FP16 || c->dtype == TC_DTYPE_BF16;
    if (!binary && fp16) {
        assert_int_equal(rc, TC_E_INVALID_ARG);
        assert_non_null(strstr(err.msg, "via JSON is not supported"));
        tc__buf_cleanup(&b);
        return;
    }
    assert_int_equal(rc, TC_OK);
    size_t hlen = b.len;
    if (binary)
        assert_int_equal(tc__buf_append(&b, c->data, c->byte_size), TC_OK);
    tc__infer_response got;
    rc = tc__v2_http_response_decode(b.data, b.len, hlen, &got, &err);
    if (rc != TC_OK)
        fail_msg("%s %s: %s\n%s", tc_dtype_name(c->dtype), binary ? "binary" : "json", err.msg,
                 (char *)b.data);
    assert_string_equal(got.model_name, "m");
    assert_string_equal(got.model_version, "3");
    assert_string_equal(got.id, "r1");
    assert_int_equal(got.output_count, 1);
    assert_int_equal(got.outputs[0].dtype, c->dtype);
    assert_int_equal(got.outputs[0].binary, binary);
    assert_int_equal(got.outputs[0].byte_size, c->byte_size);
    if (memcmp(got.outputs[0].data, c->data, c->byte_size) != 0)
        fail_msg("%s %s: bytes differ\n%s", tc_dtype_name(c->dtype), binary ? "binary" : "json",
                 (char *)b.data);
    tc__infer_response_cleanup(&got);
    tc__buf_cleanup(&b);
}

static void response_round_trip_all_dtypes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof k_rt_cases / sizeof k_rt_cases[0]; i++) {
        response_round_trip_one(&k_rt_cases[i], false);
        response_round_trip_one(&k_rt_cases[i], true);
    }
}

static void request_encode_escapes_ascii(void **state)
{
    (void)state;
    const uint8_t data[] = {8, 0, 0, 0, 0xc3, 0xa9, 0x1f, 'a', 0xf0, 0x9f, 0x98, 0x80};
    int64_t shape[1] = {1};
    tc__tensor in = {.name = "I\"n", .dtype = TC_DTYPE_BYTES, .shape = shape, .ndim = 1,
                     .data = data, .byte_size = sizeof data};
    tc__infer_request req = {.id = "caf\xc3\xa9", .inputs = &in, .input_count = 1,
                             .binary_data_output = -1};
    tc__buf b = TC__BUF_INIT;
    tc__error err;
    assert_int_equal(tc__v2_http_request_encode(&req, &b, &err), TC_OK);
    assert_string_equal((char *)b.data,
                        "{\"id\":\"caf\\u00E9\",\"inputs\":[{\"name\":\"I\\\"n\",\"shape\":[1],"
                        "\"datatype\":\"BYTES\",\"data\":[\"\\u00E9\\u001Fa\\uD83D\\uDE00\"]}]}");
    tc__buf_cleanup(&b);
}

static void request_encode_params_order(void **state)
{
    (void)state;
    int64_t shape[1] = {0};
    tc__tensor in = {.name = "X", .dtype = TC_DTYPE_FP32, .shape = shape, .ndim = 1};
    tc__param custom[2] = {{.key = "k", .type = TC__PARAM_STRING, .v.s = "v"},
                           {.key = "n", .type = TC__PARAM_INT64, .v.i64 = -2}};
    tc__infer_request req = {.inputs = &in, .input_count = 1, .sequence_id = 1000,
                             .sequence_start = true, .priority = 0, .timeout_us = 5,
                             .binary_data_output = -1, .params = {custom, 2}};
    tc__buf b = TC__BUF_INIT;
    tc__error err;
    assert_int_equal(tc__v2_http_request_encode(&req, &b, &err), TC_OK);
    assert_string_equal((char *)b.data,
                        "{\"inputs\":[{\"name\":\"X\",\"shape\":[0],\"datatype\":\"FP32\","
                        "\"data\":[]}],\"parameters\":{\"sequence_id\":1000,\"sequence_start\":true,"
                        "\"sequence_end\":false,\"timeout\":5,\"k\":\"v\",\"n\":-2}}");
    tc__buf_reset(&b);
    req.sequence_id = 0;
    req.sequence_id_str = "abc";
    req.timeout_us = 0;
    req.priority = 7;
    req.params.count = 0;
    assert_int_equal(tc__v2_http_request_encode(&req, &b, &err), TC_OK);
    assert_non_null(strstr((char *)b.data, "\"parameters\":{\"sequence_id\":\"abc\","
                                           "\"sequence_start\":true,\"sequence_end\":false,"
                                           "\"priority\":7}"));
    /* Reserved custom keys are refused and leave the buffer untouched. */
    tc__param bad = {.key = "triton_x", .type = TC__PARAM_BOOL, .v.b = true};
    req.params = (tc__params){&bad, 1};
    tc__buf_reset(&b);
    assert_int_equal(tc__v2_http_request_encode(&req, &b, &err), TC_E_INVALID_ARG);
    assert_int_equal(b.len, 0);
    tc__buf_cleanup(&b);
}

/* FP64 output values as the server prints them (rapidjson layout). */
static void response_double_format(void **state)
{
    (void)state;
    const double v[] = {1.0, 100.0, 1e30, 1.5e-7, 0.001234, 1.2345678901234568e20, 1e21,
                        -0.0, 0.1, 5e-324, 123.456, 1e-6, 1e20};
    const char *want = "[1.0,100.0,1e30,1.5e-7,0.001234,123456789012345680000.0,1e21,-0.0,"
                       "0.1,5e-324,123.456,0.000001,100000000000000000000.0]";
    int64_t shape[1] = {(int64_t)(sizeof v / sizeof v[0])};
    tc__tensor out = {.name = "O", .dtype = TC_DTYPE_FP64, .shape = shape, .ndim = 1,
                      .data = (const uint8_t *)v, .byte_size = sizeof v};
    tc__infer_response resp = {.model_name = "m", .model_version = "1", .outputs = &out,
                               .output_count = 1};
    tc__buf b = TC__BUF_INIT;
    tc__error err;
    assert_int_equal(tc__v2_http_response_encode(&resp, &b, &err), TC_OK);
    const char *data = strstr((char *)b.data, "\"data\":");
    assert_non_null(data);
    assert_memory_equal(data + 7, want, strlen(want));
    tc__buf_cleanup(&b);
}

static void response_encode_params_and_bytes(void **state)
{
    (void)state;
    const uint8_t bytes[] = {3, 0, 0, 0, 'a', '\t', 0xe9};
    int64_t shape[1] = {1};
    tc__tensor out = {.name = "S", .dtype = TC_DTYPE_BYTES, .shape = shape, .ndim = 1,
                      .data = bytes, .byte_size = sizeof bytes};
    tc__param params[3] = {{.key = "b", .type = TC__PARAM_BOOL, .v.b = false},
                           {.key = "u", .type = TC__PARAM_UINT64, .v.u64 = UINT64_MAX},
                           {.key = "d", .type = TC__PARAM_DOUBLE, .v.d = 2.5}};
    tc__infer_response resp = {.model_name = "m", .model_version = "1", .outputs = &out,
                               .output_count = 1, .params = {params, 3}};
    tc__buf b = TC__BUF_INIT;
    tc__error err;
    assert_int_equal(tc__v2_http_response_encode(&resp, &b, &err), TC_OK);
    /* Server output passes non-UTF-8 bytes through, as Triton does. */
    assert_string_equal((char *)b.data,
                        "{\"model_name\":\"m\",\"model_version\":\"1\",\"parameters\":{\"b\":false,"
                        "\"u\":18446744073709551615,\"d\":2.5},\"outputs\":[{\"name\":\"S\","
                        "\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"a\\t\xe9\"]}]}");
    tc__infer_response got;
    assert_int_equal(tc__v2_http_response_decode(b.data, b.len, TC__NO_HEADER_LENGTH, &got, &err),
                     TC_OK);
    assert_int_equal(got.params.count, 3);
    assert_true(tc__params_find(&got.params, "u")->v.u64 == UINT64_MAX);
    assert_memory_equal(got.outputs[0].data, bytes, sizeof bytes);
    tc__infer_response_cleanup(&got);
    /* A truncated BYTES buffer cannot be encoded. */
    out.byte_size = 5;
    tc__buf_reset(&b);
    assert_int_equal(tc__v2_http_response_encode(&resp, &b, &err), TC_E_INVALID_ARG);
    assert_int_equal(b.len, 0);
    tc__buf_cleanup(&b);
}

static void golden_mock_response_decodes(void **state)
{
    (void)state;
    file_buf body = golden("simple_http_infer_client/0001.response.mock.body.bin");
    tc__infer_response resp;
    tc__error err;
    assert_int_equal(tc__v2_http_response_decode(body.data, body.len, 284, &resp, &err), TC_OK);
    assert_null(resp.id);
    assert_string_equal(resp.model_name, "simple");
    assert_string_equal(resp.model_version, "1");
    assert_int_equal(resp.output_count, 2);
    assert_true(resp.outputs[0].binary);
    assert_ptr_equal(resp.outputs[0].data, body.data + 284);
    assert_int_equal(le_i32(resp.outputs[0].data), -1);
    assert_false(resp.outputs[1].binary);
    assert_int_equal(resp.outputs[1].byte_size, 64);
    assert_int_equal(le_i32(resp.outputs[1].data + 60), 16);
    tc__infer_response_cleanup(&resp);
    /* Truncated binary section. */
    assert_int_equal(tc__v2_http_response_decode(body.data, body.len - 1, 284, &resp, &err),
                     TC_E_PROTOCOL);
    assert_int_equal(tc__v2_http_response_decode(body.data, 100, 284, &resp, &err),
                     TC_E_PROTOCOL);
    tc__free(body.data);
}

static void response_decode_rejects_garbage(void **state)
{
    (void)state;
    const char *bad[] = {
        "", "[]", "{\"outputs\":{}}", "{\"outputs\":[{\"name\":\"a\"}]}",
        "{\"outputs\":[{\"name\":\"a\",\"datatype\":\"X\",\"shape\":[1]}]}",
        "{\"outputs\":[{\"name\":\"a\",\"datatype\":\"INT8\",\"shape\":[1],\"data\":[300]}]}",
        "{\"outputs\":[{\"name\":\"a\",\"datatype\":\"INT8\",\"shape\":[2],\"data\":[1]}]}",
        "{\"model_name\":5,\"outputs\":[]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tc__infer_response resp;
        tc__error err;
        tc_code rc = tc__v2_http_response_decode((const uint8_t *)bad[i], strlen(bad[i]),
                                                 TC__NO_HEADER_LENGTH, &resp, &err);
        if (rc != TC_E_PROTOCOL)
            fail_msg("'%s' gave %d", bad[i], rc);
        assert_null(resp.outputs);
    }
}

static void error_body_round_trip(void **state)
{
    (void)state;
    tc__buf b = TC__BUF_INIT;
    assert_int_equal(tc__v2_error_encode("bad \"x\"\n", &b), TC_OK);
    assert_string_equal((char *)b.data, "{\"error\":\"bad \\\"x\\\"\\n\"}");
    tc__error err;
    tc__v2_error_decode(b.data, b.len, TC_E_NOT_FOUND, &err);
    assert_int_equal(err.code, TC_E_NOT_FOUND);
    assert_string_equal(err.msg, "bad \"x\"\n");
    tc__v2_error_decode((const uint8_t *)"plain text", 10, TC_E_SERVER, &err);
    assert_int_equal(err.code, TC_E_SERVER);
    assert_string_equal(err.msg, "plain text");
    tc__v2_error_decode((const uint8_t *)"{\"error\":5}", 11, TC_E_INTERNAL, &err);
    assert_string_equal(err.msg, "{\"error\":5}");
    tc__v2_error_decode(NULL, 0, TC_E_UNAVAILABLE, &err);
    assert_int_equal(err.code, TC_E_UNAVAILABLE);
    assert_string_equal(err.msg, "");
    tc__buf_cleanup(&b);
}

/* Every allocation failure is reported and leaks nothing (ASan checks). */
static void request_decode_survives_alloc_failures(void **state)
{
    (void)state;
    file_buf body = golden("simple_http_string_infer_client/0001.request.body.bin");
    for (unsigned long n = 1; n < 200; n++) {
        tc__infer_request req;
        tc__error err;
        tc__alloc_fail_after(n);
        tc_code rc = tc__v2_http_request_decode(body.data, body.len, 345, NULL, &req, &err);
        tc__alloc_fail_after(0);
        if (rc == TC_OK) {
            tc__infer_request_cleanup(&req);
            break;
        }
        assert_int_equal(rc, TC_E_NOMEM);
        assert_null(req.inputs);
    }
    tc__free(body.data);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(golden_simple_0001_decodes),
    cmocka_unit_test(golden_simple_0003_decodes),
    cmocka_unit_test(golden_string_0001_decodes),
    cmocka_unit_test(golden_string_nul_decodes),
    cmocka_unit_test(golden_shm_0005_decodes),
    cmocka_unit_test(golden_image_header_decodes),
    cmocka_unit_test(golden_image_body_from_shared),
    cmocka_unit_test(golden_simple_encodes),
    cmocka_unit_test(golden_string_encodes),
    cmocka_unit_test(golden_shm_encodes),
    cmocka_unit_test(golden_image_encodes),
    cmocka_unit_test(response_encode_binary_and_json),
    cmocka_unit_test(request_rejects_missing_inputs),
    cmocka_unit_test(request_decodes_minimal),
    cmocka_unit_test(request_rejects_bad_input_fields),
    cmocka_unit_test(request_rejects_data_kind_conflicts),
    cmocka_unit_test(request_accepts_empty_tensor_without_data),
    cmocka_unit_test(request_rejects_bad_data_values),
    cmocka_unit_test(request_nesting_limit),
    cmocka_unit_test(request_nested_data_flattens),
    cmocka_unit_test(request_max_input_size),
    cmocka_unit_test(request_binary_size_checks),
    cmocka_unit_test(request_raw_binary_form),
    cmocka_unit_test(request_params_decode),
    cmocka_unit_test(request_params_reject),
    cmocka_unit_test(request_outputs_decode),
    cmocka_unit_test(request_outputs_reject),
    cmocka_unit_test(request_round_trip_all_dtypes),
    cmocka_unit_test(response_round_trip_all_dtypes),
    cmocka_unit_test(request_encode_escapes_ascii),
    cmocka_unit_test(request_encode_params_order),
    cmocka_unit_test(response_double_format),
    cmocka_unit_test(response_encode_params_and_bytes),
    cmocka_unit_test(golden_mock_response_decodes),
    cmocka_unit_test(response_decode_rejects_garbage),
    cmocka_unit_test(error_body_round_trip),
    cmocka_unit_test(request_decode_survives_alloc_failures),
};

TC_TEST_MAIN(tests)
