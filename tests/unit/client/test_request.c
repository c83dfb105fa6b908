/* tc_request: building, reuse, setters, BYTES appends and the HTTP body
 * the transport builds from it. */
#include "tc_test.h"

#include <string.h>

#include <tritonc/tritonc.h>

#include "client/http_internal.h"
#include "client/request_internal.h"
#include "common/alloc.h"

static const int64_t k_shape[2] = {1, 4};

static void test_new_and_free(void **state)
{
    (void)state;
    tc_request *req = NULL;
    assert_int_equal(tc_request_new(NULL, "m"), TC_E_INVALID_ARG);
    assert_int_equal(tc_request_new(&req, ""), TC_E_INVALID_ARG);
    assert_null(req);
    assert_int_equal(tc_request_new(&req, "simple"), TC_OK);
    assert_non_null(req);
    assert_string_equal(req->base.model_name, "simple");
    tc_request_free(req);
    tc_request_free(NULL);
}

static void test_options(void **state)
{
    (void)state;
    tc_request *req = NULL;
    assert_int_equal(tc_request_new(&req, "simple"), TC_OK);
    assert_int_equal(tc_request_set_model_version(req, "x1"), TC_E_INVALID_ARG);
    assert_int_equal(tc_request_set_model_version(req, "12"), TC_OK);
    assert_string_equal(req->base.model_version, "12");
    assert_int_equal(tc_request_set_model_version(req, ""), TC_OK);
    assert_null(req->base.model_version);
    assert_int_equal(tc_request_set_id(req, "abc"), TC_OK);
    assert_int_equal(tc_request_set_sequence_id(req, 42), TC_OK);
    assert_int_equal(tc_request_set_sequence_id_str(req, "corr"), TC_OK);
    assert_int_equal(req->base.sequence_id, 0);
    assert_string_equal(req->base.sequence_id_str, "corr");
    assert_int_equal(tc_request_set_sequence_id(req, 7), TC_OK);
    assert_null(req->base.sequence_id_str);
    assert_int_equal(req->base.sequence_id, 7);
    assert_int_equal(tc_request_set_sequence_flags(req, true, false), TC_OK);
    assert_true(req->base.sequence_start);
    assert_int_equal(tc_request_set_priority(req, 2), TC_OK);
    assert_int_equal(tc_request_set_timeout_us(req, 5000), TC_OK);
    assert_int_equal(req->base.timeout_us, 5000);
    assert_int_equal(tc_request_set_client_timeout_us(req, 9), TC_OK);
    char long_id[200];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    assert_int_equal(tc_request_set_sequence_id_str(req, long_id), TC_E_INVALID_ARG);
    assert_int_equal(tc_request_add_header(req, "x-a", "1"), TC_OK);
    assert_int_equal(tc_request_add_header(req, "bad\r\n", "1"), TC_E_INVALID_ARG);
    assert_int_equal(tc_request_set_priority(NULL, 1), TC_E_INVALID_ARG);
    tc_request_free(req);
}

static void test_parameters(void **state)
{
    (void)state;
    tc_request *req = NULL;
    assert_int_equal(tc_request_new(&req, "m"), TC_OK);
    assert_int_equal(tc_request_set_parameter_int(req, "priority", 1), TC_E_INVALID_ARG);
    assert_int_equal(tc_request_set_parameter_bool(req, "triton_x", true), TC_E_INVALID_ARG);
    assert_int_equal(tc_request_set_parameter_string(req, "k", NULL), TC_E_INVALID_ARG);
    assert_int_equal(tc_request_set_parameter_string(req, "k", "v"), TC_OK);
    assert_int_equal(tc_request_set_parameter_int(req, "n", -3), TC_OK);
    assert_int_equal(tc_request_set_parameter_double(req, "d", 0.5), TC_OK);
    /* Setting an existing key replaces it, whatever its type. */
    assert_int_equal(tc_request_set_parameter_bool(req, "k", true), TC_OK);
    assert_int_equal(req->base.params.count, 3);
    const tc__param *p = tc__params_find(&req->base.params, "k");
    assert_non_null(p);
    assert_int_equal(p->type, TC__PARAM_BOOL);
    assert_int_equal(tc_request_clear_parameters(req), TC_OK);
    assert_int_equal(req->base.params.count, 0);
    tc_request_free(req);
}

