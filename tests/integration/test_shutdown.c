/* Graceful shutdown of tritonc-server: on SIGTERM the server reports not
 * ready, refuses new inferences (HTTP 503, gRPC UNAVAILABLE) while the
 * accepted ones finish within --exit-timeout-secs, then exits 0; past the
 * timeout it exits 1 as upstream does. A slow custom_identity_int32
 * (execute_delay_ms overridden at load, explicit mode) keeps a request in
 * flight across the signal. */
#include "tc_test.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <tritonc/tritonc.h>

#include "server_proc.h"

typedef struct fixture {
    tc_test_server server;
} fixture;

static int start_with(void **state, const char *extra)
{
    fixture *f = calloc(1, sizeof *f);
    const char *args[] = {"--model-control-mode=explicit", extra, NULL};
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

static int setup_short_timeout(void **state)
{
    return start_with(state, "--exit-timeout-secs=1");
}

/* The cases stop the server themselves; this only reaps a leftover. */
static int teardown(void **state)
{
    fixture *f = *state;
    if (f->server.pid > 0)
        (void)tc_test_server_stop(&f->server);
    free(f);
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reload custom_identity_int32 with an execute delay of `delay_ms`. */
static void load_slow_identity(int port, int delay_ms)
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"parameters\":{\"config\":\"{\\\"name\\\":\\\"custom_identity_int32\\\","
             "\\\"backend\\\":\\\"tritonc_identity\\\",\\\"max_batch_size\\\":1024,"
             "\\\"input\\\":[{\\\"name\\\":\\\"INPUT0\\\",\\\"data_type\\\":\\\"TYPE_INT32\\\","
             "\\\"dims\\\":[-1]}],\\\"output\\\":[{\\\"name\\\":\\\"OUTPUT0\\\","
             "\\\"data_type\\\":\\\"TYPE_INT32\\\",\\\"dims\\\":[-1]}],\\\"parameters\\\":"
             "{\\\"execute_delay_ms\\\":{\\\"string_value\\\":\\\"%d\\\"}}}\"}}",
             delay_ms);
    tc_http_reply r;
    assert_int_equal(tc_http_request(port, "POST",
                                     "/v2/repository/models/custom_identity_int32/load", NULL, body,
                                     strlen(body), &r),
                     0);
    if (r.status != 200)
        fail_msg("load failed: %d %s", r.status, (char *)r.body);
    tc_http_reply_free(&r);
}

static const char k_identity[] = "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,4],"
                                 "\"datatype\":\"INT32\",\"data\":[1,2,3,4]}]}";

typedef struct inflight {
    int port;
    pthread_t thread;
    int rc;     /* of tc_http_request */
    int status; /* HTTP status */
    bool has_output;
} inflight;

static void *infer_main(void *arg)
{
    inflight *c = arg;
    tc_http_reply r;
    c->rc = tc_http_request(c->port, "POST", "/v2/models/custom_identity_int32/infer", NULL,
                            k_identity, strlen(k_identity), &r);
    if (c->rc == 0) {
        c->status = r.status;
        c->has_output = strstr((const char *)r.body, "OUTPUT0") != NULL &&
                        strstr((const char *)r.body, "[1,2,3,4]") != NULL;
        tc_http_reply_free(&r);
    }
    return NULL;
}

static void start_inflight(inflight *c, int port)
{
    memset(c, 0, sizeof *c);
    c->port = port;
    assert_int_equal(pthread_create(&c->thread, NULL, infer_main, c), 0);
    sleep_ms(300); /* queued and executing by now */
}

static int status_of(int port, const char *method, const char *path, const char *body)
{
    tc_http_reply r;
    if (tc_http_request(port, method, path, NULL, body, body != NULL ? strlen(body) : 0, &r) != 0)
        return -1; /* connection refused or closed */
    int status = r.status;
    tc_http_reply_free(&r);
    return status;
}

