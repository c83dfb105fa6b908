/* Benchmark: tiny `simple` inference over HTTP and gRPC, libtritonc ->
 * tritonc-server on loopback, against an anchor measured in the same run: a
 * raw TCP round trip of the same byte counts between two processes.
 *
 *   c=1 latency ratio  = median(infer) / median(TCP round trip)   (goal <= 2.0)
 *   throughput         = completed infers per second with 16 in flight
 *                        (async calls; gRPC also over one stream)
 *
 * Usage: tc_bench_infer [--iters N] [--seconds S] [--models DIR]
 * Starts its own server (the build's tritonc-server) on ephemeral ports. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <tritonc/grpc.h>
#include <tritonc/stream.h>
#include <tritonc/tritonc.h>

#include "server_proc.h"

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

static double percentile(double *v, size_t n, double p)
{
    qsort(v, n, sizeof *v, cmp_double);
    size_t i = (size_t)(p / 100.0 * (double)(n - 1));
    return v[i];
}

/* ---- anchor: raw TCP round trip between two processes ----------------- */

static int read_full(int fd, char *buf, size_t n)
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

/* Echo server: reads `req` bytes, answers `resp` bytes, until EOF. */
static void echo_serve(int listener, size_t req, size_t resp)
{
    int fd = accept(listener, NULL, NULL);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char *in = calloc(1, req);
    char *out = calloc(1, resp);
    while (read_full(fd, in, req) == 0) {
        if (send(fd, out, resp, MSG_NOSIGNAL) != (ssize_t)resp)
            break;
    }
    free(in);
    free(out);
    close(fd);
}

