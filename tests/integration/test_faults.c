/* Fault tests: a server killed with async calls and a stream in flight,
 * clients vanishing mid-request, SIGTERM under load, retries against a
 * server that starts late, and a multi-endpoint client losing and regaining
 * one of its servers. Every server runs on 127.0.0.1 with ports picked per
 * case. */
#include "tc_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <tritonc/tritonc.h>
#include <unistd.h>

#include "grpc_raw.h"
#include "server_proc.h"

#define MAX_SERVERS 2

typedef struct fixture {
    tc_test_server s[MAX_SERVERS];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    *state = f;
    return f == NULL ? -1 : 0;
}

static void kill_server(tc_test_server *s)
{
    if (s->pid <= 0)
        return;
    (void)kill(s->pid, SIGKILL);
    int st;
    (void)waitpid(s->pid, &st, 0);
    s->pid = 0;
    if (s->out_fd >= 0)
        (void)close(s->out_fd);
    s->out_fd = -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < MAX_SERVERS; i++)
        kill_server(&f->s[i]);
    free(f);
    return 0;
}

/* A port nothing listens on right now (bound then released). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* Whether `*(int *)arg` can be bound as the server binds its ports
 * (SO_REUSEADDR: connections in TIME_WAIT do not count). */
static bool port_bindable(void *arg)
{
    int port = *(int *)arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (!ok && errno != EADDRINUSE)
        fail_msg("bind port %d: %s", port, strerror(errno));
    close(fd);
    return ok;
}

/* Start a server; http_port/grpc_port 0 = ephemeral; explicit model control
 * when `explicit_mode`. */
static void start_server(tc_test_server *s, int http_port, int grpc_port, bool explicit_mode)
{
    char hp[32], gp[32];
    snprintf(hp, sizeof hp, "--http-port=%d", http_port);
    snprintf(gp, sizeof gp, "--grpc-port=%d", grpc_port);
    /* A killed server's listeners are gone once it is reaped; wait (bounded)
     * until its ports can be bound again all the same, as something else on
     * the machine may hold one of them for a moment. */
    int ports[2] = {http_port, grpc_port};
    for (int i = 0; i < 2; i++) {
        if (ports[i] != 0 && !tc_test_wait_until(port_bindable, &ports[i], 10000))
            fail_msg("port %d still in use after 10 s", ports[i]);
    }
    const char *args[] = {hp, gp, explicit_mode ? "--model-control-mode=explicit" : NULL, NULL};
    assert_int_equal(tc_test_server_start(s, TC_MODELS_DIR, args), 0);
}

static void url_of(char *buf, size_t n, int port)
{
    snprintf(buf, n, "127.0.0.1:%d", port);
}

/* Reload custom_identity_int32 with an execute delay, and a dynamic batcher
 * that holds requests in the queue for `hold_ms` (as test_shutdown.c): until
 * then none can start, so the pending count tells exactly how many arrived. */
static void load_slow_identity(int port, int delay_ms, int hold_ms)
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"parameters\":{\"config\":\"{\\\"name\\\":\\\"custom_identity_int32\\\","
             "\\\"backend\\\":\\\"tritonc_identity\\\",\\\"max_batch_size\\\":1024,"
             "\\\"dynamic_batching\\\":{\\\"max_queue_delay_microseconds\\\":%d000},"
             "\\\"input\\\":[{\\\"name\\\":\\\"INPUT0\\\",\\\"data_type\\\":\\\"TYPE_INT32\\\","
             "\\\"dims\\\":[-1]}],\\\"output\\\":[{\\\"name\\\":\\\"OUTPUT0\\\","
             "\\\"data_type\\\":\\\"TYPE_INT32\\\",\\\"dims\\\":[-1]}],\\\"parameters\\\":"
             "{\\\"execute_delay_ms\\\":{\\\"string_value\\\":\\\"%d\\\"}}}\"}}",
             hold_ms, delay_ms);
    tc_http_reply r;
    assert_int_equal(tc_http_request(port, "POST",
                                     "/v2/repository/models/custom_identity_int32/load", NULL, body,
                                     strlen(body), &r),
                     0);
    if (r.status != 200)
        fail_msg("load failed: %d %s", r.status, (char *)r.body);
    tc_http_reply_free(&r);
}