static void test_inputs(void **state)
{
    (void)state;
    tc_request *req = NULL;
    int32_t a[4] = {1, 2, 3, 4};
    int32_t b[4] = {5, 6, 7, 8};
    size_t size = 0;
    assert_int_equal(tc_request_new(&req, "m"), TC_OK);
    assert_int_equal(tc_request_add_input(req, "A", TC_DTYPE_INVALID, k_shape, 2),
                     TC_E_INVALID_ARG);
    const int64_t neg[1] = {-1};
    assert_int_equal(tc_request_add_input(req, "A", TC_DTYPE_INT32, neg, 1), TC_E_INVALID_ARG);
    assert_int_equal(tc_request_add_input(req, "A", TC_DTYPE_INT32, k_shape, 2), TC_OK);
    assert_int_equal(tc_request_add_input(req, "A", TC_DTYPE_INT32, k_shape, 2),
                     TC_E_ALREADY_EXISTS);
    assert_int_equal(tc_request_input_append(req, "nope", a, 4, TC_COPY), TC_E_NOT_FOUND);
    assert_int_equal(tc_request_input_append(req, "A", NULL, 4, TC_COPY), TC_E_INVALID_ARG);
    assert_int_equal(tc_request_input_append(req, "A", a, 8, TC_BORROW), TC_OK);
    assert_int_equal(tc_request_input_append(req, "A", a + 2, 8, TC_COPY), TC_OK);
    assert_int_equal(tc_request_input_byte_size(req, "A", &size), TC_OK);
    assert_int_equal(size, 16);
    assert_ptr_equal(req->data[0].chunks[0].data, a); /* zero-copy */
    assert_ptr_not_equal(req->data[0].chunks[1].data, a + 2);
    /* Reuse: reset drops data, keeps the tensor. */
    assert_int_equal(tc_request_input_reset(req, "A"), TC_OK);
    assert_int_equal(tc_request_input_byte_size(req, "A", &size), TC_OK);
    assert_int_equal(size, 0);
    assert_int_equal(tc_request_input_append(req, "A", b, sizeof b, TC_BORROW), TC_OK);
    const int64_t shape2[2] = {2, 2};
    assert_int_equal(tc_request_input_set_shape(req, "A", shape2, 2), TC_OK);
    assert_int_equal(req->base.inputs[0].shape[0], 2);
    assert_int_equal(tc_request_input_set_binary(req, "A", false), TC_OK);
    assert_false(req->base.inputs[0].binary);
    assert_int_equal(tc_request_add_input(req, "B", TC_DTYPE_FP32, k_shape, 2), TC_OK);
    assert_int_equal(tc_request_input_count(req), 2);
    assert_int_equal(tc_request_remove_input(req, "A"), TC_OK);
    assert_int_equal(tc_request_input_count(req), 1);
    assert_string_equal(req->base.inputs[0].name, "B");
    assert_int_equal(tc_request_clear_inputs(req), TC_OK);
    assert_int_equal(tc_request_input_count(req), 0);
    tc_request_free(req);
}

