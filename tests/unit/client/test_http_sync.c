/* The lean sync HTTP/1.1 transport (src/client/http_sync.c) against a
 * loopback fake server thread that reads each request and answers from a
 * script: body framings, compression, keep-alive reuse and reconnects,
 * broken and hostile answers, deadlines, server errors. */
#include "tc_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include <tritonc/tritonc.h>

/* ---- the fake server ------------------------------------------------------ */

typedef struct step {
    const char *bytes; /* the answer; NULL sends nothing */
    size_t len;        /* 0 = strlen(bytes) */
    int delay_ms;      /* pause before answering */
    bool close;        /* close the connection after answering */
} step;

#define MAX_REQ 8

typedef struct fake {
    int lfd;
    int port;
    const step *steps;
    size_t nsteps;
    pthread_t thread;
    /* Written by the server thread; read after fake_join() only. */
    int accepts;
    int requests;
    char heads[MAX_REQ][4096];
    /* Shared with the test while the server runs (under `mu`). */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int closes; /* connections closed after an answer, as a step says */
} fake;

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void send_bytes(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* Read one request (head, then Content-Length body bytes). False at EOF. */
static bool read_request(fake *f, int fd)
{
    char buf[16384];
    size_t len = 0;
    char *end = NULL;
    while (end == NULL) {
        if (len == sizeof buf - 1)
            return false;
        ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (n <= 0)
            return false;
        len += (size_t)n;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    size_t head = (size_t)(end + 4 - buf);
    size_t body = 0;
    for (char *p = buf; p < end; p++) {
        if (strncasecmp(p, "\r\nContent-Length:", 17) == 0)
            body = strtoul(p + 17, NULL, 10);
    }
    if (f->requests < MAX_REQ)
        snprintf(f->heads[f->requests], sizeof f->heads[0], "%.*s", (int)head, buf);
    size_t have = len - head;
    while (have < body) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            return false;
        have += (size_t)n;
    }
    f->requests++;
    return true;
}

static void drain_until_closed(int fd)
{
    char buf[4096];
    struct pollfd p = {fd, POLLIN, 0};
    while (poll(&p, 1, 3000) > 0 && recv(fd, buf, sizeof buf, 0) > 0) {
    }
    close(fd);
}

static void *serve(void *arg)
{
    fake *f = arg;
    int fd = -1;
    size_t i = 0;
    while (i < f->nsteps) {
        if (fd < 0) {
            struct pollfd p = {f->lfd, POLLIN, 0};
            if (poll(&p, 1, 5000) <= 0)
                break;
            fd = accept(f->lfd, NULL, NULL);
            if (fd < 0)
                break;
            f->accepts++;
        }
        if (!read_request(f, fd)) { /* the client closed this connection */
            close(fd);
            fd = -1;
            continue;
        }
        const step *s = &f->steps[i++];
        if (s->delay_ms > 0)
            sleep_ms(s->delay_ms); /* the scripted slow answer (deadline tests) */
        if (s->bytes != NULL)
            send_bytes(fd, s->bytes, s->len > 0 ? s->len : strlen(s->bytes));
        if (s->close) {
            close(fd);
            fd = -1;
            pthread_mutex_lock(&f->mu);
            f->closes++;
            pthread_cond_broadcast(&f->cv);
            pthread_mutex_unlock(&f->mu);
        }
    }
    if (fd >= 0)
        drain_until_closed(fd);
    return NULL;
}

static void fake_start(fake *f, const step *steps, size_t nsteps)
{
    memset(f, 0, sizeof *f);
    f->steps = steps;
    f->nsteps = nsteps;
    pthread_mutex_init(&f->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->cv, &ca);
    pthread_condattr_destroy(&ca);
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(f->lfd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(f->lfd, 16), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&a, &len), 0);
    f->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&f->thread, NULL, serve, f), 0);
}

static void fake_join(fake *f)
{
    assert_int_equal(pthread_join(f->thread, NULL), 0);
    close(f->lfd);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
}

/* Wait (at most 10 s) until the server has closed `n` connections after
 * answering; false on timeout. */
static bool fake_wait_closes(fake *f, int n)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&f->mu);
    int rc = 0;
    while (f->closes < n && rc == 0)
        rc = pthread_cond_timedwait(&f->cv, &f->mu, &deadline);
    bool ok = f->closes >= n;
    pthread_mutex_unlock(&f->mu);
    return ok;
}

