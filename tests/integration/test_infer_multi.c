/* tc_client_infer_multi() and tc_client_infer_multi_async() against
 * tritonc-server over HTTP and gRPC: every request gets its own result in
 * its own slot, a failing request does not stop the others, and the
 * asynchronous form calls back exactly once. */
#include "tc_test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tritonc/tritonc.h>

#include "server_proc.h"

typedef struct fixture {
    tc_test_server server;
    tc_client *http;
    tc_client *grpc;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (tc_test_server_start(&f->server, TC_MODELS_DIR, NULL) != 0) {
        free(f);
        return -1;
    }
    char url[64];
    snprintf(url, sizeof url, "localhost:%d", f->server.http_port);
    assert_int_equal(tc_http_client_new(&f->http, url, NULL), TC_OK);
    snprintf(url, sizeof url, "localhost:%d", f->server.grpc_port);
    assert_int_equal(tc_grpc_client_new(&f->grpc, url, NULL), TC_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tc_client_free(f->http);
    tc_client_free(f->grpc);
    int rc = tc_test_server_stop(&f->server);
    free(f);
    assert_int_equal(rc, 0);
    return 0;
}

/* simple with INPUT0 = k..k+15 and INPUT1 = 1 (OUTPUT0[0] = k + 1); an
 * unknown model when `model` says so. */
static tc_request *request(const char *model, int32_t k)
{
    tc_request *req = NULL;
    assert_int_equal(tc_request_new(&req, model), TC_OK);
    static const int64_t shape[2] = {1, 16};
    int32_t a[16], b[16];
    for (int i = 0; i < 16; i++) {
        a[i] = k + i;
        b[i] = 1;
    }
    assert_int_equal(tc_request_add_input(req, "INPUT0", TC_DTYPE_INT32, shape, 2), TC_OK);
    assert_int_equal(tc_request_add_input(req, "INPUT1", TC_DTYPE_INT32, shape, 2), TC_OK);
    assert_int_equal(tc_request_input_append(req, "INPUT0", a, sizeof a, TC_COPY), TC_OK);
    assert_int_equal(tc_request_input_append(req, "INPUT1", b, sizeof b, TC_COPY), TC_OK);
    return req;
}

static int32_t first_sum(tc_result *r)
{
    const uint8_t *p = NULL;
    size_t n = 0;
    assert_int_equal(tc_result_output_data(r, "OUTPUT0", &p, &n), TC_OK);
    assert_int_equal(n, 64);
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void check_results(tc_result **res)
{
    assert_int_equal(tc_result_status(res[0]), TC_OK);
    assert_int_equal(first_sum(res[0]), 11);
    assert_true(tc_result_status(res[1]) != TC_OK);
    assert_non_null(strstr(tc_result_error_message(res[1]), "nope"));
    assert_int_equal(tc_result_status(res[2]), TC_OK);
    assert_int_equal(first_sum(res[2]), 31);
}

static void sync_multi(tc_client *c)
{
    tc_request *reqs[3] = {request("simple", 10), request("nope", 20), request("simple", 30)};
    tc_result *res[3] = {NULL, NULL, NULL};
    tc_code rc = tc_client_infer_multi(c, (const tc_request *const *)reqs, 3, res);
    assert_int_equal(rc, tc_result_status(res[1])); /* the first failure */
    check_results(res);
    for (int i = 0; i < 3; i++) {
        tc_result_free(res[i]);
        tc_request_free(reqs[i]);
    }
    assert_int_equal(tc_client_infer_multi(c, NULL, 3, res), TC_E_INVALID_ARG);
}

typedef struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int calls;
    size_t count;
    tc_result *res[3];
} waiter;

static void on_all(tc_result **results, size_t count, void *user_data)
{
    waiter *w = user_data;
    pthread_mutex_lock(&w->lock);
    w->calls++;
    w->count = count;
    for (size_t i = 0; i < count && i < 3; i++)
        w->res[i] = results[i];
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

static void async_multi(tc_client *c)
{
    waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, {NULL, NULL, NULL}};
    tc_request *reqs[3] = {request("simple", 10), request("nope", 20), request("simple", 30)};
    assert_int_equal(tc_client_infer_multi_async(c, (const tc_request *const *)reqs, 3, on_all, &w),
                     TC_OK);
    for (int i = 0; i < 3; i++)
        tc_request_free(reqs[i]); /* allowed once submitted */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 20;
    pthread_mutex_lock(&w.lock);
    while (w.calls == 0 && pthread_cond_timedwait(&w.cond, &w.lock, &until) == 0)
        ;
    pthread_mutex_unlock(&w.lock);
    assert_int_equal(w.calls, 1);
    assert_int_equal(w.count, 3);
    check_results(w.res);
    for (int i = 0; i < 3; i++)
        tc_result_free(w.res[i]);
    assert_int_equal(tc_client_infer_multi_async(c, NULL, 3, on_all, &w), TC_E_INVALID_ARG);
}

static void multi_over_http(void **state)
{
    fixture *f = *state;
    sync_multi(f->http);
    async_multi(f->http);
}

static void multi_over_grpc(void **state)
{
    fixture *f = *state;
    sync_multi(f->grpc);
    async_multi(f->grpc);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(multi_over_http, setup, teardown),
    cmocka_unit_test_setup_teardown(multi_over_grpc, setup, teardown),
};

TC_TEST_MAIN(tests)
