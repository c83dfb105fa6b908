/* libtritonc shared memory against tritonc-server (--allow-client-shm=true),
 * over HTTP and gRPC: register / status / unregister, inference with inputs
 * and outputs in system shared memory (sync and async), BYTES in shared
 * memory, reusing a request while switching between shm and inline data,
 * and the server's errors reaching the caller unchanged. A case skips
 * (with a message) while the server answers registration with
 * TC_E_NOT_SUPPORTED, i.e. before its shm endpoints exist. */
#define _GNU_SOURCE
#include "tc_test.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tritonc/tritonc.h>

#include "server_proc.h"

#define TENSOR_BYTES (16 * sizeof(int32_t))

typedef struct fixture {
    tc_test_server server;
    bool grpc;
    tc_client *client;
    tc_shm_region *in;
    tc_shm_region *out;
    char in_key[64];
    char out_key[64];
} fixture;

static int start(void **state, bool grpc, bool allow)
{
    static const char *const allow_args[] = {"--allow-client-shm=true", NULL};
    fixture *f = calloc(1, sizeof *f);
    if (tc_test_server_start(&f->server, TC_MODELS_DIR, allow ? allow_args : NULL) != 0) {
        free(f);
        return -1;
    }
    f->grpc = grpc;
    char url[64];
    tc_code rc;
    if (grpc) {
        snprintf(url, sizeof url, "127.0.0.1:%d", f->server.grpc_port);
        rc = f->server.grpc_port > 0 ? tc_grpc_client_new(&f->client, url, NULL) : TC_E_INVALID_ARG;
    } else {
        snprintf(url, sizeof url, "127.0.0.1:%d", f->server.http_port);
        rc = tc_http_client_new(&f->client, url, NULL);
    }
    snprintf(f->in_key, sizeof f->in_key, "/tc_it_in_%ld_%d", (long)getpid(), grpc);
    snprintf(f->out_key, sizeof f->out_key, "/tc_it_out_%ld_%d", (long)getpid(), grpc);
    *state = f;
    return rc == TC_OK ? 0 : -1;
}

static int setup_http(void **state)
{
    return start(state, false, true);
}

static int setup_grpc(void **state)
{
    return start(state, true, true);
}

static int setup_http_disabled(void **state)
{
    return start(state, false, false);
}

static int setup_grpc_disabled(void **state)
{
    return start(state, true, false);
}

static int teardown(void **state)
{
    fixture *f = *state;
    assert_int_equal(tc_client_free(f->client), TC_OK);
    (void)tc_shm_region_destroy(f->in);
    (void)tc_shm_region_destroy(f->out);
    int rc = tc_test_server_stop(&f->server);
    free(f);
    assert_int_equal(rc, 0);
    return 0;
}

/* Create the input (two tensors) and output regions and register them as
 * input_data / output_data; skip while the server has no shm endpoints. */
static void make_regions(fixture *f, size_t in_size, size_t out_size)
{
    assert_int_equal(tc_shm_region_new(&f->in, f->in_key, in_size), TC_OK);
    assert_int_equal(tc_shm_region_new(&f->out, f->out_key, out_size), TC_OK);
    tc_code rc =
        tc_client_system_shm_register(f->client, "input_data", f->in_key, 0, in_size, NULL);
    if (rc == TC_E_NOT_SUPPORTED) {
        fprintf(stderr, "SKIP: tritonc-server has no shared memory support yet: %s\n",
                tc_client_last_error(f->client));
        skip();
    }
    assert_int_equal(rc, TC_OK);
    assert_int_equal(
        tc_client_system_shm_register(f->client, "output_data", f->out_key, 0, out_size, NULL),
        TC_OK);
}