/* ---- requests and answers --------------------------------------------------- */

static tc_client *client_for(int port, const tc_http_options *opts)
{
    char url[64];
    snprintf(url, sizeof url, "127.0.0.1:%d", port);
    tc_client *c = NULL;
    assert_int_equal(tc_http_client_new(&c, url, opts), TC_OK);
    return c;
}

static const int32_t k_in[4] = {1, 2, 3, 4};

static tc_request *simple_request(void)
{
    const int64_t shape[1] = {4};
    tc_request *req = NULL;
    assert_int_equal(tc_request_new(&req, "simple"), TC_OK);
    assert_int_equal(tc_request_add_input(req, "INPUT0", TC_DTYPE_INT32, shape, 1), TC_OK);
    assert_int_equal(tc_request_input_append(req, "INPUT0", k_in, sizeof k_in, TC_BORROW), TC_OK);
    assert_int_equal(tc_request_input_set_binary(req, "INPUT0", true), TC_OK);
    assert_int_equal(tc_request_add_output(req, "OUTPUT0"), TC_OK);
    assert_int_equal(tc_request_output_set_binary(req, "OUTPUT0", true), TC_OK);
    return req;
}

static const char k_json[] = "{\"model_name\":\"simple\",\"model_version\":\"1\",\"outputs\":[{"
                             "\"name\":\"OUTPUT0\",\"datatype\":\"INT32\",\"shape\":[4],"
                             "\"parameters\":{\"binary_data_size\":16}}]}";

/* The answer body: JSON header, then OUTPUT0 = {1, 2, 3, 4} in binary. */
static size_t answer_body(uint8_t *out)
{
    size_t n = strlen(k_json);
    memcpy(out, k_json, n);
    memcpy(out + n, k_in, sizeof k_in);
    return n + sizeof k_in;
}

/* A whole answer with `extra` headers and `body` framed by Content-Length. */
static size_t answer(char *out, size_t cap, const char *extra, const uint8_t *body, size_t len)
{
    int n = snprintf(out, cap,
                     "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                     "Inference-Header-Content-Length: %zu\r\n%sContent-Length: %zu\r\n\r\n",
                     strlen(k_json), extra, len);
    assert_true(n > 0 && (size_t)n + len < cap);
    memcpy(out + n, body, len);
    return (size_t)n + len;
}

static size_t plain_answer(char *out, size_t cap, const char *extra)
{
    uint8_t body[512];
    return answer(out, cap, extra, body, answer_body(body));
}

static void expect_output(tc_result *r)
{
    assert_int_equal(tc_result_status(r), TC_OK);
    const uint8_t *data = NULL;
    size_t size = 0;
    assert_int_equal(tc_result_output_data(r, "OUTPUT0", &data, &size), TC_OK);
    assert_int_equal(size, sizeof k_in);
    assert_memory_equal(data, k_in, sizeof k_in);
    assert_string_equal(tc_result_model_name(r), "simple");
}

static void infer_ok(tc_client *c, tc_request *req)
{
    tc_result *r = NULL;
    tc_code rc = tc_client_infer(c, req, &r);
    if (rc != TC_OK)
        fail_msg("infer: %s: %s", tc_code_name(rc), tc_client_last_error(c));
    expect_output(r);
    tc_result_free(r);
}

static tc_code infer_rc(tc_client *c, tc_request *req)
{
    tc_result *r = NULL;
    tc_code rc = tc_client_infer(c, req, &r);
    assert_int_equal(tc_result_status(r), rc);
    tc_result_free(r);
    return rc;
}

/* ---- framings ------------------------------------------------------------------ */

