/* tritonc-server over raw HTTP/1.1: every endpoint of issue #2 and every
 * listed bad input. Each case starts its own server on ephemeral ports and
 * requires a clean exit (status 0) at teardown, so a crash or, under ASan,
 * a leak fails the case. */
#include "tc_test.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "server_proc.h"

typedef struct fixture {
    tc_test_server server;
} fixture;

static int start_with(void **state, const char *const *args)
{
    fixture *f = calloc(1, sizeof *f);
    if (tc_test_server_start(&f->server, TC_MODELS_DIR, args) != 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return start_with(state, NULL);
}

static int setup_explicit(void **state)
{
    static const char *const args[] = {"--model-control-mode=explicit", NULL};
    return start_with(state, args);
}

static int setup_small_limit(void **state)
{
    static const char *const args[] = {"--http-max-input-size=4096", NULL};
    return start_with(state, args);
}

static int teardown(void **state)
{
    fixture *f = *state;
    int rc = tc_test_server_stop(&f->server);
    free(f);
    assert_int_equal(rc, 0);
    return 0;
}

static int port_of(void **state)
{
    return ((fixture *)*state)->server.http_port;
}

/* GET/POST and parse the JSON body; asserts the status. Caller puts the object. */
static json_object *call_json(void **state, const char *method, const char *path, const char *body,
                              int want_status)
{
    tc_http_reply r;
    assert_int_equal(tc_http_request(port_of(state), method, path, NULL, body,
                                     body ? strlen(body) : 0, &r),
                     0);
    if (r.status != want_status)
        fprintf(stderr, "%s %s -> %d %s\n", method, path, r.status, (char *)r.body);
    assert_int_equal(r.status, want_status);
    json_object *obj = json_tokener_parse((const char *)r.body);
    if (obj == NULL)
        fprintf(stderr, "not JSON: '%s'\n", (char *)r.body);
    assert_non_null(obj);
    tc_http_reply_free(&r);
    return obj;
}

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v))
        fail_msg("missing key '%s' in %s", key, json_object_to_json_string(o));
    return v;
}

/* An error reply: status and the start of the {"error": ...} message. */
static void expect_error(void **state, const char *method, const char *path, const char *headers,
                         const void *body, size_t len, int status, const char *msg_part)
{
    tc_http_reply r;
    assert_int_equal(tc_http_request(port_of(state), method, path, headers, body, len, &r), 0);
    if (r.status != status)
        fprintf(stderr, "%s %s -> %d %s\n", method, path, r.status, (char *)r.body);
    assert_int_equal(r.status, status);
    const char *ct = tc_http_header(&r, "content-type");
    assert_non_null(ct);
    assert_non_null(strstr(ct, "application/json"));
    json_object *obj = json_tokener_parse((const char *)r.body);
    assert_non_null(obj);
    const char *msg = json_object_get_string(get(obj, "error"));
    if (strstr(msg, msg_part) == NULL)
        fail_msg("error '%s' lacks '%s'", msg, msg_part);
    json_object_put(obj);
    tc_http_reply_free(&r);
}

static const char k_simple_json[] =
    "{\"id\":\"7\",\"inputs\":["
    "{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\","
    "\"data\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]},"
    "{\"name\":\"INPUT1\",\"shape\":[1,16],\"datatype\":\"INT32\","
    "\"data\":[[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]]}]}";

