/* libtritonc's gRPC client against tritonc-server: the coverage of
 * test_http_client.c over gRPC (every endpoint, sync and async inference,
 * errors, timeouts, shutdown with requests in flight), plus streams with
 * the decoupled models repeat_int32 / square_int32 and sequences. Each case
 * starts its own server on ephemeral ports. Until the server serves gRPC
 * (it prints "Started GRPCInferenceService at"), every case is skipped
 * with a message; stream cases also skip while their model is missing. */
#include "tc_test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tritonc/tritonc.h>

#include "server_proc.h"

typedef struct fixture {
    tc_test_server server;
    tc_client *client;
} fixture;

static tc_client *new_client(int port, tc_compression compression)
{
    char url[64];
    snprintf(url, sizeof url, "localhost:%d", port);
    tc_grpc_options *opts = NULL;
    assert_int_equal(tc_grpc_options_new(&opts), TC_OK);
    assert_int_equal(tc_grpc_options_set_compression(opts, compression), TC_OK);
    assert_int_equal(tc_grpc_options_add_header(opts, "x-test", "1"), TC_OK);
    tc_client *client = NULL;
    assert_int_equal(tc_grpc_client_new(&client, url, opts), TC_OK);
    tc_grpc_options_free(opts);
    return client;
}

static int start_with(void **state, const char *const *args)
{
    fixture *f = calloc(1, sizeof *f);
    if (tc_test_server_start(&f->server, TC_MODELS_DIR, args) != 0) {
        free(f);
        return -1;
    }
    if (f->server.grpc_port > 0)
        f->client = new_client(f->server.grpc_port, TC_COMPRESSION_NONE);
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

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->client != NULL)
        assert_int_equal(tc_client_free(f->client), TC_OK);
    int rc = tc_test_server_stop(&f->server);
    free(f);
    assert_int_equal(rc, 0);
    return 0;
}

