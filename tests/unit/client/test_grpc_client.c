/* The gRPC client without a server: option setters and the channel
 * argument mapping (unknown names refused), constructor checks, and the
 * completion contracts against a closed port and against a silent
 * listener (deadline, cancel, client free): every callback exactly once. */
#include "tc_test.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <tritonc/tritonc.h>

#include "client/grpc_internal.h"

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

/* Accepts connections in the kernel backlog, never answers. */
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

/* ---- name resolution with two addresses -------------------------------------------------- */

/* getaddrinfo() is interposed for one made-up host: "two.invalid" resolves
 * to 127.0.0.1 on g_first_port, then on g_second_port, as "localhost" does
 * to ::1 and 127.0.0.1 on many machines. Every other name goes to libc. */
static int g_first_port, g_second_port;
static const char k_ours[] = "tc-test";

typedef struct fake_ai {
    struct addrinfo ai;
    struct sockaddr_in sa;
} fake_ai;

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res);
void freeaddrinfo(struct addrinfo *ai);

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    if (node == NULL || strcmp(node, "two.invalid") != 0) {
        int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
        void *sym = dlsym(RTLD_NEXT, "getaddrinfo");
        memcpy(&real, &sym, sizeof real);
        return real(node, service, hints, res);
    }
    const int ports[2] = {g_first_port, g_second_port};
    struct addrinfo *head = NULL;
    for (int i = 1; i >= 0; i--) {
        fake_ai *f = calloc(1, sizeof *f);
        if (f == NULL)
            return EAI_MEMORY;
        f->sa.sin_family = AF_INET;
        f->sa.sin_port = htons((uint16_t)ports[i]);
        f->sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        f->ai.ai_family = AF_INET;
        f->ai.ai_socktype = SOCK_STREAM;
        f->ai.ai_protocol = IPPROTO_TCP;
        f->ai.ai_addr = (struct sockaddr *)&f->sa;
        f->ai.ai_addrlen = sizeof f->sa;
        f->ai.ai_canonname = (char *)k_ours;
        f->ai.ai_next = head;
        head = &f->ai;
    }
    *res = head;
    return 0;
}

void freeaddrinfo(struct addrinfo *ai)
{
    if (ai != NULL && ai->ai_canonname == k_ours) {
        while (ai != NULL) {
            struct addrinfo *next = ai->ai_next;
            free(ai); /* the fake_ai starts with it */
            ai = next;
        }
        return;
    }
    void (*real)(struct addrinfo *);
    void *sym = dlsym(RTLD_NEXT, "freeaddrinfo");
    memcpy(&real, &sym, sizeof real);
    real(ai);
}

static tc_client *client_for(int port, const tc_grpc_options *opts)
{
    char url[64];
    snprintf(url, sizeof url, "127.0.0.1:%d", port);
    tc_client *c = NULL;
    assert_int_equal(tc_grpc_client_new(&c, url, opts), TC_OK);
    return c;
}

static tc_request *simple_request(void)
{
    static const int32_t data[16] = {0};
    const int64_t shape[2] = {1, 16};
    tc_request *req = NULL;
    assert_int_equal(tc_request_new(&req, "simple"), TC_OK);
    assert_int_equal(tc_request_add_input(req, "INPUT0", TC_DTYPE_INT32, shape, 2), TC_OK);
    assert_int_equal(tc_request_input_append(req, "INPUT0", data, sizeof data, TC_BORROW), TC_OK);
    return req;
}

/* ---- options --------------------------------------------------------------------- */

