/* Reuse one request (its inputs and requested outputs) across calls to
 * model `simple`, switching between system shared memory and inline data:
 * rounds 0 and 2 take the inputs from, and write the outputs to, the
 * registered regions; rounds 1 and 3 send the inputs inline and get the
 * outputs in the response. Each round uses new input values and checks
 * the sum and difference. Unregisters everything first and last. The
 * server must run with --allow-client-shm=true.
 * Usage: reuse_infer_objects_client [-i http|grpc] [-u host:port] [-v] [-s suffix]
 * (`-s` appends a suffix to the shared-memory object names). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* getopt */
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tritonc/tritonc.h>

#define TENSOR_BYTES (16 * sizeof(int32_t))
#define ROUNDS       4

static tc_shm_region *g_in;
static tc_shm_region *g_out;

static void log_to_stderr(tc_log_level level, const char *message, void *user_data)
{
    (void)level;
    (void)user_data;
    fprintf(stderr, "%s\n", message);
}

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

static tc_client *connect_client(const char *protocol, const char *url, bool verbose)
{
    tc_client *client = NULL;
    if (strcmp(protocol, "grpc") == 0) {
        tc_grpc_options *opts = NULL;
        if (tc_grpc_options_new(&opts) != TC_OK ||
            tc_grpc_options_set_verbose(opts, verbose) != TC_OK ||
            tc_grpc_client_new(&client, url != NULL ? url : "localhost:8001", opts) != TC_OK)
            die("unable to create gRPC client", url != NULL ? url : "localhost:8001");
        tc_grpc_options_free(opts);
    } else if (strcmp(protocol, "http") == 0) {
        tc_http_options *opts = NULL;
        if (tc_http_options_new(&opts) != TC_OK ||
            tc_http_options_set_verbose(opts, verbose) != TC_OK ||
            tc_http_client_new(&client, url != NULL ? url : "localhost:8000", opts) != TC_OK)
            die("unable to create HTTP client", url != NULL ? url : "localhost:8000");
        tc_http_options_free(opts);
    } else {
        die("usage", "-i takes http or grpc");
    }
    return client;
}

/* Point the request at the regions (shm) or attach in0/in1 inline. */
static void prepare(tc_request *req, bool shm, const int32_t *in0, const int32_t *in1)
{
    static const char *const ins[2] = {"INPUT0", "INPUT1"};
    static const char *const outs[2] = {"OUTPUT0", "OUTPUT1"};
    const int32_t *data[2] = {in0, in1};
    for (size_t k = 0; k < 2; k++) {
        tc_code rc;
        if (shm) {
            rc = tc_shm_region_write(g_in, k * TENSOR_BYTES, data[k], TENSOR_BYTES);
            if (rc == TC_OK)
                rc = tc_request_input_set_shm(req, ins[k], "input_data", TENSOR_BYTES,
                                              k * TENSOR_BYTES);
            if (rc == TC_OK)
                rc = tc_request_output_set_shm(req, outs[k], "output_data", TENSOR_BYTES,
                                               k * TENSOR_BYTES);
        } else {
            /* Appending switches the input back to inline data. */
            rc = tc_request_input_append(req, ins[k], data[k], TENSOR_BYTES, TC_COPY);
            if (rc == TC_OK)
                rc = tc_request_output_unset_shm(req, outs[k]);
        }
        if (rc != TC_OK)
            die("request", tc_code_str(rc));
    }
}

