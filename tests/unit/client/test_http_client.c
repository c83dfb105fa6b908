/* The HTTP client without a server: options, constructor checks, and the
 * async completion contract against a closed port and against a loopback
 * listener that accepts connections but never answers. */
#include "tc_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <tritonc/tritonc.h>

/* ---- helpers ------------------------------------------------------------- */

/* A port nothing listens on: bind, read the port, close. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* A listener nobody answers on: the kernel completes connections, and a
 * test may accept them (accept_with_request) but never replies. */
static int silent_listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 16), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* Accept a connection on `lfd` and wait until a request's first bytes are
 * on it (within `timeout_ms`); the connection (never answered), or -1. */
static int accept_with_request(int lfd, int timeout_ms)
{
    struct pollfd p = {lfd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) != 1)
        return -1;
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0)
        return -1;
    char buf[64];
    p.fd = fd;
    if (poll(&p, 1, timeout_ms) != 1 || recv(fd, buf, sizeof buf, MSG_PEEK) <= 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static tc_client *client_for(int port, const tc_http_options *opts)
{
    char url[64];
    snprintf(url, sizeof url, "127.0.0.1:%d", port);
    tc_client *c = NULL;
    assert_int_equal(tc_http_client_new(&c, url, opts), TC_OK);
    return c;
}

static tc_request *simple_request(void)
{
    static const int32_t data[4] = {1, 2, 3, 4};
    const int64_t shape[1] = {4};
    tc_request *req = NULL;
    assert_int_equal(tc_request_new(&req, "simple"), TC_OK);
    assert_int_equal(tc_request_add_input(req, "INPUT0", TC_DTYPE_INT32, shape, 1), TC_OK);
    assert_int_equal(tc_request_input_append(req, "INPUT0", data, sizeof data, TC_BORROW), TC_OK);
    return req;
}

/* Completion bookkeeping shared with callbacks. */
typedef struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int calls;
    tc_code last;
    pthread_t thread;
    tc_client *client; /* for the free-from-callback test */
    tc_code free_rc;
} waiter;

static void waiter_init(waiter *w)
{
    memset(w, 0, sizeof *w);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->free_rc = TC_OK;
}