static void options_defaults_and_setters(void **state)
{
    (void)state;
    tc_grpc_options *o = NULL;
    assert_int_equal(tc_grpc_options_new(NULL), TC_E_INVALID_ARG);
    assert_int_equal(tc_grpc_options_new(&o), TC_OK);
    assert_int_equal(o->max_send_message_size, (size_t)INT32_MAX);
    assert_int_equal(o->max_receive_message_size, (size_t)INT32_MAX);
    assert_int_equal(o->keepalive_time_us, 0);
    assert_int_equal(o->keepalive_timeout_us, 20000000u);
    assert_int_equal(o->max_pings_without_data, 2);
    assert_false(o->keepalive_permit_without_calls);
    assert_int_equal(tc_grpc_options_set_max_send_message_size(o, 0), TC_E_INVALID_ARG);
    assert_int_equal(tc_grpc_options_set_max_receive_message_size(o, 1024), TC_OK);
    assert_int_equal(o->max_receive_message_size, 1024);
    assert_int_equal(tc_grpc_options_set_compression(o, (tc_compression)7), TC_E_INVALID_ARG);
    assert_int_equal(tc_grpc_options_set_compression(o, TC_COMPRESSION_GZIP), TC_OK);
    assert_int_equal(tc_grpc_options_set_keepalive(o, 1000, 0, false, 2), TC_E_INVALID_ARG);
    assert_int_equal(tc_grpc_options_set_keepalive(o, 1000, 500, true, 0), TC_OK);
    assert_int_equal(o->keepalive_time_us, 1000);
    assert_true(o->keepalive_permit_without_calls);
    assert_int_equal(tc_grpc_options_set_client_cert(o, "c.pem", NULL), TC_E_INVALID_ARG);
    assert_int_equal(tc_grpc_options_add_header(o, "Bad:Name", "x"), TC_E_INVALID_ARG);
    assert_int_equal(tc_grpc_options_add_header(o, "x-ok", "1"), TC_OK);
    assert_int_equal(tc_grpc_options_set_verbose(NULL, true), TC_E_INVALID_ARG);
    tc_grpc_options_free(o);
    tc_grpc_options_free(NULL);
}

static void channel_args_map_onto_options(void **state)
{
    (void)state;
    tc_grpc_options *o = NULL;
    assert_int_equal(tc_grpc_options_new(&o), TC_OK);
    assert_int_equal(tc_grpc_options_set_channel_arg_int(o, "grpc.keepalive_time_ms", 30000),
                     TC_OK);
    assert_int_equal(o->keepalive_time_us, 30000000u);
    assert_int_equal(tc_grpc_options_set_channel_arg_int(o, "grpc.keepalive_time_ms", INT32_MAX),
                     TC_OK);
    assert_int_equal(o->keepalive_time_us, 0); /* INT32_MAX ms means off */
    assert_int_equal(tc_grpc_options_set_channel_arg_int(o, "grpc.keepalive_timeout_ms", 5), TC_OK);
    assert_int_equal(o->keepalive_timeout_us, 5000);
    assert_int_equal(
        tc_grpc_options_set_channel_arg_int(o, "grpc.keepalive_permit_without_calls", 1), TC_OK);
    assert_true(o->keepalive_permit_without_calls);
    assert_int_equal(
        tc_grpc_options_set_channel_arg_int(o, "grpc.keepalive_permit_without_calls", 2),
        TC_E_INVALID_ARG);
    assert_int_equal(tc_grpc_options_set_channel_arg_int(o, "grpc.http2.max_pings_without_data", 7),
                     TC_OK);
    assert_int_equal(o->max_pings_without_data, 7);
    assert_int_equal(tc_grpc_options_set_channel_arg_int(o, "grpc.max_send_message_length", 4096),
                     TC_OK);
    assert_int_equal(o->max_send_message_size, 4096);
    assert_int_equal(tc_grpc_options_set_channel_arg_int(o, "grpc.max_receive_message_length", -1),
                     TC_OK);
    assert_int_equal(o->max_receive_message_size, (size_t)INT32_MAX);
    assert_int_equal(
        tc_grpc_options_set_channel_arg_int(o, "grpc.max_receive_message_length", INT64_MAX),
        TC_E_INVALID_ARG);
    assert_int_equal(
        tc_grpc_options_set_channel_arg_int(o, "grpc.default_compression_algorithm", 2), TC_OK);
    assert_int_equal(o->compression, TC_COMPRESSION_GZIP);
    assert_int_equal(
        tc_grpc_options_set_channel_arg_int(o, "grpc.default_compression_algorithm", 1), TC_OK);
    assert_int_equal(o->compression, TC_COMPRESSION_DEFLATE);
    assert_int_equal(tc_grpc_options_set_channel_arg_str(o, "grpc.keepalive_timeout_ms", "250"),
                     TC_OK);
    assert_int_equal(o->keepalive_timeout_us, 250000);
    assert_int_equal(tc_grpc_options_set_channel_arg_str(o, "grpc.keepalive_timeout_ms", "x"),
                     TC_E_INVALID_ARG);
    assert_int_equal(tc_grpc_options_set_channel_arg_str(o, "grpc.primary_user_agent", "me/1"),
                     TC_OK);
    assert_string_equal(o->user_agent_prefix, "me/1");
    /* Unknown names are refused, never dropped. */
    assert_int_equal(tc_grpc_options_set_channel_arg_int(o, "grpc.no_such_arg", 1),
                     TC_E_NOT_SUPPORTED);
    assert_int_equal(tc_grpc_options_set_channel_arg_str(o, "grpc.lb_policy_name", "round_robin"),
                     TC_E_NOT_SUPPORTED);
    assert_int_equal(tc_grpc_options_set_channel_arg_int(o, NULL, 1), TC_E_INVALID_ARG);
    tc_grpc_options_free(o);
}