static const int32_t k_data[4] = {1, 2, 3, 4};

static tc_request *identity_request(void)
{
    tc_request *req;
    int64_t shape[2] = {1, 4};
    assert_int_equal(tc_request_new(&req, "custom_identity_int32"), TC_OK);
    assert_int_equal(tc_request_add_input(req, "INPUT0", TC_DTYPE_INT32, shape, 2), TC_OK);
    assert_int_equal(tc_request_input_append(req, "INPUT0", k_data, sizeof k_data, TC_BORROW),
                     TC_OK);
    return req;
}

/* ---- callbacks --------------------------------------------------------------- */

#define MAX_CALLS 64

typedef struct collector {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int calls[MAX_CALLS];
    tc_code codes[MAX_CALLS];
    int done;
    int stream_results;
    int stream_ends;
} collector;

typedef struct slot {
    collector *c;
    int i;
} slot;

static void collector_init(collector *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC); /* deadlines on the monotonic clock */
    pthread_cond_init(&c->cv, &a);
    pthread_condattr_destroy(&a);
}

static void collector_cleanup(collector *c)
{
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
}

static void on_infer(tc_result *r, void *ud)
{
    slot *s = ud;
    pthread_mutex_lock(&s->c->mu);
    s->c->calls[s->i]++;
    s->c->codes[s->i] = tc_result_status(r);
    s->c->done++;
    pthread_cond_broadcast(&s->c->cv);
    pthread_mutex_unlock(&s->c->mu);
    tc_result_free(r);
}

static void on_stream(tc_stream *st, tc_result *r, bool final, void *ud)
{
    (void)st;
    (void)final;
    collector *c = ud;
    pthread_mutex_lock(&c->mu);
    if (r == NULL)
        c->stream_ends++;
    else
        c->stream_results++;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    tc_result_free(r);
}

/* Wait until `done` >= n and `stream_ends` >= ends, at most `ms`. */
static bool wait_for(collector *c, int n, int ends, int ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->mu);
    while ((c->done < n || c->stream_ends < ends) &&
           pthread_cond_timedwait(&c->cv, &c->mu, &deadline) != ETIMEDOUT) {
    }
    bool ok = c->done >= n && c->stream_ends >= ends;
    pthread_mutex_unlock(&c->mu);
    return ok;
}

/* ---- (a) server killed with calls in flight; restarted ------------------------ */

