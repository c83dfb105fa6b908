/* Over gRPC, send two BYTES tensors (decimal numbers as strings) to model
 * `simple_string` through system shared memory: one region per tensor
 * (`/input0_simple`, `/input1_simple`, `/output0_simple`,
 * `/output1_simple`), the inputs written as serialized BYTES tensors, the
 * outputs read back from their regions and parsed element by element.
 * Unregisters everything first and last, as the upstream example does.
 * The server must run with --allow-client-shm=true. `-s SUFFIX` appends
 * SUFFIX to the object names, so several copies can run at once.
 * Usage: simple_grpc_shm_string_client [-u host:port] [-v] [-s suffix] */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* getopt */
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tritonc/tritonc.h>

#define N         16
#define OUT_BYTES 512 /* room for 16 serialized results */
#define REGIONS   4

static const char *const k_names[REGIONS] = {"input0_data", "input1_data", "output0_data",
                                             "output1_data"};
static const char *const k_keys[REGIONS] = {"/input0_simple", "/input1_simple", "/output0_simple",
                                            "/output1_simple"};
static tc_shm_region *g_regions[REGIONS];

static void log_to_stderr(tc_log_level level, const char *message, void *user_data)
{
    (void)level;
    (void)user_data;
    fprintf(stderr, "%s\n", message);
}

static void destroy_regions(void)
{
    for (size_t i = 0; i < REGIONS; i++) {
        (void)tc_shm_region_destroy(g_regions[i]);
        g_regions[i] = NULL;
    }
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "error: %s: %s\n", what, detail);
    destroy_regions();
    exit(1);
}

/* Parse the 16 elements of a serialized BYTES tensor as integers. */
static void parse_bytes(const uint8_t *data, size_t size, long *out)
{
    size_t pos = 0;
    for (size_t i = 0; i < N; i++) {
        if (size - pos < 4)
            die("result", "truncated BYTES output");
        uint32_t len = (uint32_t)data[pos] | (uint32_t)data[pos + 1] << 8 |
                       (uint32_t)data[pos + 2] << 16 | (uint32_t)data[pos + 3] << 24;
        pos += 4;
        if (len > size - pos || len >= 32)
            die("result", "bad BYTES element");
        char text[32];
        memcpy(text, data + pos, len);
        text[len] = '\0';
        out[i] = strtol(text, NULL, 10);
        pos += len;
    }
}

static void check(const tc_result *r, const int *in0, const int *in1)
{
    long sum[N];
    long diff[N];
    const uint8_t *data;
    size_t size;
    if (tc_result_output_read_shm(r, "OUTPUT0", g_regions[2], &data, &size) != TC_OK)
        die("read OUTPUT0", tc_shm_last_error());
    parse_bytes(data, size, sum);
    if (tc_result_output_read_shm(r, "OUTPUT1", g_regions[3], &data, &size) != TC_OK)
        die("read OUTPUT1", tc_shm_last_error());
    parse_bytes(data, size, diff);
    for (size_t i = 0; i < N; i++) {
        printf("%d + %d = %ld\n", in0[i], in1[i], sum[i]);
        printf("%d - %d = %ld\n", in0[i], in1[i], diff[i]);
        if (sum[i] != in0[i] + in1[i] || diff[i] != in0[i] - in1[i])
            die("result", "incorrect result");
    }
}

/* Create region `i`, write `values` as a BYTES tensor, register it; returns its byte size. */
static size_t make_input(tc_client *client, size_t i, const char *key, const int *values)
{
    char text[N][16];
    const void *elems[N];
    size_t lens[N];
    for (size_t k = 0; k < N; k++) {
        int n = snprintf(text[k], sizeof text[k], "%d", values[k]);
        elems[k] = text[k];
        lens[k] = (size_t)n;
    }
    size_t size = 0;
    if (tc_shm_region_new(&g_regions[i], key, 4 * N + N * 16) != TC_OK ||
        tc_shm_region_write_bytes(g_regions[i], 0, elems, lens, N, &size) != TC_OK)
        die("create input region", tc_shm_last_error());
    if (tc_client_system_shm_register(client, k_names[i], key, 0, size, NULL) != TC_OK)
        die("register input", tc_client_last_error(client));
    return size;
}