static void register_status_unregister(void **state)
{
    fixture *f = *state;
    assert_int_equal(tc_client_system_shm_unregister(f->client, NULL, NULL), TC_OK);
    make_regions(f, 2 * TENSOR_BYTES, 2 * TENSOR_BYTES);
    tc_shm_status *st = NULL;
    assert_int_equal(tc_client_system_shm_status(f->client, NULL, NULL, &st), TC_OK);
    assert_int_equal(tc_shm_status_count(st), 2);
    assert_string_equal(tc_shm_status_name(st, 0), "input_data"); /* sorted by name */
    assert_string_equal(tc_shm_status_key(st, 0), f->in_key);
    assert_int_equal(tc_shm_status_offset(st, 0), 0);
    assert_int_equal(tc_shm_status_byte_size(st, 0), 2 * TENSOR_BYTES);
    assert_int_equal(tc_shm_status_device_id(st, 0), -1);
    assert_string_equal(tc_shm_status_name(st, 1), "output_data");
    assert_null(tc_shm_status_name(st, 2));
    tc_shm_status_free(st);
    /* One region by name. */
    assert_int_equal(tc_client_system_shm_status(f->client, "output_data", NULL, &st), TC_OK);
    assert_int_equal(tc_shm_status_count(st), 1);
    assert_string_equal(tc_shm_status_key(st, 0), f->out_key);
    tc_shm_status_free(st);
    /* Unregister one, then an unknown one (not an error), then all. */
    assert_int_equal(tc_client_system_shm_unregister(f->client, "input_data", NULL), TC_OK);
    assert_int_equal(tc_client_system_shm_unregister(f->client, "never_registered", NULL), TC_OK);
    assert_int_equal(tc_client_system_shm_status(f->client, NULL, NULL, &st), TC_OK);
    assert_int_equal(tc_shm_status_count(st), 1);
    tc_shm_status_free(st);
    assert_int_equal(tc_client_system_shm_unregister(f->client, NULL, NULL), TC_OK);
    assert_int_equal(tc_client_system_shm_status(f->client, NULL, NULL, &st), TC_OK);
    assert_int_equal(tc_shm_status_count(st), 0);
    tc_shm_status_free(st);
    /* CUDA status works without a GPU and lists nothing. */
    assert_int_equal(tc_client_cuda_shm_status(f->client, NULL, NULL, &st), TC_OK);
    assert_int_equal(tc_shm_status_count(st), 0);
    tc_shm_status_free(st);
    assert_int_equal(tc_client_cuda_shm_unregister(f->client, NULL, NULL), TC_OK);
}

static tc_request *simple_shm_request(void)
{
    const int64_t shape[2] = {1, 16};
    tc_request *req = NULL;
    assert_int_equal(tc_request_new(&req, "simple"), TC_OK);
    assert_int_equal(tc_request_add_input(req, "INPUT0", TC_DTYPE_INT32, shape, 2), TC_OK);
    assert_int_equal(tc_request_add_input(req, "INPUT1", TC_DTYPE_INT32, shape, 2), TC_OK);
    assert_int_equal(tc_request_input_set_shm(req, "INPUT0", "input_data", TENSOR_BYTES, 0), TC_OK);
    assert_int_equal(
        tc_request_input_set_shm(req, "INPUT1", "input_data", TENSOR_BYTES, TENSOR_BYTES), TC_OK);
    assert_int_equal(tc_request_add_output(req, "OUTPUT0"), TC_OK);
    assert_int_equal(tc_request_add_output(req, "OUTPUT1"), TC_OK);
    assert_int_equal(tc_request_output_set_shm(req, "OUTPUT0", "output_data", TENSOR_BYTES, 0),
                     TC_OK);
    assert_int_equal(
        tc_request_output_set_shm(req, "OUTPUT1", "output_data", TENSOR_BYTES, TENSOR_BYTES),
        TC_OK);
    return req;
}

static void write_inputs(fixture *f, int32_t base)
{
    int32_t in[32];
    for (int32_t i = 0; i < 16; i++) {
        in[i] = base + i;
        in[16 + i] = 2;
    }
    assert_int_equal(tc_shm_region_write(f->in, 0, in, sizeof in), TC_OK);
}