/* Skip the case (with the reason on stderr) while the server has no gRPC port. */
#define NEED_GRPC(state)                                                                           \
    do {                                                                                           \
        if (((fixture *)*(state))->client == NULL) {                                               \
            fprintf(stderr, "SKIP: tritonc-server does not serve gRPC yet\n");                    \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

static tc_client *client_of(void **state)
{
    return ((fixture *)*state)->client;
}

static int32_t g_in0[16];
static int32_t g_in1[16];

static tc_request *simple_request(bool binary_in, bool binary_out)
{
    for (int i = 0; i < 16; i++) {
        g_in0[i] = i;
        g_in1[i] = 1;
    }
    const int64_t shape[2] = {1, 16};
    tc_request *req = NULL;
    assert_int_equal(tc_request_new(&req, "simple"), TC_OK);
    assert_int_equal(tc_request_add_input(req, "INPUT0", TC_DTYPE_INT32, shape, 2), TC_OK);
    assert_int_equal(tc_request_add_input(req, "INPUT1", TC_DTYPE_INT32, shape, 2), TC_OK);
    assert_int_equal(tc_request_input_append(req, "INPUT0", g_in0, sizeof g_in0, TC_BORROW), TC_OK);
    assert_int_equal(tc_request_input_append(req, "INPUT1", g_in1, sizeof g_in1, TC_COPY), TC_OK);
    assert_int_equal(tc_request_input_set_binary(req, "INPUT0", binary_in), TC_OK);
    assert_int_equal(tc_request_input_set_binary(req, "INPUT1", binary_in), TC_OK);
    assert_int_equal(tc_request_add_output(req, "OUTPUT0"), TC_OK);
    assert_int_equal(tc_request_output_set_binary(req, "OUTPUT0", binary_out), TC_OK);
    assert_int_equal(tc_request_add_output(req, "OUTPUT1"), TC_OK);
    assert_int_equal(tc_request_output_set_binary(req, "OUTPUT1", binary_out), TC_OK);
    return req;
}

static void check_simple_result(const tc_result *res)
{
    assert_int_equal(tc_result_status(res), TC_OK);
    assert_string_equal(tc_result_model_name(res), "simple");
    assert_string_equal(tc_result_model_version(res), "1");
    const uint8_t *data = NULL;
    size_t size = 0;
    const int64_t *shape = NULL;
    size_t ndim = 0;
    tc_dtype dtype = TC_DTYPE_INVALID;
    assert_int_equal(tc_result_output_dtype(res, "OUTPUT0", &dtype), TC_OK);
    assert_int_equal(dtype, TC_DTYPE_INT32);
    assert_int_equal(tc_result_output_shape(res, "OUTPUT0", &shape, &ndim), TC_OK);
    assert_int_equal(ndim, 2);
    assert_int_equal(shape[1], 16);
    assert_int_equal(tc_result_output_data(res, "OUTPUT0", &data, &size), TC_OK);
    assert_int_equal(size, 64);
    for (int i = 0; i < 16; i++)
        assert_int_equal(((const int32_t *)data)[i], i + 1);
    assert_int_equal(tc_result_output_data(res, "OUTPUT1", &data, &size), TC_OK);
    for (int i = 0; i < 16; i++)
        assert_int_equal(((const int32_t *)data)[i], i - 1);
    assert_int_equal(tc_result_output_data(res, "NOPE", &data, &size), TC_E_NOT_FOUND);
}

static void health_and_metadata(void **state)
{
    NEED_GRPC(state);
    tc_client *c = client_of(state);
    bool yes = false;
    assert_int_equal(tc_client_is_server_live(c, NULL, &yes), TC_OK);
    assert_true(yes);
    yes = false;
    assert_int_equal(tc_client_is_server_ready(c, NULL, &yes), TC_OK);
    assert_true(yes);
    yes = false;
    assert_int_equal(tc_client_is_model_ready(c, "simple", NULL, NULL, &yes), TC_OK);
    assert_true(yes);
    yes = true;
    tc_code rc = tc_client_is_model_ready(c, "nope", NULL, NULL, &yes);
    assert_true(rc == TC_E_NOT_FOUND || (rc == TC_OK && !yes));

    tc_server_metadata *sm = NULL;
    assert_int_equal(tc_client_server_metadata(c, NULL, &sm), TC_OK);
    assert_string_equal(tc_server_metadata_name(sm), "triton");
    assert_true(tc_server_metadata_extension_count(sm) > 0);
    tc_server_metadata_free(sm);

    tc_model_metadata *mm = NULL;
    assert_int_equal(tc_client_model_metadata(c, "simple", NULL, NULL, &mm), TC_OK);
    assert_string_equal(tc_model_metadata_name(mm), "simple");
    assert_int_equal(tc_model_metadata_version_count(mm), 1);
    assert_string_equal(tc_model_metadata_version(mm, 0), "1");
    assert_int_equal(tc_model_metadata_input_count(mm), 2);
    const char *name = NULL;
    tc_dtype dtype = TC_DTYPE_INVALID;
    const int64_t *shape = NULL;
    size_t ndim = 0;
    assert_int_equal(tc_model_metadata_input(mm, 0, &name, &dtype, &shape, &ndim), TC_OK);
    assert_string_equal(name, "INPUT0");
    assert_int_equal(dtype, TC_DTYPE_INT32);
    assert_int_equal(ndim, 2);
    assert_int_equal(shape[0], -1);
    tc_model_metadata_free(mm);

    mm = NULL;
    assert_int_equal(tc_client_model_metadata(c, "nope", NULL, NULL, &mm), TC_E_NOT_FOUND);
    assert_null(mm);
    assert_non_null(strstr(tc_client_last_error(c), "Request for unknown model"));

    char *json = NULL;
    assert_int_equal(tc_client_model_config(c, "simple", NULL, NULL, &json), TC_OK);
    assert_non_null(strstr(json, "\"max_batch_size\":8"));
    tc_string_free(json);
}

static void infer_sync_binary_and_json(void **state)
{
    NEED_GRPC(state);
    for (int mode = 0; mode < 4; mode++) {
        tc_request *req = simple_request(mode & 1, mode & 2);
        tc_result *res = NULL;
        assert_int_equal(tc_client_infer(client_of(state), req, &res), TC_OK);
        check_simple_result(res);
        tc_result_free(res);
        /* The request is reusable unchanged. */
        res = NULL;
        assert_int_equal(tc_client_infer(client_of(state), req, &res), TC_OK);
        check_simple_result(res);
        tc_result_free(res);
        tc_request_free(req);
    }
}

static void infer_errors_carry_server_message(void **state)
{
    NEED_GRPC(state);
    tc_request *req = simple_request(true, true);
    assert_int_equal(tc_request_set_model_name(req, "wrong_model_name"), TC_OK);
    tc_result *res = NULL;
    assert_int_equal(tc_client_infer(client_of(state), req, &res), TC_E_NOT_FOUND);
    assert_non_null(res);
    assert_string_equal(tc_result_error_message(res),
                        "Request for unknown model: 'wrong_model_name' is not found");
    assert_int_equal(tc_result_http_status(res), 0);
    tc_result_free(res);
    /* Wrong shape: the server's 400 message arrives unchanged. */
    assert_int_equal(tc_request_set_model_name(req, "simple"), TC_OK);
    const int64_t bad_shape[2] = {1, 8};
    assert_int_equal(tc_request_input_set_shape(req, "INPUT0", bad_shape, 2), TC_OK);
    res = NULL;
    assert_int_equal(tc_client_infer(client_of(state), req, &res), TC_E_INVALID_ARG);
    assert_int_equal(tc_result_http_status(res), 0);
    assert_true(strlen(tc_result_error_message(res)) > 0);
    tc_result_free(res);
    tc_request_free(req);
}

static void infer_strings_and_identity(void **state)
{
    NEED_GRPC(state);
    const int64_t shape[2] = {1, 16};
    tc_request *req = NULL;
    assert_int_equal(tc_request_new(&req, "simple_string"), TC_OK);
    assert_int_equal(tc_request_add_input(req, "INPUT0", TC_DTYPE_BYTES, shape, 2), TC_OK);
    assert_int_equal(tc_request_add_input(req, "INPUT1", TC_DTYPE_BYTES, shape, 2), TC_OK);
    for (int i = 0; i < 16; i++) {
        char s[8];
        int n = snprintf(s, sizeof s, "%d", i);
        assert_int_equal(tc_request_input_append_bytes(req, "INPUT0", s, (size_t)n), TC_OK);
        assert_int_equal(tc_request_input_append_bytes(req, "INPUT1", "1", 1), TC_OK);
    }
    tc_result *res = NULL;
    assert_int_equal(tc_client_infer(client_of(state), req, &res), TC_OK);
    size_t count = 0;
    assert_int_equal(tc_result_output_bytes_count(res, "OUTPUT0", &count), TC_OK);
    assert_int_equal(count, 16);
    for (size_t i = 0; i < 16; i++) {
        const uint8_t *e = NULL;
        size_t len = 0;
        char want[8];
        snprintf(want, sizeof want, "%d", (int)i - 1);
        assert_int_equal(tc_result_output_bytes_element(res, "OUTPUT1", i, &e, &len), TC_OK);
        assert_int_equal(len, strlen(want));
        assert_memory_equal(e, want, len);
    }
    tc_result_free(res);
    tc_request_free(req);

    const int64_t id_shape[2] = {1, 3};
    assert_int_equal(tc_request_new(&req, "simple_identity"), TC_OK);
    assert_int_equal(tc_request_add_input(req, "INPUT0", TC_DTYPE_BYTES, id_shape, 2), TC_OK);
    assert_int_equal(tc_request_input_append_bytes(req, "INPUT0", "he\0llo", 6), TC_OK);
    assert_int_equal(tc_request_input_append_bytes(req, "INPUT0", "\x00\x01\xff", 3), TC_OK);
    assert_int_equal(tc_request_input_append_bytes(req, "INPUT0", "", 0), TC_OK);
    assert_int_equal(tc_request_input_set_binary(req, "INPUT0", true), TC_OK);
    assert_int_equal(tc_request_set_binary_outputs(req, true), TC_OK);
    res = NULL;
    assert_int_equal(tc_client_infer(client_of(state), req, &res), TC_OK);
    const uint8_t *e = NULL;
    size_t len = 0;
    assert_int_equal(tc_result_output_bytes_element(res, "OUTPUT0", 0, &e, &len), TC_OK);
    assert_int_equal(len, 6);
    assert_memory_equal(e, "he\0llo", 6);
    assert_int_equal(tc_result_output_bytes_element(res, "OUTPUT0", 1, &e, &len), TC_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(e, "\x00\x01\xff", 3);
    assert_int_equal(tc_result_output_bytes_element(res, "OUTPUT0", 2, &e, &len), TC_OK);
    assert_int_equal(len, 0);
    assert_int_equal(tc_result_output_bytes_element(res, "OUTPUT0", 3, &e, &len), TC_E_INVALID_ARG);
    tc_result_free(res);
    tc_request_free(req);
}

static void infer_classification(void **state)
{
    NEED_GRPC(state);
    tc_request *req = simple_request(true, false);
    assert_int_equal(tc_request_remove_output(req, "OUTPUT1"), TC_OK);
    assert_int_equal(tc_request_output_set_class_count(req, "OUTPUT0", 3), TC_OK);
    tc_result *res = NULL;
    assert_int_equal(tc_client_infer(client_of(state), req, &res), TC_OK);
    assert_int_equal(tc_result_output_count(res), 1);
    const uint8_t *e = NULL;
    size_t len = 0;
    assert_int_equal(tc_result_output_bytes_element(res, "OUTPUT0", 0, &e, &len), TC_OK);
    assert_int_equal(len, strlen("16:15"));
    assert_memory_equal(e, "16:15", len);
    tc_result_free(res);
    tc_request_free(req);
}

typedef struct async_state {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
    int ok;
    tc_code last;
    atomic_int calls[64];
} async_state;

typedef struct async_ticket {
    async_state *st;
    int index;
} async_ticket;

static void on_result(tc_result *res, void *user_data)
{
    async_ticket *t = user_data;
    async_state *st = t->st;
    atomic_fetch_add(&st->calls[t->index], 1);
    bool good = tc_result_status(res) == TC_OK;
    if (good) {
        const uint8_t *data = NULL;
        size_t size = 0;
        good = tc_result_output_data(res, "OUTPUT0", &data, &size) == TC_OK && size == 64 &&
               ((const int32_t *)data)[15] == 16;
    }
    pthread_mutex_lock(&st->lock);
    st->last = tc_result_status(res);
    st->done++;
    st->ok += good;
    pthread_cond_signal(&st->cond);
    pthread_mutex_unlock(&st->lock);
    tc_result_free(res);
}

static void wait_done(async_state *st, int n)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&st->lock);
    while (st->done < n) {
        if (pthread_cond_timedwait(&st->cond, &st->lock, &until) != 0)
            break;
    }
    pthread_mutex_unlock(&st->lock);
}

static void infer_async_many(void **state)
{
    NEED_GRPC(state);
    async_state st = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, TC_OK, {0}};
    async_ticket tickets[64];
    tc_request *req = simple_request(true, true);
    for (int i = 0; i < 64; i++) {
        tickets[i] = (async_ticket){&st, i};
        assert_int_equal(tc_client_infer_async(client_of(state), req, on_result, &tickets[i]), TC_OK);
        if (i == 10) {
            /* The request may change after submission without affecting what was sent. */
            tc_request_free(req);
            req = simple_request(false, false);
        }
    }
    wait_done(&st, 64);
    assert_int_equal(st.done, 64);
    assert_int_equal(st.ok, 64);
    for (int i = 0; i < 64; i++)
        assert_int_equal(atomic_load(&st.calls[i]), 1);
    tc_request_free(req);
}

