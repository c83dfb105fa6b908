/* Per-request timers (tc_result_timer_ns) against tritonc-server on
 * ephemeral ports: every stamp present, ordered and within the call, for
 * HTTP sync (lean transport and libcurl), HTTP async, gRPC sync and async,
 * and each response of a gRPC stream. */
#include "tc_test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tritonc/tritonc.h>

#include "server_proc.h"

#define STREAM_REQUESTS 3

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int setup(void **state)
{
    tc_test_server *s = calloc(1, sizeof *s);
    if (tc_test_server_start(s, TC_MODELS_DIR, NULL) != 0) {
        free(s);
        return -1;
    }
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    tc_test_server *s = *state;
    int rc = tc_test_server_stop(s);
    free(s);
    assert_int_equal(rc, 0);
    return 0;
}

static tc_request *simple_request(void)
{
    int32_t in0[16];
    int32_t in1[16];
    for (int i = 0; i < 16; i++) {
        in0[i] = i;
        in1[i] = 1;
    }
    const int64_t shape[2] = {1, 16};
    tc_request *req = NULL;
    assert_int_equal(tc_request_new(&req, "simple"), TC_OK);
    assert_int_equal(tc_request_add_input(req, "INPUT0", TC_DTYPE_INT32, shape, 2), TC_OK);
    assert_int_equal(tc_request_add_input(req, "INPUT1", TC_DTYPE_INT32, shape, 2), TC_OK);
    assert_int_equal(tc_request_input_append(req, "INPUT0", in0, sizeof in0, TC_COPY), TC_OK);
    assert_int_equal(tc_request_input_append(req, "INPUT1", in1, sizeof in1, TC_COPY), TC_OK);
    return req;
}

/* All six stamps recorded, in order, inside [lo, hi]. */
static void check_timers(const tc_result *r, uint64_t lo, uint64_t hi)
{
    uint64_t t[6];
    for (int k = 0; k < 6; k++) {
        assert_int_equal(tc_result_timer_ns(r, (tc_timer_kind)k, &t[k]), TC_OK);
        assert_true(t[k] > 0);
        if (k > 0)
            assert_true(t[k] >= t[k - 1]);
    }
    assert_int_equal(t[0], t[TC_TIMER_REQUEST_START]);
    assert_true(t[TC_TIMER_REQUEST_START] >= lo);
    assert_true(t[TC_TIMER_REQUEST_END] <= hi);
    /* a real exchange took place: the request end is after its start */
    assert_true(t[TC_TIMER_REQUEST_END] > t[TC_TIMER_REQUEST_START]);
    uint64_t ns = 1;
    assert_int_equal(tc_result_timer_ns(r, (tc_timer_kind)6, &ns), TC_E_INVALID_ARG);
    assert_int_equal(ns, 0);
    assert_int_equal(tc_result_timer_ns(NULL, TC_TIMER_SEND_START, &ns), TC_E_INVALID_ARG);
    assert_int_equal(tc_result_timer_ns(r, TC_TIMER_SEND_START, NULL), TC_E_INVALID_ARG);
}

static void sync_round(tc_client *c)
{
    tc_request *req = simple_request();
    for (int i = 0; i < 3; i++) { /* a new and then a kept connection */
        tc_result *res = NULL;
        uint64_t lo = now_ns();
        tc_code rc = tc_client_infer(c, req, &res);
        uint64_t hi = now_ns();
        if (rc != TC_OK)
            fprintf(stderr, "infer: %s\n", tc_client_last_error(c));
        assert_int_equal(rc, TC_OK);
        check_timers(res, lo, hi);
        tc_result_free(res);
    }
    tc_request_free(req);
}

typedef struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    tc_result *results[STREAM_REQUESTS];
    uint64_t end_ns[STREAM_REQUESTS];
} waiter;

static void waiter_init(waiter *w)
{
    memset(w, 0, sizeof *w);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
}

