/* Shared memory in libtritonc: the system region utilities (create, map,
 * write, read, destroy, every bounds error), the CUDA "not available"
 * path, request encoding of shm references (compared with what the
 * upstream clients send: HTTP byte for byte, gRPC by decoding), and result
 * accessors for outputs written to shared memory. */
#define _GNU_SOURCE
#include "tc_test.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <tritonc/tritonc.h>

#include "client/cuda_shm_internal.h"
#include "client/grpc_internal.h"
#include "client/http_internal.h"
#include "client/request_internal.h"
#include "client/result_internal.h"
#include "common/alloc.h"
#include "proto/v2_json.h"
#include "proto/v2_pb.h"

/* A per-process object name, so parallel test processes never collide. */
static const char *test_key(const char *tag)
{
    static char key[64];
    snprintf(key, sizeof key, "/tc_unit_%s_%ld", tag, (long)getpid());
    return key;
}

static void test_create_write_read_destroy(void **state)
{
    (void)state;
    const char *key = test_key("basic");
    tc_shm_region *r = NULL;
    assert_int_equal(tc_shm_region_new(&r, key, 128), TC_OK);
    assert_non_null(tc_shm_region_data(r));
    assert_int_equal(tc_shm_region_byte_size(r), 128);
    assert_string_equal(tc_shm_region_key(r), key);
    assert_int_equal(tc_shm_region_offset(r), 0);
    int32_t in[16];
    for (int32_t i = 0; i < 16; i++)
        in[i] = i * 3;
    assert_int_equal(tc_shm_region_write(r, 64, in, sizeof in), TC_OK);
    int32_t out[16] = {0};
    assert_int_equal(tc_shm_region_read(r, 64, out, sizeof out), TC_OK);
    assert_memory_equal(in, out, sizeof in);
    void *p = NULL;
    assert_int_equal(tc_shm_region_span(r, 64, 64, &p), TC_OK);
    assert_ptr_equal(p, (uint8_t *)tc_shm_region_data(r) + 64);
    /* A second mapping of the same object sees the bytes, at any offset. */
    tc_shm_region *m = NULL;
    assert_int_equal(tc_shm_region_open(&m, key, 68, 0), TC_OK);
    assert_int_equal(tc_shm_region_byte_size(m), 60);
    assert_int_equal(tc_shm_region_offset(m), 68);
    int32_t v;
    assert_int_equal(tc_shm_region_read(m, 0, &v, sizeof v), TC_OK);
    assert_int_equal(v, 3);
    tc_shm_region_free(m);
    assert_int_equal(tc_shm_region_destroy(r), TC_OK);
    /* The name is gone now. */
    assert_int_equal(tc_shm_region_open(&m, key, 0, 0), TC_E_NOT_FOUND);
    assert_null(m);
    assert_int_equal(tc_shm_unlink(key), TC_E_NOT_FOUND);
    assert_non_null(strstr(tc_shm_last_error(), "shm_unlink"));
    assert_int_equal(tc_shm_region_destroy(NULL), TC_OK);
    tc_shm_region_free(NULL);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    tc_shm_region *r = NULL;
    assert_int_equal(tc_shm_region_new(NULL, "/x", 8), TC_E_INVALID_ARG);
    assert_int_equal(tc_shm_region_new(&r, NULL, 8), TC_E_INVALID_ARG);
    assert_int_equal(tc_shm_region_new(&r, "noslash", 8), TC_E_INVALID_ARG);
    assert_int_equal(tc_shm_region_new(&r, "/a/b", 8), TC_E_INVALID_ARG);
    assert_int_equal(tc_shm_region_new(&r, "/", 8), TC_E_INVALID_ARG);
    assert_non_null(strstr(tc_shm_last_error(), "invalid shared memory key"));
    char longkey[300];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[0] = '/';
    longkey[sizeof longkey - 1] = '\0';
    assert_int_equal(tc_shm_region_new(&r, longkey, 8), TC_E_INVALID_ARG);
    assert_int_equal(tc_shm_region_new(&r, test_key("zero"), 0), TC_E_INVALID_ARG);
    assert_int_equal(tc_shm_region_new(&r, test_key("huge"), SIZE_MAX), TC_E_INVALID_ARG);
    assert_null(r);
    assert_int_equal(tc_shm_region_open(&r, "/tc_unit_never_created_xyz", 0, 0), TC_E_NOT_FOUND);
    assert_int_equal(tc_shm_unlink("bad"), TC_E_INVALID_ARG);
    assert_null(tc_shm_region_data(NULL));
    assert_int_equal(tc_shm_region_byte_size(NULL), 0);
    assert_string_equal(tc_shm_region_key(NULL), "");
}

