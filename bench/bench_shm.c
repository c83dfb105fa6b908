/* Benchmark: system shared memory versus inline tensors, libtritonc ->
 * tritonc-server on loopback, for HTTP and gRPC, with model
 * custom_identity_int32 (INT32 [1, N] in, the same out). All in one run:
 *
 *   16 MiB (N = 4 Mi): median round trip with the input and the output in
 *     registered regions; the same with inline binary tensors; and a plain
 *     memcpy of 16 MiB (the anchor).
 *       shm / memcpy   (goal <= 3)
 *       inline / shm   (goal >= 5)
 *   4 B (N = 1): shm / inline (goal <= 1.2)
 *
 * The shm round trip is one infer call with the input already in its
 * region and the output read in place (a pointer into the output region,
 * checked at a few elements), which is how a shm user works.
 * Usage: tc_bench_shm [--iters N] [--small-iters N] [--models DIR]
 * Starts its own server (the build's tritonc-server, --allow-client-shm=true)
 * on ephemeral ports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <tritonc/tritonc.h>

#include "server_proc.h"

#define BIG_ELEMS ((size_t)4 << 20) /* 4 Mi INT32 = 16 MiB */
#define BIG_BYTES (BIG_ELEMS * sizeof(int32_t))
#define MODEL     "custom_identity_int32"

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

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return v[n / 2];
}

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "tc_bench_shm: %s: %s\n", what, detail);
    exit(1);
}

/* ---- anchor: memcpy of 16 MiB ---------------------------------------------------- */

static volatile uint8_t g_sink;

static double memcpy_us(const uint8_t *src, uint8_t *dst, int iters)
{
    double *t = calloc((size_t)iters, sizeof *t);
    memcpy(dst, src, BIG_BYTES); /* fault the pages in first */
    for (int i = 0; i < iters; i++) {
        double t0 = now_us();
        memcpy(dst, src, BIG_BYTES);
        t[i] = now_us() - t0;
        g_sink = dst[(size_t)i * 4099 % BIG_BYTES];
    }
    double m = median(t, (size_t)iters);
    free(t);
    return m;
}

/* ---- one configuration: a request and how to check its result ----------------------- */

typedef struct bench {
    tc_client *client;
    tc_request *req;
    bool shm;
    size_t elems;
    tc_shm_region *out; /* shm only */
} bench;

static void check(const bench *b, const tc_result *r, int32_t first)
{
    const uint8_t *data;
    size_t size;
    tc_code rc = b->shm ? tc_result_output_read_shm(r, "OUTPUT0", b->out, &data, &size)
                        : tc_result_output_data(r, "OUTPUT0", &data, &size);
    if (rc != TC_OK || size != b->elems * sizeof(int32_t))
        fail("result", "OUTPUT0 missing or of the wrong size");
    size_t last = b->elems - 1;
    int32_t v0;
    int32_t vl;
    memcpy(&v0, data, sizeof v0);
    memcpy(&vl, data + last * sizeof(int32_t), sizeof vl);
    if (v0 != first || vl != (int32_t)(first + (int32_t)last))
        fail("result", "OUTPUT0 is not the input");
}

static double run_us(const bench *b, int iters)
{
    double *t = calloc((size_t)iters, sizeof *t);
    for (int i = -1; i < iters; i++) { /* one warm-up call */
        tc_result *r = NULL;
        double t0 = now_us();
        if (tc_client_infer(b->client, b->req, &r) != TC_OK)
            fail("infer", tc_client_last_error(b->client));
        check(b, r, 7);
        if (i >= 0)
            t[i] = now_us() - t0;
        tc_result_free(r);
    }
    double m = median(t, (size_t)iters);
    free(t);
    return m;
}

static tc_request *identity_request(size_t elems)
{
    const int64_t shape[2] = {1, (int64_t)elems};
    tc_request *req = NULL;
    if (tc_request_new(&req, MODEL) != TC_OK ||
        tc_request_add_input(req, "INPUT0", TC_DTYPE_INT32, shape, 2) != TC_OK ||
        tc_request_add_output(req, "OUTPUT0") != TC_OK)
        fail("request", "cannot build");
    return req;
}

/* Regions and registrations for one protocol, reused by every size. */
typedef struct regions {
    tc_shm_region *in;
    tc_shm_region *out;
} regions;

static void regions_setup(tc_client *client, regions *g, const int32_t *values)
{
    char in_key[64];
    char out_key[64];
    snprintf(in_key, sizeof in_key, "/tc_bench_in_%ld", (long)getpid());
    snprintf(out_key, sizeof out_key, "/tc_bench_out_%ld", (long)getpid());
    if (tc_shm_region_new(&g->in, in_key, BIG_BYTES) != TC_OK ||
        tc_shm_region_new(&g->out, out_key, BIG_BYTES) != TC_OK ||
        tc_shm_region_write(g->in, 0, values, BIG_BYTES) != TC_OK)
        fail("regions", tc_shm_last_error());
    memset(tc_shm_region_data(g->out), 0, BIG_BYTES);
    (void)tc_client_system_shm_unregister(client, NULL, NULL);
    if (tc_client_system_shm_register(client, "bench_in", in_key, 0, BIG_BYTES, NULL) != TC_OK ||
        tc_client_system_shm_register(client, "bench_out", out_key, 0, BIG_BYTES, NULL) != TC_OK)
        fail("register", tc_client_last_error(client));
}

