/* The dynamic batcher's queue policy end to end (EXTENSIONS.md
 * schedule_policy), through libtritonc over HTTP and gRPC: a request's own
 * `timeout` (allowed by the policy) expires in the queue and is refused
 * with UNAVAILABLE "Request timeout expired"; a full queue refuses with
 * "Exceeds maximum queue size"; the requests that fit still run. */
#include "tc_test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tritonc/tritonc.h>

#include "server_proc.h"

/* Batches of 8 wait up to 2 s; requests may shorten their queue time; at
 * most two wait at once. */
static const char k_config[] =
    "backend: \"tritonc_identity\"\nmax_batch_size: 8\n"
    "dynamic_batching { preferred_batch_size: [ 8 ] max_queue_delay_microseconds: 2000000\n"
    "  default_queue_policy { allow_timeout_override: true max_queue_size: 2 } }\n"
    "input [ { name: \"INPUT0\" data_type: TYPE_INT32 dims: [ -1 ] } ]\n"
    "output [ { name: \"OUTPUT0\" data_type: TYPE_INT32 dims: [ -1 ] } ]\n";

typedef struct fixture {
    tc_test_server server;
    char repo[64];
    int metrics_port;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (tc_test_repo_new(f->repo, sizeof f->repo) != 0 ||
        tc_test_repo_add_model(f->repo, "q", k_config) != 0 ||
        tc_test_server_start(&f->server, f->repo, NULL) != 0) {
        free(f);
        return -1;
    }
    f->metrics_port = tc_test_server_metrics_port(&f->server);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    int rc = tc_test_server_stop(&f->server);
    tc_test_repo_remove(f->repo);
    free(f);
    assert_int_equal(rc, 0);
    return 0;
}

static tc_request *request(int32_t v, uint64_t timeout_us)
{
    tc_request *req = NULL;
    assert_int_equal(tc_request_new(&req, "q"), TC_OK);
    static const int64_t shape[2] = {1, 1};
    assert_int_equal(tc_request_add_input(req, "INPUT0", TC_DTYPE_INT32, shape, 2), TC_OK);
    assert_int_equal(tc_request_input_append(req, "INPUT0", &v, sizeof v, TC_COPY), TC_OK);
    if (timeout_us > 0)
        assert_int_equal(tc_request_set_timeout_us(req, timeout_us), TC_OK);
    return req;
}

typedef struct slot {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    tc_result *result;
} slot;

static void on_done(tc_result *result, void *user_data)
{
    slot *s = user_data;
    pthread_mutex_lock(&s->lock);
    s->result = result;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static tc_result *wait_slot(slot *s)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 20;
    pthread_mutex_lock(&s->lock);
    while (s->result == NULL && pthread_cond_timedwait(&s->cond, &s->lock, &until) == 0)
        ;
    tc_result *r = s->result;
    pthread_mutex_unlock(&s->lock);
    assert_non_null(r);
    return r;
}

static void send_async(tc_client *c, int32_t v, uint64_t timeout_us, slot *s)
{
    tc_request *req = request(v, timeout_us);
    assert_int_equal(tc_client_infer_async(c, req, on_done, s), TC_OK);
    tc_request_free(req);
}

static void run(fixture *f, tc_client *c)
{
    slot a = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL};
    slot b = a, d = a;
    /* A asks for 100 ms in the queue; the batch would wait 2 s. */
    send_async(c, 1, 100000, &a);
    tc_result *r = wait_slot(&a);
    assert_int_equal(tc_result_status(r), TC_E_UNAVAILABLE);
    assert_string_equal(tc_result_error_message(r), "Request timeout expired");
    tc_result_free(r);
    /* B and C fill the queue (the gauge says when they are in), D does not fit. */
    send_async(c, 2, 0, &b);
    assert_int_equal(tc_test_wait_pending(f->metrics_port, "q", 1, 10000), 0);
    send_async(c, 3, 0, &d);
    assert_int_equal(tc_test_wait_pending(f->metrics_port, "q", 2, 10000), 0);
    tc_request *req = request(4, 0);
    assert_int_equal(tc_client_infer(c, req, &r), TC_E_UNAVAILABLE);
    assert_string_equal(tc_result_error_message(r), "Exceeds maximum queue size");
    tc_result_free(r);
    tc_request_free(req);
    /* The two that fit run together once the batch delay passes. */
    slot *ok[2] = {&b, &d};
    for (int i = 0; i < 2; i++) {
        r = wait_slot(ok[i]);
        assert_int_equal(tc_result_status(r), TC_OK);
        tc_result_free(r);
    }
}

static void policy_over_http(void **state)
{
    fixture *f = *state;
    char url[64];
    snprintf(url, sizeof url, "localhost:%d", f->server.http_port);
    tc_client *c = NULL;
    assert_int_equal(tc_http_client_new(&c, url, NULL), TC_OK);
    run(f, c);
    assert_int_equal(tc_client_free(c), TC_OK);
}

static void policy_over_grpc(void **state)
{
    fixture *f = *state;
    char url[64];
    snprintf(url, sizeof url, "localhost:%d", f->server.grpc_port);
    tc_client *c = NULL;
    assert_int_equal(tc_grpc_client_new(&c, url, NULL), TC_OK);
    run(f, c);
    assert_int_equal(tc_client_free(c), TC_OK);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(policy_over_http, setup, teardown),
    cmocka_unit_test_setup_teardown(policy_over_grpc, setup, teardown),
};

TC_TEST_MAIN(tests)