static void check(const tc_result *r, bool shm, const int32_t *in0, const int32_t *in1)
{
    const uint8_t *sum;
    const uint8_t *diff;
    size_t sum_size;
    size_t diff_size;
    bool in_shm = !shm;
    if (tc_result_output_is_shm(r, "OUTPUT0", &in_shm) != TC_OK || in_shm != shm)
        die("result", "OUTPUT0 is not where it was asked to be");
    tc_code rc = shm ? tc_result_output_read_shm(r, "OUTPUT0", g_out, &sum, &sum_size)
                     : tc_result_output_data(r, "OUTPUT0", &sum, &sum_size);
    if (rc == TC_OK)
        rc = shm ? tc_result_output_read_shm(r, "OUTPUT1", g_out, &diff, &diff_size)
                 : tc_result_output_data(r, "OUTPUT1", &diff, &diff_size);
    if (rc != TC_OK || sum_size != TENSOR_BYTES || diff_size != TENSOR_BYTES)
        die("result", "missing output");
    for (size_t i = 0; i < 16; i++) {
        if (at(sum, i) != in0[i] + in1[i] || at(diff, i) != in0[i] - in1[i])
            die("result", "incorrect result");
    }
}

static void setup_regions(tc_client *client, const char *suffix)
{
    char in_key[128];
    char out_key[128];
    (void)snprintf(in_key, sizeof in_key, "/input_reuse%s", suffix);
    (void)snprintf(out_key, sizeof out_key, "/output_reuse%s", suffix);
    if (tc_client_system_shm_unregister(client, NULL, NULL) != TC_OK)
        die("unregister", tc_client_last_error(client));
    if (tc_shm_region_new(&g_in, in_key, 2 * TENSOR_BYTES) != TC_OK ||
        tc_shm_region_new(&g_out, out_key, 2 * TENSOR_BYTES) != TC_OK)
        die("create regions", tc_shm_last_error());
    if (tc_client_system_shm_register(client, "input_data", in_key, 0, 2 * TENSOR_BYTES, NULL) !=
            TC_OK ||
        tc_client_system_shm_register(client, "output_data", out_key, 0, 2 * TENSOR_BYTES, NULL) !=
            TC_OK)
        die("register", tc_client_last_error(client));
}

int main(int argc, char **argv)
{
    const char *protocol = "http";
    const char *url = NULL;
    const char *suffix = "";
    bool verbose = false;
    int opt;
    while ((opt = getopt(argc, argv, "i:u:vs:")) != -1) {
        if (opt == 'i')
            protocol = optarg;
        else if (opt == 'u')
            url = optarg;
        else if (opt == 'v')
            verbose = true;
        else if (opt == 's')
            suffix = optarg;
        else
            die("usage", "reuse_infer_objects_client [-i http|grpc] [-u host:port] [-v] [-s sfx]");
    }
    if (verbose)
        tc_set_log_callback(log_to_stderr, TC_LOG_VERBOSE, NULL);
    tc_client *client = connect_client(protocol, url, verbose);
    setup_regions(client, suffix);

    const int64_t shape[2] = {1, 16};
    tc_request *req = NULL;
    if (tc_request_new(&req, "simple") != TC_OK ||
        tc_request_add_input(req, "INPUT0", TC_DTYPE_INT32, shape, 2) != TC_OK ||
        tc_request_add_input(req, "INPUT1", TC_DTYPE_INT32, shape, 2) != TC_OK ||
        tc_request_add_output(req, "OUTPUT0") != TC_OK ||
        tc_request_add_output(req, "OUTPUT1") != TC_OK)
        die("request", "cannot build");
    for (int round = 0; round < ROUNDS; round++) {
        bool shm = round % 2 == 0;
        int32_t in0[16];
        int32_t in1[16];
        for (int32_t i = 0; i < 16; i++) {
            in0[i] = i + round * 10;
            in1[i] = round + 1;
        }
        prepare(req, shm, in0, in1);
        tc_result *r = NULL;
        if (tc_client_infer(client, req, &r) != TC_OK)
            die("inference failed", tc_client_last_error(client));
        check(r, shm, in0, in1);
        tc_result_free(r);
        printf("round %d (%s): OK\n", round, shm ? "shared memory" : "inline data");
    }
    tc_request_free(req);
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
    printf("PASS : ReuseInferObjects\n");
    return 0;
}
