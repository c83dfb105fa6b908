/* gRPC: two sequences (correlation ids 1000 and 1001) of sync inference
 * requests to the stateful model `simple_sequence`, interleaved. The first
 * request of each sequence carries START and the last END. The model
 * answers (INPUT + START) x READY, so sequence 1000 (inputs 0, 11, 7, ...)
 * must give 1, 11, 7, ... and sequence 1001 (inputs 100, -11, -7, ...)
 * must give 101, -11, -7, ...
 * Usage: simple_grpc_sequence_sync_infer_client [-u host:port] [-v] [-o offset] */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* getopt */
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tritonc/tritonc.h>

#define STEPS 8

static void log_to_stderr(tc_log_level level, const char *message, void *user_data)
{
    (void)level;
    (void)user_data;
    fprintf(stderr, "%s\n", message);
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "error: %s: %s\n", what, detail);
    exit(1);
}

/* Send one value of a sequence and return the model's answer. */
static int32_t send_one(tc_client *client, tc_request *req, uint64_t seq, int step, int32_t value)
{
    if (tc_request_input_reset(req, "INPUT") != TC_OK ||
        tc_request_input_append(req, "INPUT", &value, sizeof value, TC_COPY) != TC_OK ||
        tc_request_set_sequence_id(req, seq) != TC_OK ||
        tc_request_set_sequence_flags(req, step == 0, step == STEPS - 1) != TC_OK)
        die("request", "cannot set the value");
    tc_result *r = NULL;
    if (tc_client_infer(client, req, &r) != TC_OK)
        die("inference failed", tc_client_last_error(client));
    const uint8_t *data;
    size_t size;
    int32_t out;
    if (tc_result_output_data(r, "OUTPUT", &data, &size) != TC_OK || size != sizeof out)
        die("result", "OUTPUT missing or not one INT32");
    memcpy(&out, data, sizeof out);
    tc_result_free(r);
    return out;
}

int main(int argc, char **argv)
{
    const char *url = "localhost:8001";
    bool verbose = false;
    uint64_t offset = 0;
    int opt;
    while ((opt = getopt(argc, argv, "u:vo:")) != -1) {
        if (opt == 'u')
            url = optarg;
        else if (opt == 'v')
            verbose = true;
        else if (opt == 'o')
            offset = strtoull(optarg, NULL, 10);
        else
            die("usage", "simple_grpc_sequence_sync_infer_client [-u host:port] [-v] [-o offset]");
    }
    tc_grpc_options *opts = NULL;
    tc_client *client = NULL;
    tc_request *req = NULL;
    if (verbose)
        tc_set_log_callback(log_to_stderr, TC_LOG_VERBOSE, NULL);
    if (tc_grpc_options_new(&opts) != TC_OK || tc_grpc_options_set_verbose(opts, verbose) != TC_OK)
        die("options", "cannot create");
    if (tc_grpc_client_new(&client, url, opts) != TC_OK)
        die("unable to create client", url);
    tc_grpc_options_free(opts);

    const int64_t shape[2] = {1, 1};
    if (tc_request_new(&req, "simple_sequence") != TC_OK ||
        tc_request_add_input(req, "INPUT", TC_DTYPE_INT32, shape, 2) != TC_OK ||
        tc_request_add_output(req, "OUTPUT") != TC_OK)
        die("request", "cannot build");

    static const int32_t values[STEPS - 1] = {11, 7, 5, 3, 2, 0, 1};
    const uint64_t seq0 = 1000 + offset * 2;
    const uint64_t seq1 = 1001 + offset * 2;
    int failures = 0;
    for (int step = 0; step < STEPS; step++) {
        int32_t in0 = step == 0 ? 0 : values[step - 1];
        int32_t in1 = step == 0 ? 100 : -values[step - 1];
        int32_t want0 = step == 0 ? 1 : in0;
        int32_t want1 = step == 0 ? 101 : in1;
        int32_t got0 = send_one(client, req, seq0, step, in0);
        int32_t got1 = send_one(client, req, seq1, step, in1);
        printf("[%d] %d : %d\n", step, got0, got1);
        if (got0 != want0 || got1 != want1) {
            fprintf(stderr, "error: expected %d : %d\n", want0, want1);
            failures++;
        }
    }
    tc_request_free(req);
    if (tc_client_free(client) != TC_OK)
        die("client", "cannot free");
    if (failures > 0)
        die("sequence", "unexpected results");
    printf("PASS: Sequence\n");
    return 0;
}