static void test_content_length_keep_alive(void **state)
{
    (void)state;
    static char a[1024];
    static char b[1024];
    size_t na = plain_answer(a, sizeof a, "");
    size_t nb = (size_t)snprintf(b, sizeof b, "HTTP/1.1 100 Continue\r\n\r\n");
    nb += plain_answer(b + nb, sizeof b - nb, "X-Other: y\r\n");
    const step steps[] = {{a, na, 0, false},
                          {b, nb, 0, false},
                          {a, na, 0, false},
                          {a, na, 0, false},
                          {a, na, 0, false}};
    fake f;
    fake_start(&f, steps, 5);
    tc_http_options *o = NULL;
    assert_int_equal(tc_http_options_new(&o), TC_OK);
    assert_int_equal(tc_http_options_add_header(o, "x-test", "1"), TC_OK);
    tc_client *c = client_for(f.port, o);
    tc_http_options_free(o);
    tc_request *req = simple_request();
    for (int i = 0; i < 5; i++)
        infer_ok(c, req);
    tc_request_free(req);
    tc_client_free(c);
    fake_join(&f);
    assert_int_equal(f.accepts, 1); /* one connection for every call */
    assert_int_equal(f.requests, 5);
    const char *h = f.heads[0];
    assert_true(strncmp(h, "POST /v2/models/simple/infer HTTP/1.1\r\n", 39) == 0);
    char host[64];
    snprintf(host, sizeof host, "\r\nHost: 127.0.0.1:%d\r\n", f.port);
    assert_non_null(strstr(h, host));
    assert_non_null(strstr(h, "\r\nx-test: 1\r\n"));
    assert_non_null(strstr(h, "\r\nInference-Header-Content-Length: "));
    assert_non_null(strstr(h, "\r\nContent-Length: "));
    assert_null(strstr(h, "Expect"));
    assert_null(strstr(h, "Accept-Encoding"));
}

static void test_chunked(void **state)
{
    (void)state;
    uint8_t body[512];
    size_t len = answer_body(body);
    static char a[4096];
    int n = snprintf(a, sizeof a,
                     "HTTP/1.1 200 OK\r\nInference-Header-Content-Length: %zu\r\n"
                     "transfer-encoding: Chunked\r\n\r\n",
                     strlen(k_json));
    size_t off = (size_t)n;
    for (size_t i = 0, k = 0; i < len; k++) {
        size_t piece = len - i < 7 + k ? len - i : 7 + k;
        off +=
            (size_t)snprintf(a + off, sizeof a - off, k == 1 ? "%zX;ext=1\r\n" : "%zx\r\n", piece);
        memcpy(a + off, body + i, piece);
        off += piece;
        memcpy(a + off, "\r\n", 2);
        off += 2;
        i += piece;
    }
    off += (size_t)snprintf(a + off, sizeof a - off, "0\r\nX-Trailer: 1\r\n\r\n");
    const step steps[] = {{a, off, 0, false}, {a, off, 0, false}};
    fake f;
    fake_start(&f, steps, 2);
    tc_client *c = client_for(f.port, NULL);
    tc_request *req = simple_request();
    infer_ok(c, req);
    infer_ok(c, req); /* the connection stayed in step */
    tc_request_free(req);
    tc_client_free(c);
    fake_join(&f);
    assert_int_equal(f.accepts, 1);
}

/* gzip (wbits 31) or zlib-wrapped deflate (wbits 15) of the answer body. */
static size_t compressed_answer(char *out, size_t cap, int wbits, const char *name)
{
    uint8_t body[512];
    size_t len = answer_body(body);
    uint8_t z[1024];
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = body;
    zs.avail_in = (uInt)len;
    zs.next_out = z;
    zs.avail_out = sizeof z;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t zlen = sizeof z - zs.avail_out;
    deflateEnd(&zs);
    char extra[64];
    snprintf(extra, sizeof extra, "Content-Encoding: %s\r\n", name);
    return answer(out, cap, extra, z, zlen);
}

static void run_compressed(int wbits, const char *name, tc_compression algo)
{
    static char a[2048];
    size_t n = compressed_answer(a, sizeof a, wbits, name);
    const step steps[] = {{a, n, 0, false}};
    fake f;
    fake_start(&f, steps, 1);
    tc_http_options *o = NULL;
    assert_int_equal(tc_http_options_new(&o), TC_OK);
    assert_int_equal(tc_http_options_set_request_compression(o, algo), TC_OK);
    assert_int_equal(tc_http_options_set_response_compression(o, algo), TC_OK);
    tc_client *c = client_for(f.port, o);
    tc_http_options_free(o);
    tc_request *req = simple_request();
    infer_ok(c, req);
    tc_request_free(req);
    tc_client_free(c);
    fake_join(&f);
    char want[64];
    snprintf(want, sizeof want, "\r\nContent-Encoding: %s\r\n", name);
    assert_non_null(strstr(f.heads[0], want));
    snprintf(want, sizeof want, "\r\nAccept-Encoding: %s\r\n", name);
    assert_non_null(strstr(f.heads[0], want));
}