static void test_bytes_append(void **state)
{
    (void)state;
    tc_request *req = NULL;
    const int64_t shape[1] = {3};
    size_t size = 0;
    assert_int_equal(tc_request_new(&req, "m"), TC_OK);
    assert_int_equal(tc_request_add_input(req, "I", TC_DTYPE_INT32, shape, 1), TC_OK);
    assert_int_equal(tc_request_input_append_bytes(req, "I", "x", 1), TC_E_INVALID_ARG);
    assert_int_equal(tc_request_add_input(req, "S", TC_DTYPE_BYTES, shape, 1), TC_OK);
    assert_int_equal(tc_request_input_append_bytes(req, "S", "he\0llo", 6), TC_OK);
    assert_int_equal(tc_request_input_append_bytes(req, "S", "", 0), TC_OK);
    /* A borrowed serialized element in between, then more appends. */
    static const uint8_t raw[5] = {1, 0, 0, 0, 'z'};
    assert_int_equal(tc_request_input_append(req, "S", raw, sizeof raw, TC_BORROW), TC_OK);
    assert_int_equal(tc_request_input_append_bytes(req, "S", "ab", 2), TC_OK);
    assert_int_equal(tc_request_input_byte_size(req, "S", &size), TC_OK);
    assert_int_equal(size, 10 + 4 + 5 + 6);
    const tc__input_data *d = &req->data[1];
    assert_int_equal(d->count, 3);
    static const uint8_t first[14] = {6, 0, 0, 0, 'h', 'e', 0, 'l', 'l', 'o', 0, 0, 0, 0};
    assert_int_equal(d->chunks[0].len, sizeof first);
    assert_memory_equal(d->chunks[0].data, first, sizeof first);
    assert_ptr_equal(d->chunks[1].data, raw);
    static const uint8_t last[6] = {2, 0, 0, 0, 'a', 'b'};
    assert_memory_equal(d->chunks[2].data, last, sizeof last);
    tc_request_free(req);
}

static void test_outputs(void **state)
{
    (void)state;
    tc_request *req = NULL;
    assert_int_equal(tc_request_new(&req, "m"), TC_OK);
    assert_int_equal(tc_request_add_output(req, "O"), TC_OK);
    assert_int_equal(tc_request_add_output(req, "O"), TC_E_ALREADY_EXISTS);
    assert_int_equal(tc_request_add_output(req, "P"), TC_OK);
    assert_int_equal(req->base.outputs[0].binary, 1);
    assert_int_equal(tc_request_output_set_binary(req, "O", false), TC_OK);
    assert_int_equal(req->base.outputs[0].binary, 0);
    assert_int_equal(tc_request_output_set_class_count(req, "P", 3), TC_OK);
    assert_int_equal(req->base.outputs[1].class_count, 3);
    assert_int_equal(tc_request_output_set_binary(req, "Q", true), TC_E_NOT_FOUND);
    assert_int_equal(tc_request_remove_output(req, "O"), TC_OK);
    assert_int_equal(req->base.output_count, 1);
    assert_int_equal(tc_request_clear_outputs(req), TC_OK);
    assert_int_equal(req->base.output_count, 0);
    assert_int_equal(tc_request_set_binary_outputs(req, false), TC_OK);
    tc_request_free(req);
}

/* The body: JSON header of the stated length, then the binary blobs in order. */
static void check_body(const tc__xfer *x, const uint8_t *blob, size_t blob_len, size_t *json_len)
{
    const uint8_t *body = x->body.data;
    size_t len = x->body.len;
    assert_true(len > blob_len);
    *json_len = len - blob_len;
    assert_memory_equal(body + *json_len, blob, blob_len);
    assert_int_equal(body[0], '{');
    assert_int_equal(body[*json_len - 1], '}');
}