static void regions_cleanup(tc_client *client, regions *g)
{
    (void)tc_client_system_shm_unregister(client, NULL, NULL);
    (void)tc_shm_region_destroy(g->in);
    (void)tc_shm_region_destroy(g->out);
}

/* Median round trip of `elems` elements, in shm (true) or inline. */
static double measure(tc_client *client, const regions *g, const int32_t *values, size_t elems,
                      bool shm, int iters)
{
    bench b = {client, identity_request(elems), shm, elems, g->out};
    size_t bytes = elems * sizeof(int32_t);
    tc_code rc;
    if (shm) {
        rc = tc_request_input_set_shm(b.req, "INPUT0", "bench_in", bytes, 0);
        if (rc == TC_OK)
            rc = tc_request_output_set_shm(b.req, "OUTPUT0", "bench_out", bytes, 0);
    } else {
        rc = tc_request_input_append(b.req, "INPUT0", values, bytes, TC_BORROW);
    }
    if (rc != TC_OK)
        fail("request", tc_code_str(rc));
    double us = run_us(&b, iters);
    tc_request_free(b.req);
    return us;
}

static tc_client *connect_client(bool grpc, int port)
{
    char url[64];
    snprintf(url, sizeof url, "127.0.0.1:%d", port);
    tc_client *client = NULL;
    tc_code rc =
        grpc ? tc_grpc_client_new(&client, url, NULL) : tc_http_client_new(&client, url, NULL);
    if (rc != TC_OK)
        fail("client", tc_code_name(rc));
    return client;
}

static void run_protocol(bool grpc, int port, const int32_t *values, double memcpy_median,
                         int iters, int small_iters)
{
    const char *name = grpc ? "gRPC" : "HTTP";
    tc_client *client = connect_client(grpc, port);
    regions g = {NULL, NULL};
    regions_setup(client, &g, values);
    double big_shm = measure(client, &g, values, BIG_ELEMS, true, iters);
    double big_inline = measure(client, &g, values, BIG_ELEMS, false, iters);
    double small_shm = measure(client, &g, values, 1, true, small_iters);
    double small_inline = measure(client, &g, values, 1, false, small_iters);
    regions_cleanup(client, &g);
    if (tc_client_free(client) != TC_OK)
        fail("client", "cannot free");
    printf("%s 16 MiB: shm %.0f us, inline %.0f us, memcpy %.0f us\n", name, big_shm, big_inline,
           memcpy_median);
    printf("%s 16 MiB: shm/memcpy = %.2f (goal <= 3), inline/shm = %.2f (goal >= 5)\n", name,
           big_shm / memcpy_median, big_inline / big_shm);
    printf("%s 4 B: shm %.1f us, inline %.1f us, shm/inline = %.2f (goal <= 1.2)\n", name,
           small_shm, small_inline, small_shm / small_inline);
}

int main(int argc, char **argv)
{
    int iters = 15;
    int small_iters = 500;
    const char *models = TC_MODELS_DIR;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--iters") == 0)
            iters = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--small-iters") == 0)
            small_iters = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--models") == 0)
            models = argv[i + 1];
    }
    if (iters < 1 || small_iters < 1)
        fail("usage", "tc_bench_shm [--iters N] [--small-iters N] [--models DIR]");
    int32_t *values = malloc(BIG_BYTES);
    uint8_t *copy = malloc(BIG_BYTES);
    if (values == NULL || copy == NULL)
        fail("memory", "cannot allocate 2 x 16 MiB");
    for (size_t i = 0; i < BIG_ELEMS; i++)
        values[i] = (int32_t)(i + 7);

    static const char *const args[] = {"--allow-client-shm=true", NULL};
    tc_test_server server;
    if (tc_test_server_start(&server, models, args) != 0)
        fail("server", "cannot start tritonc-server");
    struct utsname u;
    uname(&u);
    printf("tc_bench_shm: %s %s, %ld CPUs, model %s, %d iters (16 MiB), %d iters (4 B)\n",
           u.sysname, u.machine, sysconf(_SC_NPROCESSORS_ONLN), MODEL, iters, small_iters);
    double mc = memcpy_us((const uint8_t *)values, copy, iters * 4);
    run_protocol(false, server.http_port, values, mc, iters, small_iters);
    if (server.grpc_port > 0)
        run_protocol(true, server.grpc_port, values, mc, iters, small_iters);
    int rc = tc_test_server_stop(&server);
    free(values);
    free(copy);
    return rc == 0 ? 0 : 1;
}