/* OUTPUT0/1 of `r` read from the output region: sums and differences of write_inputs(base). */
static void check_shm_outputs(fixture *f, const tc_result *r, int32_t base)
{
    bool is = false;
    assert_int_equal(tc_result_output_is_shm(r, "OUTPUT0", &is), TC_OK);
    assert_true(is);
    const char *region = NULL;
    size_t off = 99;
    assert_int_equal(tc_result_output_shm(r, "OUTPUT1", &region, NULL, &off), TC_OK);
    assert_string_equal(region, "output_data");
    assert_int_equal(off, TENSOR_BYTES);
    const uint8_t *sum;
    const uint8_t *diff;
    size_t n0;
    size_t n1;
    assert_int_equal(tc_result_output_read_shm(r, "OUTPUT0", f->out, &sum, &n0), TC_OK);
    assert_int_equal(tc_result_output_read_shm(r, "OUTPUT1", f->out, &diff, &n1), TC_OK);
    assert_int_equal(n0, TENSOR_BYTES);
    assert_int_equal(n1, TENSOR_BYTES);
    for (int32_t i = 0; i < 16; i++) {
        int32_t s;
        int32_t d;
        memcpy(&s, sum + 4 * i, 4);
        memcpy(&d, diff + 4 * i, 4);
        assert_int_equal(s, base + i + 2);
        assert_int_equal(d, base + i - 2);
    }
}

typedef struct async_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    tc_result *result;
} async_wait;

static void on_done(tc_result *result, void *user_data)
{
    async_wait *w = user_data;
    pthread_mutex_lock(&w->mu);
    w->result = result;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void infer_system(void **state)
{
    fixture *f = *state;
    make_regions(f, 2 * TENSOR_BYTES, 2 * TENSOR_BYTES);
    write_inputs(f, 10);
    tc_request *req = simple_shm_request();
    tc_result *r = NULL;
    assert_int_equal(tc_client_infer(f->client, req, &r), TC_OK);
    check_shm_outputs(f, r, 10);
    tc_result_free(r);
    /* Async: the result handed to the callback knows about shm too. */
    write_inputs(f, 100);
    async_wait w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL};
    assert_int_equal(tc_client_infer_async(f->client, req, on_done, &w), TC_OK);
    pthread_mutex_lock(&w.mu);
    while (w.result == NULL)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    assert_int_equal(tc_result_status(w.result), TC_OK);
    check_shm_outputs(f, w.result, 100);
    tc_result_free(w.result);
    tc_request_free(req);
    assert_int_equal(tc_client_system_shm_unregister(f->client, NULL, NULL), TC_OK);
}

static void bytes_in_shm(void **state)
{
    fixture *f = *state;
    make_regions(f, 256, 256);
    const void *elems[3] = {"hello", "", "shared\0memory"};
    size_t lens[3] = {5, 0, 13};
    size_t in_size = 0;
    assert_int_equal(tc_shm_region_write_bytes(f->in, 0, elems, lens, 3, &in_size), TC_OK);
    const int64_t shape[2] = {1, 3};
    tc_request *req = NULL;
    assert_int_equal(tc_request_new(&req, "simple_identity"), TC_OK);
    assert_int_equal(tc_request_add_input(req, "INPUT0", TC_DTYPE_BYTES, shape, 2), TC_OK);
    assert_int_equal(tc_request_input_set_shm(req, "INPUT0", "input_data", in_size, 0), TC_OK);
    assert_int_equal(tc_request_add_output(req, "OUTPUT0"), TC_OK);
    assert_int_equal(tc_request_output_set_shm(req, "OUTPUT0", "output_data", 256, 0), TC_OK);
    tc_result *r = NULL;
    assert_int_equal(tc_client_infer(f->client, req, &r), TC_OK);
    const uint8_t *data;
    size_t size;
    assert_int_equal(tc_result_output_read_shm(r, "OUTPUT0", f->out, &data, &size), TC_OK);
    assert_true(size >= in_size);
    assert_memory_equal(data, tc_shm_region_data(f->in), in_size);
    tc_result_free(r);
    tc_request_free(req);
    assert_int_equal(tc_client_system_shm_unregister(f->client, NULL, NULL), TC_OK);
}