static tc_client *connect_client(const char *url, bool verbose)
{
    tc_grpc_options *opts = NULL;
    tc_client *client = NULL;
    if (tc_grpc_options_new(&opts) != TC_OK || tc_grpc_options_set_verbose(opts, verbose) != TC_OK)
        die("options", "cannot create");
    if (tc_grpc_client_new(&client, url, opts) != TC_OK)
        die("unable to create client", url);
    tc_grpc_options_free(opts);
    return client;
}

int main(int argc, char **argv)
{
    const char *url = "localhost:8001";
    const char *suffix = "";
    bool verbose = false;
    int opt;
    while ((opt = getopt(argc, argv, "u:vs:")) != -1) {
        if (opt == 'u')
            url = optarg;
        else if (opt == 'v')
            verbose = true;
        else if (opt == 's')
            suffix = optarg;
        else
            die("usage", "simple_grpc_shm_string_client [-u host:port] [-v] [-s suffix]");
    }
    if (verbose)
        tc_set_log_callback(log_to_stderr, TC_LOG_VERBOSE, NULL);
    tc_client *client = connect_client(url, verbose);
    char keys[REGIONS][128];
    for (size_t i = 0; i < REGIONS; i++)
        (void)snprintf(keys[i], sizeof keys[i], "%s%s", k_keys[i], suffix);

    if (tc_client_system_shm_unregister(client, NULL, NULL) != TC_OK ||
        tc_client_cuda_shm_unregister(client, NULL, NULL) != TC_OK)
        die("unregister", tc_client_last_error(client));

    int in0[N];
    int in1[N];
    for (int i = 0; i < N; i++) {
        in0[i] = i;
        in1[i] = 1;
    }
    size_t size0 = make_input(client, 0, keys[0], in0);
    size_t size1 = make_input(client, 1, keys[1], in1);
    for (size_t i = 2; i < REGIONS; i++) {
        if (tc_shm_region_new(&g_regions[i], keys[i], OUT_BYTES) != TC_OK)
            die("create output region", tc_shm_last_error());
        if (tc_client_system_shm_register(client, k_names[i], keys[i], 0, OUT_BYTES, NULL) != TC_OK)
            die("register output", tc_client_last_error(client));
    }

    const int64_t shape[2] = {1, N};
    tc_request *req = NULL;
    if (tc_request_new(&req, "simple_string") != TC_OK ||
        tc_request_add_input(req, "INPUT0", TC_DTYPE_BYTES, shape, 2) != TC_OK ||
        tc_request_add_input(req, "INPUT1", TC_DTYPE_BYTES, shape, 2) != TC_OK ||
        tc_request_input_set_shm(req, "INPUT0", "input0_data", size0, 0) != TC_OK ||
        tc_request_input_set_shm(req, "INPUT1", "input1_data", size1, 0) != TC_OK ||
        tc_request_add_output(req, "OUTPUT0") != TC_OK ||
        tc_request_add_output(req, "OUTPUT1") != TC_OK ||
        tc_request_output_set_shm(req, "OUTPUT0", "output0_data", OUT_BYTES, 0) != TC_OK ||
        tc_request_output_set_shm(req, "OUTPUT1", "output1_data", OUT_BYTES, 0) != TC_OK)
        die("request", "cannot build");
    tc_result *r = NULL;
    if (tc_client_infer(client, req, &r) != TC_OK)
        die("inference failed", tc_client_last_error(client));
    check(r, in0, in1);
    tc_result_free(r);
    tc_request_free(req);

    tc_shm_status *st = NULL;
    if (tc_client_system_shm_status(client, NULL, NULL, &st) != TC_OK ||
        tc_shm_status_count(st) != REGIONS)
        die("status", "expected four registered regions");
    tc_shm_status_free(st);
    if (tc_client_system_shm_unregister(client, NULL, NULL) != TC_OK)
        die("unregister", tc_client_last_error(client));
    destroy_regions();
    if (tc_client_free(client) != TC_OK)
        die("client", "cannot free");
    printf("PASS: system shared memory\n");
    return 0;
}