static void compression_both_ways(void **state)
{
    NEED_GRPC(state);
    fixture *f = *state;
    for (int alg = TC_COMPRESSION_GZIP; alg <= TC_COMPRESSION_DEFLATE; alg++) {
        tc_client *c = new_client(f->server.grpc_port, (tc_compression)alg);
        tc_request *req = simple_request(true, true);
        tc_result *res = NULL;
        assert_int_equal(tc_client_infer(c, req, &res), TC_OK);
        check_simple_result(res);
        tc_result_free(res);
        tc_request_free(req);
        assert_int_equal(tc_client_free(c), TC_OK);
    }
}

static void statistics_trace_and_logging(void **state)
{
    NEED_GRPC(state);
    tc_client *c = client_of(state);
    tc_request *req = simple_request(true, true);
    for (int i = 0; i < 2; i++) {
        tc_result *res = NULL;
        assert_int_equal(tc_client_infer(c, req, &res), TC_OK);
        tc_result_free(res);
    }
    tc_request_free(req);
    char *json = NULL;
    assert_int_equal(tc_client_model_statistics(c, "simple", NULL, NULL, &json), TC_OK);
    assert_non_null(strstr(json, "\"inference_count\":2"));
    tc_string_free(json);
    json = NULL;
    assert_int_equal(tc_client_model_statistics(c, NULL, NULL, NULL, &json), TC_OK);
    assert_non_null(strstr(json, "\"simple_string\""));
    tc_string_free(json);

    json = NULL;
    assert_int_equal(tc_client_update_trace_settings(c, NULL, "{\"trace_rate\":\"5\"}", NULL, &json),
                     TC_OK);
    assert_non_null(strstr(json, "\"trace_rate\":\"5\""));
    tc_string_free(json);
    json = NULL;
    assert_int_equal(tc_client_get_trace_settings(c, NULL, NULL, &json), TC_OK);
    assert_non_null(strstr(json, "\"trace_rate\":\"5\""));
    tc_string_free(json);
    json = NULL;
    assert_int_equal(tc_client_update_log_settings(c, "{\"log_verbose_level\":1}", NULL, &json), TC_OK);
    assert_non_null(strstr(json, "\"log_verbose_level\":1"));
    tc_string_free(json);
    json = NULL;
    assert_int_equal(tc_client_get_log_settings(c, NULL, &json), TC_OK);
    assert_non_null(strstr(json, "log_info"));
    tc_string_free(json);
}