static void reuse_switching(void **state)
{
    fixture *f = *state;
    make_regions(f, 2 * TENSOR_BYTES, 2 * TENSOR_BYTES);
    tc_request *req = simple_shm_request();
    for (int32_t round = 0; round < 4; round++) {
        bool shm = round % 2 == 0;
        int32_t base = round * 7;
        if (shm) {
            write_inputs(f, base);
            assert_int_equal(tc_request_input_set_shm(req, "INPUT0", "input_data", TENSOR_BYTES, 0),
                             TC_OK);
            assert_int_equal(
                tc_request_input_set_shm(req, "INPUT1", "input_data", TENSOR_BYTES, TENSOR_BYTES),
                TC_OK);
            assert_int_equal(
                tc_request_output_set_shm(req, "OUTPUT0", "output_data", TENSOR_BYTES, 0), TC_OK);
            assert_int_equal(tc_request_output_set_shm(req, "OUTPUT1", "output_data", TENSOR_BYTES,
                                                       TENSOR_BYTES),
                             TC_OK);
        } else {
            int32_t in[32];
            for (int32_t i = 0; i < 16; i++) {
                in[i] = base + i;
                in[16 + i] = 2;
            }
            assert_int_equal(tc_request_input_append(req, "INPUT0", in, 64, TC_COPY), TC_OK);
            assert_int_equal(tc_request_input_append(req, "INPUT1", in + 16, 64, TC_COPY), TC_OK);
            assert_int_equal(tc_request_output_unset_shm(req, "OUTPUT0"), TC_OK);
            assert_int_equal(tc_request_output_unset_shm(req, "OUTPUT1"), TC_OK);
        }
        tc_result *r = NULL;
        assert_int_equal(tc_client_infer(f->client, req, &r), TC_OK);
        if (shm) {
            check_shm_outputs(f, r, base);
        } else {
            bool is = true;
            assert_int_equal(tc_result_output_is_shm(r, "OUTPUT0", &is), TC_OK);
            assert_false(is);
            const uint8_t *sum;
            size_t n;
            assert_int_equal(tc_result_output_data(r, "OUTPUT0", &sum, &n), TC_OK);
            assert_int_equal(n, TENSOR_BYTES);
            int32_t s;
            memcpy(&s, sum + 4 * 15, 4);
            assert_int_equal(s, base + 15 + 2);
        }
        tc_result_free(r);
    }
    tc_request_free(req);
    assert_int_equal(tc_client_system_shm_unregister(f->client, NULL, NULL), TC_OK);
}

/* The server's message and code must arrive unchanged. */
static void expect_infer_error(fixture *f, tc_request *req, tc_code http_code, tc_code grpc_code,
                               const char *message)
{
    tc_result *r = NULL;
    tc_code rc = tc_client_infer(f->client, req, &r);
    assert_int_equal(rc, f->grpc ? grpc_code : http_code);
    assert_string_equal(tc_client_last_error(f->client), message);
    assert_string_equal(tc_result_error_message(r), message);
    tc_result_free(r);
}