static void constructor_checks_urls(void **state)
{
    (void)state;
    tc_client *c = NULL;
    assert_int_equal(tc_grpc_client_new(NULL, "localhost:8001", NULL), TC_E_INVALID_ARG);
    assert_int_equal(tc_grpc_client_new(&c, "", NULL), TC_E_INVALID_ARG);
    assert_int_equal(tc_grpc_client_new(&c, "localhost", NULL), TC_E_INVALID_ARG);
    assert_int_equal(tc_grpc_client_new(&c, "ftp://localhost:1", NULL), TC_E_INVALID_ARG);
    assert_int_equal(tc_grpc_client_new(&c, "localhost:8001/x", NULL), TC_E_INVALID_ARG);
    assert_null(c);
    const char *good[] = {"localhost:8001", "grpc://localhost:8001", "http://127.0.0.1:1/",
                          "[::1]:8001"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(tc_grpc_client_new(&c, good[i], NULL), TC_OK);
        assert_int_equal(tc_client_free(c), TC_OK);
        c = NULL;
    }
}

static void http_client_has_no_streams(void **state)
{
    (void)state;
    tc_client *c = NULL;
    tc_stream *s = NULL;
    assert_int_equal(tc_http_client_new(&c, "localhost:1", NULL), TC_OK);
    assert_int_equal(tc_client_stream_start(c, NULL, NULL, NULL, &s), TC_E_INVALID_ARG);
    assert_int_equal(tc_client_cancel(c, 1), TC_E_NOT_SUPPORTED);
    assert_int_equal(tc_client_free(c), TC_OK);
}

/* ---- completion contracts -------------------------------------------------------------- */

typedef struct counter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int calls;
    int ends;
    tc_code last;
} counter;

static counter g_count = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, TC_OK};

static void reset_count(void)
{
    g_count.calls = 0;
    g_count.ends = 0;
    g_count.last = TC_OK;
}

static void on_infer(tc_result *r, void *ud)
{
    (void)ud;
    pthread_mutex_lock(&g_count.mu);
    g_count.calls++;
    g_count.last = tc_result_status(r);
    pthread_cond_broadcast(&g_count.cv);
    pthread_mutex_unlock(&g_count.mu);
    tc_result_free(r);
}