static void test_gzip(void **state)
{
    (void)state;
    run_compressed(15 + 16, "gzip", TC_COMPRESSION_GZIP);
}

static void test_deflate(void **state)
{
    (void)state;
    run_compressed(15, "deflate", TC_COMPRESSION_DEFLATE);
}

static void test_corrupt_gzip(void **state)
{
    (void)state;
    static char a[1024];
    const uint8_t junk[] = "not gzip at all";
    size_t n = answer(a, sizeof a, "Content-Encoding: gzip\r\n", junk, sizeof junk);
    const step steps[] = {{a, n, 0, false}};
    fake f;
    fake_start(&f, steps, 1);
    tc_client *c = client_for(f.port, NULL);
    tc_request *req = simple_request();
    assert_int_equal(infer_rc(c, req), TC_E_PROTOCOL);
    tc_request_free(req);
    tc_client_free(c);
    fake_join(&f);
}

/* ---- connections ------------------------------------------------------------------ */

static void test_connection_close(void **state)
{
    (void)state;
    static char a[1024];
    size_t na = plain_answer(a, sizeof a, "Connection: close\r\n");
    static char b[1024];
    /* HTTP/1.0 without a length: the body runs to the end of the connection. */
    uint8_t body[512];
    size_t len = answer_body(body);
    int n = snprintf(b, sizeof b, "HTTP/1.0 200 OK\r\nInference-Header-Content-Length: %zu\r\n\r\n",
                     strlen(k_json));
    memcpy(b + n, body, len);
    const step steps[] = {{a, na, 0, true}, {b, (size_t)n + len, 0, true}, {a, na, 0, true}};
    fake f;
    fake_start(&f, steps, 3);
    tc_client *c = client_for(f.port, NULL);
    tc_request *req = simple_request();
    for (int i = 0; i < 3; i++)
        infer_ok(c, req);
    tc_request_free(req);
    tc_client_free(c);
    fake_join(&f);
    assert_int_equal(f.accepts, 3);
    assert_int_equal(f.requests, 3);
}

static void test_idle_close_reconnects(void **state)
{
    (void)state;
    static char a[1024];
    size_t na = plain_answer(a, sizeof a, "");
    /* The server drops the kept connection after each answer, unannounced. */
    const step steps[] = {{a, na, 0, true}, {a, na, 0, true}, {a, na, 0, false}};
    fake f;
    fake_start(&f, steps, 3);
    tc_client *c = client_for(f.port, NULL);
    tc_request *req = simple_request();
    infer_ok(c, req);
    /* The kept connection is dead before the next request goes out on it. */
    assert_true(fake_wait_closes(&f, 1));
    infer_ok(c, req);
    bool live = false;
    assert_int_equal(tc_client_is_server_live(c, NULL, &live), TC_OK); /* management calls too */
    assert_true(live);
    tc_request_free(req);
    tc_client_free(c);
    fake_join(&f);
    assert_int_equal(f.accepts, 3);
    assert_int_equal(f.requests, 3);
    assert_true(strncmp(f.heads[2], "GET /v2/health/live HTTP/1.1\r\n", 30) == 0);
}