static void test_bounds(void **state)
{
    (void)state;
    const char *key = test_key("bounds");
    tc_shm_region *r = NULL;
    assert_int_equal(tc_shm_region_new(&r, key, 64), TC_OK);
    uint8_t buf[65] = {0};
    void *p = NULL;
    assert_int_equal(tc_shm_region_write(r, 0, buf, 64), TC_OK);
    assert_int_equal(tc_shm_region_write(r, 64, buf, 0), TC_OK); /* empty at the end */
    assert_int_equal(tc_shm_region_write(r, 0, buf, 65), TC_E_INVALID_ARG);
    assert_non_null(strstr(tc_shm_last_error(), "beyond shared memory region"));
    assert_int_equal(tc_shm_region_write(r, 1, buf, 64), TC_E_INVALID_ARG);
    assert_int_equal(tc_shm_region_write(r, 65, buf, 0), TC_E_INVALID_ARG);
    assert_int_equal(tc_shm_region_write(r, SIZE_MAX, buf, 2), TC_E_INVALID_ARG); /* overflow */
    assert_int_equal(tc_shm_region_write(r, 2, buf, SIZE_MAX), TC_E_INVALID_ARG); /* overflow */
    assert_int_equal(tc_shm_region_write(r, 0, NULL, 1), TC_E_INVALID_ARG);
    assert_int_equal(tc_shm_region_write(NULL, 0, buf, 1), TC_E_INVALID_ARG);
    assert_int_equal(tc_shm_region_read(r, 0, buf, 65), TC_E_INVALID_ARG);
    assert_int_equal(tc_shm_region_read(r, SIZE_MAX, buf, 1), TC_E_INVALID_ARG);
    assert_int_equal(tc_shm_region_read(r, 63, buf, 2), TC_E_INVALID_ARG);
    assert_int_equal(tc_shm_region_read(r, 0, NULL, 1), TC_E_INVALID_ARG);
    assert_int_equal(tc_shm_region_read(NULL, 0, buf, 1), TC_E_INVALID_ARG);
    assert_int_equal(tc_shm_region_span(r, 60, 5, &p), TC_E_INVALID_ARG);
    assert_int_equal(tc_shm_region_span(r, 1, SIZE_MAX, &p), TC_E_INVALID_ARG);
    assert_int_equal(tc_shm_region_span(r, 0, 1, NULL), TC_E_INVALID_ARG);
    /* Opening beyond the object, or an empty window, is refused. */
    tc_shm_region *m = NULL;
    assert_int_equal(tc_shm_region_open(&m, key, 60, 5), TC_E_INVALID_ARG);
    assert_int_equal(tc_shm_region_open(&m, key, 64, 0), TC_E_INVALID_ARG);
    assert_int_equal(tc_shm_region_open(&m, key, SIZE_MAX, 2), TC_E_INVALID_ARG);
    assert_null(m);
    assert_int_equal(tc_shm_region_destroy(r), TC_OK);
}