static void wait_calls(int n)
{
    pthread_mutex_lock(&g_count.mu);
    while (g_count.calls < n)
        pthread_cond_wait(&g_count.cv, &g_count.mu);
    pthread_mutex_unlock(&g_count.mu);
}

static void sync_call_to_closed_port_fails(void **state)
{
    (void)state;
    tc_client *c = client_for(closed_port(), NULL);
    bool live = true;
    assert_int_equal(tc_client_is_server_live(c, NULL, &live), TC_E_TRANSPORT);
    assert_non_null(strstr(tc_client_last_error(c), "failed to connect"));
    tc_request *req = simple_request();
    tc_result *r = NULL;
    assert_int_equal(tc_client_infer(c, req, &r), TC_E_TRANSPORT);
    assert_non_null(r);
    assert_int_equal(tc_result_status(r), TC_E_TRANSPORT);
    tc_result_free(r);
    tc_request_free(req);
    assert_int_equal(tc_client_free(c), TC_OK);
}

static void async_to_closed_port_completes_once(void **state)
{
    (void)state;
    reset_count();
    tc_client *c = client_for(closed_port(), NULL);
    tc_request *req = simple_request();
    for (int i = 0; i < 4; i++)
        assert_int_equal(tc_client_infer_async(c, req, on_infer, NULL), TC_OK);
    wait_calls(4);
    assert_int_equal(g_count.last, TC_E_TRANSPORT);
    tc_request_free(req);
    assert_int_equal(tc_client_free(c), TC_OK);
    assert_int_equal(g_count.calls, 4);
}

static void on_stream(tc_stream *s, tc_result *r, bool final, void *ud)
{
    (void)ud;
    pthread_mutex_lock(&g_count.mu);
    if (r == NULL) {
        g_count.ends++;
        g_count.last = tc_stream_status(s);
        assert_true(final);
    } else {
        g_count.calls++;
        tc_result_free(r);
    }
    pthread_cond_broadcast(&g_count.cv);
    pthread_mutex_unlock(&g_count.mu);
}

static void stream_to_closed_port_ends_once(void **state)
{
    (void)state;
    reset_count();
    tc_client *c = client_for(closed_port(), NULL);
    tc_stream *s = NULL;
    assert_int_equal(tc_client_stream_start(c, on_stream, NULL, NULL, &s), TC_OK);
    tc_code end = tc_stream_stop(s, false);
    assert_int_equal(end, TC_E_TRANSPORT);
    assert_int_equal(g_count.ends, 1);
    assert_int_equal(g_count.calls, 0);
    assert_non_null(strstr(tc_stream_error_message(s), "failed to connect"));
    /* Stopped streams refuse more requests; stopping again is harmless. */
    tc_request *req = simple_request();
    assert_int_equal(tc_stream_send(s, req), TC_E_CANCELLED);
    assert_int_equal(tc_stream_stop(s, true), TC_E_TRANSPORT);
    tc_stream_free(s);
    tc_request_free(req);
    assert_int_equal(tc_client_free(c), TC_OK);
    assert_int_equal(g_count.ends, 1);
}

static void deadline_against_silent_server(void **state)
{
    (void)state;
    reset_count();
    int port = 0;
    int lfd = silent_listener(&port);
    tc_client *c = client_for(port, NULL);
    tc_request *req = simple_request();
    assert_int_equal(tc_request_set_client_timeout_us(req, 100000), TC_OK);
    tc_result *r = NULL;
    assert_int_equal(tc_client_infer(c, req, &r), TC_E_TIMEOUT);
    tc_result_free(r);
    assert_int_equal(tc_client_infer_async(c, req, on_infer, NULL), TC_OK);
    wait_calls(1);
    assert_int_equal(g_count.last, TC_E_TIMEOUT);
    tc_request_free(req);
    assert_int_equal(tc_client_free(c), TC_OK);
    close(lfd);
}

/* The first address refuses; the client goes on to the second (a listener
 * that never answers: the call times out instead of failing to connect). */
