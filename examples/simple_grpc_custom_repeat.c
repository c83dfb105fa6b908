/* gRPC stream with the decoupled model `repeat_int32`: one request with
 * IN = [offset, offset+1, ...] (REPEAT values), a DELAY per value and a
 * WAIT; the model answers once per value (OUT = IN[i], IDX = i) and then
 * ends the request. With the empty final response enabled, the last
 * response carries no outputs and the final flag.
 * Usage: simple_grpc_custom_repeat [-u host:port] [-v] [-r repeat] [-o offset]
 *        [-d delay_ms] [-w wait_ms] */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* getopt */
#endif

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tritonc/tritonc.h>

#define MAX_REPEAT 1000

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static int32_t g_out[MAX_REPEAT];
static uint32_t g_idx[MAX_REPEAT];
static int g_count;
static int g_finals;
static int g_errors;

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

/* Runs on the client's I/O thread, once per response, then once at the end. */
static void on_response(tc_stream *stream, tc_result *result, bool final, void *user_data)
{
    (void)stream;
    (void)user_data;
    if (result == NULL)
        return;
    pthread_mutex_lock(&g_mu);
    const uint8_t *out;
    const uint8_t *idx;
    size_t n_out;
    size_t n_idx;
    if (tc_result_status(result) != TC_OK) {
        fprintf(stderr, "error: %s\n", tc_result_error_message(result));
        g_errors++;
    } else if (tc_result_output_count(result) == 0) {
        if (!final)
            g_errors++; /* only the empty final response has no outputs */
    } else if (tc_result_output_data(result, "OUT", &out, &n_out) == TC_OK &&
               tc_result_output_data(result, "IDX", &idx, &n_idx) == TC_OK && n_out == 4 &&
               n_idx == 4 && g_count < MAX_REPEAT) {
        memcpy(&g_out[g_count], out, 4);
        memcpy(&g_idx[g_count], idx, 4);
        g_count++;
    } else {
        g_errors++;
    }
    if (final)
        g_finals++;
    pthread_mutex_unlock(&g_mu);
    tc_result_free(result);
}

int main(int argc, char **argv)
{
    const char *url = "localhost:8001";
    bool verbose = false;
    int repeat = 10;
    int32_t offset = 100;
    uint32_t delay_ms = 10;
    uint32_t wait_ms = 0;
    int opt;
    while ((opt = getopt(argc, argv, "u:vr:o:d:w:")) != -1) {
        if (opt == 'u')
            url = optarg;
        else if (opt == 'v')
            verbose = true;
        else if (opt == 'r')
            repeat = (int)strtol(optarg, NULL, 10);
        else if (opt == 'o')
            offset = (int32_t)strtol(optarg, NULL, 10);
        else if (opt == 'd')
            delay_ms = (uint32_t)strtoul(optarg, NULL, 10);
        else if (opt == 'w')
            wait_ms = (uint32_t)strtoul(optarg, NULL, 10);
        else
            die("usage", "simple_grpc_custom_repeat [-u host:port] [-v] [-r n] [-o n] [-d ms] [-w ms]");
    }
    if (repeat < 0 || repeat > MAX_REPEAT)
        die("usage", "repeat must be 0..1000");
    tc_grpc_options *opts = NULL;
    tc_client *client = NULL;
    tc_request *req = NULL;
    tc_stream *stream = NULL;
    if (verbose)
        tc_set_log_callback(log_to_stderr, TC_LOG_VERBOSE, NULL);
    if (tc_grpc_options_new(&opts) != TC_OK || tc_grpc_options_set_verbose(opts, verbose) != TC_OK)
        die("options", "cannot create");
    if (tc_grpc_client_new(&client, url, opts) != TC_OK)
        die("unable to create client", url);
    tc_grpc_options_free(opts);

    const int64_t n = repeat;
    const int64_t one = 1;
    if (tc_request_new(&req, "repeat_int32") != TC_OK || tc_request_set_id(req, "0") != TC_OK ||
        tc_request_add_input(req, "IN", TC_DTYPE_INT32, &n, 1) != TC_OK ||
        tc_request_add_input(req, "DELAY", TC_DTYPE_UINT32, &n, 1) != TC_OK ||
        tc_request_add_input(req, "WAIT", TC_DTYPE_UINT32, &one, 1) != TC_OK ||
        tc_request_input_append(req, "WAIT", &wait_ms, sizeof wait_ms, TC_COPY) != TC_OK ||
        tc_request_set_enable_empty_final_response(req, true) != TC_OK)
        die("request", "cannot build");
    for (int i = 0; i < repeat; i++) {
        int32_t v = offset + i;
        if (tc_request_input_append(req, "IN", &v, sizeof v, TC_COPY) != TC_OK ||
            tc_request_input_append(req, "DELAY", &delay_ms, sizeof delay_ms, TC_COPY) != TC_OK)
            die("request", "cannot append");
    }
    if (tc_client_stream_start(client, on_response, NULL, NULL, &stream) != TC_OK)
        die("unable to start the stream", tc_client_last_error(client));
    if (tc_stream_send(stream, req) != TC_OK)
        die("stream", "cannot send");
    if (tc_stream_stop(stream, false) != TC_OK)
        die("stream ended with an error", tc_stream_error_message(stream));
    tc_stream_free(stream);
    tc_request_free(req);

    int failures = g_errors;
    if (g_count != repeat) {
        fprintf(stderr, "error: expected %d responses, got %d\n", repeat, g_count);
        failures++;
    }
    if (g_finals != 1) {
        fprintf(stderr, "error: expected one final response, got %d\n", g_finals);
        failures++;
    }
    for (int i = 0; i < g_count; i++) {
        printf("response %d: OUT %d IDX %u\n", i, g_out[i], g_idx[i]);
        if (g_out[i] != offset + (int32_t)g_idx[i] || g_idx[i] != (uint32_t)i)
            failures++;
    }
    if (tc_client_free(client) != TC_OK)
        die("client", "cannot free");
    if (failures > 0)
        die("repeat", "unexpected responses");
    printf("PASS: repeat_int32\n");
    return 0;
}