static bool index_has(tc_repository_index *idx, const char *name, const char *state)
{
    for (size_t i = 0; i < tc_repository_index_count(idx); i++) {
        if (strcmp(tc_repository_index_name(idx, i), name) == 0 &&
            strcmp(tc_repository_index_state(idx, i), state) == 0)
            return true;
    }
    return false;
}

static void repository_control(void **state)
{
    NEED_GRPC(state);
    tc_client *c = client_of(state);
    tc_repository_index *idx = NULL;
    assert_int_equal(tc_client_repository_index(c, false, NULL, &idx), TC_OK);
    assert_true(tc_repository_index_count(idx) >= 5);
    assert_true(index_has(idx, "simple", ""));
    tc_repository_index_free(idx);

    assert_int_equal(tc_client_load_model(c, "simple", NULL, NULL), TC_OK);
    bool ready = false;
    assert_int_equal(tc_client_is_model_ready(c, "simple", NULL, NULL, &ready), TC_OK);
    assert_true(ready);
    idx = NULL;
    assert_int_equal(tc_client_repository_index(c, true, NULL, &idx), TC_OK);
    assert_true(index_has(idx, "simple", "READY"));
    assert_int_equal(tc_repository_index_count(idx), 1);
    tc_repository_index_free(idx);

    assert_int_equal(tc_client_unload_model(c, "simple", false, NULL), TC_OK);
    ready = true;
    tc_code rc = tc_client_is_model_ready(c, "simple", NULL, NULL, &ready);
    assert_true(rc != TC_OK || !ready);

    tc_load_options *opts = NULL;
    assert_int_equal(tc_load_options_new(&opts), TC_OK);
    assert_int_equal(tc_load_options_set_config(opts, "{\"max_batch_size\":\"not a number\"}"), TC_OK);
    assert_int_not_equal(tc_client_load_model(c, "simple", opts, NULL), TC_OK);
    assert_non_null(strstr(tc_client_last_error(c), "failed to load"));
    tc_load_options_free(opts);
}

