/* Benchmark: the no-model matrix upstream uses for its own performance
 * checks, libtritonc -> tritonc-server on loopback, model
 * custom_identity_int32 (INT32 [1, N] in, the same out):
 *
 *   tensor 4 B and 16 MiB  x  1 and 16 requests in flight
 *   x  HTTP and gRPC  x  shared memory none and system
 *
 * with the anchors measured in the same run: a raw TCP loopback round trip
 * and a Unix-domain socket round trip moving the bytes the 4 B exchange
 * moved (counted through a relay before the timed loop), memcpy of the
 * tensor size, and 16 MiB each way through a TCP loopback socket. Every
 * row is printed as a ratio to its anchor:
 *
 *   4 B, c=1     median latency / TCP round trip   (goal <= 2.0, no shm)
 *   16 MiB, c=1  median latency / memcpy           (goal <= 3.0, system shm)
 *   c=16         infer/s (goals 40k HTTP, 60k gRPC at 4 B), and the time
 *                per infer (1 / throughput) over the same anchor
 *
 * plus shm against inline (16 MiB: inline / shm >= 5; 4 B: shm / inline
 * <= 1.2). With --results FILE the run rewrites the generated part of FILE
 * (between the bench_matrix markers, keeping the text around them).
 *
 * Shared memory cells: one input region (16 MiB) and one output region
 * with a 16 MiB slot per request in flight, registered once; outputs are
 * read in place (tc_result_output_read_shm), as a shm user reads them.
 *
 * Usage: tc_bench_matrix [--quick] [--results FILE] [--only SUBSTR]
 *          [--iters N] [--big-iters N] [--seconds S] [--models DIR]
 *          [--http-port P --grpc-port Q]   (use a running server instead)
 * --only keeps the rows whose key ("grpc/none/4B/c1") contains SUBSTR and
 * skips the anchors: with valgrind --tool=callgrind and two values of
 * --iters, the difference of the totals is the per-call instruction count. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <tritonc/tritonc.h>

#include "server_proc.h"

#ifndef TC_BENCH_COMPILER
#define TC_BENCH_COMPILER "unknown"
#endif
#ifndef TC_BENCH_BUILD_TYPE
#define TC_BENCH_BUILD_TYPE "unknown"
#endif

#define MODEL      "custom_identity_int32"
#define BIG_ELEMS  ((size_t)4 << 20) /* 4 Mi INT32 = 16 MiB */
#define BIG_BYTES  (BIG_ELEMS * sizeof(int32_t))
#define DEPTH      16
#define NROWS      16
#define MAX_LAT    (1 << 20) /* latency samples kept per throughput run */
#define IN_REGION  "mx_in"
#define OUT_REGION "mx_out"

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "tc_bench_matrix: %s: %s\n", what, detail);
    exit(1);
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts `v`; returns the p-th percentile (nearest rank). */
static double percentile(double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_double);
    size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (p == NULL)
        fail("memory", "allocation failed");
    return p;
}

/* ---- settings and rows ------------------------------------------------------------ */

typedef struct settings {
    int small_iters;      /* c=1 calls at 4 B */
    int big_iters;        /* c=1 calls at 16 MiB */
    double small_seconds; /* each c=16 run at 4 B */
    double big_seconds;   /* each c=16 run at 16 MiB */
    int anchor_iters;     /* small socket round trips */
    int big_anchor_iters; /* memcpy and 16 MiB socket round trips */
    bool quick;
    const char *models;
    const char *results;
    const char *only;
    int http_port; /* > 0: use a running server */
    int grpc_port;
} settings;

typedef struct row {
    bool grpc;
    bool shm;
    bool big;
    int depth;
    char key[32];     /* "grpc/none/4B/c1" */
    double median_us; /* per-call latency (c=16: from submit to callback) */
    double p99_us;
    double rate;          /* infer/s, c=16 only */
    long count;           /* calls measured */
    double req_bytes;     /* 4 B, c=1: bytes on the wire per call, client to server */
    double resp_bytes;    /* and server to client (counted through a relay) */
    double tcp_us;        /* 4 B: TCP round trip of the same byte counts */
    double uds_us;        /* 4 B: Unix-domain socket round trip */
    double cpu_client_us; /* CPU time per call, client process (all threads) */
    double cpu_server_us; /* and server process (-1 if not ours) */
    bool done;
} row;

typedef struct anchors {
    double memcpy_small_ns; /* memcpy of 4 B, amortised */
    double memcpy_big_us;   /* median memcpy of 16 MiB */
    double memcpy_big_p99;
    double tcp_big_us; /* 16 MiB to an echo process and 16 MiB back */
    double uds_big_us;
} anchors;

static size_t row_bytes(const row *r)
{
    return r->big ? BIG_BYTES : sizeof(int32_t);
}

static void row_init(row *r, int index)
{
    memset(r, 0, sizeof *r);
    r->big = index >= 8;
    r->grpc = (index & 4) != 0;
    r->shm = (index & 2) != 0;
    r->depth = (index & 1) ? DEPTH : 1;
    snprintf(r->key, sizeof r->key, "%s/%s/%s/c%d", r->grpc ? "grpc" : "http",
             r->shm ? "shm" : "none", r->big ? "16MiB" : "4B", r->depth);
}

/* ---- anchors: memcpy, TCP and Unix-domain round trips ------------------------------ */

static volatile uint8_t g_sink;