/* Wait for the server process to end; its exit status, or -1. */
static int wait_exit(tc_test_server *s, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    int status = 0;
    pid_t done = 0;
    while ((done = waitpid(s->pid, &status, WNOHANG)) == 0 && now_ms() < deadline)
        sleep_ms(20);
    if (done != s->pid)
        return -1;
    s->pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void drain_finishes_accepted_work(void **state)
{
    fixture *f = *state;
    int port = f->server.http_port;
    load_slow_identity(port, 1500);
    assert_int_equal(status_of(port, "GET", "/v2/health/ready", NULL), 200);
    inflight c;
    start_inflight(&c, port);
    assert_int_equal(kill(f->server.pid, SIGTERM), 0);
    sleep_ms(100);
    /* Draining: live, not ready, and new work is refused. */
    assert_int_equal(status_of(port, "GET", "/v2/health/live", NULL), 200);
    assert_int_equal(status_of(port, "GET", "/v2/health/ready", NULL), 400);
    int refused = status_of(port, "POST", "/v2/models/custom_identity_int32/infer", k_identity);
    assert_true(refused == 503 || refused == -1);
    assert_int_equal(pthread_join(c.thread, NULL), 0);
    assert_int_equal(c.rc, 0);
    assert_int_equal(c.status, 200);
    assert_true(c.has_output);
    assert_int_equal(wait_exit(&f->server, 10000), 0);
    /* Gone: nothing listens any more. */
    assert_int_equal(status_of(port, "GET", "/v2/health/live", NULL), -1);
}

static void drain_refuses_grpc_with_unavailable(void **state)
{
    fixture *f = *state;
    load_slow_identity(f->server.http_port, 1500);
    char url[64];
    snprintf(url, sizeof url, "127.0.0.1:%d", f->server.grpc_port);
    tc_client *grpc = NULL;
    assert_int_equal(tc_grpc_client_new(&grpc, url, NULL), TC_OK);
    bool ready = false;
    assert_int_equal(tc_client_is_server_ready(grpc, NULL, &ready), TC_OK);
    assert_true(ready);
    inflight c;
    start_inflight(&c, f->server.http_port);
    assert_int_equal(kill(f->server.pid, SIGTERM), 0);
    sleep_ms(100);
    assert_int_equal(tc_client_is_server_ready(grpc, NULL, &ready), TC_OK);
    assert_false(ready);

    static const int32_t value[4] = {1, 2, 3, 4};
    const int64_t shape[2] = {1, 4};
    tc_request *req = NULL;
    assert_int_equal(tc_request_new(&req, "custom_identity_int32"), TC_OK);
    assert_int_equal(tc_request_add_input(req, "INPUT0", TC_DTYPE_INT32, shape, 2), TC_OK);
    assert_int_equal(tc_request_input_append(req, "INPUT0", value, sizeof value, TC_BORROW), TC_OK);
    tc_result *res = NULL;
    assert_int_equal(tc_client_infer(grpc, req, &res), TC_E_UNAVAILABLE);
    tc_result_free(res);
    tc_request_free(req);
    tc_client_free(grpc);

    assert_int_equal(pthread_join(c.thread, NULL), 0);
    assert_int_equal(c.status, 200);
    assert_int_equal(wait_exit(&f->server, 10000), 0);
}

/* Work still running when --exit-timeout-secs expires: exit 1 (upstream). */
static void exit_timeout_expires(void **state)
{
    fixture *f = *state;
    load_slow_identity(f->server.http_port, 4000);
    inflight c;
    start_inflight(&c, f->server.http_port);
    long long t0 = now_ms();
    assert_int_equal(kill(f->server.pid, SIGTERM), 0);
    assert_int_equal(wait_exit(&f->server, 10000), 1);
    long long took = now_ms() - t0;
    assert_true(took >= 800 && took < 3500);
    assert_int_equal(pthread_join(c.thread, NULL), 0);
    assert_true(c.rc != 0 || c.status != 200);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(drain_finishes_accepted_work, setup, teardown),
    cmocka_unit_test_setup_teardown(drain_refuses_grpc_with_unavailable, setup, teardown),
    cmocka_unit_test_setup_teardown(exit_timeout_expires, setup_short_timeout, teardown),
};

TC_TEST_MAIN(tests)