static void killed_server_fails_pending_calls_once(void **state)
{
    fixture *f = *state;
    tc_test_server *s = &f->s[0];
    start_server(s, 0, 0, true);
    int metrics_port = tc_test_server_metrics_port(s);
    assert_true(metrics_port > 0);
    /* Held in the queue far longer than the test needs: nothing completes
     * before the kill. */
    load_slow_identity(s->http_port, 0, 20000);
    int http_port = s->http_port, grpc_port = s->grpc_port;
    char hurl[64], gurl[64];
    url_of(hurl, sizeof hurl, http_port);
    url_of(gurl, sizeof gurl, grpc_port);
    tc_http_options *ho;
    assert_int_equal(tc_http_options_new(&ho), TC_OK);
    assert_int_equal(tc_http_options_set_max_connections(ho, 16), TC_OK);
    tc_client *hc, *gc;
    assert_int_equal(tc_http_client_new(&hc, hurl, ho), TC_OK);
    assert_int_equal(tc_grpc_client_new(&gc, gurl, NULL), TC_OK);
    tc_http_options_free(ho);

    collector col;
    collector_init(&col);
    slot slots[16];
    tc_request *req = identity_request();
    for (int i = 0; i < 16; i++) {
        slots[i] = (slot){&col, i};
        assert_int_equal(tc_client_infer_async(i % 2 ? gc : hc, req, on_infer, &slots[i]), TC_OK);
    }
    tc_stream *st;
    assert_int_equal(tc_client_stream_start(gc, on_stream, &col, NULL, &st), TC_OK);
    assert_int_equal(tc_stream_send(st, req), TC_OK);
    /* All 17 requests reached the server and wait in its queue. */
    assert_int_equal(tc_test_wait_pending(metrics_port, "custom_identity_int32", 17, 20000), 0);
    kill_server(s);

    assert_true(wait_for(&col, 16, 1, 20000));
    pthread_mutex_lock(&col.mu);
    for (int i = 0; i < 16; i++)
        assert_true(col.codes[i] == TC_E_TRANSPORT || col.codes[i] == TC_E_UNAVAILABLE);
    pthread_mutex_unlock(&col.mu);
    assert_true(tc_stream_status(st) == TC_E_TRANSPORT || tc_stream_status(st) == TC_E_UNAVAILABLE);
    tc_stream_free(st);
    /* The stream is freed: its callback cannot run any more. */
    assert_int_equal(col.stream_ends, 1);
    assert_int_equal(col.stream_results, 0);

    /* The same ports again: the clients reconnect by themselves. */
    start_server(s, http_port, grpc_port, false);
    bool live = false;
    assert_int_equal(tc_client_is_server_live(hc, NULL, &live), TC_OK);
    assert_true(live);
    live = false;
    assert_int_equal(tc_client_is_server_live(gc, NULL, &live), TC_OK);
    assert_true(live);
    tc_result *r;
    assert_int_equal(tc_client_infer(gc, req, &r), TC_OK);
    tc_result_free(r);
    assert_int_equal(tc_client_infer(hc, req, &r), TC_OK);
    tc_result_free(r);

    tc_request_free(req);
    assert_int_equal(tc_client_free(hc), TC_OK);
    assert_int_equal(tc_client_free(gc), TC_OK);
    /* The clients are freed, their I/O threads gone: each call's callback
     * ran exactly once, and nothing can add a second one now. */
    for (int i = 0; i < 16; i++)
        assert_int_equal(col.calls[i], 1);
    collector_cleanup(&col);
    assert_int_equal(tc_test_server_stop(s), 0);
}

/* ---- (b) clients vanishing mid-request ----------------------------------------- */

static long rss_kb(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, fp) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    }
    fclose(fp);
    return kb;
}

static int connect_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* One HTTP client sending half a request and one gRPC client sending half
 * a message, each closing without a goodbye. */
static void vanish_pair(int http_port, int grpc_port)
{
    static const char k_head[] = "POST /v2/models/simple/infer HTTP/1.1\r\nHost: x\r\n"
                                 "Content-Type: application/json\r\nContent-Length: 4096\r\n\r\n"
                                 "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],";
    int fd = connect_port(http_port);
    assert_true(fd >= 0);
    assert_true(send(fd, k_head, sizeof k_head - 1, MSG_NOSIGNAL) > 0);
    close(fd);

    tc_grpc_raw *g;
    assert_int_equal(tc_grpc_raw_connect(&g, grpc_port), 0);
    int32_t sid = tc_grpc_raw_start(g, "/inference.GRPCInferenceService/ModelInfer", NULL);
    assert_true(sid > 0);
    uint8_t half[5 + 32] = {0, 0, 0, 0x10, 0}; /* a 4096-byte message, 32 bytes of it */
    memset(half + 5, 0x0a, 32);
    assert_int_equal(tc_grpc_raw_send(g, sid, half, sizeof half, false), 0);
    tc_grpc_raw_close(g);
}