static double memcpy_small_ns(void)
{
    uint8_t src[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t dst[8];
    uint8_t *volatile from = src; /* the compiler cannot see through it */
    const long n = 2000000;
    double t0 = now_us();
    for (long i = 0; i < n; i++) {
        src[0] = (uint8_t)i;
        memcpy(dst, from, 4);
        g_sink = dst[0];
    }
    return (now_us() - t0) * 1e3 / (double)n;
}

static void memcpy_big(const uint8_t *src, uint8_t *dst, int iters, anchors *a)
{
    double *t = xcalloc((size_t)iters, sizeof *t);
    memcpy(dst, src, BIG_BYTES); /* fault the pages in first */
    for (int i = 0; i < iters; i++) {
        double t0 = now_us();
        memcpy(dst, src, BIG_BYTES);
        t[i] = now_us() - t0;
        g_sink = dst[(size_t)i * 4099 % BIG_BYTES];
    }
    a->memcpy_big_us = percentile(t, (size_t)iters, 50);
    a->memcpy_big_p99 = percentile(t, (size_t)iters, 99);
    free(t);
}

static int read_full(int fd, uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv(fd, buf + got, n - got, 0);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static int write_full(int fd, const uint8_t *buf, size_t n)
{
    size_t put = 0;
    while (put < n) {
        ssize_t w = send(fd, buf + put, n - put, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        put += (size_t)w;
    }
    return 0;
}

/* The echo process: reads `req` bytes, answers `resp` bytes, until EOF. */
static void echo_serve(int fd, size_t req, size_t resp)
{
    uint8_t *in = xcalloc(1, req);
    uint8_t *out = xcalloc(1, resp);
    while (read_full(fd, in, req) == 0) {
        if (write_full(fd, out, resp) != 0)
            break;
    }
    free(in);
    free(out);
    close(fd);
}

static void set_nodelay(int fd)
{
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Connected pair of sockets, fds[0] for the client and fds[1] for the echo
 * process: TCP over 127.0.0.1 (TCP_NODELAY, as both clients set) or AF_UNIX. */
static void socket_pair(bool tcp, int fds[2])
{
    if (!tcp) {
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
            fail("anchor", "socketpair");
        return;
    }
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (listener < 0 || bind(listener, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(listener, 1) != 0 || getsockname(listener, (struct sockaddr *)&sa, &len) != 0)
        fail("anchor", "listener");
    fds[0] = socket(AF_INET, SOCK_STREAM, 0);
    if (fds[0] < 0 || connect(fds[0], (struct sockaddr *)&sa, sizeof sa) != 0)
        fail("anchor", "connect");
    fds[1] = accept(listener, NULL, NULL);
    if (fds[1] < 0)
        fail("anchor", "accept");
    close(listener);
    set_nodelay(fds[0]);
    set_nodelay(fds[1]);
}

/* Median round trip (`req` bytes out, `resp` back) to another process. */
static double round_trip_us(bool tcp, size_t req, size_t resp, int iters, double *p99)
{
    int fds[2];
    socket_pair(tcp, fds);
    pid_t pid = fork();
    if (pid < 0)
        fail("anchor", "fork");
    if (pid == 0) {
        close(fds[0]);
        echo_serve(fds[1], req, resp);
        _exit(0);
    }
    close(fds[1]);
    uint8_t *out = xcalloc(1, req);
    uint8_t *in = xcalloc(1, resp);
    double *t = xcalloc((size_t)iters, sizeof *t);
    int warm = iters / 10 > 0 ? iters / 10 : 1;
    for (int i = -warm; i < iters; i++) {
        double t0 = now_us();
        if (write_full(fds[0], out, req) != 0 || read_full(fds[0], in, resp) != 0)
            fail("anchor", "round trip failed");
        if (i >= 0)
            t[i] = now_us() - t0;
    }
    close(fds[0]);
    waitpid(pid, NULL, 0);
    double median = percentile(t, (size_t)iters, 50);
    if (p99 != NULL)
        *p99 = percentile(t, (size_t)iters, 99);
    free(t);
    free(out);
    free(in);
    return median;
}

/* ---- wire byte counts: a counting TCP relay in front of the server ----------------- */

typedef struct relay {
    int listener;
    int upstream_port;
    pthread_t thread;
    pthread_mutex_t lock;
    double up_bytes;   /* client -> server; under lock */
    double down_bytes; /* server -> client; under lock */
} relay;

/* Move what is readable on `from` to `to`; false at EOF or error. */
static bool relay_move(relay *rl, int from, int to, bool up)
{
    uint8_t buf[65536];
    ssize_t n = recv(from, buf, sizeof buf, 0);
    if (n <= 0 || write_full(to, buf, (size_t)n) != 0)
        return false;
    pthread_mutex_lock(&rl->lock);
    if (up)
        rl->up_bytes += (double)n;
    else
        rl->down_bytes += (double)n;
    pthread_mutex_unlock(&rl->lock);
    return true;
}

/* Relays one connection until either side closes. */
static void *relay_main(void *arg)
{
    relay *rl = arg;
    int c = accept(rl->listener, NULL, NULL);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)rl->upstream_port);
    if (c < 0 || s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa) != 0)
        fail("relay", "cannot connect to the server");
    set_nodelay(c);
    set_nodelay(s);
    for (;;) {
        struct pollfd p[2] = {{c, POLLIN, 0}, {s, POLLIN, 0}};
        if (poll(p, 2, -1) < 0)
            break;
        if (p[0].revents != 0 && !relay_move(rl, c, s, true))
            break;
        if (p[1].revents != 0 && !relay_move(rl, s, c, false))
            break;
    }
    close(c);
    close(s);
    return NULL;
}

/* Listening relay on an ephemeral port; returns the port. */
static int relay_start(relay *rl, int upstream_port)
{
    memset(rl, 0, sizeof *rl);
    pthread_mutex_init(&rl->lock, NULL);
    rl->upstream_port = upstream_port;
    rl->listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (rl->listener < 0 || bind(rl->listener, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(rl->listener, 1) != 0 ||
        getsockname(rl->listener, (struct sockaddr *)&sa, &len) != 0 ||
        pthread_create(&rl->thread, NULL, relay_main, rl) != 0)
        fail("relay", "cannot listen");
    return ntohs(sa.sin_port);
}

static void relay_counts(relay *rl, double *up, double *down)
{
    pthread_mutex_lock(&rl->lock);
    *up = rl->up_bytes;
    *down = rl->down_bytes;
    pthread_mutex_unlock(&rl->lock);
}

/* Joins the relay thread; the client must have been freed (closing the connection). */
static void relay_stop(relay *rl)
{
    pthread_join(rl->thread, NULL);
    close(rl->listener);
    pthread_mutex_destroy(&rl->lock);
}

/* ---- CPU time of the client (this process) and of the server --------------------- */

static pid_t g_server_pid; /* 0 when the server is not ours */

/* utime + stime of process `pid` (0 = this one), in µs; -1 if unknown. */
static double cpu_us(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid > 0 ? (long)pid : (long)getpid());
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    char text[1024];
    size_t n = fread(text, 1, sizeof text - 1, f);
    (void)fclose(f);
    text[n] = '\0';
    char *p = strrchr(text, ')'); /* the command name may hold spaces */
    unsigned long utime = 0;
    unsigned long stime = 0;
    if (p == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
        return -1;
    return (double)(utime + stime) * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

typedef struct cpu_mark {
    double client;
    double server;
} cpu_mark;

static cpu_mark cpu_now(void)
{
    cpu_mark m = {cpu_us(0), g_server_pid > 0 ? cpu_us(g_server_pid) : -1};
    return m;
}

/* CPU µs per call since `m0` for `calls` calls, into the row. */
static void cpu_per_call(cpu_mark m0, long calls, double *client, double *server)
{
    cpu_mark m1 = cpu_now();
    *client = m0.client >= 0 && calls > 0 ? (m1.client - m0.client) / (double)calls : -1;
    *server = m0.server >= 0 && calls > 0 ? (m1.server - m0.server) / (double)calls : -1;
}

/* ---- requests and results --------------------------------------------------------- */

typedef struct cell {
    tc_client *client;
    const row *r;
    tc_shm_region *out; /* the output region (shm cells) */
    tc_request *req[DEPTH];
} cell;

/* Request for slot `slot`: inline data borrowed from `values`, or the
 * input region and the slot's part of the output region. */
static tc_request *slot_request(const row *r, const int32_t *values, int slot)
{
    size_t bytes = row_bytes(r);
    const int64_t shape[2] = {1, (int64_t)(bytes / sizeof(int32_t))};
    tc_request *req = NULL;
    tc_code rc = tc_request_new(&req, MODEL);
    if (rc == TC_OK)
        rc = tc_request_add_input(req, "INPUT0", TC_DTYPE_INT32, shape, 2);
    if (rc == TC_OK)
        rc = tc_request_add_output(req, "OUTPUT0");
    if (rc == TC_OK && r->shm)
        rc = tc_request_input_set_shm(req, "INPUT0", IN_REGION, bytes, 0);
    if (rc == TC_OK && r->shm)
        rc = tc_request_output_set_shm(req, "OUTPUT0", OUT_REGION, bytes, (size_t)slot * bytes);
    if (rc == TC_OK && !r->shm)
        rc = tc_request_input_append(req, "INPUT0", values, bytes, TC_BORROW);
    if (rc != TC_OK)
        fail("request", tc_code_str(rc));
    return req;
}

/* True when the result holds the identity of the input (first and last
 * element; the input is i + 7). */
static bool result_ok(const cell *c, const tc_result *res)
{
    const uint8_t *data = NULL;
    size_t size = 0;
    if (tc_result_status(res) != TC_OK)
        return false;
    tc_code rc = c->r->shm ? tc_result_output_read_shm(res, "OUTPUT0", c->out, &data, &size)
                           : tc_result_output_data(res, "OUTPUT0", &data, &size);
    size_t bytes = row_bytes(c->r);
    if (rc != TC_OK || size != bytes)
        return false;
    int32_t first;
    int32_t last;
    memcpy(&first, data, sizeof first);
    memcpy(&last, data + bytes - sizeof last, sizeof last);
    return first == 7 && last == (int32_t)(7 + bytes / sizeof(int32_t) - 1);
}

/* ---- c=1: blocking calls ---------------------------------------------------------- */

static void run_latency(cell *c, row *r, int iters)
{
    double *t = xcalloc((size_t)iters, sizeof *t);
    int warm = iters / 10 > 0 ? iters / 10 : 1;
    cpu_mark m0 = cpu_now();
    for (int i = -warm; i < iters; i++) {
        if (i == 0)
            m0 = cpu_now();
        tc_result *res = NULL;
        double t0 = now_us();
        tc_code rc = tc_client_infer(c->client, c->req[0], &res);
        double dt = now_us() - t0;
        if (rc != TC_OK || !result_ok(c, res))
            fail(r->key, rc != TC_OK ? tc_client_last_error(c->client) : "wrong output");
        tc_result_free(res);
        if (i >= 0)
            t[i] = dt;
    }
    cpu_per_call(m0, iters, &r->cpu_client_us, &r->cpu_server_us);
    r->count = iters;
    r->median_us = percentile(t, (size_t)iters, 50);
    r->p99_us = percentile(t, (size_t)iters, 99);
    free(t);
}

/* ---- c=16: async calls, a free slot is refilled at once ---------------------------- */

typedef struct flight {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    cell *c;
    int free_slots[DEPTH]; /* stack of idle slots; under lock */
    int nfree;             /* under lock */
    double t0[DEPTH];      /* submit time per slot; under lock */
    double *lat;           /* under lock */
    size_t nlat;           /* under lock */
    long done;             /* under lock */
    long failed;           /* under lock */
} flight;

typedef struct slot_ref {
    flight *f;
    int slot;
} slot_ref;

static slot_ref g_refs[DEPTH];

/* Runs on the client's I/O thread. */
static void on_done(tc_result *res, void *user_data)
{
    slot_ref *ref = user_data;
    flight *f = ref->f;
    bool ok = result_ok(f->c, res);
    tc_result_free(res);
    double t = now_us();
    pthread_mutex_lock(&f->lock);
    if (f->nlat < MAX_LAT)
        f->lat[f->nlat++] = t - f->t0[ref->slot];
    if (ok)
        f->done++;
    else
        f->failed++;
    f->free_slots[f->nfree++] = ref->slot;
    pthread_cond_signal(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

/* Keep DEPTH calls in flight for `seconds`, then wait for all. */
static double flight_run(flight *f, double seconds)
{
    double start = now_us();
    double end = start + seconds * 1e6;
    pthread_mutex_lock(&f->lock);
    for (;;) {
        while (f->nfree == 0)
            pthread_cond_wait(&f->cond, &f->lock);
        if (now_us() >= end)
            break;
        int slot = f->free_slots[--f->nfree];
        f->t0[slot] = now_us();
        pthread_mutex_unlock(&f->lock);
        tc_code rc = tc_client_infer_async(f->c->client, f->c->req[slot], on_done, &g_refs[slot]);
        if (rc != TC_OK)
            fail("async infer refused", tc_client_last_error(f->c->client));
        pthread_mutex_lock(&f->lock);
    }
    while (f->nfree < DEPTH)
        pthread_cond_wait(&f->cond, &f->lock);
    pthread_mutex_unlock(&f->lock);
    return (now_us() - start) / 1e6;
}

static void flight_reset(flight *f)
{
    f->nfree = DEPTH;
    for (int i = 0; i < DEPTH; i++)
        f->free_slots[i] = DEPTH - 1 - i;
    f->nlat = 0;
    f->done = 0;
}

static void run_throughput(cell *c, row *r, double seconds, bool warm_up)
{
    flight f;
    memset(&f, 0, sizeof f);
    pthread_mutex_init(&f.lock, NULL);
    pthread_cond_init(&f.cond, NULL);
    f.c = c;
    f.lat = xcalloc(MAX_LAT, sizeof *f.lat);
    for (int i = 0; i < DEPTH; i++)
        g_refs[i] = (slot_ref){&f, i};
    flight_reset(&f);
    if (warm_up) {
        (void)flight_run(&f, seconds / 10); /* connections, pages of every slot */
        flight_reset(&f);
    }
    cpu_mark m0 = cpu_now();
    double elapsed = flight_run(&f, seconds);
    cpu_per_call(m0, f.done + f.failed, &r->cpu_client_us, &r->cpu_server_us);
    if (f.failed > 0)
        fail(r->key, "some async calls failed or returned a wrong output");
    r->rate = (double)f.done / elapsed;
    r->count = f.done;
    r->median_us = percentile(f.lat, f.nlat, 50);
    r->p99_us = percentile(f.lat, f.nlat, 99);
    free(f.lat);
    pthread_mutex_destroy(&f.lock);
    pthread_cond_destroy(&f.cond);
}

/* ---- the matrix --------------------------------------------------------------------- */

typedef struct bench {
    settings s;
    anchors a;
    row rows[NROWS];
    tc_client *http; /* registers the regions */
    tc_shm_region *in;
    tc_shm_region *out;
    int32_t *values;
    double load_start[3];
    double load_end[3];
    double wall_s;
    int http_port; /* the server's */
    int grpc_port;
    double after_async_us[2]; /* c=1 4 B median on a client used async before: HTTP, gRPC */
    double after_async_p99[2];
} bench;

static tc_client *connect_client(bool grpc, int port);

/* Bytes each way per call of row `r` (4 B, c=1), through a counting relay
 * with a fresh client: 3 warm-up calls, then 20 counted. */
static void count_wire_bytes(bench *b, row *r)
{
    relay rl;
    int port = relay_start(&rl, r->grpc ? b->grpc_port : b->http_port);
    cell c;
    memset(&c, 0, sizeof c);
    c.client = connect_client(r->grpc, port);
    c.r = r;
    c.out = b->out;
    c.req[0] = slot_request(r, b->values, 0);
    double up0 = 0;
    double down0 = 0;
    for (int i = -3; i < 20; i++) {
        if (i == 0)
            relay_counts(&rl, &up0, &down0);
        tc_result *res = NULL;
        if (tc_client_infer(c.client, c.req[0], &res) != TC_OK || !result_ok(&c, res))
            fail(r->key, "call through the counting relay failed");
        tc_result_free(res);
    }
    double up1;
    double down1;
    relay_counts(&rl, &up1, &down1);
    r->req_bytes = (up1 - up0) / 20;
    r->resp_bytes = (down1 - down0) / 20;
    tc_request_free(c.req[0]);
    (void)tc_client_free(c.client);
    relay_stop(&rl);
}

static void run_row(bench *b, row *r)
{
    /* The 4 B anchors move the bytes this exchange moves, measured just
     * before and just after it (the mean, against drift). */
    bool small_anchor = !r->big && r->depth == 1 && b->s.only == NULL;
    size_t req = 1;
    size_t resp = 1;
    if (small_anchor) {
        count_wire_bytes(b, r);
        req = r->req_bytes >= 1 ? (size_t)(r->req_bytes + 0.5) : 1;
        resp = r->resp_bytes >= 1 ? (size_t)(r->resp_bytes + 0.5) : 1;
        r->tcp_us = round_trip_us(true, req, resp, b->s.anchor_iters, NULL) / 2;
        r->uds_us = round_trip_us(false, req, resp, b->s.anchor_iters, NULL) / 2;
    }
    /* A fresh client per row, so no row depends on what ran before it. */
    cell c;
    memset(&c, 0, sizeof c);
    c.client = connect_client(r->grpc, r->grpc ? b->grpc_port : b->http_port);
    c.r = r;
    c.out = b->out;
    for (int i = 0; i < r->depth; i++)
        c.req[i] = slot_request(r, b->values, i);
    if (r->depth == 1)
        run_latency(&c, r, r->big ? b->s.big_iters : b->s.small_iters);
    else
        run_throughput(&c, r, r->big ? b->s.big_seconds : b->s.small_seconds, !b->s.quick);
    for (int i = 0; i < r->depth; i++)
        tc_request_free(c.req[i]);
    (void)tc_client_free(c.client);
    if (small_anchor) {
        r->tcp_us += round_trip_us(true, req, resp, b->s.anchor_iters, NULL) / 2;
        r->uds_us += round_trip_us(false, req, resp, b->s.anchor_iters, NULL) / 2;
    }
    r->done = true;
}

/* c=1 calls on a client that has made async calls before (its I/O thread
 * running), for each protocol: the matrix rows use fresh clients. */
static void probe_sync_after_async(bench *b)
{
    for (int p = 0; p < 2; p++) {
        row r;
        row_init(&r, p == 1 ? 5 : 1); /* {http,grpc}/none/4B/c16 */
        cell c;
        memset(&c, 0, sizeof c);
        c.client = connect_client(p == 1, p == 1 ? b->grpc_port : b->http_port);
        c.r = &r;
        c.out = b->out;
        for (int i = 0; i < DEPTH; i++)
            c.req[i] = slot_request(&r, b->values, i);
        run_throughput(&c, &r, b->s.small_seconds / 10, false);
        run_latency(&c, &r, b->s.small_iters);
        b->after_async_us[p] = r.median_us;
        b->after_async_p99[p] = r.p99_us;
        for (int i = 0; i < DEPTH; i++)
            tc_request_free(c.req[i]);
        (void)tc_client_free(c.client);
    }
}

static void measure_anchors(bench *b)
{
    uint8_t *copy = xcalloc(1, BIG_BYTES);
    b->a.memcpy_small_ns = memcpy_small_ns();
    memcpy_big((const uint8_t *)b->values, copy, b->s.big_anchor_iters * 4, &b->a);
    free(copy);
    b->a.tcp_big_us = round_trip_us(true, BIG_BYTES, BIG_BYTES, b->s.big_anchor_iters, NULL);
    b->a.uds_big_us = round_trip_us(false, BIG_BYTES, BIG_BYTES, b->s.big_anchor_iters, NULL);
}

static tc_client *connect_client(bool grpc, int port)
{
    char url[64];
    snprintf(url, sizeof url, "127.0.0.1:%d", port);
    tc_client *client = NULL;
    tc_code rc;
    if (grpc) {
        rc = tc_grpc_client_new(&client, url, NULL);
    } else {
        tc_http_options *opts = NULL;
        rc = tc_http_options_new(&opts);
        if (rc == TC_OK)
            rc = tc_http_options_set_max_connections(opts, DEPTH);
        if (rc == TC_OK)
            rc = tc_http_client_new(&client, url, opts);
        tc_http_options_free(opts);
    }
    if (rc != TC_OK)
        fail("client", tc_code_name(rc));
    return client;
}

/* One input region (16 MiB, the values) and one output region with a
 * 16 MiB slot per request in flight; registered with the server once (the
 * registry is the server's, both protocols see it). */
static void regions_setup(bench *b)
{
    char in_key[64];
    char out_key[64];
    snprintf(in_key, sizeof in_key, "/tc_matrix_in_%ld", (long)getpid());
    snprintf(out_key, sizeof out_key, "/tc_matrix_out_%ld", (long)getpid());
    if (tc_shm_region_new(&b->in, in_key, BIG_BYTES) != TC_OK ||
        tc_shm_region_new(&b->out, out_key, BIG_BYTES * DEPTH) != TC_OK ||
        tc_shm_region_write(b->in, 0, b->values, BIG_BYTES) != TC_OK)
        fail("regions", tc_shm_last_error());
    memset(tc_shm_region_data(b->out), 0, BIG_BYTES * DEPTH);
    (void)tc_client_system_shm_unregister(b->http, IN_REGION, NULL);
    (void)tc_client_system_shm_unregister(b->http, OUT_REGION, NULL);
    if (tc_client_system_shm_register(b->http, IN_REGION, in_key, 0, BIG_BYTES, NULL) != TC_OK ||
        tc_client_system_shm_register(b->http, OUT_REGION, out_key, 0, BIG_BYTES * DEPTH, NULL) !=
            TC_OK)
        fail("register (does the server run with --allow-client-shm=true?)",
             tc_client_last_error(b->http));
}

static void regions_cleanup(bench *b)
{
    (void)tc_client_system_shm_unregister(b->http, IN_REGION, NULL);
    (void)tc_client_system_shm_unregister(b->http, OUT_REGION, NULL);
    (void)tc_shm_region_destroy(b->in);
    (void)tc_shm_region_destroy(b->out);
}

static void read_load(double load[3])
{
    load[0] = load[1] = load[2] = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f == NULL)
        return;
    if (fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
        load[0] = load[1] = load[2] = -1;
    (void)fclose(f);
}

/* ---- reporting ---------------------------------------------------------------------- */

static const row *find_row(const bench *b, bool grpc, bool shm, bool big, int depth)
{
    for (int i = 0; i < NROWS; i++) {
        const row *r = &b->rows[i];
        if (r->grpc == grpc && r->shm == shm && r->big == big && r->depth == depth)
            return r->done ? r : NULL;
    }
    return NULL;
}

/* The anchor of a row in µs and its name: the TCP round trip of the c=1
 * row with the same protocol and shm setting (4 B), or memcpy (16 MiB). */
static double row_anchor(const bench *b, const row *r, const char **name)
{
    if (r->big) {
        *name = "memcpy";
        return b->a.memcpy_big_us;
    }
    *name = "TCP RTT";
    const row *c1 = find_row(b, r->grpc, r->shm, false, 1);
    return c1 != NULL ? c1->tcp_us : 0;
}

static void format_row(const bench *b, const row *r, char *buf, size_t len)
{
    const char *aname;
    double anchor = row_anchor(b, r, &aname);
    double per_call = r->depth == 1 ? r->median_us : (r->rate > 0 ? 1e6 / r->rate : 0);
    double ratio = anchor > 0 ? per_call / anchor : 0;
    char rate[32] = "-";
    if (r->depth > 1)
        snprintf(rate, sizeof rate, "%.0f", r->rate);
    snprintf(buf, len, "| %s | %s | %s | %d | %.1f | %.1f | %s | %s %.1f µs | %.2f | %.1f / %.1f |",
             r->grpc ? "gRPC" : "HTTP", r->shm ? "system" : "none", r->big ? "16 MiB" : "4 B",
             r->depth, r->median_us, r->p99_us, rate, aname, anchor, ratio, r->cpu_client_us,
             r->cpu_server_us);
}

typedef struct goal {
    char what[96];
    double value;
    double target;
    bool at_most; /* value <= target is met (else value >= target) */
    bool known;
} goal;

static int collect_goals(const bench *b, goal *g)
{
    int n = 0;
    for (int p = 0; p < 2; p++) {
        bool grpc = p == 1;
        const char *name = grpc ? "gRPC" : "HTTP";
        const row *lat = find_row(b, grpc, false, false, 1);
        const row *tput = find_row(b, grpc, false, false, DEPTH);
        const row *big_shm = find_row(b, grpc, true, true, 1);
        const row *big_inl = find_row(b, grpc, false, true, 1);
        const row *small_shm = find_row(b, grpc, true, false, 1);
        g[n] = (goal){"", lat && lat->tcp_us > 0 ? lat->median_us / lat->tcp_us : 0, 2.0, true,
                      lat != NULL && lat->tcp_us > 0};
        snprintf(g[n++].what, sizeof g->what, "%s c=1 4 B latency / TCP round trip", name);
        g[n] = (goal){"", tput ? tput->rate : 0, grpc ? 60000 : 40000, false, tput != NULL};
        snprintf(g[n++].what, sizeof g->what, "%s 4 B throughput at 16 in flight (infer/s)", name);
        g[n] = (goal){"", big_shm ? big_shm->median_us / b->a.memcpy_big_us : 0, 3.0, true,
                      big_shm != NULL && b->a.memcpy_big_us > 0};
        snprintf(g[n++].what, sizeof g->what, "%s 16 MiB system shm c=1 / memcpy", name);
        g[n] = (goal){"", big_shm && big_inl ? big_inl->median_us / big_shm->median_us : 0, 5.0,
                      false, big_shm != NULL && big_inl != NULL};
        snprintf(g[n++].what, sizeof g->what, "%s 16 MiB inline / system shm (speed-up)", name);
        g[n] = (goal){"", small_shm && lat ? small_shm->median_us / lat->median_us : 0, 1.2, true,
                      small_shm != NULL && lat != NULL};
        snprintf(g[n++].what, sizeof g->what, "%s 4 B system shm / inline (c=1)", name);
    }
    return n;
}

static void format_goal(const goal *g, char *buf, size_t len)
{
    if (!g->known) {
        snprintf(buf, len, "| %s | - | %s %g | not measured |", g->what,
                 g->at_most ? "<=" : ">=", g->target);
        return;
    }
    bool met = g->at_most ? g->value <= g->target : g->value >= g->target;
    double by = g->at_most ? g->value / g->target : g->target / g->value;
    char verdict[64];
    if (met)
        snprintf(verdict, sizeof verdict, "met");
    else
        snprintf(verdict, sizeof verdict, "**missed** by %.2fx", by);
    snprintf(buf, len, "| %s | %.2f | %s %g | %s |", g->what, g->value,
             g->at_most ? "<=" : ">=", g->target, verdict);
}

static void cpu_model(char *buf, size_t len)
{
    snprintf(buf, len, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL)
        return;
    char line[256];
    while (fgets(line, sizeof line, f) != NULL) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
            colon += colon[1] == ' ' ? 2 : 1;
            colon[strcspn(colon, "\n")] = '\0';
            snprintf(buf, len, "%s", colon);
            break;
        }
    }
    (void)fclose(f);
}

static void write_machine(FILE *o, const bench *b)
{
    struct utsname u;
    char cpu[128];
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", &tm);
    cpu_model(cpu, sizeof cpu);
    uname(&u);
    fprintf(o, "- Date: %s; whole run %.0f s%s\n", date, b->wall_s,
            b->s.quick ? " (--quick: smoke-test counts, not figures)" : "");
    fprintf(o, "- Machine: %s, %ld cores online, %s %s %s\n", cpu, sysconf(_SC_NPROCESSORS_ONLN),
            u.sysname, u.release, u.machine);
    fprintf(o, "- Compiler: %s; build type %s\n", TC_BENCH_COMPILER, TC_BENCH_BUILD_TYPE);
    fprintf(o, "- Load average (1/5/15 min) at start: %.2f %.2f %.2f; at end: %.2f %.2f %.2f\n",
            b->load_start[0], b->load_start[1], b->load_start[2], b->load_end[0], b->load_end[1],
            b->load_end[2]);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (b->load_start[0] > (double)cores || b->load_end[0] > (double)cores)
        fprintf(o,
                "- **Busy machine:** the load average exceeded the %ld cores, so other "
                "processes took CPU from both sides; latencies, p99 and throughput are "
                "pessimistic (the CPU time per infer and the anchors less so).\n",
                cores);
    fprintf(o,
            "- Client and tritonc-server share the machine; model %s; c=1: %d calls (4 B), "
            "%d (16 MiB); c=16: %.1f s (4 B), %.1f s (16 MiB) after a warm-up tenth\n",
            MODEL, b->s.small_iters, b->s.big_iters, b->s.small_seconds, b->s.big_seconds);
}

static void write_anchors(FILE *o, const bench *b)
{
    fprintf(o, "\n| anchor | median |\n|---|---|\n");
    fprintf(o, "| memcpy 4 B (amortised over 2M copies) | %.1f ns |\n", b->a.memcpy_small_ns);
    fprintf(o, "| memcpy 16 MiB (p99 %.0f µs) | %.0f µs (%.1f GB/s) |\n", b->a.memcpy_big_p99,
            b->a.memcpy_big_us, (double)BIG_BYTES / b->a.memcpy_big_us / 1e3);
    fprintf(o, "| TCP loopback, 16 MiB each way | %.0f µs (%.1f x memcpy) |\n", b->a.tcp_big_us,
            b->a.tcp_big_us / b->a.memcpy_big_us);
    fprintf(o, "| Unix socket, 16 MiB each way | %.0f µs (%.1f x memcpy) |\n", b->a.uds_big_us,
            b->a.uds_big_us / b->a.memcpy_big_us);
    for (int i = 0; i < NROWS; i++) {
        const row *r = &b->rows[i];
        if (!r->done || r->big || r->depth != 1 || r->tcp_us <= 0)
            continue;
        fprintf(o, "| round trip of %s (%.0f B out, %.0f B back) | TCP %.1f µs, Unix %.1f µs |\n",
                r->key, r->req_bytes, r->resp_bytes, r->tcp_us, r->uds_us);
    }
}

static void write_report(FILE *o, const bench *b)
{
    write_machine(o, b);
    write_anchors(o, b);
    fprintf(o,
            "\n| protocol | shm | size | in flight | median µs | p99 µs | infer/s | anchor | "
            "ratio | CPU µs/infer client / server |\n|---|---|---|---|---|---|---|---|---|---|\n");
    char line[2048];
    for (int i = 0; i < NROWS; i++) {
        if (!b->rows[i].done)
            continue;
        format_row(b, &b->rows[i], line, sizeof line);
        fprintf(o, "%s\n", line);
    }
    fprintf(o, "\nratio: c=1, median latency / anchor; c=16, time per infer (1 / throughput) / "
               "anchor. Latency at c=16 runs from submit to callback. Each row uses a fresh "
               "client. CPU: user + system time of each process (all threads) per infer, from "
               "/proc/PID/stat (10 ms ticks); with 2 cores, 2e6 / (client + server) bounds "
               "infer/s.\n");
    if (b->after_async_us[0] > 0)
        fprintf(o,
                "\nc=1 4 B (no shm) on a client that made async calls first: HTTP %.1f µs "
                "(p99 %.1f), gRPC %.1f µs (p99 %.1f).\n",
                b->after_async_us[0], b->after_async_p99[0], b->after_async_us[1],
                b->after_async_p99[1]);
    goal g[16];
    int n = collect_goals(b, g);
    fprintf(o, "\n| goal | measured | target | result |\n|---|---|---|---|\n");
    for (int i = 0; i < n; i++) {
        format_goal(&g[i], line, sizeof line);
        fprintf(o, "%s\n", line);
    }
}

#define MARK_BEGIN "<!-- bench_matrix:begin (generated by tc_bench_matrix --results) -->"
#define MARK_END   "<!-- bench_matrix:end -->"

/* Whole file into memory (NULL if absent). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16;
    size_t used = 0;
    char *text = xcalloc(1, cap);
    size_t n;
    while ((n = fread(text + used, 1, cap - used - 1, f)) > 0) {
        used += n;
        if (used + 1 == cap) {
            char *bigger = realloc(text, cap * 2);
            if (bigger == NULL)
                fail("memory", "results file");
            text = bigger;
            cap *= 2;
        }
    }
    text[used] = '\0';
    (void)fclose(f);
    return text;
}

/* Replace the generated part of `path`, keeping what surrounds the markers. */
static void write_results(const char *path, const bench *b)
{
    char *old = slurp(path);
    char *begin = old != NULL ? strstr(old, MARK_BEGIN) : NULL;
    char *end = begin != NULL ? strstr(begin, MARK_END) : NULL;
    FILE *o = fopen(path, "w");
    if (o == NULL)
        fail("results", path);
    if (end != NULL)
        fwrite(old, 1, (size_t)(begin - old), o);
    else
        fprintf(o, "# tritonc benchmark results\n\n");
    fprintf(o, "%s\n", MARK_BEGIN);
    write_report(o, b);
    fprintf(o, "%s", MARK_END);
    if (end != NULL)
        fputs(end + strlen(MARK_END), o);
    else
        fprintf(o, "\n");
    if (fclose(o) != 0)
        fail("results", "write failed");
    free(old);
}

/* ---- main --------------------------------------------------------------------------- */

static void parse_args(settings *s, int argc, char **argv)
{
    *s = (settings){10000, 40, 3.0, 2.0, 5000, 10, false, TC_MODELS_DIR, NULL, NULL, 0, 0};
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--quick") == 0) {
            *s = (settings){50,   2,         0.1,        0.01,    50,           2,
                            true, s->models, s->results, s->only, s->http_port, s->grpc_port};
            continue;
        }
        if (v == NULL)
            fail("usage", "an option lacks its value (see the comment atop bench_matrix.c)");
        if (strcmp(argv[i], "--iters") == 0)
            s->small_iters = (int)strtol(v, NULL, 10);
        else if (strcmp(argv[i], "--big-iters") == 0)
            s->big_iters = (int)strtol(v, NULL, 10);
        else if (strcmp(argv[i], "--seconds") == 0)
            s->small_seconds = s->big_seconds = strtod(v, NULL);
        else if (strcmp(argv[i], "--models") == 0)
            s->models = v;
        else if (strcmp(argv[i], "--results") == 0)
            s->results = v;
        else if (strcmp(argv[i], "--only") == 0)
            s->only = v;
        else if (strcmp(argv[i], "--http-port") == 0)
            s->http_port = (int)strtol(v, NULL, 10);
        else if (strcmp(argv[i], "--grpc-port") == 0)
            s->grpc_port = (int)strtol(v, NULL, 10);
        else
            fail("usage", argv[i]);
        i++;
    }
    if (s->small_iters < 1 || s->big_iters < 1 || s->small_seconds <= 0 || s->big_seconds <= 0)
        fail("usage", "counts and durations must be positive");
}

static void print_rows(const bench *b)
{
    char line[2048];
    for (int i = 0; i < NROWS; i++) {
        const row *r = &b->rows[i];
        if (!r->done)
            continue;
        format_row(b, r, line, sizeof line);
        printf("ROW %-20s %s\n", r->key, line);
    }
}

/* --only: the row of that exact key, else every row whose key contains it. */
static bool row_wanted(const bench *b, const row *r)
{
    if (b->s.only == NULL)
        return true;
    for (int i = 0; i < NROWS; i++) {
        row probe;
        row_init(&probe, i);
        if (strcmp(probe.key, b->s.only) == 0)
            return strcmp(r->key, b->s.only) == 0;
    }
    return strstr(r->key, b->s.only) != NULL;
}

static void run_matrix(bench *b)
{
    int done = 0;
    int wanted = 0;
    for (int i = 0; i < NROWS; i++) {
        row *r = &b->rows[i];
        row_init(r, i);
        if (!row_wanted(b, r))
            continue;
        wanted++;
        run_row(b, r);
        done++;
        fprintf(stderr, "  %-18s median %.1f us  p99 %.1f us  %.0f infer/s\n", r->key, r->median_us,
                r->p99_us, r->rate);
    }
    if (done != wanted)
        fail("matrix", "rows missing");
}

int main(int argc, char **argv)
{
    bench b;
    memset(&b, 0, sizeof b);
    parse_args(&b.s, argc, argv);
    signal(SIGPIPE, SIG_IGN);
    double t0 = now_us();
    read_load(b.load_start);
    b.values = xcalloc(BIG_ELEMS, sizeof(int32_t));
    for (size_t i = 0; i < BIG_ELEMS; i++)
        b.values[i] = (int32_t)(i + 7);
    tc_test_server server;
    memset(&server, 0, sizeof server);
    static const char *const args[] = {"--allow-client-shm=true", "--log-warning=false", NULL};
    bool own_server = b.s.http_port <= 0 || b.s.grpc_port <= 0;
    if (own_server && tc_test_server_start(&server, b.s.models, args) != 0)
        fail("server", "cannot start tritonc-server");
    g_server_pid = own_server ? server.pid : 0;
    b.http_port = own_server ? server.http_port : b.s.http_port;
    b.grpc_port = own_server ? server.grpc_port : b.s.grpc_port;
    b.http = connect_client(false, b.http_port);
    regions_setup(&b);
    if (b.s.only == NULL)
        measure_anchors(&b);
    run_matrix(&b);
    if (b.s.only == NULL)
        probe_sync_after_async(&b);
    regions_cleanup(&b);
    (void)tc_client_free(b.http);
    int rc = own_server ? tc_test_server_stop(&server) : 0;
    read_load(b.load_end);
    b.wall_s = (now_us() - t0) / 1e6;
    write_report(stdout, &b);
    print_rows(&b);
    if (b.s.results != NULL)
        write_results(b.s.results, &b);
    free(b.values);
    return rc == 0 ? 0 : 1;
}