static void waiter_wait(waiter *w, int n)
{
    pthread_mutex_lock(&w->mu);
    while (w->done < n)
        pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

static void waiter_put(waiter *w, tc_result *r)
{
    pthread_mutex_lock(&w->mu);
    if (w->done < STREAM_REQUESTS) {
        w->end_ns[w->done] = now_ns();
        w->results[w->done] = r;
        r = NULL;
    }
    w->done++;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    tc_result_free(r);
}

static void waiter_cleanup(waiter *w)
{
    for (int i = 0; i < STREAM_REQUESTS; i++)
        tc_result_free(w->results[i]);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
}

static void on_done(tc_result *r, void *ud)
{
    waiter_put(ud, r);
}

static void async_round(tc_client *c)
{
    tc_request *req = simple_request();
    waiter w;
    waiter_init(&w);
    uint64_t lo = now_ns();
    assert_int_equal(tc_client_infer_async(c, req, on_done, &w), TC_OK);
    tc_request_free(req);
    waiter_wait(&w, 1);
    assert_int_equal(tc_result_status(w.results[0]), TC_OK);
    check_timers(w.results[0], lo, w.end_ns[0]);
    waiter_cleanup(&w);
}

static tc_client *http_client(const tc_test_server *s, bool curl)
{
    char url[64];
    snprintf(url, sizeof url, "127.0.0.1:%d", s->http_port);
    tc_http_options *o = NULL;
    assert_int_equal(tc_http_options_new(&o), TC_OK);
    if (curl) /* verbose logging is served by libcurl, not the lean transport */
        assert_int_equal(tc_http_options_set_verbose(o, true), TC_OK);
    tc_client *c = NULL;
    assert_int_equal(tc_http_client_new(&c, url, o), TC_OK);
    tc_http_options_free(o);
    return c;
}

static tc_client *grpc_client(const tc_test_server *s)
{
    if (s->grpc_port <= 0) {
        fprintf(stderr, "the server serves no gRPC: skipped\n");
        skip();
    }
    char url[64];
    snprintf(url, sizeof url, "127.0.0.1:%d", s->grpc_port);
    tc_client *c = NULL;
    assert_int_equal(tc_grpc_client_new(&c, url, NULL), TC_OK);
    return c;
}

static void test_http_sync(void **state)
{
    tc_client *c = http_client(*state, false);
    sync_round(c);
    assert_int_equal(tc_client_free(c), TC_OK);
}

static void test_http_sync_curl(void **state)
{
    tc_client *c = http_client(*state, true);
    sync_round(c);
    assert_int_equal(tc_client_free(c), TC_OK);
}

static void test_http_async(void **state)
{
    tc_client *c = http_client(*state, false);
    async_round(c);
    async_round(c);
    assert_int_equal(tc_client_free(c), TC_OK);
}

static void test_grpc_sync(void **state)
{
    tc_client *c = grpc_client(*state);
    sync_round(c);
    assert_int_equal(tc_client_free(c), TC_OK);
}

static void test_grpc_async(void **state)
{
    tc_client *c = grpc_client(*state);
    async_round(c);
    async_round(c);
    assert_int_equal(tc_client_free(c), TC_OK);
}

static void on_stream(tc_stream *s, tc_result *r, bool final, void *ud)
{
    (void)s;
    (void)final;
    if (r != NULL)
        waiter_put(ud, r);
}

static void test_grpc_stream(void **state)
{
    tc_client *c = grpc_client(*state);
    waiter w;
    waiter_init(&w);
    tc_stream *st = NULL;
    assert_int_equal(tc_client_stream_start(c, on_stream, &w, NULL, &st), TC_OK);
    tc_request *req = simple_request();
    uint64_t sent[STREAM_REQUESTS];
    for (int i = 0; i < STREAM_REQUESTS; i++) {
        sent[i] = now_ns();
        assert_int_equal(tc_stream_send(st, req), TC_OK);
        waiter_wait(&w, i + 1); /* one at a time: each response maps to its request */
    }
    tc_request_free(req);
    assert_int_equal(tc_stream_stop(st, false), TC_OK);
    tc_stream_free(st);
    for (int i = 0; i < STREAM_REQUESTS; i++) {
        assert_int_equal(tc_result_status(w.results[i]), TC_OK);
        check_timers(w.results[i], sent[i], w.end_ns[i]);
    }
    waiter_cleanup(&w);
    assert_int_equal(tc_client_free(c), TC_OK);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_http_sync, setup, teardown),
    cmocka_unit_test_setup_teardown(test_http_sync_curl, setup, teardown),
    cmocka_unit_test_setup_teardown(test_http_async, setup, teardown),
    cmocka_unit_test_setup_teardown(test_grpc_sync, setup, teardown),
    cmocka_unit_test_setup_teardown(test_grpc_async, setup, teardown),
    cmocka_unit_test_setup_teardown(test_grpc_stream, setup, teardown),
};

TC_TEST_MAIN(tests)