/* Open descriptors of `pid`, or -1. */
static long fd_count(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    if (d == NULL)
        return -1;
    long n = 0;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

typedef struct fd_limit {
    pid_t pid;
    long limit;
} fd_limit;

static bool fds_at_most(void *arg)
{
    const fd_limit *l = arg;
    return fd_count(l->pid) <= l->limit;
}

/* Wait (bounded, 10 s) until the server has closed the vanished clients'
 * connections: its descriptor count is back to `limit` or below. */
static void wait_fds_at_most(pid_t pid, long limit)
{
    fd_limit l = {pid, limit};
    if (!tc_test_wait_until(fds_at_most, &l, 10000))
        fail_msg("server holds %ld descriptors after 10 s, want at most %ld", fd_count(pid), limit);
}

/* `n` vanishing pairs in batches of 25, each batch closed by the server
 * before the next starts: the server never holds more than a batch, so its
 * allocator's high-water mark does not depend on how far the clients got
 * ahead of it (unpaced, a busy machine let hundreds pile up: a transient
 * peak of 15 MB that the allocator keeps, not a leak). */
static void vanish_paced(tc_test_server *s, int n, long idle_fds)
{
    for (int i = 0; i < n; i++) {
        vanish_pair(s->http_port, s->grpc_port);
        if (i % 25 == 24)
            wait_fds_at_most(s->pid, idle_fds + 4);
    }
    wait_fds_at_most(s->pid, idle_fds + 4);
}

static void vanishing_clients_do_not_leak(void **state)
{
    fixture *f = *state;
    tc_test_server *s = &f->s[0];
    start_server(s, 0, 0, false);
    long idle_fds = fd_count(s->pid);
    assert_true(idle_fds > 0);
    /* Warm up allocator arenas, caches and thread pools with as many clients
     * as are measured, so that what grows afterwards is what leaks. */
    vanish_paced(s, 500, idle_fds);
    long before = rss_kb(s->pid);
    assert_true(before > 0);
    /* 1000 clients. The server notices the closed sockets asynchronously:
     * every batch waits until its connections are gone (none may linger). */
    vanish_paced(s, 500, idle_fds);
    tc_http_reply r;
    assert_int_equal(tc_http_request(s->http_port, "GET", "/v2/health/ready", NULL, NULL, 0, &r),
                     0);
    assert_int_equal(r.status, 200);
    tc_http_reply_free(&r);
    long after = rss_kb(s->pid);
    print_message("server VmRSS %ld kB before, %ld kB after 1000 vanishing clients\n", before,
                  after);
#if defined(__SANITIZE_ADDRESS__)
    /* ASan keeps freed memory in quarantine: RSS says nothing here; its leak
     * check at the server's exit (tc_test_server_stop() below) does. */
    (void)after;
#else
    assert_true(after <= before + 4096); /* 4 MiB slack */
#endif
    char url[64];
    url_of(url, sizeof url, s->grpc_port);
    tc_client *gc;
    assert_int_equal(tc_grpc_client_new(&gc, url, NULL), TC_OK);
    bool ready = false;
    assert_int_equal(tc_client_is_server_ready(gc, NULL, &ready), TC_OK);
    assert_true(ready);
    tc_client_free(gc);
    assert_int_equal(tc_test_server_stop(s), 0);
}

/* ---- (c) SIGTERM under load ------------------------------------------------------ */

/* Whether the server at `*(int *)arg` (HTTP) stopped reporting ready: it
 * answers 400 while it drains, nothing once it is gone. */
static bool not_ready(void *arg)
{
    tc_http_reply r;
    if (tc_http_request(*(int *)arg, "GET", "/v2/health/ready", NULL, NULL, 0, &r) != 0)
        return true;
    int status = r.status;
    tc_http_reply_free(&r);
    return status != 200;
}

static void sigterm_under_load_finishes_accepted_calls(void **state)
{
    fixture *f = *state;
    tc_test_server *s = &f->s[0];
    start_server(s, 0, 0, true);
    int metrics_port = tc_test_server_metrics_port(s);
    assert_true(metrics_port > 0);
    /* The calls wait in the queue for 2 s (time for all of them to arrive),
     * then run as one batch for 500 ms: the drain has work to wait for. */
    load_slow_identity(s->http_port, 500, 2000);
    char url[64];
    url_of(url, sizeof url, s->grpc_port);
    tc_client *gc;
    assert_int_equal(tc_grpc_client_new(&gc, url, NULL), TC_OK);
    collector col;
    collector_init(&col);
    slot slots[16];
    tc_request *req = identity_request();
    for (int i = 0; i < 16; i++) {
        slots[i] = (slot){&col, i};
        assert_int_equal(tc_client_infer_async(gc, req, on_infer, &slots[i]), TC_OK);
    }
    /* Every call reached the server and none has run yet. */
    assert_int_equal(tc_test_wait_pending(metrics_port, "custom_identity_int32", 16, 20000), 0);
    assert_int_equal(kill(s->pid, SIGTERM), 0);
    int http_port = s->http_port;
    assert_true(tc_test_wait_until(not_ready, &http_port, 10000)); /* the signal landed */
    /* New work is refused while the accepted calls drain. */
    tc_client *late;
    assert_int_equal(tc_grpc_client_new(&late, url, NULL), TC_OK);
    tc_result *r = NULL;
    tc_code rc = tc_client_infer(late, req, &r);
    assert_int_not_equal(rc, TC_OK);
    tc_result_free(r);
    tc_client_free(late);

    assert_true(wait_for(&col, 16, 0, 30000));
    pthread_mutex_lock(&col.mu);
    for (int i = 0; i < 16; i++)
        assert_int_equal(col.codes[i], TC_OK);
    pthread_mutex_unlock(&col.mu);
    int st = 0;
    assert_int_equal(waitpid(s->pid, &st, 0), s->pid);
    s->pid = 0;
    close(s->out_fd);
    s->out_fd = -1;
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    tc_request_free(req);
    tc_client_free(gc);
    /* The client is freed: each callback ran exactly once, for good. */
    for (int i = 0; i < 16; i++)
        assert_int_equal(col.calls[i], 1);
    collector_cleanup(&col);
}

/* ---- (d) retries against a server that starts late ---------------------------- */

typedef struct late_start {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int retries_seen;
    int http_port;
    int grpc_port;
    tc_test_server *server;
    int started; /* 1 ok, -1 failed */
} late_start;

static late_start *g_late;

static void on_log(tc_log_level level, const char *message, void *ud)
{
    (void)level;
    (void)ud;
    late_start *l = g_late;
    if (l == NULL || strstr(message, "retrying") == NULL)
        return;
    pthread_mutex_lock(&l->mu);
    l->retries_seen++;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

static void *starter_main(void *arg)
{
    late_start *l = arg;
    pthread_mutex_lock(&l->mu);
    while (l->retries_seen == 0)
        pthread_cond_wait(&l->cv, &l->mu); /* the first attempt was refused */
    pthread_mutex_unlock(&l->mu);
    char hp[32], gp[32];
    snprintf(hp, sizeof hp, "--http-port=%d", l->http_port);
    snprintf(gp, sizeof gp, "--grpc-port=%d", l->grpc_port);
    const char *args[] = {hp, gp, NULL};
    int rc = tc_test_server_start(l->server, TC_MODELS_DIR, args);
    pthread_mutex_lock(&l->mu);
    l->started = rc == 0 ? 1 : -1;
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

static void retry_case(fixture *f, bool grpc)
{
    late_start l = {0};
    pthread_mutex_init(&l.mu, NULL);
    pthread_cond_init(&l.cv, NULL);
    l.http_port = free_port();
    l.grpc_port = free_port();
    l.server = &f->s[0];
    char url[64];
    url_of(url, sizeof url, grpc ? l.grpc_port : l.http_port);

    /* Without retries: refused at once. */
    tc_client *plain;
    if (grpc)
        assert_int_equal(tc_grpc_client_new(&plain, url, NULL), TC_OK);
    else
        assert_int_equal(tc_http_client_new(&plain, url, NULL), TC_OK);
    bool live = false;
    assert_int_equal(tc_client_is_server_live(plain, NULL, &live), TC_E_TRANSPORT);
    tc_client_free(plain);

    g_late = &l;
    tc_set_log_callback(on_log, TC_LOG_INFO, NULL);
    tc_client *c;
    if (grpc) {
        tc_grpc_options *o;
        assert_int_equal(tc_grpc_options_new(&o), TC_OK);
        assert_int_equal(tc_grpc_options_set_retry(o, 200, 20000, 200000), TC_OK);
        assert_int_equal(tc_grpc_options_set_network_timeout_us(o, 30000000), TC_OK);
        assert_int_equal(tc_grpc_client_new(&c, url, o), TC_OK);
        tc_grpc_options_free(o);
    } else {
        tc_http_options *o;
        assert_int_equal(tc_http_options_new(&o), TC_OK);
        assert_int_equal(tc_http_options_set_retry(o, 200, 20000, 200000), TC_OK);
        assert_int_equal(tc_http_options_set_network_timeout_us(o, 30000000), TC_OK);
        assert_int_equal(tc_http_client_new(&c, url, o), TC_OK);
        tc_http_options_free(o);
    }
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, starter_main, &l), 0);
    if (grpc) {
        /* async: resent from the timer thread until the server is up */
        collector col;
        collector_init(&col);
        slot sl = {&col, 0};
        tc_request *req;
        assert_int_equal(tc_request_new(&req, "simple"), TC_OK);
        int64_t shape[2] = {1, 16};
        int32_t in[16] = {0};
        assert_int_equal(tc_request_add_input(req, "INPUT0", TC_DTYPE_INT32, shape, 2), TC_OK);
        assert_int_equal(tc_request_add_input(req, "INPUT1", TC_DTYPE_INT32, shape, 2), TC_OK);
        assert_int_equal(tc_request_input_append(req, "INPUT0", in, sizeof in, TC_COPY), TC_OK);
        assert_int_equal(tc_request_input_append(req, "INPUT1", in, sizeof in, TC_COPY), TC_OK);
        assert_int_equal(tc_client_infer_async(c, req, on_infer, &sl), TC_OK);
        tc_request_free(req); /* the client keeps its own copy for resends */
        assert_true(wait_for(&col, 1, 0, 30000));
        assert_int_equal(col.calls[0], 1);
        assert_int_equal(col.codes[0], TC_OK);
        collector_cleanup(&col);
    } else {
        live = false;
        assert_int_equal(tc_client_is_server_live(c, NULL, &live), TC_OK);
        assert_true(live);
    }
    pthread_join(t, NULL);
    assert_int_equal(l.started, 1);
    assert_true(l.retries_seen >= 1);
    tc_set_log_callback(NULL, TC_LOG_ERROR, NULL);
    g_late = NULL;
    assert_int_equal(tc_client_free(c), TC_OK);
    assert_int_equal(tc_test_server_stop(&f->s[0]), 0);
    pthread_mutex_destroy(&l.mu);
    pthread_cond_destroy(&l.cv);
}

static void http_retry_reaches_late_server(void **state)
{
    retry_case(*state, false);
}

static void grpc_async_retry_reaches_late_server(void **state)
{
    retry_case(*state, true);
}

/* ---- (e) multi-endpoint failover ------------------------------------------------- */

/* inference_count of model `simple` on the server at `port` (0 when none). */
static long simple_count(int port)
{
    tc_http_reply r;
    if (tc_http_request(port, "GET", "/v2/models/simple/stats", NULL, NULL, 0, &r) != 0)
        return -1;
    const char *p = strstr((const char *)r.body, "\"inference_count\":");
    long n = p != NULL ? strtol(p + strlen("\"inference_count\":"), NULL, 10) : 0;
    tc_http_reply_free(&r);
    return n;
}

static void simple_infer_ok(tc_client *c)
{
    tc_request *req;
    assert_int_equal(tc_request_new(&req, "simple"), TC_OK);
    int64_t shape[2] = {1, 16};
    int32_t in[16] = {0};
    assert_int_equal(tc_request_add_input(req, "INPUT0", TC_DTYPE_INT32, shape, 2), TC_OK);
    assert_int_equal(tc_request_add_input(req, "INPUT1", TC_DTYPE_INT32, shape, 2), TC_OK);
    assert_int_equal(tc_request_input_append(req, "INPUT0", in, sizeof in, TC_BORROW), TC_OK);
    assert_int_equal(tc_request_input_append(req, "INPUT1", in, sizeof in, TC_BORROW), TC_OK);
    tc_result *r = NULL;
    tc_code rc = tc_client_infer(c, req, &r);
    if (rc != TC_OK)
        fail_msg("infer: %s: %s", tc_code_name(rc), tc_client_last_error(c));
    tc_result_free(r);
    tc_request_free(req);
}

static void multi_case(fixture *f, bool grpc)
{
    start_server(&f->s[0], 0, 0, false);
    start_server(&f->s[1], 0, 0, false);
    char u0[64], u1[64];
    url_of(u0, sizeof u0, grpc ? f->s[0].grpc_port : f->s[0].http_port);
    url_of(u1, sizeof u1, grpc ? f->s[1].grpc_port : f->s[1].http_port);
    const char *urls[] = {u0, u1};
    tc_client *c;
    if (grpc) {
        tc_grpc_options *o;
        assert_int_equal(tc_grpc_options_new(&o), TC_OK);
        assert_int_equal(tc_grpc_options_set_retry(o, 4, 10000, 100000), TC_OK);
        assert_int_equal(tc_grpc_multi_client_new(&c, urls, 2, o), TC_OK);
        tc_grpc_options_free(o);
    } else {
        tc_http_options *o;
        assert_int_equal(tc_http_options_new(&o), TC_OK);
        assert_int_equal(tc_http_options_set_retry(o, 4, 10000, 100000), TC_OK);
        assert_int_equal(tc_http_multi_client_new(&c, urls, 2, o), TC_OK);
        tc_http_options_free(o);
    }
    /* Round robin: both servers get calls. */
    for (int i = 0; i < 10; i++)
        simple_infer_ok(c);
    assert_int_equal(simple_count(f->s[0].http_port), 5);
    assert_int_equal(simple_count(f->s[1].http_port), 5);

    int hp = f->s[1].http_port, gp = f->s[1].grpc_port;
    kill_server(&f->s[1]);
    for (int i = 0; i < 20; i++) {
        simple_infer_ok(c);
        bool live = false;
        assert_int_equal(tc_client_is_server_live(c, NULL, &live), TC_OK);
        assert_true(live);
    }
    assert_true(simple_count(f->s[0].http_port) >= 25);

    /* Back on its ports: the probe brings it back into the rotation. */
    start_server(&f->s[1], hp, gp, false);
    long long deadline = tc_test_now_ms() + 15000;
    long used = 0;
    while (used <= 0 && tc_test_now_ms() < deadline) {
        simple_infer_ok(c);
        used = simple_count(f->s[1].http_port);
        if (used <= 0)
            tc_test_sleep_ms(20); /* the interval of this bounded poll */
    }
    assert_true(used > 0);
    assert_int_equal(tc_client_free(c), TC_OK);
    assert_int_equal(tc_test_server_stop(&f->s[0]), 0);
    assert_int_equal(tc_test_server_stop(&f->s[1]), 0);
}

static void http_multi_endpoint_failover(void **state)
{
    multi_case(*state, false);
}

static void grpc_multi_endpoint_failover(void **state)
{
    multi_case(*state, true);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(killed_server_fails_pending_calls_once, setup, teardown),
    cmocka_unit_test_setup_teardown(vanishing_clients_do_not_leak, setup, teardown),
    cmocka_unit_test_setup_teardown(sigterm_under_load_finishes_accepted_calls, setup, teardown),
    cmocka_unit_test_setup_teardown(http_retry_reaches_late_server, setup, teardown),
    cmocka_unit_test_setup_teardown(grpc_async_retry_reaches_late_server, setup, teardown),
    cmocka_unit_test_setup_teardown(http_multi_endpoint_failover, setup, teardown),
    cmocka_unit_test_setup_teardown(grpc_multi_endpoint_failover, setup, teardown),
};

TC_TEST_MAIN(tests)