/* custom_identity_int32 reloaded with a 1.5 s execute delay. */
static void load_slow_identity(tc_client *c)
{
    tc_load_options *opts = NULL;
    assert_int_equal(tc_load_options_new(&opts), TC_OK);
    assert_int_equal(tc_load_options_set_config(opts,
        "{\"name\":\"custom_identity_int32\",\"backend\":\"tritonc_identity\",\"max_batch_size\":1024,"
        "\"input\":[{\"name\":\"INPUT0\",\"data_type\":\"TYPE_INT32\",\"dims\":[-1]}],"
        "\"output\":[{\"name\":\"OUTPUT0\",\"data_type\":\"TYPE_INT32\",\"dims\":[-1]}],"
        "\"parameters\":{\"execute_delay_ms\":{\"string_value\":\"1500\"}}}"), TC_OK);
    tc_code rc = tc_client_load_model(c, "custom_identity_int32", opts, NULL);
    if (rc != TC_OK)
        fail_msg("load failed: %s", tc_client_last_error(c));
    tc_load_options_free(opts);
}

static tc_request *identity_request(void)
{
    static const int32_t value[4] = {1, 2, 3, 4};
    const int64_t shape[2] = {1, 4};
    tc_request *req = NULL;
    assert_int_equal(tc_request_new(&req, "custom_identity_int32"), TC_OK);
    assert_int_equal(tc_request_add_input(req, "INPUT0", TC_DTYPE_INT32, shape, 2), TC_OK);
    assert_int_equal(tc_request_input_append(req, "INPUT0", value, sizeof value, TC_BORROW), TC_OK);
    return req;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void client_timeout_sync_and_async(void **state)
{
    NEED_GRPC(state);
    tc_client *c = client_of(state);
    load_slow_identity(c);
    tc_request *req = identity_request();
    assert_int_equal(tc_request_set_client_timeout_us(req, 200000), TC_OK);
    tc_result *res = NULL;
    double t0 = now_s();
    assert_int_equal(tc_client_infer(c, req, &res), TC_E_TIMEOUT);
    assert_true(now_s() - t0 < 1.4);
    tc_result_free(res);

    async_state st = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, TC_OK, {0}};
    async_ticket t = {&st, 0};
    assert_int_equal(tc_client_infer_async(c, req, on_result, &t), TC_OK);
    wait_done(&st, 1);
    assert_int_equal(st.done, 1);
    assert_int_equal(st.last, TC_E_TIMEOUT);
    assert_int_equal(atomic_load(&st.calls[0]), 1);
    /* Without the deadline the same request succeeds. */
    assert_int_equal(tc_request_set_client_timeout_us(req, 0), TC_OK);
    res = NULL;
    assert_int_equal(tc_client_infer(c, req, &res), TC_OK);
    tc_result_free(res);
    tc_request_free(req);
}