static void test_http_body(void **state)
{
    (void)state;
    tc_client *client = NULL;
    tc_request *req = NULL;
    tc__xfer *x = NULL;
    tc__error err;
    int32_t a[4] = {1, 2, 3, 4};
    int32_t b[4] = {5, 6, 7, 8};
    assert_int_equal(tc_http_client_new(&client, "127.0.0.1:1", NULL), TC_OK);
    assert_int_equal(tc_request_new(&req, "simple"), TC_OK);
    assert_int_equal(tc_request_add_input(req, "A", TC_DTYPE_INT32, k_shape, 2), TC_OK);
    assert_int_equal(tc_request_add_input(req, "B", TC_DTYPE_INT32, k_shape, 2), TC_OK);
    assert_int_equal(tc_request_add_input(req, "J", TC_DTYPE_INT32, k_shape, 2), TC_OK);
    assert_int_equal(tc_request_input_append(req, "A", a, 8, TC_BORROW), TC_OK);
    assert_int_equal(tc_request_input_append(req, "A", a + 2, 8, TC_COPY), TC_OK);
    assert_int_equal(tc_request_input_append(req, "B", b, sizeof b, TC_BORROW), TC_OK);
    assert_int_equal(tc_request_input_append(req, "J", b, 8, TC_BORROW), TC_OK);
    assert_int_equal(tc_request_input_append(req, "J", b + 2, 8, TC_BORROW), TC_OK);
    assert_int_equal(tc_request_input_set_binary(req, "J", false), TC_OK);
    assert_int_equal(tc_request_set_model_version(req, "3"), TC_OK);
    assert_int_equal(tc__http_infer_prepare((tc__http_client *)client, req, false, &x, &err),
                     TC_OK);
    uint8_t blobs[32];
    memcpy(blobs, a, 16);
    memcpy(blobs + 16, b, 16);
    size_t json_len;
    check_body(x, blobs, sizeof blobs, &json_len);
    const char *json = (const char *)x->body.data;
    assert_non_null(strstr(json, "\"binary_data_size\":16"));
    assert_non_null(strstr(json, "\"binary_data_output\":true"));
    assert_non_null(strstr(x->url, "/v2/models/simple/versions/3/infer"));
    char want[64];
    snprintf(want, sizeof want, "Inference-Header-Content-Length: %zu", json_len);
    bool found = false;
    for (const struct curl_slist *h = x->headers; h != NULL; h = h->next)
        found = found || strcmp(h->data, want) == 0;
    assert_true(found);
    tc__xfer_free((tc__http_client *)client, x);
    /* Sending never changes the request: a second body is identical in size. */
    assert_int_equal(tc__http_infer_prepare((tc__http_client *)client, req, true, &x, &err), TC_OK);
    assert_int_equal(x->body.len, json_len + sizeof blobs);
    tc__xfer_free((tc__http_client *)client, x);
    tc_request_free(req);
    assert_int_equal(tc_client_free(client), TC_OK);
}

static void test_http_body_zero_copy(void **state)
{
    (void)state;
    tc_client *client = NULL;
    tc_request *req = NULL;
    tc__xfer *x = NULL;
    tc__error err;
    size_t n = 256 * 1024;
    uint8_t *big = tc__calloc(1, n);
    assert_non_null(big);
    const int64_t shape[1] = {(int64_t)n};
    assert_int_equal(tc_http_client_new(&client, "http://127.0.0.1:1/", NULL), TC_OK);
    assert_int_equal(tc_request_new(&req, "m/x"), TC_OK);
    assert_int_equal(tc_request_add_input(req, "U", TC_DTYPE_UINT8, shape, 1), TC_OK);
    assert_int_equal(tc_request_input_append(req, "U", big, n, TC_BORROW), TC_OK);
    assert_int_equal(tc_request_input_append(req, "U", "ab", 2, TC_COPY), TC_OK);
    assert_int_equal(tc_request_input_set_shape(req, "U", (int64_t[]){(int64_t)n + 2}, 1), TC_OK);
    assert_int_equal(tc__http_infer_prepare((tc__http_client *)client, req, true, &x, &err), TC_OK);
    assert_int_equal(x->iov_count, 3);
    assert_ptr_equal(x->iov[1].data, big); /* borrowed: not copied */
    assert_int_equal(x->copy_count, 1);    /* owned: copied for the async send */
    assert_non_null(strstr(x->url, "/v2/models/m%2Fx/infer"));
    tc__xfer_free((tc__http_client *)client, x);
    tc_request_free(req);
    assert_int_equal(tc_client_free(client), TC_OK);
    tc__free(big);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_new_and_free), cmocka_unit_test(test_options),
    cmocka_unit_test(test_parameters),   cmocka_unit_test(test_inputs),
    cmocka_unit_test(test_bytes_append), cmocka_unit_test(test_outputs),
    cmocka_unit_test(test_http_body),    cmocka_unit_test(test_http_body_zero_copy),
};

TC_TEST_MAIN(tests)