static void test_write_bytes(void **state)
{
    (void)state;
    tc_shm_region *r = NULL;
    assert_int_equal(tc_shm_region_new(&r, test_key("bytes"), 32), TC_OK);
    const void *elems[3] = {"ab", NULL, "xyz"};
    size_t lens[3] = {2, 0, 3};
    size_t n = 0;
    assert_int_equal(tc_shm_region_write_bytes(r, 4, elems, lens, 3, &n), TC_OK);
    assert_int_equal(n, 4 + 2 + 4 + 0 + 4 + 3);
    static const uint8_t want[] = {2, 0, 0, 0, 'a', 'b', 0, 0, 0, 0, 3, 0, 0, 0, 'x', 'y', 'z'};
    uint8_t got[sizeof want];
    assert_int_equal(tc_shm_region_read(r, 4, got, sizeof got), TC_OK);
    assert_memory_equal(got, want, sizeof want);
    /* Too big for what is left: nothing written. */
    n = 99;
    assert_int_equal(tc_shm_region_write_bytes(r, 16, elems, lens, 3, &n), TC_E_INVALID_ARG);
    assert_int_equal(n, 99);
    /* Element lengths over 4 GiB - 1, or a sum that overflows. */
    size_t big[2] = {(size_t)UINT32_MAX + 1, 1};
    const void *two[2] = {"a", "b"};
    assert_int_equal(tc_shm_region_write_bytes(r, 0, two, big, 1, NULL), TC_E_INVALID_ARG);
    size_t huge[3] = {UINT32_MAX, UINT32_MAX, UINT32_MAX};
    const void *three[3] = {"a", "b", "c"};
    assert_int_equal(tc_shm_region_write_bytes(r, 0, three, huge, 3, NULL), TC_E_INVALID_ARG);
    assert_int_equal(tc_shm_region_write_bytes(r, 0, NULL, lens, 1, NULL), TC_E_INVALID_ARG);
    const void *nul[1] = {NULL};
    size_t one[1] = {1};
    assert_int_equal(tc_shm_region_write_bytes(r, 0, nul, one, 1, NULL), TC_E_INVALID_ARG);
    assert_int_equal(tc_shm_region_write_bytes(r, 0, NULL, NULL, 0, &n), TC_OK);
    assert_int_equal(n, 0);
    assert_int_equal(tc_shm_region_destroy(r), TC_OK);
}

static void test_cuda_not_available(void **state)
{
    (void)state;
    static const char *const none[] = {"libtc-no-such-cudart.so", NULL};
    tc__cuda_set_library_names(none);
    int count = 7;
    assert_int_equal(tc_cuda_device_count(&count), TC_E_NOT_SUPPORTED);
    assert_int_equal(count, 0);
    assert_non_null(strstr(tc_shm_last_error(), "CUDA runtime not available"));
    tc_cuda_shm_region *c = NULL;
    assert_int_equal(tc_cuda_shm_region_new(&c, 64, 0), TC_E_NOT_SUPPORTED);
    assert_null(c);
    assert_non_null(strstr(tc_shm_last_error(), "CUDA runtime not available"));
    assert_int_equal(tc_cuda_shm_region_new(&c, 0, 0), TC_E_INVALID_ARG);
    assert_int_equal(tc_cuda_shm_region_new(&c, 8, -1), TC_E_INVALID_ARG);
    assert_int_equal(tc_cuda_shm_region_write(NULL, 0, "x", 1), TC_E_INVALID_ARG);
    uint8_t h[TC_CUDA_IPC_HANDLE_SIZE];
    assert_int_equal(tc_cuda_shm_region_ipc_handle(NULL, h), TC_E_INVALID_ARG);
    assert_int_equal(tc_cuda_shm_region_device_id(NULL), -1);
    assert_int_equal(tc_cuda_shm_region_byte_size(NULL), 0);
    tc_cuda_shm_region_free(NULL);
    tc__cuda_set_library_names(NULL);
    /* With the default names: either a runtime (and then a working region)
     * or the same "not available" answer. */
    tc_code rc = tc_cuda_device_count(&count);
    assert_true(rc == TC_OK || rc == TC_E_NOT_SUPPORTED);
}

/* ---- request encoding -------------------------------------------------------- */

/* The request of the upstream simple_*_shm_client: INPUT0/1 in region
 * input_data (64 bytes each, the second at offset 64), OUTPUT0/1 likewise
 * in output_data. */
static tc_request *golden_request(void)
{
    static const int64_t shape[2] = {1, 16};
    tc_request *req = NULL;
    assert_int_equal(tc_request_new(&req, "simple"), TC_OK);
    assert_int_equal(tc_request_add_input(req, "INPUT0", TC_DTYPE_INT32, shape, 2), TC_OK);
    assert_int_equal(tc_request_add_input(req, "INPUT1", TC_DTYPE_INT32, shape, 2), TC_OK);
    assert_int_equal(tc_request_input_set_shm(req, "INPUT0", "input_data", 64, 0), TC_OK);
    assert_int_equal(tc_request_input_set_shm(req, "INPUT1", "input_data", 64, 64), TC_OK);
    assert_int_equal(tc_request_add_output(req, "OUTPUT0"), TC_OK);
    assert_int_equal(tc_request_add_output(req, "OUTPUT1"), TC_OK);
    assert_int_equal(tc_request_output_set_shm(req, "OUTPUT0", "output_data", 64, 0), TC_OK);
    assert_int_equal(tc_request_output_set_shm(req, "OUTPUT1", "output_data", 64, 64), TC_OK);
    return req;
}

