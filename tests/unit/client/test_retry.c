/* Retry helpers (classification, backoff, policy checks, request copies)
 * and the resilient client against ports where nothing listens. */
#include "tc_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <tritonc/tritonc.h>

#include "client/request_internal.h"
#include "client/retry.h"

static void test_classify(void **state)
{
    (void)state;
    assert_int_equal(tc__retry_classify(TC_OK, NULL), TC__FAIL_FINAL);
    assert_int_equal(tc__retry_classify(TC_E_NOT_FOUND, "unknown model"), TC__FAIL_FINAL);
    assert_int_equal(tc__retry_classify(TC_E_TIMEOUT, "Timeout was reached"), TC__FAIL_FINAL);
    assert_int_equal(tc__retry_classify(TC_E_TRANSPORT,
                                        "Couldn't connect to server: Failed to connect to "
                                        "127.0.0.1 port 1: Connection refused"),
                     TC__FAIL_UNSENT);
    assert_int_equal(tc__retry_classify(TC_E_TRANSPORT, "failed to connect to h:1: refused"),
                     TC__FAIL_UNSENT);
    assert_int_equal(tc__retry_classify(TC_E_TRANSPORT, "Could not resolve host: nohost"),
                     TC__FAIL_UNSENT);
    assert_int_equal(tc__retry_classify(TC_E_TRANSPORT, "Send failure: Broken pipe"),
                     TC__FAIL_UNSENT);
    assert_int_equal(tc__retry_classify(TC_E_UNAVAILABLE, "the server refused the stream (GOAWAY)"),
                     TC__FAIL_UNSENT);
    assert_int_equal(tc__retry_classify(TC_E_TRANSPORT, "connection lost: reset by peer"),
                     TC__FAIL_SENT);
    assert_int_equal(tc__retry_classify(TC_E_TRANSPORT, "Empty reply from server"), TC__FAIL_SENT);
    assert_int_equal(tc__retry_classify(TC_E_UNAVAILABLE, NULL), TC__FAIL_SENT);

    assert_false(tc__retry_allowed(TC__FAIL_FINAL, true));
    assert_true(tc__retry_allowed(TC__FAIL_UNSENT, false));
    assert_true(tc__retry_allowed(TC__FAIL_UNSENT, true));
    assert_false(tc__retry_allowed(TC__FAIL_SENT, false));
    assert_true(tc__retry_allowed(TC__FAIL_SENT, true));
}

static void test_backoff(void **state)
{
    (void)state;
    tc__retry_cfg cfg;
    assert_int_equal(tc__retry_cfg_set(&cfg, 5, 1000, 8000), TC_OK);
    uint64_t rng = 42;
    for (int round = 0; round < 200; round++) {
        for (uint32_t a = 1; a <= 10; a++) {
            uint64_t b = 1000ull << (a - 1);
            if (b > 8000)
                b = 8000;
            uint64_t w = tc__retry_backoff_us(&cfg, a, &rng);
            assert_true(w >= b / 2);
            assert_true(w <= b);
        }
    }
    /* Jitter: not always the same value. */
    uint64_t first = tc__retry_backoff_us(&cfg, 4, &rng);
    bool differs = false;
    for (int i = 0; i < 50 && !differs; i++)
        differs = tc__retry_backoff_us(&cfg, 4, &rng) != first;
    assert_true(differs);
    /* Huge attempt counts stay capped. */
    assert_true(tc__retry_backoff_us(&cfg, 1000, &rng) <= 8000);
}

static void test_policy_setters(void **state)
{
    (void)state;
    tc__retry_cfg cfg;
    assert_int_equal(tc__retry_cfg_set(&cfg, 3, 0, 10), TC_E_INVALID_ARG);
    assert_int_equal(tc__retry_cfg_set(&cfg, 3, 100, 10), TC_E_INVALID_ARG);
    assert_int_equal(tc__retry_cfg_set(&cfg, 1, 0, 0), TC_OK);
    assert_int_equal(cfg.max_attempts, 1);
    tc_http_options *ho;
    assert_int_equal(tc_http_options_new(&ho), TC_OK);
    assert_int_equal(tc_http_options_set_retry(NULL, 3, 1, 2), TC_E_INVALID_ARG);
    assert_int_equal(tc_http_options_set_retry(ho, 3, 0, 2), TC_E_INVALID_ARG);
    assert_int_equal(tc_http_options_set_retry(ho, 3, 10, 20), TC_OK);
    assert_int_equal(tc_http_options_set_retry(ho, 0, 0, 0), TC_OK);
    tc_http_options_free(ho);
    tc_grpc_options *go;
    assert_int_equal(tc_grpc_options_new(&go), TC_OK);
    assert_int_equal(tc_grpc_options_set_retry(NULL, 3, 1, 2), TC_E_INVALID_ARG);
    assert_int_equal(tc_grpc_options_set_retry(go, 3, 5, 4), TC_E_INVALID_ARG);
    assert_int_equal(tc_grpc_options_set_retry(go, 3, 10, 20), TC_OK);
    tc_grpc_options_free(go);
}