static void next_address_after_a_refused_one(void **state)
{
    (void)state;
    int port = 0;
    int lfd = silent_listener(&port);
    g_first_port = closed_port();
    g_second_port = port;
    tc_client *c = NULL;
    assert_int_equal(tc_grpc_client_new(&c, "two.invalid:1", NULL), TC_OK);
    tc_request *req = simple_request();
    assert_int_equal(tc_request_set_client_timeout_us(req, 200000), TC_OK);
    tc_result *r = NULL;
    assert_int_equal(tc_client_infer(c, req, &r), TC_E_TIMEOUT);
    tc_result_free(r);
    int afd = accept(lfd, NULL, NULL); /* in the backlog already: no wait */
    assert_true(afd >= 0);             /* the client reached the second address */
    close(afd);
    tc_request_free(req);
    assert_int_equal(tc_client_free(c), TC_OK);
    close(lfd);
}

static void cancel_and_free_complete_pending_calls(void **state)
{
    (void)state;
    reset_count();
    int port = 0;
    int lfd = silent_listener(&port);
    tc_client *c = client_for(port, NULL);
    tc_request *req = simple_request();
    uint64_t id = 0;
    assert_int_equal(tc_client_infer_async_id(c, req, on_infer, NULL, &id), TC_OK);
    assert_true(id != 0);
    assert_int_equal(tc_client_cancel(c, id), TC_OK);
    wait_calls(1);
    assert_int_equal(g_count.last, TC_E_CANCELLED);
    assert_int_equal(tc_client_cancel(c, id), TC_OK); /* already done: nothing happens */
    assert_int_equal(tc_client_cancel(c, 0), TC_E_INVALID_ARG);
    /* Pending calls and an open stream end when the client is freed. */
    assert_int_equal(tc_client_infer_async(c, req, on_infer, NULL), TC_OK);
    assert_int_equal(tc_client_infer_async(c, req, on_infer, NULL), TC_OK);
    tc_stream *s = NULL;
    assert_int_equal(tc_client_stream_start(c, on_stream, NULL, NULL, &s), TC_OK);
    assert_int_equal(tc_stream_send(s, req), TC_OK);
    assert_int_equal(tc_client_free(c), TC_OK);
    assert_int_equal(g_count.calls, 3);
    assert_int_equal(g_count.ends, 1);
    assert_int_equal(tc_stream_status(s), TC_E_CANCELLED);
    tc_stream_free(s);
    tc_request_free(req);
    close(lfd);
}

static void send_limit_is_enforced(void **state)
{
    (void)state;
    tc_grpc_options *o = NULL;
    assert_int_equal(tc_grpc_options_new(&o), TC_OK);
    assert_int_equal(tc_grpc_options_set_max_send_message_size(o, 16), TC_OK);
    tc_client *c = client_for(closed_port(), o);
    tc_grpc_options_free(o);
    tc_request *req = simple_request();
    tc_result *r = NULL;
    assert_int_equal(tc_client_infer(c, req, &r), TC_E_INVALID_ARG);
    assert_null(r);
    assert_non_null(strstr(tc_client_last_error(c), "send limit"));
    tc_request_free(req);
    assert_int_equal(tc_client_free(c), TC_OK);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(options_defaults_and_setters),
    cmocka_unit_test(channel_args_map_onto_options),
    cmocka_unit_test(constructor_checks_urls),
    cmocka_unit_test(http_client_has_no_streams),
    cmocka_unit_test(sync_call_to_closed_port_fails),
    cmocka_unit_test(async_to_closed_port_completes_once),
    cmocka_unit_test(stream_to_closed_port_ends_once),
    cmocka_unit_test(deadline_against_silent_server),
    cmocka_unit_test(next_address_after_a_refused_one),
    cmocka_unit_test(cancel_and_free_complete_pending_calls),
    cmocka_unit_test(send_limit_is_enforced),
};

TC_TEST_MAIN(tests)