static void free_with_requests_in_flight(void **state)
{
    NEED_GRPC(state);
    fixture *f = *state;
    load_slow_identity(f->client);
    async_state st = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, TC_OK, {0}};
    async_ticket tickets[4];
    tc_request *req = identity_request();
    for (int i = 0; i < 4; i++) {
        tickets[i] = (async_ticket){&st, i};
        assert_int_equal(tc_client_infer_async(f->client, req, on_result, &tickets[i]), TC_OK);
    }
    tc_request_free(req);
    assert_int_equal(tc_client_free(f->client), TC_OK);
    f->client = NULL;
    /* Every callback ran exactly once before tc_client_free returned. */
    assert_int_equal(st.done, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(atomic_load(&st.calls[i]), 1);
    assert_int_equal(st.last, TC_E_CANCELLED);
}

static void unreachable_server_is_transport_error(void **state)
{
    NEED_GRPC(state);
    (void)state;
    tc_client *c = new_client(1, TC_COMPRESSION_NONE); /* nothing listens on port 1 */
    bool live = true;
    assert_int_equal(tc_client_is_server_live(c, NULL, &live), TC_E_TRANSPORT);
    async_state st = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, TC_OK, {0}};
    async_ticket t = {&st, 0};
    tc_request *req = simple_request(true, true);
    assert_int_equal(tc_client_infer_async(c, req, on_result, &t), TC_OK);
    wait_done(&st, 1);
    assert_int_equal(st.last, TC_E_TRANSPORT);
    assert_int_equal(atomic_load(&st.calls[0]), 1);
    tc_request_free(req);
    assert_int_equal(tc_client_free(c), TC_OK);
}


/* ---- streams --------------------------------------------------------------------- */

static void need_model(void **state, const char *model)
{
    bool ready = false;
    if (tc_client_is_model_ready(client_of(state), model, NULL, NULL, &ready) != TC_OK || !ready) {
        fprintf(stderr, "SKIP: model %s is not in the repository yet\n", model);
        skip();
    }
}

#define MAX_RESP 64

typedef struct stream_log {
    pthread_mutex_t mu;
    int responses; /* results with outputs */
    int empties;   /* results without outputs */
    int finals;
    int errors;
    int ends;
    tc_code end_status;
    char ids[MAX_RESP][32];
    int32_t values[MAX_RESP];
} stream_log;

static void on_stream(tc_stream *s, tc_result *r, bool final, void *ud)
{
    stream_log *l = ud;
    pthread_mutex_lock(&l->mu);
    if (r == NULL) {
        l->ends++;
        l->end_status = tc_stream_status(s);
        pthread_mutex_unlock(&l->mu);
        return;
    }
    if (final)
        l->finals++;
    if (tc_result_status(r) != TC_OK) {
        l->errors++;
    } else if (tc_result_output_count(r) == 0) {
        l->empties++;
    } else if (l->responses < MAX_RESP) {
        const uint8_t *d = NULL;
        size_t n = 0;
        const char *name = tc_result_output_name(r, 0);
        if (tc_result_output_data(r, name, &d, &n) == TC_OK && n >= 4)
            memcpy(&l->values[l->responses], d, 4);
        snprintf(l->ids[l->responses], sizeof l->ids[0], "%s", tc_result_id(r));
        l->responses++;
    }
    pthread_mutex_unlock(&l->mu);
    tc_result_free(r);
}

static tc_request *repeat_request(const char *id, int n, bool empty_final)
{
    const int64_t len = n;
    const int64_t one = 1;
    static const uint32_t zero = 0;
    tc_request *req = NULL;
    assert_int_equal(tc_request_new(&req, "repeat_int32"), TC_OK);
    assert_int_equal(tc_request_set_id(req, id), TC_OK);
    assert_int_equal(tc_request_add_input(req, "IN", TC_DTYPE_INT32, &len, 1), TC_OK);
    assert_int_equal(tc_request_add_input(req, "DELAY", TC_DTYPE_UINT32, &len, 1), TC_OK);
    assert_int_equal(tc_request_add_input(req, "WAIT", TC_DTYPE_UINT32, &one, 1), TC_OK);
    assert_int_equal(tc_request_input_append(req, "WAIT", &zero, 4, TC_COPY), TC_OK);
    for (int i = 0; i < n; i++) {
        int32_t v = 10 + i;
        uint32_t delay = 1;
        assert_int_equal(tc_request_input_append(req, "IN", &v, 4, TC_COPY), TC_OK);
        assert_int_equal(tc_request_input_append(req, "DELAY", &delay, 4, TC_COPY), TC_OK);
    }
    assert_int_equal(tc_request_set_enable_empty_final_response(req, empty_final), TC_OK);
    return req;
}