/* spec/golden/http/simple_http_shm_client/0005.request.body.bin */
static const char k_golden_http_body[] =
    "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\",\"parameters\":{"
    "\"shared_memory_region\":\"input_data\",\"shared_memory_byte_size\":64}},{\"name\":"
    "\"INPUT1\",\"shape\":[1,16],\"datatype\":\"INT32\",\"parameters\":{\"shared_memory_region\":"
    "\"input_data\",\"shared_memory_byte_size\":64,\"shared_memory_offset\":64}}],\"outputs\":[{"
    "\"name\":\"OUTPUT0\",\"parameters\":{\"binary_data\":false,\"shared_memory_region\":"
    "\"output_data\",\"shared_memory_byte_size\":64}},{\"name\":\"OUTPUT1\",\"parameters\":{"
    "\"binary_data\":false,\"shared_memory_region\":\"output_data\",\"shared_memory_byte_size\":"
    "64,\"shared_memory_offset\":64}}]}";

static void test_http_request_golden(void **state)
{
    (void)state;
    tc_client *client = NULL;
    tc__xfer *x = NULL;
    tc__error err;
    assert_int_equal(tc_http_client_new(&client, "127.0.0.1:1", NULL), TC_OK);
    tc_request *req = golden_request();
    assert_int_equal(tc__http_infer_prepare((tc__http_client *)client, req, false, &x, &err),
                     TC_OK);
    assert_int_equal(x->body.len, strlen(k_golden_http_body));
    assert_memory_equal(x->body.data, k_golden_http_body, x->body.len);
    tc__xfer_free((tc__http_client *)client, x);
    tc_request_free(req);
    assert_int_equal(tc_client_free(client), TC_OK);
}

static const Inference__InferParameter *
in_param(const Inference__ModelInferRequest__InferInputTensor *in, const char *key)
{
    for (size_t i = 0; i < in->n_parameters; i++) {
        if (strcmp(in->parameters[i]->key, key) == 0)
            return in->parameters[i]->value;
    }
    return NULL;
}

static const Inference__InferParameter *
out_param(const Inference__ModelInferRequest__InferRequestedOutputTensor *o, const char *key)
{
    for (size_t i = 0; i < o->n_parameters; i++) {
        if (strcmp(o->parameters[i]->key, key) == 0)
            return o->parameters[i]->value;
    }
    return NULL;
}

/* Decoded, our message holds what 0005.ModelInfer.request.txt shows. */
static void test_grpc_request_golden(void **state)
{
    (void)state;
    tc_request *req = golden_request();
    tc__buf out = TC__BUF_INIT;
    tc__error err;
    assert_int_equal(tc__grpc_encode_infer(req, TC__GRPC_ENC_IDENTITY, SIZE_MAX, &out, &err),
                     TC_OK);
    assert_true(out.len > 5);
    Inference__ModelInferRequest *m =
        inference__model_infer_request__unpack(NULL, out.len - 5, out.data + 5);
    assert_non_null(m);
    assert_string_equal(m->model_name, "simple");
    assert_int_equal(m->n_raw_input_contents, 0);
    assert_int_equal(m->n_parameters, 0);
    assert_int_equal(m->n_inputs, 2);
    assert_int_equal(m->n_outputs, 2);
    for (size_t i = 0; i < 2; i++) {
        const Inference__InferParameter *p = in_param(m->inputs[i], "shared_memory_region");
        assert_non_null(p);
        assert_int_equal(p->parameter_choice_case,
                         INFERENCE__INFER_PARAMETER__PARAMETER_CHOICE_STRING_PARAM);
        assert_string_equal(p->string_param, "input_data");
        p = in_param(m->inputs[i], "shared_memory_byte_size");
        assert_int_equal(p->parameter_choice_case,
                         INFERENCE__INFER_PARAMETER__PARAMETER_CHOICE_INT64_PARAM);
        assert_int_equal(p->int64_param, 64);
        p = in_param(m->inputs[i], "shared_memory_offset");
        if (i == 0) {
            assert_null(p);
            assert_int_equal(m->inputs[i]->n_parameters, 2);
        } else {
            assert_int_equal(p->int64_param, 64);
            assert_int_equal(m->inputs[i]->n_parameters, 3);
        }
        const Inference__ModelInferRequest__InferRequestedOutputTensor *o = m->outputs[i];
        p = out_param(o, "shared_memory_region");
        assert_non_null(p);
        assert_string_equal(p->string_param, "output_data");
        assert_int_equal(out_param(o, "shared_memory_byte_size")->int64_param, 64);
        assert_int_equal(o->n_parameters, i == 0 ? 2 : 3);
    }
    inference__model_infer_request__free_unpacked(m, NULL);
    tc__buf_cleanup(&out);
    tc_request_free(req);
}