static void test_request_clone(void **state)
{
    (void)state;
    static const int32_t borrowed[4] = {1, 2, 3, 4};
    int32_t copied[2] = {7, 8};
    int64_t shape[2] = {1, 4};
    tc_request *req;
    assert_int_equal(tc_request_new(&req, "m"), TC_OK);
    assert_int_equal(tc_request_set_model_version(req, "3"), TC_OK);
    assert_int_equal(tc_request_set_id(req, "id-1"), TC_OK);
    assert_int_equal(tc_request_set_sequence_id_str(req, "seq"), TC_OK);
    assert_int_equal(tc_request_set_priority(req, 9), TC_OK);
    assert_int_equal(tc_request_set_client_timeout_us(req, 1234), TC_OK);
    assert_int_equal(tc_request_set_parameter_string(req, "k", "v"), TC_OK);
    assert_int_equal(tc_request_set_parameter_int(req, "n", -5), TC_OK);
    assert_int_equal(tc_request_add_header(req, "x-h", "1"), TC_OK);
    assert_int_equal(tc_request_add_input(req, "A", TC_DTYPE_INT32, shape, 2), TC_OK);
    assert_int_equal(tc_request_input_append(req, "A", borrowed, sizeof borrowed, TC_BORROW),
                     TC_OK);
    assert_int_equal(tc_request_add_input(req, "B", TC_DTYPE_INT32, shape, 2), TC_OK);
    assert_int_equal(tc_request_input_append(req, "B", copied, sizeof copied, TC_COPY), TC_OK);
    assert_int_equal(tc_request_input_append(req, "B", copied, sizeof copied, TC_COPY), TC_OK);
    assert_int_equal(tc_request_add_output(req, "OUT"), TC_OK);
    assert_int_equal(tc_request_output_set_class_count(req, "OUT", 3), TC_OK);

    tc_request *c;
    assert_int_equal(tc__request_clone(req, &c), TC_OK);
    memset(copied, 0, sizeof copied);
    tc_request_free(req);

    assert_string_equal(c->base.model_name, "m");
    assert_string_equal(c->base.model_version, "3");
    assert_string_equal(c->base.id, "id-1");
    assert_string_equal(c->base.sequence_id_str, "seq");
    assert_int_equal(c->base.priority, 9);
    assert_int_equal(c->client_timeout_us, 1234);
    assert_int_equal(c->base.params.count, 2);
    assert_int_equal(c->headers.count, 1);
    assert_string_equal(c->headers.items[0].value, "1");
    assert_int_equal(c->base.input_count, 2);
    assert_string_equal(c->base.inputs[1].name, "B");
    assert_int_equal(c->base.inputs[1].ndim, 2);
    assert_int_equal(c->base.inputs[1].shape[1], 4);
    assert_ptr_equal(c->data[0].chunks[0].data, (const uint8_t *)borrowed); /* still borrowed */
    assert_null(c->data[0].chunks[0].owned);
    size_t total = 0;
    for (size_t i = 0; i < c->data[1].count; i++) {
        const int32_t *v = (const int32_t *)(const void *)c->data[1].chunks[i].data;
        assert_int_equal(v[0], 7);
        total += c->data[1].chunks[i].len;
    }
    assert_int_equal(total, 16);
    assert_int_equal(c->data[1].byte_size, 16);
    assert_int_equal(c->base.output_count, 1);
    assert_string_equal(c->base.outputs[0].name, "OUT");
    assert_int_equal(c->base.outputs[0].class_count, 3);
    tc_request_free(c);
}

/* ---- the resilient client against a port where nothing listens ------------------ */

static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static int g_retries;

