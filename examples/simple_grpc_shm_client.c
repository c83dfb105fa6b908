/* Over gRPC, send two INT32 tensors to model `simple` through system shared memory:
 * unregister every region first, create `/output_simple` and
 * `/input_simple` (two 64-byte tensors each), register them as output_data
 * and input_data, infer with inputs and outputs in the regions, check the
 * sum and difference read from the output region, print the server's
 * status, unregister and destroy the regions. The server must run with
 * --allow-client-shm=true. `-s SUFFIX` appends SUFFIX to both object
 * names, so several copies can run at once on one machine.
 * Usage: simple_grpc_shm_client [-u host:port] [-v] [-s suffix] */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* getopt */
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tritonc/tritonc.h>

#define TENSOR_BYTES (16 * sizeof(int32_t))

static tc_shm_region *g_in;
static tc_shm_region *g_out;
static char g_in_key[128] = "/input_simple";
static char g_out_key[128] = "/output_simple";

static void log_to_stderr(tc_log_level level, const char *message, void *user_data)
{
    (void)level;
    (void)user_data;
    fprintf(stderr, "%s\n", message);
}

/* Fail, removing the shared-memory objects this run created. */
static void die(const char *what, const char *detail)
{
    fprintf(stderr, "error: %s: %s\n", what, detail);
    (void)tc_shm_region_destroy(g_in);
    (void)tc_shm_region_destroy(g_out);
    exit(1);
}

static int32_t at(const uint8_t *data, size_t i)
{
    int32_t v;
    memcpy(&v, data + i * sizeof v, sizeof v);
    return v;
}

/* Read OUTPUT0/1 from the output region and check them. */
static void check(const tc_result *r, const int32_t *in0, const int32_t *in1)
{
    const uint8_t *sum;
    const uint8_t *diff;
    size_t sum_size;
    size_t diff_size;
    bool in_shm = false;
    if (tc_result_output_is_shm(r, "OUTPUT0", &in_shm) != TC_OK || !in_shm)
        die("result", "OUTPUT0 is not in shared memory");
    if (tc_result_output_read_shm(r, "OUTPUT0", g_out, &sum, &sum_size) != TC_OK ||
        tc_result_output_read_shm(r, "OUTPUT1", g_out, &diff, &diff_size) != TC_OK)
        die("result", tc_shm_last_error());
    if (sum_size != TENSOR_BYTES || diff_size != TENSOR_BYTES)
        die("result", "unexpected output byte size");
    for (size_t i = 0; i < 16; i++) {
        printf("%d + %d = %d\n", in0[i], in1[i], at(sum, i));
        printf("%d - %d = %d\n", in0[i], in1[i], at(diff, i));
        if (at(sum, i) != in0[i] + in1[i])
            die("result", "incorrect sum");
        if (at(diff, i) != in0[i] - in1[i])
            die("result", "incorrect difference");
    }
}

static void print_status(tc_client *client)
{
    tc_shm_status *st = NULL;
    if (tc_client_system_shm_status(client, NULL, NULL, &st) != TC_OK)
        die("status", tc_client_last_error(client));
    if (tc_shm_status_count(st) != 2)
        die("status", "expected two registered regions");
    for (size_t i = 0; i < tc_shm_status_count(st); i++)
        printf("region %s: key %s, offset %llu, byte_size %llu\n", tc_shm_status_name(st, i),
               tc_shm_status_key(st, i), (unsigned long long)tc_shm_status_offset(st, i),
               (unsigned long long)tc_shm_status_byte_size(st, i));
    tc_shm_status_free(st);
}