static void stream_decoupled_repeat(void **state)
{
    NEED_GRPC(state);
    need_model(state, "repeat_int32");
    stream_log l = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0, 0, TC_OK, {{0}}, {0}};
    tc_stream *s = NULL;
    assert_int_equal(tc_client_stream_start(client_of(state), on_stream, &l, NULL, &s), TC_OK);
    tc_request *a = repeat_request("a", 4, true);
    tc_request *b = repeat_request("b", 0, true); /* no data: only the empty final */
    tc_request *c = repeat_request("c", 3, false);
    assert_int_equal(tc_stream_send(s, a), TC_OK);
    assert_int_equal(tc_stream_send(s, b), TC_OK);
    assert_int_equal(tc_stream_send(s, c), TC_OK);
    assert_int_equal(tc_stream_stop(s, false), TC_OK);
    assert_int_equal(l.ends, 1);
    assert_int_equal(l.end_status, TC_OK);
    assert_int_equal(l.errors, 0);
    assert_int_equal(l.responses, 7);
    assert_int_equal(l.empties, 2); /* a and b asked for it, c did not */
    assert_int_equal(l.finals, 2);
    int seen_a = 0;
    for (int i = 0; i < l.responses; i++) {
        if (strcmp(l.ids[i], "a") == 0)
            assert_int_equal(l.values[i], 10 + seen_a++);
    }
    assert_int_equal(seen_a, 4);
    assert_int_equal(tc_stream_send(s, a), TC_E_CANCELLED);
    tc_stream_free(s);
    tc_request_free(a);
    tc_request_free(b);
    tc_request_free(c);
}

static void stream_decoupled_square_and_many_streams(void **state)
{
    NEED_GRPC(state);
    need_model(state, "square_int32");
    enum { STREAMS = 3 };
    stream_log logs[STREAMS];
    tc_stream *s[STREAMS];
    const int64_t one = 1;
    for (int k = 0; k < STREAMS; k++) {
        stream_log init = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0, 0, TC_OK, {{0}}, {0}};
        logs[k] = init;
        assert_int_equal(tc_client_stream_start(client_of(state), on_stream, &logs[k], NULL, &s[k]),
                         TC_OK);
    }
    for (int k = 0; k < STREAMS; k++) {
        tc_request *req = NULL;
        int32_t n = 3 + k;
        assert_int_equal(tc_request_new(&req, "square_int32"), TC_OK);
        assert_int_equal(tc_request_set_id(req, "sq"), TC_OK);
        assert_int_equal(tc_request_add_input(req, "IN", TC_DTYPE_INT32, &one, 1), TC_OK);
        assert_int_equal(tc_request_input_append(req, "IN", &n, 4, TC_COPY), TC_OK);
        assert_int_equal(tc_stream_send(s[k], req), TC_OK);
        tc_request_free(req);
    }
    for (int k = 0; k < STREAMS; k++) {
        assert_int_equal(tc_stream_stop(s[k], false), TC_OK);
        assert_int_equal(logs[k].responses, 3 + k);
        for (int i = 0; i < logs[k].responses; i++)
            assert_int_equal(logs[k].values[i], 3 + k);
        tc_stream_free(s[k]);
    }
}

static void stream_sequences_and_inband_errors(void **state)
{
    NEED_GRPC(state);
    need_model(state, "simple_sequence");
    stream_log l = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0, 0, TC_OK, {{0}}, {0}};
    tc_stream *s = NULL;
    assert_int_equal(tc_client_stream_start(client_of(state), on_stream, &l, NULL, &s), TC_OK);
    const int64_t shape[2] = {1, 1};
    tc_request *req = NULL;
    assert_int_equal(tc_request_new(&req, "simple_sequence"), TC_OK);
    assert_int_equal(tc_request_add_input(req, "INPUT", TC_DTYPE_INT32, shape, 2), TC_OK);
    static const int32_t inputs[4] = {0, 5, 7, 9};
    for (int i = 0; i < 4; i++) {
        char id[16];
        snprintf(id, sizeof id, "%d", i);
        assert_int_equal(tc_request_set_id(req, id), TC_OK);
        assert_int_equal(tc_request_set_sequence_id(req, 4242), TC_OK);
        assert_int_equal(tc_request_set_sequence_flags(req, i == 0, i == 3), TC_OK);
        assert_int_equal(tc_request_input_reset(req, "INPUT"), TC_OK);
        assert_int_equal(tc_request_input_append(req, "INPUT", &inputs[i], 4, TC_COPY), TC_OK);
        assert_int_equal(tc_stream_send(s, req), TC_OK);
    }
    /* A bad request is answered in-band; the stream goes on. */
    assert_int_equal(tc_request_set_model_name(req, "wrong_model_name"), TC_OK);
    assert_int_equal(tc_stream_send(s, req), TC_OK);
    assert_int_equal(tc_stream_stop(s, false), TC_OK);
    assert_int_equal(l.responses, 4);
    assert_int_equal(l.errors, 1);
    assert_int_equal(l.values[0], 1); /* (INPUT + START) x READY */
    for (int i = 1; i < 4; i++)
        assert_int_equal(l.values[i], inputs[i]);
    tc_stream_free(s);
    tc_request_free(req);
}