/* Switching an input between shm and inline data on a reused request. */
static void test_reuse_switching(void **state)
{
    (void)state;
    tc_request *req = golden_request();
    bool is = false;
    assert_int_equal(tc_request_input_is_shm(req, "INPUT0", &is), TC_OK);
    assert_true(is);
    int32_t data[16] = {0};
    /* Appending switches back to inline data. */
    assert_int_equal(tc_request_input_append(req, "INPUT0", data, sizeof data, TC_BORROW), TC_OK);
    assert_int_equal(tc_request_input_is_shm(req, "INPUT0", &is), TC_OK);
    assert_false(is);
    /* Setting shm drops the inline data. */
    assert_int_equal(tc_request_input_set_shm(req, "INPUT0", "r", 64, 0), TC_OK);
    size_t n = 1;
    assert_int_equal(tc_request_input_byte_size(req, "INPUT0", &n), TC_OK);
    assert_int_equal(n, 0);
    assert_int_equal(tc_request_input_unset_shm(req, "INPUT0"), TC_OK);
    assert_null(req->base.inputs[0].shm.region);
    assert_int_equal(tc_request_input_set_shm(req, "INPUT1", "r", 4, 0), TC_OK);
    assert_int_equal(tc_request_input_reset(req, "INPUT1"), TC_OK);
    assert_null(req->base.inputs[1].shm.region);
    assert_int_equal(tc_request_output_unset_shm(req, "OUTPUT0"), TC_OK);
    assert_null(req->base.outputs[0].shm.region);
    assert_int_equal(req->base.outputs[0].binary, 1); /* binary again once unset */
    /* Errors. */
    assert_int_equal(tc_request_input_set_shm(req, "nope", "r", 4, 0), TC_E_NOT_FOUND);
    assert_int_equal(tc_request_input_set_shm(req, "INPUT0", "", 4, 0), TC_E_INVALID_ARG);
    assert_int_equal(tc_request_input_set_shm(NULL, "INPUT0", "r", 4, 0), TC_E_INVALID_ARG);
    assert_int_equal(tc_request_output_set_shm(req, "nope", "r", 4, 0), TC_E_NOT_FOUND);
    assert_int_equal(tc_request_output_set_shm(req, "OUTPUT0", NULL, 4, 0), TC_E_INVALID_ARG);
    assert_int_equal(tc_request_input_is_shm(req, "INPUT0", NULL), TC_E_INVALID_ARG);
    tc_request_free(req);
}

/* ---- results ------------------------------------------------------------------ */

/* spec/golden/http/simple_http_shm_client/0005.response.mock.body.bin */
static const char k_golden_response[] =
    "{\"model_name\": \"simple\", \"model_version\": \"1\", \"outputs\": [{\"name\": \"OUTPUT0\", "
    "\"datatype\": \"INT32\", \"shape\": [1, 16], \"parameters\": {\"shared_memory_region\": "
    "\"output_data\", \"shared_memory_byte_size\": 64}}, {\"name\": \"OUTPUT1\", \"datatype\": "
    "\"INT32\", \"shape\": [1, 16], \"parameters\": {\"shared_memory_region\": \"output_data\", "
    "\"shared_memory_byte_size\": 64, \"shared_memory_offset\": 64}}]}";

static tc_result *http_result(const char *json)
{
    tc_result *r = tc__result_new();
    assert_non_null(r);
    uint8_t *body = tc__memdup(json, strlen(json));
    tc__result_from_http(r, 200, body, strlen(json), TC__NO_HEADER_LENGTH);
    assert_int_equal(tc_result_status(r), TC_OK);
    return r;
}