static void waiter_wait(waiter *w, int calls)
{
    pthread_mutex_lock(&w->mu);
    while (w->calls < calls)
        pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

static void on_done(tc_result *result, void *user_data)
{
    waiter *w = user_data;
    tc_code rc = tc_result_status(result);
    tc_result_free(result);
    if (w->client != NULL)
        w->free_rc = tc_client_free(w->client);
    pthread_mutex_lock(&w->mu);
    w->calls++;
    w->last = rc;
    w->thread = pthread_self();
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* ---- tests ----------------------------------------------------------------- */

static void test_options(void **state)
{
    (void)state;
    tc_http_options *o = NULL;
    assert_int_equal(tc_http_options_new(NULL), TC_E_INVALID_ARG);
    assert_int_equal(tc_http_options_new(&o), TC_OK);
    assert_int_equal(tc_http_options_set_verbose(o, true), TC_OK);
    assert_int_equal(tc_http_options_set_max_connections(o, 0), TC_E_INVALID_ARG);
    assert_int_equal(tc_http_options_set_max_connections(o, 8), TC_OK);
    assert_int_equal(tc_http_options_set_connect_timeout_us(o, 1000000), TC_OK);
    assert_int_equal(tc_http_options_set_network_timeout_us(o, 2000000), TC_OK);
    assert_int_equal(tc_http_options_set_request_compression(o, (tc_compression)7),
                     TC_E_INVALID_ARG);
    assert_int_equal(tc_http_options_set_request_compression(o, TC_COMPRESSION_GZIP), TC_OK);
    assert_int_equal(tc_http_options_set_response_compression(o, TC_COMPRESSION_DEFLATE), TC_OK);
    assert_int_equal(tc_http_options_set_verify_peer(o, false), TC_OK);
    assert_int_equal(tc_http_options_set_verify_host(o, false), TC_OK);
    assert_int_equal(tc_http_options_set_ca_file(o, "/tmp/ca.pem"), TC_OK);
    assert_int_equal(tc_http_options_set_client_cert(o, "/tmp/c.pem", "/tmp/k.pem"), TC_OK);
    assert_int_equal(tc_http_options_add_header(o, "x-test", "1"), TC_OK);
    assert_int_equal(tc_http_options_add_header(o, "", "1"), TC_E_INVALID_ARG);
    assert_int_equal(tc_http_options_add_header(o, "a", "b\nc"), TC_E_INVALID_ARG);
    assert_int_equal(tc_http_options_set_verbose(NULL, true), TC_E_INVALID_ARG);
    /* The client copies the options: freeing them right away is fine. */
    tc_client *c = NULL;
    assert_int_equal(tc_http_client_new(&c, "localhost:8000", o), TC_OK);
    tc_http_options_free(o);
    assert_int_equal(tc_client_free(c), TC_OK);
    tc_http_options_free(NULL);
}

static void test_constructor(void **state)
{
    (void)state;
    tc_client *c = NULL;
    assert_int_equal(tc_http_client_new(NULL, "localhost:8000", NULL), TC_E_INVALID_ARG);
    assert_int_equal(tc_http_client_new(&c, "", NULL), TC_E_INVALID_ARG);
    assert_int_equal(tc_http_client_new(&c, "ftp://x:1", NULL), TC_E_INVALID_ARG);
    assert_null(c);
    assert_int_equal(tc_http_client_new(&c, "https://example.invalid:8443/", NULL), TC_OK);
    assert_string_equal(tc_client_last_error(c), "");
    assert_int_equal(tc_client_free(c), TC_OK);
    assert_int_equal(tc_client_free(NULL), TC_OK);
    assert_non_null(tc_client_last_error(NULL));
}

static void test_sync_closed_port(void **state)
{
    (void)state;
    tc_client *c = client_for(closed_port(), NULL);
    bool live = true;
    assert_int_equal(tc_client_is_server_live(c, NULL, &live), TC_E_TRANSPORT);
    assert_true(strlen(tc_client_last_error(c)) > 0);
    tc_request *req = simple_request();
    tc_result *r = NULL;
    assert_int_equal(tc_client_infer(c, req, &r), TC_E_TRANSPORT);
    assert_non_null(r);
    assert_int_equal(tc_result_status(r), TC_E_TRANSPORT);
    assert_int_equal(tc_result_http_status(r), 0);
    tc_result_free(r);
    assert_int_equal(tc_client_infer(c, NULL, &r), TC_E_INVALID_ARG);
    assert_null(r);
    tc_request_free(req);
    assert_int_equal(tc_client_free(c), TC_OK);
}

static void test_async_closed_port(void **state)
{
    (void)state;
    waiter w;
    waiter_init(&w);
    tc_client *c = client_for(closed_port(), NULL);
    tc_request *req = simple_request();
    assert_int_equal(tc_client_infer_async(c, req, NULL, &w), TC_E_INVALID_ARG);
    assert_int_equal(tc_client_infer_async(c, req, on_done, &w), TC_OK);
    tc_request_free(req); /* allowed right after submission */
    waiter_wait(&w, 1);
    assert_int_equal(w.last, TC_E_TRANSPORT);
    assert_false(pthread_equal(w.thread, pthread_self()));
    assert_int_equal(tc_client_free(c), TC_OK);
    assert_int_equal(w.calls, 1); /* exactly once */
}

static void test_async_timeout(void **state)
{
    (void)state;
    int port;
    int fd = silent_listener(&port);
    waiter w;
    waiter_init(&w);
    tc_client *c = client_for(port, NULL);
    tc_request *req = simple_request();
    assert_int_equal(tc_request_set_client_timeout_us(req, 200000), TC_OK);
    assert_int_equal(tc_client_infer_async(c, req, on_done, &w), TC_OK);
    waiter_wait(&w, 1);
    assert_int_equal(w.last, TC_E_TIMEOUT);
    tc_result *r = NULL;
    assert_int_equal(tc_client_infer(c, req, &r), TC_E_TIMEOUT);
    tc_result_free(r);
    tc_request_free(req);
    assert_int_equal(tc_client_free(c), TC_OK);
    assert_int_equal(w.calls, 1);
    close(fd);
}

static void test_free_cancels_in_flight(void **state)
{
    (void)state;
    int port;
    int fd = silent_listener(&port);
    waiter w;
    waiter_init(&w);
    tc_http_options *o = NULL;
    assert_int_equal(tc_http_options_new(&o), TC_OK);
    assert_int_equal(tc_http_options_set_max_connections(o, 2), TC_OK);
    tc_client *c = client_for(port, o);
    tc_http_options_free(o);
    tc_request *req = simple_request();
    for (int i = 0; i < 5; i++)
        assert_int_equal(tc_client_infer_async(c, req, on_done, &w), TC_OK);
    /* Two of them are on the wire (one per connection), three wait for a
     * connection: the listener accepts both and sees their requests. */
    int conns[2];
    for (int i = 0; i < 2; i++) {
        conns[i] = accept_with_request(fd, 10000);
        assert_true(conns[i] >= 0);
    }
    assert_int_equal(tc_client_free(c), TC_OK);
    /* Every callback ran before tc_client_free returned. */
    assert_int_equal(w.calls, 5);
    assert_int_equal(w.last, TC_E_CANCELLED);
    tc_request_free(req);
    for (int i = 0; i < 2; i++)
        close(conns[i]);
    close(fd);
}

static void test_free_from_callback_is_busy(void **state)
{
    (void)state;
    waiter w;
    waiter_init(&w);
    tc_client *c = client_for(closed_port(), NULL);
    w.client = c;
    tc_request *req = simple_request();
    assert_int_equal(tc_client_infer_async(c, req, on_done, &w), TC_OK);
    waiter_wait(&w, 1);
    assert_int_equal(w.free_rc, TC_E_BUSY);
    tc_request_free(req);
    assert_int_equal(tc_client_free(c), TC_OK);
}

static void test_headers_and_load_options(void **state)
{
    (void)state;
    tc_headers *h = NULL;
    assert_int_equal(tc_headers_new(&h), TC_OK);
    assert_int_equal(tc_headers_add(h, "a", "1"), TC_OK);
    assert_int_equal(tc_headers_add(h, "a:b", "1"), TC_E_INVALID_ARG);
    tc_headers_free(h);
    tc_load_options *lo = NULL;
    assert_int_equal(tc_load_options_new(&lo), TC_OK);
    assert_int_equal(tc_load_options_add_file(lo, "1/model.onnx", "abc", 3), TC_OK);
    assert_int_equal(tc_load_options_add_file(lo, "", "abc", 3), TC_E_INVALID_ARG);
    /* Files without a config are refused before anything is sent. */
    tc_client *c = client_for(closed_port(), NULL);
    assert_int_equal(tc_client_load_model(c, "m", lo, NULL), TC_E_INVALID_ARG);
    assert_int_equal(tc_load_options_set_config(lo, "{\"backend\":\"x\"}"), TC_OK);
    assert_int_equal(tc_client_load_model(c, "m", lo, NULL), TC_E_TRANSPORT);
    tc_load_options_free(lo);
    assert_int_equal(tc_client_free(c), TC_OK);
    assert_string_equal(tc_library_version(), TC_VERSION_STRING);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_options),
    cmocka_unit_test(test_constructor),
    cmocka_unit_test(test_sync_closed_port),
    cmocka_unit_test(test_async_closed_port),
    cmocka_unit_test(test_async_timeout),
    cmocka_unit_test(test_free_cancels_in_flight),
    cmocka_unit_test(test_free_from_callback_is_busy),
    cmocka_unit_test(test_headers_and_load_options),
};

TC_TEST_MAIN(tests)