static void stream_cancel_ends_once(void **state)
{
    NEED_GRPC(state);
    stream_log l = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0, 0, TC_OK, {{0}}, {0}};
    tc_stream *s = NULL;
    assert_int_equal(tc_client_stream_start(client_of(state), on_stream, &l, NULL, &s), TC_OK);
    tc_request *req = simple_request(true, true);
    assert_int_equal(tc_stream_send(s, req), TC_OK);
    assert_int_equal(tc_stream_stop(s, true), TC_E_CANCELLED);
    assert_int_equal(l.ends, 1);
    tc_stream_free(s);
    /* An unfinished stream freed directly ends once too. */
    l.ends = 0;
    assert_int_equal(tc_client_stream_start(client_of(state), on_stream, &l, NULL, &s), TC_OK);
    assert_int_equal(tc_stream_send(s, req), TC_OK);
    tc_stream_free(s);
    assert_int_equal(l.ends, 1);
    tc_request_free(req);
}

static void decoupled_model_refuses_unary_infer(void **state)
{
    NEED_GRPC(state);
    need_model(state, "repeat_int32");
    tc_request *req = repeat_request("u", 1, false);
    tc_result *res = NULL;
    assert_int_equal(tc_client_infer(client_of(state), req, &res), TC_E_NOT_SUPPORTED);
    assert_non_null(strstr(tc_result_error_message(res), "decoupled"));
    tc_result_free(res);
    tc_request_free(req);
}

static void async_cancel_by_id(void **state)
{
    NEED_GRPC(state);
    fixture *f = *state;
    load_slow_identity(f->client);
    async_state st = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, TC_OK, {0}};
    async_ticket t = {&st, 0};
    tc_request *req = identity_request();
    uint64_t id = 0;
    double t0 = now_s();
    assert_int_equal(tc_client_infer_async_id(f->client, req, on_result, &t, &id), TC_OK);
    assert_int_equal(tc_client_cancel(f->client, id), TC_OK);
    wait_done(&st, 1);
    assert_true(now_s() - t0 < 1.0);
    assert_int_equal(st.last, TC_E_CANCELLED);
    assert_int_equal(atomic_load(&st.calls[0]), 1);
    tc_request_free(req);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(health_and_metadata, setup, teardown),
    cmocka_unit_test_setup_teardown(infer_sync_binary_and_json, setup, teardown),
    cmocka_unit_test_setup_teardown(infer_errors_carry_server_message, setup, teardown),
    cmocka_unit_test_setup_teardown(infer_strings_and_identity, setup, teardown),
    cmocka_unit_test_setup_teardown(infer_classification, setup, teardown),
    cmocka_unit_test_setup_teardown(infer_async_many, setup, teardown),
    cmocka_unit_test_setup_teardown(compression_both_ways, setup, teardown),
    cmocka_unit_test_setup_teardown(statistics_trace_and_logging, setup, teardown),
    cmocka_unit_test_setup_teardown(repository_control, setup_explicit, teardown),
    cmocka_unit_test_setup_teardown(client_timeout_sync_and_async, setup_explicit, teardown),
    cmocka_unit_test_setup_teardown(free_with_requests_in_flight, setup_explicit, teardown),
    cmocka_unit_test_setup_teardown(unreachable_server_is_transport_error, setup, teardown),
    cmocka_unit_test_setup_teardown(stream_decoupled_repeat, setup, teardown),
    cmocka_unit_test_setup_teardown(stream_decoupled_square_and_many_streams, setup, teardown),
    cmocka_unit_test_setup_teardown(stream_sequences_and_inband_errors, setup, teardown),
    cmocka_unit_test_setup_teardown(stream_cancel_ends_once, setup, teardown),
    cmocka_unit_test_setup_teardown(decoupled_model_refuses_unary_infer, setup, teardown),
    cmocka_unit_test_setup_teardown(async_cancel_by_id, setup_explicit, teardown),
};

TC_TEST_MAIN(tests)