static void count_retries(tc_log_level level, const char *message, void *ud)
{
    (void)level;
    (void)ud;
    if (strstr(message, "retrying") != NULL) {
        pthread_mutex_lock(&g_mu);
        g_retries++;
        pthread_mutex_unlock(&g_mu);
    }
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void test_multi_args(void **state)
{
    (void)state;
    tc_client *c = NULL;
    const char *urls[] = {"127.0.0.1:1", NULL};
    assert_int_equal(tc_http_multi_client_new(NULL, urls, 1, NULL), TC_E_INVALID_ARG);
    assert_int_equal(tc_http_multi_client_new(&c, NULL, 1, NULL), TC_E_INVALID_ARG);
    assert_int_equal(tc_http_multi_client_new(&c, urls, 0, NULL), TC_E_INVALID_ARG);
    assert_int_equal(tc_http_multi_client_new(&c, urls, 2, NULL), TC_E_INVALID_ARG);
    assert_null(c);
    const char *bad[] = {"ftp://x:1"};
    assert_int_equal(tc_grpc_multi_client_new(&c, bad, 1, NULL), TC_E_INVALID_ARG);
    assert_int_equal(tc_http_multi_client_new(&c, bad, 1, NULL), TC_E_INVALID_ARG);
    assert_int_equal(tc_grpc_multi_client_new(&c, urls, 1, NULL), TC_OK);
    assert_int_equal(tc_client_free(c), TC_OK);
}

static void sync_retries(bool grpc)
{
    char url[64];
    snprintf(url, sizeof url, "127.0.0.1:%d", closed_port());
    g_retries = 0;
    tc_set_log_callback(count_retries, TC_LOG_INFO, NULL);
    tc_client *c;
    if (grpc) {
        tc_grpc_options *o;
        assert_int_equal(tc_grpc_options_new(&o), TC_OK);
        assert_int_equal(tc_grpc_options_set_retry(o, 3, 1000, 2000), TC_OK);
        assert_int_equal(tc_grpc_client_new(&c, url, o), TC_OK);
        tc_grpc_options_free(o);
    } else {
        tc_http_options *o;
        assert_int_equal(tc_http_options_new(&o), TC_OK);
        assert_int_equal(tc_http_options_set_retry(o, 3, 1000, 2000), TC_OK);
        assert_int_equal(tc_http_client_new(&c, url, o), TC_OK);
        tc_http_options_free(o);
    }
    bool live = true;
    assert_int_equal(tc_client_is_server_live(c, NULL, &live), TC_E_TRANSPORT);
    assert_int_equal(g_retries, 2); /* 3 attempts */
    assert_true(strlen(tc_client_last_error(c)) > 0);
    tc_set_log_callback(NULL, TC_LOG_ERROR, NULL);
    assert_int_equal(tc_client_free(c), TC_OK);
}

static void test_http_sync_retries_then_fails(void **state)
{
    (void)state;
    sync_retries(false);
}

static void test_grpc_sync_retries_then_fails(void **state)
{
    (void)state;
    sync_retries(true);
}

/* The deadline bounds the whole call, whatever max_attempts says. */
static void test_deadline_bounds_retries(void **state)
{
    (void)state;
    char url[64];
    snprintf(url, sizeof url, "127.0.0.1:%d", closed_port());
    tc_http_options *o;
    assert_int_equal(tc_http_options_new(&o), TC_OK);
    assert_int_equal(tc_http_options_set_retry(o, 1000000, 10000, 40000), TC_OK);
    assert_int_equal(tc_http_options_set_network_timeout_us(o, 200000), TC_OK);
    tc_client *c;
    assert_int_equal(tc_http_client_new(&c, url, o), TC_OK);
    tc_http_options_free(o);
    uint64_t t0 = now_us();
    bool live;
    assert_int_equal(tc_client_is_server_live(c, NULL, &live), TC_E_TRANSPORT);
    uint64_t took = now_us() - t0;
    assert_true(took < 200000 + 100000);
    assert_int_equal(tc_client_free(c), TC_OK);
}

typedef struct done {
    pthread_mutex_t mu;
    int calls;
    tc_code code;
} done;

static void on_done(tc_result *r, void *ud)
{
    done *d = ud;
    pthread_mutex_lock(&d->mu);
    d->calls++;
    d->code = tc_result_status(r);
    pthread_mutex_unlock(&d->mu);
    tc_result_free(r);
}

static tc_request *small_request(void)
{
    tc_request *req;
    int64_t shape[1] = {1};
    int32_t v = 1;
    assert_int_equal(tc_request_new(&req, "m"), TC_OK);
    assert_int_equal(tc_request_add_input(req, "I", TC_DTYPE_INT32, shape, 1), TC_OK);
    assert_int_equal(tc_request_input_append(req, "I", &v, sizeof v, TC_COPY), TC_OK);
    return req;
}

static void async_retries(bool grpc, bool free_early)
{
    char url[64];
    snprintf(url, sizeof url, "127.0.0.1:%d", closed_port());
    tc_client *c;
    uint64_t backoff = free_early ? 10000000 : 1000; /* 10 s: still waiting at free */
    if (grpc) {
        tc_grpc_options *o;
        assert_int_equal(tc_grpc_options_new(&o), TC_OK);
        assert_int_equal(tc_grpc_options_set_retry(o, 3, backoff, backoff), TC_OK);
        assert_int_equal(tc_grpc_client_new(&c, url, o), TC_OK);
        tc_grpc_options_free(o);
    } else {
        tc_http_options *o;
        assert_int_equal(tc_http_options_new(&o), TC_OK);
        assert_int_equal(tc_http_options_set_retry(o, 3, backoff, backoff), TC_OK);
        assert_int_equal(tc_http_client_new(&c, url, o), TC_OK);
        tc_http_options_free(o);
    }
    done d = {PTHREAD_MUTEX_INITIALIZER, 0, TC_OK};
    tc_request *req = small_request();
    g_retries = 0;
    tc_set_log_callback(count_retries, TC_LOG_INFO, NULL);
    assert_int_equal(tc_client_infer_async(c, req, on_done, &d), TC_OK);
    tc_request_free(req);
    if (free_early) {
        /* wait (bounded) for the first failure to be queued for a resend */
        int n = 0;
        for (int i = 0; i < 5000 && n == 0; i++) {
            pthread_mutex_lock(&g_mu);
            n = g_retries;
            pthread_mutex_unlock(&g_mu);
            if (n == 0) {
                struct timespec ts = {0, 1000000}; /* the interval of this bounded poll */
                nanosleep(&ts, NULL);
            }
        }
        assert_true(n > 0);
        assert_int_equal(tc_client_free(c), TC_OK);
        assert_int_equal(d.calls, 1);
        assert_int_equal(d.code, TC_E_CANCELLED);
    } else {
        for (int i = 0; i < 10000; i++) {
            pthread_mutex_lock(&d.mu);
            int n = d.calls;
            pthread_mutex_unlock(&d.mu);
            if (n > 0)
                break;
            struct timespec ts = {0, 1000000}; /* the interval of this bounded poll */
            nanosleep(&ts, NULL);
        }
        assert_int_equal(tc_client_free(c), TC_OK);
        assert_int_equal(d.calls, 1);
        assert_int_equal(d.code, TC_E_TRANSPORT);
        assert_int_equal(g_retries, 2);
    }
    tc_set_log_callback(NULL, TC_LOG_ERROR, NULL);
}

static void test_http_async_retries_then_fails(void **state)
{
    (void)state;
    async_retries(false, false);
}

static void test_grpc_async_retries_then_fails(void **state)
{
    (void)state;
    async_retries(true, false);
}

static void test_free_ends_waiting_retry(void **state)
{
    (void)state;
    async_retries(false, true);
    async_retries(true, true);
}

static void test_cancel_waiting_retry(void **state)
{
    (void)state;
    char url[64];
    snprintf(url, sizeof url, "127.0.0.1:%d", closed_port());
    tc_http_options *o;
    assert_int_equal(tc_http_options_new(&o), TC_OK);
    assert_int_equal(tc_http_options_set_retry(o, 3, 10000000, 10000000), TC_OK);
    tc_client *c;
    assert_int_equal(tc_http_client_new(&c, url, o), TC_OK);
    tc_http_options_free(o);
    done d = {PTHREAD_MUTEX_INITIALIZER, 0, TC_OK};
    tc_request *req = small_request();
    uint64_t id = 0;
    assert_int_equal(tc_client_infer_async_id(c, req, on_done, &d, &id), TC_OK);
    tc_request_free(req);
    assert_true(id != 0);
    int calls = 0;
    for (int i = 0; i < 10000 && calls == 0; i++) {
        (void)tc_client_cancel(c, id); /* in flight: not supported on HTTP; waiting: ends it */
        struct timespec ts = {0, 1000000}; /* the interval of this bounded poll */
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&d.mu);
        calls = d.calls;
        pthread_mutex_unlock(&d.mu);
    }
    assert_int_equal(calls, 1);
    assert_int_equal(d.code, TC_E_CANCELLED);
    assert_int_equal(tc_client_free(c), TC_OK);
    assert_int_equal(d.calls, 1);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_classify),
    cmocka_unit_test(test_backoff),
    cmocka_unit_test(test_policy_setters),
    cmocka_unit_test(test_request_clone),
    cmocka_unit_test(test_multi_args),
    cmocka_unit_test(test_http_sync_retries_then_fails),
    cmocka_unit_test(test_grpc_sync_retries_then_fails),
    cmocka_unit_test(test_deadline_bounds_retries),
    cmocka_unit_test(test_http_async_retries_then_fails),
    cmocka_unit_test(test_grpc_async_retries_then_fails),
    cmocka_unit_test(test_free_ends_waiting_retry),
    cmocka_unit_test(test_cancel_waiting_retry),
};

TC_TEST_MAIN(tests)