static void health_live_and_ready(void **state)
{
    tc_http_reply r;
    assert_int_equal(tc_http_request(port_of(state), "GET", "/v2/health/live?x=1", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 0);
    tc_http_reply_free(&r);
    assert_int_equal(tc_http_request(port_of(state), "GET", "/v2/health/ready", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    tc_http_reply_free(&r);
}

static void server_metadata_names_triton(void **state)
{
    json_object *m = call_json(state, "GET", "/v2", NULL, 200);
    assert_string_equal(json_object_get_string(get(m, "name")), "triton");
    assert_true(strlen(json_object_get_string(get(m, "version"))) > 0);
    json_object *ext = get(m, "extensions");
    bool binary = false;
    for (size_t i = 0; i < json_object_array_length(ext); i++) {
        if (strcmp(json_object_get_string(json_object_array_get_idx(ext, i)), "binary_tensor_data") == 0)
            binary = true;
    }
    assert_true(binary);
    json_object_put(m);
}

static void model_metadata_has_batch_dim(void **state)
{
    json_object *m = call_json(state, "GET", "/v2/models/simple", NULL, 200);
    assert_string_equal(json_object_get_string(get(m, "name")), "simple");
    json_object *versions = get(m, "versions");
    assert_int_equal(json_object_array_length(versions), 1);
    assert_string_equal(json_object_get_string(json_object_array_get_idx(versions, 0)), "1");
    json_object *in0 = json_object_array_get_idx(get(m, "inputs"), 0);
    assert_string_equal(json_object_get_string(get(in0, "name")), "INPUT0");
    assert_string_equal(json_object_get_string(get(in0, "datatype")), "INT32");
    json_object *shape = get(in0, "shape");
    assert_int_equal(json_object_array_length(shape), 2);
    assert_int_equal(json_object_get_int64(json_object_array_get_idx(shape, 0)), -1);
    assert_int_equal(json_object_get_int64(json_object_array_get_idx(shape, 1)), 16);
    assert_int_equal(json_object_array_length(get(m, "outputs")), 2);
    json_object_put(m);
    json_object *v = call_json(state, "GET", "/v2/models/simple/versions/1", NULL, 200);
    json_object_put(v);
}

static void model_config_is_json(void **state)
{
    json_object *c = call_json(state, "GET", "/v2/models/simple/config", NULL, 200);
    assert_string_equal(json_object_get_string(get(c, "name")), "simple");
    assert_int_equal(json_object_get_int(get(c, "max_batch_size")), 8);
    json_object *in0 = json_object_array_get_idx(get(c, "input"), 0);
    assert_string_equal(json_object_get_string(get(in0, "data_type")), "TYPE_INT32");
    assert_true(json_object_is_type(json_object_array_get_idx(get(in0, "dims"), 0), json_type_int));
    json_object_put(c);
}

static void model_ready_and_unknown(void **state)
{
    tc_http_reply r;
    assert_int_equal(tc_http_request(port_of(state), "GET", "/v2/models/simple/ready", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    tc_http_reply_free(&r);
    expect_error(state, "GET", "/v2/models/nope/ready", NULL, NULL, 0, 404,
                 "Request for unknown model");
    expect_error(state, "GET", "/v2/models/simple/versions/7/ready", NULL, NULL, 0, 404,
                 "Request for unknown model");
    expect_error(state, "GET", "/v2/models/nope", NULL, NULL, 0, 404, "Request for unknown model");
}

static void check_sum_diff(json_object *resp)
{
    json_object *outs = get(resp, "outputs");
    assert_int_equal(json_object_array_length(outs), 2);
    for (size_t o = 0; o < 2; o++) {
        json_object *out = json_object_array_get_idx(outs, o);
        const char *name = json_object_get_string(get(out, "name"));
        bool sum = strcmp(name, "OUTPUT0") == 0;
        assert_string_equal(json_object_get_string(get(out, "datatype")), "INT32");
        json_object *data = get(out, "data");
        assert_int_equal(json_object_array_length(data), 16);
        for (int i = 0; i < 16; i++) {
            int v = json_object_get_int(json_object_array_get_idx(data, (size_t)i));
            assert_int_equal(v, sum ? i + 1 : i - 1);
        }
    }
}

static void infer_json(void **state)
{
    json_object *resp = call_json(state, "POST", "/v2/models/simple/infer?test_1=1", k_simple_json, 200);
    assert_string_equal(json_object_get_string(get(resp, "id")), "7");
    assert_string_equal(json_object_get_string(get(resp, "model_name")), "simple");
    assert_string_equal(json_object_get_string(get(resp, "model_version")), "1");
    check_sum_diff(resp);
    json_object_put(resp);
    resp = call_json(state, "POST", "/v2/models/simple/versions/1/infer", k_simple_json, 200);
    check_sum_diff(resp);
    json_object_put(resp);
}

/* Build the body the upstream C++/Python clients send: JSON header + blobs. */
static size_t binary_body(char *out, size_t cap, size_t *header_len, int binary_size)
{
    int json_len = snprintf(out, cap,
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\","
        "\"parameters\":{\"binary_data_size\":%d}},{\"name\":\"INPUT1\",\"shape\":[1,16],"
        "\"datatype\":\"INT32\",\"parameters\":{\"binary_data_size\":64}}],"
        "\"outputs\":[{\"name\":\"OUTPUT0\",\"parameters\":{\"binary_data\":true}},"
        "{\"name\":\"OUTPUT1\",\"parameters\":{\"binary_data\":false}}]}",
        binary_size);
    int32_t in0[16];
    int32_t in1[16];
    for (int i = 0; i < 16; i++) {
        in0[i] = i;
        in1[i] = 1;
    }
    memcpy(out + json_len, in0, 64);
    memcpy(out + json_len + 64, in1, 64);
    *header_len = (size_t)json_len;
    return (size_t)json_len + 128;
}

static void infer_binary_mixed_outputs(void **state)
{
    char body[2048];
    size_t hlen;
    size_t len = binary_body(body, sizeof body, &hlen, 64);
    char headers[128];
    snprintf(headers, sizeof headers, "Inference-Header-Content-Length: %zu\r\n", hlen);
    tc_http_reply r;
    assert_int_equal(tc_http_request(port_of(state), "POST", "/v2/models/simple/infer", headers,
                                     body, len, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(tc_http_header(&r, "content-type"), "application/octet-stream");
    const char *ihcl = tc_http_header(&r, "inference-header-content-length");
    assert_non_null(ihcl);
    size_t json_len = (size_t)strtoul(ihcl, NULL, 10);
    assert_int_equal(r.body_len, json_len + 64);
    json_tokener *tok = json_tokener_new();
    json_object *obj = json_tokener_parse_ex(tok, (const char *)r.body, (int)json_len);
    json_tokener_free(tok);
    assert_non_null(obj);
    json_object *outs = get(obj, "outputs");
    for (size_t o = 0; o < json_object_array_length(outs); o++) {
        json_object *out = json_object_array_get_idx(outs, o);
        if (strcmp(json_object_get_string(get(out, "name")), "OUTPUT0") == 0) {
            json_object *p = get(out, "parameters");
            assert_int_equal(json_object_get_int(get(p, "binary_data_size")), 64);
        } else {
            assert_int_equal(json_object_array_length(get(out, "data")), 16);
        }
    }
    /* The server pads the header so binary data starts 8-byte aligned. */
    assert_int_equal(json_len % 8, 0);
    int32_t sum[16];
    memcpy(sum, r.body + json_len, sizeof sum);
    for (int i = 0; i < 16; i++)
        assert_int_equal(sum[i], i + 1);
    json_object_put(obj);
    tc_http_reply_free(&r);
}

static void infer_unknown_model_is_404(void **state)
{
    expect_error(state, "POST", "/v2/models/wrong_model_name/infer", NULL, k_simple_json,
                 strlen(k_simple_json), 404, "Request for unknown model: 'wrong_model_name' is not found");
}

static void infer_malformed_json_is_400(void **state)
{
    const char *bad[] = {"{", "not json", "{\"inputs\":5}", "{\"inputs\":[{\"name\":1}]}", "[]", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tc_http_reply r;
        assert_int_equal(tc_http_request(port_of(state), "POST", "/v2/models/simple/infer", NULL,
                                         bad[i], strlen(bad[i]), &r), 0);
        assert_true(r.status >= 400 && r.status < 500);
        assert_non_null(strstr((char *)r.body, "\"error\""));
        tc_http_reply_free(&r);
    }
}

static void infer_wrong_shape_datatype_size(void **state)
{
    const char *wrong_shape =
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,15],\"datatype\":\"INT32\","
        "\"data\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14]},"
        "{\"name\":\"INPUT1\",\"shape\":[1,15],\"datatype\":\"INT32\","
        "\"data\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}]}";
    expect_error(state, "POST", "/v2/models/simple/infer", NULL, wrong_shape, strlen(wrong_shape),
                 400, "shape");
    const char *wrong_type =
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"FP32\","
        "\"data\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]},"
        "{\"name\":\"INPUT1\",\"shape\":[1,16],\"datatype\":\"INT32\","
        "\"data\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}]}";
    expect_error(state, "POST", "/v2/models/simple/infer", NULL, wrong_type, strlen(wrong_type),
                 400, "INPUT0");
    const char *count_mismatch =
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\",\"data\":[1,2]},"
        "{\"name\":\"INPUT1\",\"shape\":[1,16],\"datatype\":\"INT32\","
        "\"data\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}]}";
    tc_http_reply r;
    assert_int_equal(tc_http_request(port_of(state), "POST", "/v2/models/simple/infer", NULL,
                                     count_mismatch, strlen(count_mismatch), &r), 0);
    assert_true(r.status == 400 || r.status == 500);
    tc_http_reply_free(&r);
    const char *missing_input =
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\","
        "\"data\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]}]}";
    expect_error(state, "POST", "/v2/models/simple/infer", NULL, missing_input,
                 strlen(missing_input), 400, "expected 2 inputs but got 1 inputs");
    const char *too_big_batch =
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[9,16],\"datatype\":\"INT32\",\"parameters\":"
        "{\"binary_data_size\":576}},{\"name\":\"INPUT1\",\"shape\":[9,16],\"datatype\":\"INT32\","
        "\"parameters\":{\"binary_data_size\":576}}]}";
    size_t jl = strlen(too_big_batch);
    char *body = calloc(1, jl + 1152);
    memcpy(body, too_big_batch, jl);
    char headers[128];
    snprintf(headers, sizeof headers, "Inference-Header-Content-Length: %zu\r\n", jl);
    expect_error(state, "POST", "/v2/models/simple/infer", headers, body, jl + 1152, 400,
                 "batch-size must be <= 8");
    free(body);
}

static void infer_binary_size_errors(void **state)
{
    char body[2048];
    size_t hlen;
    char headers[128];
    /* INPUT0 claims 60 bytes: the shape needs 64. */
    size_t len = binary_body(body, sizeof body, &hlen, 60);
    snprintf(headers, sizeof headers, "Inference-Header-Content-Length: %zu\r\n", hlen);
    tc_http_reply r;
    assert_int_equal(tc_http_request(port_of(state), "POST", "/v2/models/simple/infer", headers,
                                     body, len - 4, &r), 0);
    assert_int_equal(r.status, 400);
    tc_http_reply_free(&r);
    /* Body shorter than the binary sizes. */
    len = binary_body(body, sizeof body, &hlen, 64);
    expect_error(state, "POST", "/v2/models/simple/infer", headers, body, len - 10, 400,
                 "unexpected size for input");
    /* Leftover bytes. */
    expect_error(state, "POST", "/v2/models/simple/infer", headers, body, len + 8, 400,
                 "unexpected additional input data");
    /* Header length beyond the body. */
    snprintf(headers, sizeof headers, "Inference-Header-Content-Length: %zu\r\n", len + 100);
    expect_error(state, "POST", "/v2/models/simple/infer", headers, body, len, 400,
                 "inference header size");
    /* Only digits: no sign, no spaces. */
    const char *bad_lengths[] = {"-5", "+64", " 64", "0x40", ""};
    for (size_t i = 0; i < sizeof bad_lengths / sizeof bad_lengths[0]; i++) {
        snprintf(headers, sizeof headers, "Inference-Header-Content-Length: %s\r\n", bad_lengths[i]);
        assert_int_equal(tc_http_request(port_of(state), "POST", "/v2/models/simple/infer", headers,
                                         body, len, &r), 0);
        if (r.status != 400)
            fail_msg("header length '%s' gave %d", bad_lengths[i], r.status);
        tc_http_reply_free(&r);
    }
}

static void oversized_request_is_rejected(void **state)
{
    size_t len = 64 * 1024;
    char *body = malloc(len);
    memset(body, ' ', len);
    body[0] = '{';
    body[len - 1] = '}';
    tc_http_reply r;
    assert_int_equal(tc_http_request(port_of(state), "POST", "/v2/models/simple/infer", NULL, body,
                                     len, &r), 0);
    assert_true(r.status == 400 || r.status == 413);
    assert_non_null(strstr((char *)r.body, "error"));
    tc_http_reply_free(&r);
    free(body);
    /* The server still serves normal requests. */
    json_object *resp = call_json(state, "POST", "/v2/models/simple/infer", k_simple_json, 200);
    check_sum_diff(resp);
    json_object_put(resp);
}

static void unknown_path_and_method(void **state)
{
    expect_error(state, "GET", "/v3/whatever", NULL, NULL, 0, 404, "Not Found");
    expect_error(state, "GET", "/v2/models/simple/infer", NULL, NULL, 0, 405, "Method Not Allowed");
    expect_error(state, "DELETE", "/v2/health/live", NULL, NULL, 0, 405, "Method Not Allowed");
}

static size_t zcompress(const char *in, size_t len, uint8_t *out, size_t cap, int gzip)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    deflateInit2(&zs, 6, Z_DEFLATED, gzip ? 31 : 15, 8, Z_DEFAULT_STRATEGY);
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t n = zs.total_out;
    deflateEnd(&zs);
    return n;
}

static size_t zdecompress(const uint8_t *in, size_t len, char *out, size_t cap)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    inflateInit2(&zs, 15 + 32); /* gzip or zlib, auto-detected */
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    zs.next_out = (Bytef *)out;
    zs.avail_out = (uInt)cap - 1;
    assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t n = zs.total_out;
    out[n] = 0;
    inflateEnd(&zs);
    return n;
}

static void compressed_request_and_response(void **state)
{
    for (int gzip = 0; gzip <= 1; gzip++) {
        uint8_t z[4096];
        size_t zlen = zcompress(k_simple_json, strlen(k_simple_json), z, sizeof z, gzip);
        char headers[256];
        snprintf(headers, sizeof headers, "Content-Encoding: %s\r\nAccept-Encoding: %s\r\n",
                 gzip ? "gzip" : "deflate", gzip ? "gzip" : "deflate");
        tc_http_reply r;
        assert_int_equal(tc_http_request(port_of(state), "POST", "/v2/models/simple/infer",
                                         headers, z, zlen, &r), 0);
        assert_int_equal(r.status, 200);
        const char *ce = tc_http_header(&r, "content-encoding");
        assert_non_null(ce);
        assert_string_equal(ce, gzip ? "gzip" : "deflate");
        char plain[8192];
        zdecompress(r.body, r.body_len, plain, sizeof plain);
        json_object *resp = json_tokener_parse(plain);
        assert_non_null(resp);
        check_sum_diff(resp);
        json_object_put(resp);
        tc_http_reply_free(&r);
    }
    expect_error(state, "POST", "/v2/models/simple/infer", "Content-Encoding: br\r\n",
                 k_simple_json, strlen(k_simple_json), 501, "Unsupported compression type");
    /* A body that claims gzip but is not. */
    tc_http_reply r;
    assert_int_equal(tc_http_request(port_of(state), "POST", "/v2/models/simple/infer",
                                     "Content-Encoding: gzip\r\n", k_simple_json,
                                     strlen(k_simple_json), &r), 0);
    assert_true(r.status >= 400 && r.status < 500);
    tc_http_reply_free(&r);
}

static json_object *stats_entry(json_object *stats, const char *model)
{
    json_object *list = get(stats, "model_stats");
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *e = json_object_array_get_idx(list, i);
        if (strcmp(json_object_get_string(get(e, "name")), model) == 0)
            return e;
    }
    fail_msg("no stats for %s", model);
    return NULL;
}

static void statistics_count_inferences(void **state)
{
    for (int i = 0; i < 3; i++) {
        json_object *resp = call_json(state, "POST", "/v2/models/simple/infer", k_simple_json, 200);
        json_object_put(resp);
    }
    expect_error(state, "POST", "/v2/models/simple/infer", NULL, "{", 1, 400, "");
    json_object *stats = call_json(state, "GET", "/v2/models/simple/stats", NULL, 200);
    json_object *e = stats_entry(stats, "simple");
    assert_string_equal(json_object_get_string(get(e, "version")), "1");
    assert_int_equal(json_object_get_int64(get(e, "inference_count")), 3);
    assert_int_equal(json_object_get_int64(get(e, "execution_count")), 3);
    assert_true(json_object_get_int64(get(e, "last_inference")) > 0);
    json_object *is = get(e, "inference_stats");
    const char *keys[] = {"success", "fail", "queue", "compute_input", "compute_infer",
                          "compute_output", "cache_hit", "cache_miss"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        json_object *d = get(is, keys[k]);
        assert_true(json_object_is_type(get(d, "count"), json_type_int));
        assert_true(json_object_is_type(get(d, "ns"), json_type_int));
    }
    assert_int_equal(json_object_get_int64(get(get(is, "success"), "count")), 3);
    assert_true(json_object_get_int64(get(get(is, "compute_infer"), "ns")) > 0);
    get(e, "batch_stats");
    get(e, "response_stats");
    get(e, "memory_usage");
    json_object_put(stats);
    json_object *all = call_json(state, "GET", "/v2/models/stats", NULL, 200);
    stats_entry(all, "simple_string");
    json_object_put(all);
    expect_error(state, "GET", "/v2/models/nope/stats", NULL, NULL, 0, 400, "nope");
}

static void repository_index_lists_models(void **state)
{
    json_object *idx = call_json(state, "POST", "/v2/repository/index", "", 200);
    assert_true(json_object_is_type(idx, json_type_array));
    bool simple = false;
    for (size_t i = 0; i < json_object_array_length(idx); i++) {
        json_object *e = json_object_array_get_idx(idx, i);
        if (strcmp(json_object_get_string(get(e, "name")), "simple") == 0) {
            simple = true;
            assert_string_equal(json_object_get_string(get(e, "state")), "READY");
            assert_string_equal(json_object_get_string(get(e, "version")), "1");
        }
    }
    assert_true(simple);
    json_object_put(idx);
    /* Load/unload are refused outside explicit mode. */
    expect_error(state, "POST", "/v2/repository/models/simple/unload", NULL, NULL, 0, 503,
                 "explicit model load / unload is not allowed");
    expect_error(state, "POST", "/v2/repository/other/index", NULL, NULL, 0, 501,
                 "'repository_name' specification is not supported");
}

static void explicit_load_and_unload(void **state)
{
    json_object *idx = call_json(state, "POST", "/v2/repository/index", "{}", 200);
    assert_true(json_object_array_length(idx) >= 5);
    json_object_put(idx);
    expect_error(state, "GET", "/v2/models/simple/ready", NULL, NULL, 0, 404, "simple");
    tc_http_reply r;
    assert_int_equal(tc_http_request(port_of(state), "POST", "/v2/repository/models/simple/load",
                                     NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    tc_http_reply_free(&r);
    assert_int_equal(tc_http_request(port_of(state), "GET", "/v2/models/simple/ready", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    tc_http_reply_free(&r);
    json_object *resp = call_json(state, "POST", "/v2/models/simple/infer", k_simple_json, 200);
    check_sum_diff(resp);
    json_object_put(resp);
    const char *unload = "{\"parameters\":{\"unload_dependents\":false}}";
    assert_int_equal(tc_http_request(port_of(state), "POST", "/v2/repository/models/simple/unload",
                                     NULL, unload, strlen(unload), &r), 0);
    assert_int_equal(r.status, 200);
    tc_http_reply_free(&r);
    assert_int_equal(tc_http_request(port_of(state), "GET", "/v2/models/simple/ready", NULL, NULL, 0, &r), 0);
    assert_true(r.status == 400 || r.status == 404);
    tc_http_reply_free(&r);
    idx = call_json(state, "POST", "/v2/repository/index", "{\"ready\":false}", 200);
    bool unavailable = false;
    for (size_t i = 0; i < json_object_array_length(idx); i++) {
        json_object *e = json_object_array_get_idx(idx, i);
        json_object *st = NULL;
        if (strcmp(json_object_get_string(get(e, "name")), "simple") == 0 &&
            json_object_object_get_ex(e, "state", &st))
            unavailable = strcmp(json_object_get_string(st), "UNAVAILABLE") == 0;
    }
    assert_true(unavailable);
    json_object_put(idx);
    /* A config override that cannot load. */
    const char *bad = "{\"parameters\":{\"config\":\"{\\\"max_batch_size\\\":\\\"x\\\"}\"}}";
    expect_error(state, "POST", "/v2/repository/models/simple/load", NULL, bad, strlen(bad), 400,
                 "failed to load");
    expect_error(state, "POST", "/v2/repository/models/no_such_model/load", NULL, NULL, 0, 400,
                 "failed to load");
    /* A good override: the same model with max_batch_size 4. */
    const char *good =
        "{\"parameters\":{\"config\":\"{\\\"name\\\":\\\"simple\\\",\\\"backend\\\":\\\"tritonc_add_sub\\\","
        "\\\"max_batch_size\\\":4,\\\"input\\\":[{\\\"name\\\":\\\"INPUT0\\\",\\\"data_type\\\":\\\"TYPE_INT32\\\","
        "\\\"dims\\\":[16]},{\\\"name\\\":\\\"INPUT1\\\",\\\"data_type\\\":\\\"TYPE_INT32\\\",\\\"dims\\\":[16]}],"
        "\\\"output\\\":[{\\\"name\\\":\\\"OUTPUT0\\\",\\\"data_type\\\":\\\"TYPE_INT32\\\",\\\"dims\\\":[16]},"
        "{\\\"name\\\":\\\"OUTPUT1\\\",\\\"data_type\\\":\\\"TYPE_INT32\\\",\\\"dims\\\":[16]}]}\"}}";
    assert_int_equal(tc_http_request(port_of(state), "POST", "/v2/repository/models/simple/load",
                                     NULL, good, strlen(good), &r), 0);
    if (r.status != 200)
        fprintf(stderr, "override load: %s\n", (char *)r.body);
    assert_int_equal(r.status, 200);
    tc_http_reply_free(&r);
    json_object *cfg = call_json(state, "GET", "/v2/models/simple/config", NULL, 200);
    assert_int_equal(json_object_get_int(get(cfg, "max_batch_size")), 4);
    json_object_put(cfg);
}

static void string_and_identity_models(void **state)
{
    const char *req =
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"BYTES\",\"data\":"
        "[\"0\",\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\",\"12\",\"13\",\"14\",\"15\"]},"
        "{\"name\":\"INPUT1\",\"shape\":[1,16],\"datatype\":\"BYTES\",\"data\":"
        "[\"1\",\"1\",\"1\",\"1\",\"1\",\"1\",\"1\",\"1\",\"1\",\"1\",\"1\",\"1\",\"1\",\"1\",\"1\",\"1\"]}]}";
    json_object *resp = call_json(state, "POST", "/v2/models/simple_string/infer", req, 200);
    json_object *outs = get(resp, "outputs");
    for (size_t o = 0; o < json_object_array_length(outs); o++) {
        json_object *out = json_object_array_get_idx(outs, o);
        bool sum = strcmp(json_object_get_string(get(out, "name")), "OUTPUT0") == 0;
        assert_string_equal(json_object_get_string(get(out, "datatype")), "BYTES");
        json_object *data = get(out, "data");
        for (int i = 0; i < 16; i++) {
            char want[16];
            snprintf(want, sizeof want, "%d", sum ? i + 1 : i - 1);
            assert_string_equal(json_object_get_string(json_object_array_get_idx(data, (size_t)i)), want);
        }
    }
    json_object_put(resp);
    /* Identity over binary BYTES holding NUL and non-UTF-8 bytes. */
    const char elems[] = "\x06\x00\x00\x00he\0llo\x04\x00\x00\x00\x00\x01\xff\x03";
    size_t elen = sizeof elems - 1;
    char json[256];
    int jl = snprintf(json, sizeof json,
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,2],\"datatype\":\"BYTES\","
        "\"parameters\":{\"binary_data_size\":%zu}}],\"parameters\":{\"binary_data_output\":true}}", elen);
    char body[512];
    memcpy(body, json, (size_t)jl);
    memcpy(body + jl, elems, elen);
    char headers[128];
    snprintf(headers, sizeof headers, "Inference-Header-Content-Length: %d\r\n", jl);
    tc_http_reply r;
    assert_int_equal(tc_http_request(port_of(state), "POST", "/v2/models/simple_identity/infer",
                                     headers, body, (size_t)jl + elen, &r), 0);
    assert_int_equal(r.status, 200);
    size_t hl = (size_t)strtoul(tc_http_header(&r, "inference-header-content-length"), NULL, 10);
    assert_int_equal(r.body_len - hl, elen);
    assert_memory_equal(r.body + hl, elems, elen);
    tc_http_reply_free(&r);
    /* Truncated BYTES length prefix. */
    snprintf(headers, sizeof headers, "Inference-Header-Content-Length: %d\r\n", jl);
    memcpy(body + jl, "\x40\x00\x00\x00hello\x00\x00\x00\x00\x00\x00\x00\x00\x00", elen);
    assert_int_equal(tc_http_request(port_of(state), "POST", "/v2/models/simple_identity/infer",
                                     headers, body, (size_t)jl + elen, &r), 0);
    assert_int_equal(r.status, 400);
    tc_http_reply_free(&r);
}

static void int8_model_wraps(void **state)
{
    const char *req =
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT8\",\"data\":"
        "[127,1,2,3,4,5,6,7,8,9,10,11,12,13,14,-128]},"
        "{\"name\":\"INPUT1\",\"shape\":[1,16],\"datatype\":\"INT8\",\"data\":"
        "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}],\"outputs\":[{\"name\":\"OUTPUT0\"}]}";
    json_object *resp = call_json(state, "POST", "/v2/models/simple_int8/infer", req, 200);
    json_object *outs = get(resp, "outputs");
    assert_int_equal(json_object_array_length(outs), 1);
    json_object *data = get(json_object_array_get_idx(outs, 0), "data");
    assert_int_equal(json_object_get_int(json_object_array_get_idx(data, 0)), -128);
    assert_int_equal(json_object_get_int(json_object_array_get_idx(data, 1)), 2);
    assert_int_equal(json_object_get_int(json_object_array_get_idx(data, 15)), -127);
    json_object_put(resp);
    const char *bad = "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,1],\"datatype\":\"INT8\",\"data\":[300]}]}";
    expect_error(state, "POST", "/v2/models/simple_int8/infer", NULL, bad, strlen(bad), 400, "");
}

static void classification_top_k(void **state)
{
    const char *req =
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\","
        "\"data\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]},"
        "{\"name\":\"INPUT1\",\"shape\":[1,16],\"datatype\":\"INT32\","
        "\"data\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}],"
        "\"outputs\":[{\"name\":\"OUTPUT0\",\"parameters\":{\"classification\":2}}]}";
    json_object *resp = call_json(state, "POST", "/v2/models/simple/infer", req, 200);
    json_object *out = json_object_array_get_idx(get(resp, "outputs"), 0);
    assert_string_equal(json_object_get_string(get(out, "datatype")), "BYTES");
    json_object *shape = get(out, "shape");
    assert_int_equal(json_object_array_length(shape), 2);
    assert_int_equal(json_object_get_int(json_object_array_get_idx(shape, 1)), 2);
    json_object *data = get(out, "data");
    assert_string_equal(json_object_get_string(json_object_array_get_idx(data, 0)), "16:15");
    assert_string_equal(json_object_get_string(json_object_array_get_idx(data, 1)), "15:14");
    json_object_put(resp);
}

static void trace_and_log_settings(void **state)
{
    json_object *t = call_json(state, "GET", "/v2/trace/setting", NULL, 200);
    assert_true(json_object_is_type(get(t, "trace_level"), json_type_array));
    get(t, "trace_rate");
    json_object_put(t);
    t = call_json(state, "POST", "/v2/trace/setting", "{\"trace_rate\":\"7\"}", 200);
    assert_string_equal(json_object_get_string(get(t, "trace_rate")), "7");
    json_object_put(t);
    expect_error(state, "POST", "/v2/trace/setting", NULL, "{\"trace_file\":\"x\"}", 18, 501,
                 "trace file location can not be updated");
    json_object *l = call_json(state, "GET", "/v2/logging", NULL, 200);
    assert_true(json_object_is_type(get(l, "log_info"), json_type_boolean));
    json_object_put(l);
    l = call_json(state, "POST", "/v2/logging", "{\"log_verbose_level\":2}", 200);
    assert_int_equal(json_object_get_int(get(l, "log_verbose_level")), 2);
    json_object_put(l);
    expect_error(state, "POST", "/v2/logging", NULL, "{\"log_file\":\"/tmp/x\"}", 21, 501,
                 "log file location can not be updated");
}

static void garbage_never_kills_the_server(void **state)
{
    const char *garbage[] = {
        "GARBAGE\r\n\r\n",
        "POST /v2/models/simple/infer HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"inp",
        "POST /v2/models/simple/infer HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "POST /v2/models/simple/infer HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "GET /v2/models/%00/ready HTTP/1.1\r\n\r\n",
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    };
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        tc_http_reply r;
        tc_http_raw_half_close(port_of(state), garbage[i], strlen(garbage[i]), 3000, &r);
        tc_http_reply_free(&r);
    }
    json_object *resp = call_json(state, "POST", "/v2/models/simple/infer", k_simple_json, 200);
    check_sum_diff(resp);
    json_object_put(resp);
}

static void keep_alive_serves_several_requests(void **state)
{
    char req[4096];
    int n = snprintf(req, sizeof req,
                     "GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n"
                     "POST /v2/models/simple/infer HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n%s"
                     "GET /v2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                     strlen(k_simple_json), k_simple_json);
    tc_http_reply r;
    assert_int_equal(tc_http_raw(port_of(state), req, (size_t)n, &r), 0);
    assert_int_equal(r.status, 200);
    /* All three answers arrive on the one connection, in order. */
    const char *body = (const char *)r.body;
    const char *second = strstr(body, "HTTP/1.1 200");
    assert_non_null(second);
    assert_non_null(strstr(second, "\"model_name\":\"simple\""));
    const char *third = strstr(second + 1, "HTTP/1.1 200");
    assert_non_null(third);
    assert_non_null(strstr(third, "\"triton\""));
    tc_http_reply_free(&r);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(health_live_and_ready, setup, teardown),
    cmocka_unit_test_setup_teardown(server_metadata_names_triton, setup, teardown),
    cmocka_unit_test_setup_teardown(model_metadata_has_batch_dim, setup, teardown),
    cmocka_unit_test_setup_teardown(model_config_is_json, setup, teardown),
    cmocka_unit_test_setup_teardown(model_ready_and_unknown, setup, teardown),
    cmocka_unit_test_setup_teardown(infer_json, setup, teardown),
    cmocka_unit_test_setup_teardown(infer_binary_mixed_outputs, setup, teardown),
    cmocka_unit_test_setup_teardown(infer_unknown_model_is_404, setup, teardown),
    cmocka_unit_test_setup_teardown(infer_malformed_json_is_400, setup, teardown),
    cmocka_unit_test_setup_teardown(infer_wrong_shape_datatype_size, setup, teardown),
    cmocka_unit_test_setup_teardown(infer_binary_size_errors, setup, teardown),
    cmocka_unit_test_setup_teardown(oversized_request_is_rejected, setup_small_limit, teardown),
    cmocka_unit_test_setup_teardown(unknown_path_and_method, setup, teardown),
    cmocka_unit_test_setup_teardown(compressed_request_and_response, setup, teardown),
    cmocka_unit_test_setup_teardown(statistics_count_inferences, setup, teardown),
    cmocka_unit_test_setup_teardown(repository_index_lists_models, setup, teardown),
    cmocka_unit_test_setup_teardown(explicit_load_and_unload, setup_explicit, teardown),
    cmocka_unit_test_setup_teardown(string_and_identity_models, setup, teardown),
    cmocka_unit_test_setup_teardown(int8_model_wraps, setup, teardown),
    cmocka_unit_test_setup_teardown(classification_top_k, setup, teardown),
    cmocka_unit_test_setup_teardown(trace_and_log_settings, setup, teardown),
    cmocka_unit_test_setup_teardown(garbage_never_kills_the_server, setup, teardown),
    cmocka_unit_test_setup_teardown(keep_alive_serves_several_requests, setup, teardown),
};

TC_TEST_MAIN(tests)