static void server_errors(void **state)
{
    fixture *f = *state;
    make_regions(f, 2 * TENSOR_BYTES, 2 * TENSOR_BYTES);
    /* Registering a name in use. */
    tc_code rc =
        tc_client_system_shm_register(f->client, "input_data", f->in_key, 0, TENSOR_BYTES, NULL);
    assert_int_equal(rc, f->grpc ? TC_E_ALREADY_EXISTS : TC_E_INVALID_ARG);
    assert_string_equal(tc_client_last_error(f->client),
                        "shared memory region 'input_data' already in manager");
    /* An unknown region. */
    tc_request *req = simple_shm_request();
    assert_int_equal(tc_request_input_set_shm(req, "INPUT0", "nope", TENSOR_BYTES, 0), TC_OK);
    expect_infer_error(f, req, TC_E_NOT_FOUND, TC_E_NOT_FOUND,
                       "Unable to find shared memory region: 'nope'");
    /* An offset at the end of the region, then a span past it. */
    assert_int_equal(
        tc_request_input_set_shm(req, "INPUT0", "input_data", TENSOR_BYTES, 2 * TENSOR_BYTES),
        TC_OK);
    expect_infer_error(f, req, TC_E_INVALID_ARG, TC_E_INVALID_ARG,
                       "Invalid offset for shared memory region: 'input_data'");
    assert_int_equal(tc_request_input_set_shm(req, "INPUT0", "input_data", TENSOR_BYTES, 100),
                     TC_OK);
    expect_infer_error(f, req, TC_E_INVALID_ARG, TC_E_INVALID_ARG,
                       "Invalid offset + byte size for shared memory region: 'input_data'");
    /* Status of an unknown region. */
    tc_shm_status *st = NULL;
    assert_int_equal(tc_client_system_shm_status(f->client, "nope", NULL, &st), TC_E_NOT_FOUND);
    assert_null(st);
    assert_string_equal(tc_client_last_error(f->client),
                        "Unable to find system shared memory region: 'nope'");
    tc_request_free(req);
    assert_int_equal(tc_client_system_shm_unregister(f->client, NULL, NULL), TC_OK);
}

/* Without --allow-client-shm=true registration is refused (status still works). */
static void disabled_by_default(void **state)
{
    fixture *f = *state;
    tc_code rc = tc_client_system_shm_register(f->client, "r", "/tc_it_never", 0, 64, NULL);
    assert_int_equal(rc, TC_E_NOT_SUPPORTED);
    const char *msg = tc_client_last_error(f->client);
    if (strstr(msg, "Client shared memory is disabled") == NULL) {
        fprintf(stderr, "SKIP: tritonc-server has no shared memory support yet: %s\n", msg);
        skip();
    }
    assert_string_equal(msg, "Client shared memory is disabled. Start the server with "
                             "'--allow-client-shm=true' to enable.");
    tc_shm_status *st = NULL;
    assert_int_equal(tc_client_system_shm_status(f->client, NULL, NULL, &st), TC_OK);
    tc_shm_status_free(st);
}

/* The gRPC variants: the same cases on a gRPC client. */
#define GRPC_CASE(fn)                                                                              \
    static void fn##_grpc(void **state)                                                            \
    {                                                                                              \
        fn(state);                                                                                 \
    }
GRPC_CASE(register_status_unregister)
GRPC_CASE(infer_system)
GRPC_CASE(bytes_in_shm)
GRPC_CASE(reuse_switching)
GRPC_CASE(server_errors)
GRPC_CASE(disabled_by_default)

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(register_status_unregister, setup_http, teardown),
    cmocka_unit_test_setup_teardown(register_status_unregister_grpc, setup_grpc, teardown),
    cmocka_unit_test_setup_teardown(infer_system, setup_http, teardown),
    cmocka_unit_test_setup_teardown(infer_system_grpc, setup_grpc, teardown),
    cmocka_unit_test_setup_teardown(bytes_in_shm, setup_http, teardown),
    cmocka_unit_test_setup_teardown(bytes_in_shm_grpc, setup_grpc, teardown),
    cmocka_unit_test_setup_teardown(reuse_switching, setup_http, teardown),
    cmocka_unit_test_setup_teardown(reuse_switching_grpc, setup_grpc, teardown),
    cmocka_unit_test_setup_teardown(server_errors, setup_http, teardown),
    cmocka_unit_test_setup_teardown(server_errors_grpc, setup_grpc, teardown),
    cmocka_unit_test_setup_teardown(disabled_by_default, setup_http_disabled, teardown),
    cmocka_unit_test_setup_teardown(disabled_by_default_grpc, setup_grpc_disabled, teardown),
};

TC_TEST_MAIN(tests)