static void test_close_mid_response_no_resend(void **state)
{
    (void)state;
    static char a[1024];
    size_t na = plain_answer(a, sizeof a, "");
    static const char partial[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"model_na";
    const step steps[] = {{a, na, 0, false}, {partial, 0, 0, true}};
    fake f;
    fake_start(&f, steps, 2);
    tc_client *c = client_for(f.port, NULL);
    tc_request *req = simple_request();
    /* A resend would wait for an answer that never comes: the deadline says so. */
    assert_int_equal(tc_request_set_client_timeout_us(req, 2000000), TC_OK);
    infer_ok(c, req);
    assert_int_equal(infer_rc(c, req), TC_E_PROTOCOL);
    assert_non_null(strstr(tc_client_last_error(c), "closed"));
    tc_request_free(req);
    tc_client_free(c);
    fake_join(&f);
    assert_int_equal(f.accepts, 1);
    assert_int_equal(f.requests, 2);
}

static void test_connection_refused(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    tc_client *c = client_for(ntohs(a.sin_port), NULL);
    tc_request *req = simple_request();
    assert_int_equal(infer_rc(c, req), TC_E_TRANSPORT);
    assert_non_null(strstr(tc_client_last_error(c), "Failed to connect"));
    assert_non_null(strstr(tc_client_last_error(c), "refused"));
    tc_request_free(req);
    tc_client_free(c);
}

/* ---- hostile and slow servers -------------------------------------------------------- */

static void expect_failure(const char *bytes, size_t len, tc_code want)
{
    const step steps[] = {{bytes, len, 0, true}};
    fake f;
    fake_start(&f, steps, 1);
    tc_client *c = client_for(f.port, NULL);
    tc_request *req = simple_request();
    assert_int_equal(tc_request_set_client_timeout_us(req, 5000000), TC_OK);
    assert_int_equal(infer_rc(c, req), want);
    tc_request_free(req);
    tc_client_free(c);
    fake_join(&f);
    assert_int_equal(f.requests, 1);
}

static void test_garbage_status_line(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "FOO BAR\r\n\r\n",
        "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 0\r\n\r\n",
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_failure(bad[i], 0, TC_E_PROTOCOL);
}

static void test_oversized_headers(void **state)
{
    (void)state;
    static char big[128 * 1024];
    size_t n = (size_t)snprintf(big, sizeof big, "HTTP/1.1 200 OK\r\n");
    while (n + 64 < sizeof big)
        n += (size_t)snprintf(big + n, sizeof big - n, "X-Pad: %040d\r\n", 0);
    expect_failure(big, n, TC_E_PROTOCOL);
}

static void test_empty_reply(void **state)
{
    (void)state;
    expect_failure(NULL, 0, TC_E_TRANSPORT); /* read, then closed: nothing to resend on */
}

static void test_slow_server_times_out(void **state)
{
    (void)state;
    static char a[1024];
    size_t na = plain_answer(a, sizeof a, "");
    const step steps[] = {{a, na, 600, false}, {a, na, 0, false}};
    fake f;
    fake_start(&f, steps, 2);
    tc_client *c = client_for(f.port, NULL);
    tc_request *req = simple_request();
    assert_int_equal(tc_request_set_client_timeout_us(req, 100000), TC_OK);
    struct timespec t0;
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(infer_rc(c, req), TC_E_TIMEOUT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(ms >= 90 && ms < 500);
    /* The late answer must not be taken for the next call's: a new connection. */
    assert_int_equal(tc_request_set_client_timeout_us(req, 0), TC_OK);
    infer_ok(c, req);
    tc_request_free(req);
    tc_client_free(c);
    fake_join(&f);
    assert_int_equal(f.accepts, 2);
}

static void test_server_error_message(void **state)
{
    (void)state;
    static const char msg[] = "Request for unknown model: 'nope' is not found";
    static char a[512];
    int body = (int)strlen(msg) + 12;
    snprintf(a, sizeof a,
             "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
             "Content-Length: %d\r\n\r\n{\"error\":\"%s\"}",
             body, msg);
    const step steps[] = {{a, 0, 0, false}};
    fake f;
    fake_start(&f, steps, 1);
    tc_client *c = client_for(f.port, NULL);
    tc_request *req = simple_request();
    tc_result *r = NULL;
    assert_int_equal(tc_client_infer(c, req, &r), TC_E_NOT_FOUND);
    assert_string_equal(tc_client_last_error(c), msg);
    assert_string_equal(tc_result_error_message(r), msg);
    assert_int_equal(tc_result_http_status(r), 404);
    tc_result_free(r);
    tc_request_free(req);
    tc_client_free(c);
    fake_join(&f);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_content_length_keep_alive),
    cmocka_unit_test(test_chunked),
    cmocka_unit_test(test_gzip),
    cmocka_unit_test(test_deflate),
    cmocka_unit_test(test_corrupt_gzip),
    cmocka_unit_test(test_connection_close),
    cmocka_unit_test(test_idle_close_reconnects),
    cmocka_unit_test(test_close_mid_response_no_resend),
    cmocka_unit_test(test_connection_refused),
    cmocka_unit_test(test_garbage_status_line),
    cmocka_unit_test(test_oversized_headers),
    cmocka_unit_test(test_empty_reply),
    cmocka_unit_test(test_slow_server_times_out),
    cmocka_unit_test(test_server_error_message),
};

TC_TEST_MAIN(tests)
