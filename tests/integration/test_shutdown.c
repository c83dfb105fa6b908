/* Graceful shutdown of tritonc-server: on SIGTERM the server reports not
 * ready, refuses new inferences (HTTP 503, gRPC UNAVAILABLE) while the
 * accepted ones finish within --exit-timeout-secs, then exits 0; past the
 * timeout it exits 1 as upstream does. A slow custom_identity_int32
 * (config overridden at load, explicit mode) keeps a request in flight
 * across the signal: its dynamic batcher holds it in the queue for a
 * second, then it runs for the execute delay. While it is held, the
 * metrics' pending count says exactly when it is there. */
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

/* Reload custom_identity_int32 with an execute delay of `delay_ms`, and a
 * dynamic batcher holding requests in the queue for HOLD_MS first. */
#define HOLD_MS 1000
static void load_slow_identity(int port, int delay_ms)
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"parameters\":{\"config\":\"{\\\"name\\\":\\\"custom_identity_int32\\\","
             "\\\"backend\\\":\\\"tritonc_identity\\\",\\\"max_batch_size\\\":1024,"
             "\\\"dynamic_batching\\\":{\\\"max_queue_delay_microseconds\\\":%d},"
             "\\\"input\\\":[{\\\"name\\\":\\\"INPUT0\\\",\\\"data_type\\\":\\\"TYPE_INT32\\\","
             "\\\"dims\\\":[-1]}],\\\"output\\\":[{\\\"name\\\":\\\"OUTPUT0\\\","
             "\\\"data_type\\\":\\\"TYPE_INT32\\\",\\\"dims\\\":[-1]}],\\\"parameters\\\":"
             "{\\\"execute_delay_ms\\\":{\\\"string_value\\\":\\\"%d\\\"}}}\"}}",
             HOLD_MS * 1000, delay_ms);
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

/* Send a request from a thread and wait until the server holds it. */
static void start_inflight(inflight *c, tc_test_server *s)
{
    memset(c, 0, sizeof *c);
    c->port = s->http_port;
    assert_int_equal(pthread_create(&c->thread, NULL, infer_main, c), 0);
    int metrics_port = tc_test_server_metrics_port(s);
    assert_true(metrics_port > 0);
    assert_int_equal(tc_test_wait_pending(metrics_port, "custom_identity_int32", 1, 20000), 0);
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

/* Whether the server at `*(int *)arg` stopped reporting ready: the sign
 * that it took the signal and drains. */
static bool not_ready(void *arg)
{
    return status_of(*(int *)arg, "GET", "/v2/health/ready", NULL) != 200;
}

/* Wait for the server process to end; its exit status, or -1. */
static int wait_exit(tc_test_server *s, int timeout_ms)
{
    long long deadline = tc_test_now_ms() + timeout_ms;
    int status = 0;
    pid_t done = 0;
    while ((done = waitpid(s->pid, &status, WNOHANG)) == 0 && tc_test_now_ms() < deadline)
        tc_test_sleep_ms(20); /* the interval of this bounded poll */
    if (done != s->pid)
        return -1;
    s->pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void drain_finishes_accepted_work(void **state)
{
    fixture *f = *state;
    int port = f->server.http_port;
    load_slow_identity(port, 1000);
    assert_int_equal(status_of(port, "GET", "/v2/health/ready", NULL), 200);
    inflight c;
    start_inflight(&c, &f->server);
    assert_int_equal(kill(f->server.pid, SIGTERM), 0);
    assert_true(tc_test_wait_until(not_ready, &port, 10000));
    /* Draining (the held request then runs for 1 s): live, not ready, and
     * new work is refused. */
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

/* Whether the gRPC client `arg` hears "not ready" (or no answer). */
static bool grpc_not_ready(void *arg)
{
    bool ready = true;
    return tc_client_is_server_ready(arg, NULL, &ready) != TC_OK || !ready;
}

static void drain_refuses_grpc_with_unavailable(void **state)
{
    fixture *f = *state;
    load_slow_identity(f->server.http_port, 1000);
    char url[64];
    snprintf(url, sizeof url, "127.0.0.1:%d", f->server.grpc_port);
    tc_client *grpc = NULL;
    assert_int_equal(tc_grpc_client_new(&grpc, url, NULL), TC_OK);
    bool ready = false;
    assert_int_equal(tc_client_is_server_ready(grpc, NULL, &ready), TC_OK);
    assert_true(ready);
    inflight c;
    start_inflight(&c, &f->server);
    assert_int_equal(kill(f->server.pid, SIGTERM), 0);
    assert_true(tc_test_wait_until(grpc_not_ready, grpc, 10000));
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
    start_inflight(&c, &f->server);
    long long t0 = tc_test_now_ms();
    assert_int_equal(kill(f->server.pid, SIGTERM), 0);
    assert_int_equal(wait_exit(&f->server, 10000), 1);
    long long took = tc_test_now_ms() - t0;
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