static tc_request *build_request(void)
{
    const int64_t shape[2] = {1, 16};
    tc_request *req = NULL;
    if (tc_request_new(&req, "simple") != TC_OK ||
        tc_request_add_input(req, "INPUT0", TC_DTYPE_INT32, shape, 2) != TC_OK ||
        tc_request_add_input(req, "INPUT1", TC_DTYPE_INT32, shape, 2) != TC_OK ||
        tc_request_input_set_shm(req, "INPUT0", "input_data", TENSOR_BYTES, 0) != TC_OK ||
        tc_request_input_set_shm(req, "INPUT1", "input_data", TENSOR_BYTES, TENSOR_BYTES) !=
            TC_OK ||
        tc_request_add_output(req, "OUTPUT0") != TC_OK ||
        tc_request_add_output(req, "OUTPUT1") != TC_OK ||
        tc_request_output_set_shm(req, "OUTPUT0", "output_data", TENSOR_BYTES, 0) != TC_OK ||
        tc_request_output_set_shm(req, "OUTPUT1", "output_data", TENSOR_BYTES, TENSOR_BYTES) !=
            TC_OK)
        die("request", "cannot build");
    return req;
}

int main(int argc, char **argv)
{
    const char *url = "localhost:8001";
    bool verbose = false;
    const char *suffix = "";
    int opt;
    while ((opt = getopt(argc, argv, "u:vs:")) != -1) {
        if (opt == 'u')
            url = optarg;
        else if (opt == 'v')
            verbose = true;
        else if (opt == 's')
            suffix = optarg;
        else
            die("usage", "simple_grpc_shm_client [-u host:port] [-v] [-s suffix]");
    }
    (void)snprintf(g_in_key, sizeof g_in_key, "/input_simple%s", suffix);
    (void)snprintf(g_out_key, sizeof g_out_key, "/output_simple%s", suffix);
    tc_grpc_options *opts = NULL;
    tc_client *client = NULL;
    if (verbose)
        tc_set_log_callback(log_to_stderr, TC_LOG_VERBOSE, NULL);
    if (tc_grpc_options_new(&opts) != TC_OK || tc_grpc_options_set_verbose(opts, verbose) != TC_OK)
        die("options", "cannot create");
    if (tc_grpc_client_new(&client, url, opts) != TC_OK)
        die("unable to create client", url);
    tc_grpc_options_free(opts);

    /* Start from a clean slate, as the upstream example does. */
    if (tc_client_system_shm_unregister(client, NULL, NULL) != TC_OK ||
        tc_client_cuda_shm_unregister(client, NULL, NULL) != TC_OK)
        die("unregister", tc_client_last_error(client));

    if (tc_shm_region_new(&g_out, g_out_key, 2 * TENSOR_BYTES) != TC_OK)
        die("create output region", tc_shm_last_error());
    if (tc_client_system_shm_register(client, "output_data", g_out_key, 0, 2 * TENSOR_BYTES,
                                      NULL) != TC_OK)
        die("register output_data", tc_client_last_error(client));

    int32_t in0[16];
    int32_t in1[16];
    for (int32_t i = 0; i < 16; i++) {
        in0[i] = i;
        in1[i] = 1;
    }
    if (tc_shm_region_new(&g_in, g_in_key, 2 * TENSOR_BYTES) != TC_OK ||
        tc_shm_region_write(g_in, 0, in0, sizeof in0) != TC_OK ||
        tc_shm_region_write(g_in, TENSOR_BYTES, in1, sizeof in1) != TC_OK)
        die("create input region", tc_shm_last_error());
    if (tc_client_system_shm_register(client, "input_data", g_in_key, 0, 2 * TENSOR_BYTES, NULL) !=
        TC_OK)
        die("register input_data", tc_client_last_error(client));

    tc_request *req = build_request();
    tc_result *r = NULL;
    if (tc_client_infer(client, req, &r) != TC_OK)
        die("inference failed", tc_client_last_error(client));
    check(r, in0, in1);
    tc_result_free(r);
    tc_request_free(req);

    print_status(client);
    if (tc_client_system_shm_unregister(client, NULL, NULL) != TC_OK)
        die("unregister", tc_client_last_error(client));
    tc_code rc_in = tc_shm_region_destroy(g_in);
    tc_code rc_out = tc_shm_region_destroy(g_out);
    g_in = NULL;
    g_out = NULL;
    if (rc_in != TC_OK || rc_out != TC_OK)
        die("destroy", tc_shm_last_error());
    if (tc_client_free(client) != TC_OK)
        die("client", "cannot free");
    printf("PASS: system shared memory\n");
    return 0;
}