static double tcp_round_trip_us(size_t req, size_t resp, int iters)
{
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (bind(listener, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(listener, 1) != 0 ||
        getsockname(listener, (struct sockaddr *)&sa, &len) != 0) {
        perror("anchor listener");
        exit(1);
    }
    pid_t pid = fork();
    if (pid == 0) {
        echo_serve(listener, req, resp);
        _exit(0);
    }
    close(listener);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        perror("anchor connect");
        exit(1);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char *out = calloc(1, req);
    char *in = calloc(1, resp);
    double *t = calloc((size_t)iters, sizeof *t);
    for (int i = -iters / 10; i < iters; i++) {
        double t0 = now_us();
        if (send(fd, out, req, MSG_NOSIGNAL) != (ssize_t)req || read_full(fd, in, resp) != 0) {
            fprintf(stderr, "anchor round trip failed\n");
            exit(1);
        }
        if (i >= 0)
            t[i] = now_us() - t0;
    }
    close(fd);
    waitpid(pid, NULL, 0);
    double median = percentile(t, (size_t)iters, 50);
    free(t);
    free(out);
    free(in);
    return median;
}

/* ---- the inference request -------------------------------------------- */

static int32_t g_in0[16];
static int32_t g_in1[16];

static tc_request *make_request(void)
{
    tc_request *req = NULL;
    const int64_t shape[2] = {1, 16};
    for (int i = 0; i < 16; i++) {
        g_in0[i] = i;
        g_in1[i] = 1;
    }
    if (tc_request_new(&req, "simple") != TC_OK ||
        tc_request_add_input(req, "INPUT0", TC_DTYPE_INT32, shape, 2) != TC_OK ||
        tc_request_add_input(req, "INPUT1", TC_DTYPE_INT32, shape, 2) != TC_OK ||
        tc_request_input_append(req, "INPUT0", g_in0, sizeof g_in0, TC_BORROW) != TC_OK ||
        tc_request_input_append(req, "INPUT1", g_in1, sizeof g_in1, TC_BORROW) != TC_OK ||
        tc_request_input_set_binary(req, "INPUT0", true) != TC_OK ||
        tc_request_input_set_binary(req, "INPUT1", true) != TC_OK ||
        tc_request_add_output(req, "OUTPUT0") != TC_OK ||
        tc_request_output_set_binary(req, "OUTPUT0", true) != TC_OK ||
        tc_request_add_output(req, "OUTPUT1") != TC_OK ||
        tc_request_output_set_binary(req, "OUTPUT1", true) != TC_OK) {
        fprintf(stderr, "building the request failed\n");
        exit(1);
    }
    return req;
}

static void check_result(tc_result *res)
{
    const uint8_t *data = NULL;
    size_t size = 0;
    if (tc_result_status(res) != TC_OK ||
        tc_result_output_data(res, "OUTPUT0", &data, &size) != TC_OK || size != 64 ||
        ((const int32_t *)data)[15] != 16) {
        fprintf(stderr, "bad result: %s\n", tc_result_error_message(res));
        exit(1);
    }
}

static double latency_us(tc_client *client, tc_request *req, int iters, double *p99)
{
    double *t = calloc((size_t)iters, sizeof *t);
    for (int i = -iters / 10; i < iters; i++) {
        tc_result *res = NULL;
        double t0 = now_us();
        tc_code rc = tc_client_infer(client, req, &res);
        double dt = now_us() - t0;
        if (rc != TC_OK) {
            fprintf(stderr, "infer failed: %s: %s\n", tc_code_name(rc), tc_client_last_error(client));
            exit(1);
        }
        check_result(res);
        tc_result_free(res);
        if (i >= 0)
            t[i] = dt;
    }
    double median = percentile(t, (size_t)iters, 50);
    *p99 = percentile(t, (size_t)iters, 99);
    free(t);
    return median;
}

/* ---- throughput with N in flight ---------------------------------------- */

typedef struct flight {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int in_flight;
    atomic_long done;
    atomic_long failed;
} flight;

static void on_done(tc_result *res, void *user_data)
{
    flight *f = user_data;
    if (tc_result_status(res) == TC_OK)
        atomic_fetch_add(&f->done, 1);
    else
        atomic_fetch_add(&f->failed, 1);
    tc_result_free(res);
    pthread_mutex_lock(&f->lock);
    f->in_flight--;
    pthread_cond_signal(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

static double async_throughput(tc_client *client, tc_request *req, int depth, double seconds)
{
    flight f = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};
    double t0 = now_us();
    double end = t0 + seconds * 1e6;
    long sent = 0;
    while (now_us() < end) {
        pthread_mutex_lock(&f.lock);
        while (f.in_flight >= depth)
            pthread_cond_wait(&f.cond, &f.lock);
        f.in_flight++;
        pthread_mutex_unlock(&f.lock);
        if (tc_client_infer_async(client, req, on_done, &f) != TC_OK) {
            fprintf(stderr, "async infer refused: %s\n", tc_client_last_error(client));
            exit(1);
        }
        sent++;
    }
    pthread_mutex_lock(&f.lock);
    while (f.in_flight > 0)
        pthread_cond_wait(&f.cond, &f.lock);
    pthread_mutex_unlock(&f.lock);
    double elapsed = (now_us() - t0) / 1e6;
    if (atomic_load(&f.failed) > 0) {
        fprintf(stderr, "%ld of %ld async requests failed\n", atomic_load(&f.failed), sent);
        exit(1);
    }
    return (double)atomic_load(&f.done) / elapsed;
}

/* Throughput over one gRPC stream with `depth` requests outstanding. */
static void on_stream(tc_stream *stream, tc_result *res, bool final, void *user_data)
{
    (void)stream;
    (void)final;
    flight *f = user_data;
    if (res == NULL)
        return; /* end of stream */
    if (tc_result_status(res) == TC_OK)
        atomic_fetch_add(&f->done, 1);
    else
        atomic_fetch_add(&f->failed, 1);
    tc_result_free(res);
    pthread_mutex_lock(&f->lock);
    f->in_flight--;
    pthread_cond_signal(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

static double stream_throughput(tc_client *client, tc_request *req, int depth, double seconds)
{
    flight f = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};
    tc_stream *stream = NULL;
    if (tc_client_stream_start(client, on_stream, &f, NULL, &stream) != TC_OK) {
        fprintf(stderr, "stream start: %s\n", tc_client_last_error(client));
        exit(1);
    }
    double t0 = now_us();
    double end = t0 + seconds * 1e6;
    while (now_us() < end) {
        pthread_mutex_lock(&f.lock);
        while (f.in_flight >= depth)
            pthread_cond_wait(&f.cond, &f.lock);
        f.in_flight++;
        pthread_mutex_unlock(&f.lock);
        if (tc_stream_send(stream, req) != TC_OK) {
            fprintf(stderr, "stream send: %s\n", tc_client_last_error(client));
            exit(1);
        }
    }
    pthread_mutex_lock(&f.lock);
    while (f.in_flight > 0)
        pthread_cond_wait(&f.cond, &f.lock);
    pthread_mutex_unlock(&f.lock);
    double elapsed = (now_us() - t0) / 1e6;
    tc_stream_stop(stream, false);
    tc_stream_free(stream);
    if (atomic_load(&f.failed) > 0) {
        fprintf(stderr, "%ld stream requests failed\n", atomic_load(&f.failed));
        exit(1);
    }
    return (double)atomic_load(&f.done) / elapsed;
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
        tc_http_options_new(&opts);
        tc_http_options_set_max_connections(opts, 16);
        rc = tc_http_client_new(&client, url, opts);
        tc_http_options_free(opts);
    }
    if (rc != TC_OK) {
        fprintf(stderr, "client: %s\n", tc_code_name(rc));
        exit(1);
    }
    return client;
}

int main(int argc, char **argv)
{
    int iters = 5000;
    double seconds = 3.0;
    const char *models = TC_MODELS_DIR;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--iters") == 0)
            iters = (int)strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = strtod(argv[i + 1], NULL);
        else if (strcmp(argv[i], "--models") == 0)
            models = argv[i + 1];
    }
    tc_test_server server;
    static const char *const args[] = {"--log-warning=false", NULL};
    if (tc_test_server_start(&server, models, args) != 0)
        return 1;
    tc_request *req = make_request();
    tc_client *http = connect_client(false, server.http_port);
    tc_client *grpc = connect_client(true, server.grpc_port);

    /* The exchanges move about this many bytes each way; the anchor moves the same. */
    const size_t req_bytes = 420;
    const size_t resp_bytes = 420;
    double http_p99 = 0;
    double grpc_p99 = 0;
    double tcp = tcp_round_trip_us(req_bytes, resp_bytes, iters);
    double http_lat = latency_us(http, req, iters, &http_p99);
    double grpc_lat = latency_us(grpc, req, iters, &grpc_p99);
    double tcp_again = tcp_round_trip_us(req_bytes, resp_bytes, iters);
    double anchor = (tcp + tcp_again) / 2;
    double http_tput = async_throughput(http, req, 16, seconds);
    double grpc_tput = async_throughput(grpc, req, 16, seconds);
    double stream_tput = stream_throughput(grpc, req, 16, seconds);

    struct utsname u;
    uname(&u);
    printf("tritonc bench_infer  (%s %s, %ld CPUs, client and server on one machine)\n",
           u.sysname, u.machine, sysconf(_SC_NPROCESSORS_ONLN));
    printf("anchor  TCP loopback round trip (%zu B each way), median: %.1f us (runs: %.1f, %.1f)\n",
           req_bytes, anchor, tcp, tcp_again);
    printf("HTTP    c=1 simple infer, median: %.1f us, p99: %.1f us\n", http_lat, http_p99);
    printf("gRPC    c=1 simple infer, median: %.1f us, p99: %.1f us\n", grpc_lat, grpc_p99);
    printf("RATIO   HTTP c=1 latency / TCP round trip = %.2f   (goal <= 2.00: %s)\n",
           http_lat / anchor, http_lat / anchor <= 2.0 ? "met" : "MISSED");
    printf("RATIO   gRPC c=1 latency / TCP round trip = %.2f   (goal <= 2.00: %s)\n",
           grpc_lat / anchor, grpc_lat / anchor <= 2.0 ? "met" : "MISSED");
    printf("THROUGHPUT  HTTP, 16 in flight (async):        %.0f infer/s\n", http_tput);
    printf("THROUGHPUT  gRPC, 16 in flight (async):        %.0f infer/s\n", grpc_tput);
    printf("THROUGHPUT  gRPC, 16 in flight (one stream):   %.0f infer/s\n", stream_tput);

    tc_request_free(req);
    tc_client_free(http);
    tc_client_free(grpc);
    return tc_test_server_stop(&server) == 0 ? 0 : 1;
}