static void test_result_shm(void **state)
{
    (void)state;
    tc_result *r = http_result(k_golden_response);
    bool is = false;
    const char *region = NULL;
    size_t size = 0;
    size_t off = 0;
    assert_int_equal(tc_result_output_is_shm(r, "OUTPUT1", &is), TC_OK);
    assert_true(is);
    assert_int_equal(tc_result_output_shm(r, "OUTPUT1", &region, &size, &off), TC_OK);
    assert_string_equal(region, "output_data");
    assert_int_equal(size, 64);
    assert_int_equal(off, 64);
    assert_int_equal(tc_result_output_shm(r, "OUTPUT0", NULL, NULL, &off), TC_OK);
    assert_int_equal(off, 0);
    assert_int_equal(tc_result_output_shm(r, "nope", NULL, NULL, NULL), TC_E_NOT_FOUND);
    assert_int_equal(tc_result_output_is_shm(r, "OUTPUT0", NULL), TC_E_INVALID_ARG);

    /* Read through a region the caller owns. */
    tc_shm_region *reg = NULL;
    assert_int_equal(tc_shm_region_new(&reg, test_key("result"), 128), TC_OK);
    int32_t sums[16];
    for (int32_t i = 0; i < 16; i++)
        sums[i] = 100 + i;
    assert_int_equal(tc_shm_region_write(reg, 64, sums, sizeof sums), TC_OK);
    const uint8_t *data = NULL;
    assert_int_equal(tc_result_output_read_shm(r, "OUTPUT1", reg, &data, &size), TC_OK);
    assert_int_equal(size, 64);
    assert_memory_equal(data, sums, sizeof sums);
    assert_int_equal(tc_result_output_read_shm(r, "nope", reg, &data, &size), TC_E_NOT_FOUND);
    assert_int_equal(tc_result_output_read_shm(r, "OUTPUT1", NULL, &data, &size), TC_E_INVALID_ARG);
    assert_int_equal(tc_shm_region_destroy(reg), TC_OK);
    /* A region too small for the output is refused. */
    assert_int_equal(tc_shm_region_new(&reg, test_key("small"), 100), TC_OK);
    assert_int_equal(tc_result_output_read_shm(r, "OUTPUT1", reg, &data, &size), TC_E_INVALID_ARG);
    assert_non_null(strstr(tc_shm_last_error(), "beyond"));
    assert_int_equal(tc_shm_region_destroy(reg), TC_OK);
    tc_result_free(r);
}

/* A server that does not echo the shm parameters: the request's references mark the result. */
static void test_result_note_from_request(void **state)
{
    (void)state;
    tc_result *r = http_result("{\"model_name\":\"simple\",\"outputs\":[{\"name\":\"OUTPUT0\","
                               "\"datatype\":\"INT32\",\"shape\":[1,16]},{\"name\":\"OUTPUT1\","
                               "\"datatype\":\"INT32\",\"shape\":[1,16]}]}");
    bool is = true;
    assert_int_equal(tc_result_output_is_shm(r, "OUTPUT1", &is), TC_OK);
    assert_false(is);
    assert_int_equal(tc_result_output_shm(r, "OUTPUT1", NULL, NULL, NULL), TC_E_INVALID_ARG);
    tc_request *req = golden_request();
    tc__result_note_shm(r, &req->base);
    tc__result_note_shm(NULL, &req->base);
    tc_request_free(req);
    const char *region = NULL;
    size_t size = 0;
    size_t off = 0;
    assert_int_equal(tc_result_output_shm(r, "OUTPUT1", &region, &size, &off), TC_OK);
    assert_string_equal(region, "output_data");
    assert_int_equal(size, 64);
    assert_int_equal(off, 64);
    tc_result_free(r);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_create_write_read_destroy),
    cmocka_unit_test(test_bad_arguments),
    cmocka_unit_test(test_bounds),
    cmocka_unit_test(test_write_bytes),
    cmocka_unit_test(test_cuda_not_available),
    cmocka_unit_test(test_http_request_golden),
    cmocka_unit_test(test_grpc_request_golden),
    cmocka_unit_test(test_reuse_switching),
    cmocka_unit_test(test_result_shm),
    cmocka_unit_test(test_result_note_from_request),
};

TC_TEST_MAIN(tests)
