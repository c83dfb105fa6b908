/* gRPC stream: three sequences of requests to the stateful model
 * `simple_sequence` on one stream: correlation ids 1000 and 1001 and a
 * string id. The first request of each sequence carries START and the last
 * END; request ids are "<sequence>_<n>". The model answers
 * (INPUT + START) x READY, so inputs 0, 11, 7, ... give 1, 11, 7, ... and
 * inputs 100, -11, -7, ... give 101, -11, -7, ...
 * Usage: simple_grpc_sequence_stream_infer_client [-u host:port] [-v] [-o offset] */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* getopt */
#endif

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tritonc/tritonc.h>

#define STEPS 8
#define SEQS 3

static const int32_t g_values[STEPS - 1] = {11, 7, 5, 3, 2, 0, 1};
static char g_seq_names[SEQS][64];
static int32_t g_got[SEQS][STEPS];
static bool g_seen[SEQS][STEPS];
static int g_errors;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

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

static int32_t input_of(int seq, int step)
{
    int32_t first = seq == 1 ? 100 : 0;
    int32_t v = step == 0 ? first : g_values[step - 1];
    return seq == 1 && step > 0 ? -v : v;
}

/* Runs on the client's I/O thread: file each response under its request id. */
static void on_response(tc_stream *stream, tc_result *result, bool final, void *user_data)
{
    (void)stream;
    (void)final;
    (void)user_data;
    if (result == NULL)
        return; /* end of the stream: tc_stream_stop() returns its status */
    pthread_mutex_lock(&g_mu);
    const char *id = tc_result_id(result);
    const char *sep = strrchr(id, '_');
    const uint8_t *data;
    size_t size;
    bool ok = false;
    if (tc_result_status(result) != TC_OK)
        fprintf(stderr, "error: response %s: %s\n", id, tc_result_error_message(result));
    else if (sep != NULL && tc_result_output_data(result, "OUTPUT", &data, &size) == TC_OK &&
             size == 4) {
        int step = (int)strtol(sep + 1, NULL, 10);
        for (int s = 0; s < SEQS && step >= 0 && step < STEPS; s++) {
            size_t n = (size_t)(sep - id);
            if (strlen(g_seq_names[s]) == n && strncmp(g_seq_names[s], id, n) == 0) {
                memcpy(&g_got[s][step], data, 4);
                g_seen[s][step] = true;
                ok = true;
            }
        }
    }
    if (!ok)
        g_errors++;
    pthread_mutex_unlock(&g_mu);
    tc_result_free(result);
}

static void send_step(tc_stream *stream, tc_request *req, int seq, uint64_t id_num, int step)
{
    char rid[96];
    int32_t v = input_of(seq, step);
    snprintf(rid, sizeof rid, "%s_%d", g_seq_names[seq], step);
    tc_code rc = seq == 2 ? tc_request_set_sequence_id_str(req, g_seq_names[seq])
                          : tc_request_set_sequence_id(req, id_num);
    if (rc != TC_OK || tc_request_set_id(req, rid) != TC_OK ||
        tc_request_set_sequence_flags(req, step == 0, step == STEPS - 1) != TC_OK ||
        tc_request_input_reset(req, "INPUT") != TC_OK ||
        tc_request_input_append(req, "INPUT", &v, sizeof v, TC_COPY) != TC_OK)
        die("request", "cannot set the value");
    if (tc_stream_send(stream, req) != TC_OK)
        die("stream", "cannot send");
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
            die("usage", "simple_grpc_sequence_stream_infer_client [-u host:port] [-v] [-o n]");
    }
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

    const uint64_t ids[2] = {1000 + offset * 2, 1001 + offset * 2};
    snprintf(g_seq_names[0], sizeof g_seq_names[0], "%llu", (unsigned long long)ids[0]);
    snprintf(g_seq_names[1], sizeof g_seq_names[1], "%llu", (unsigned long long)ids[1]);
    snprintf(g_seq_names[2], sizeof g_seq_names[2], "seq-%ld-%llu", (long)getpid(),
             (unsigned long long)offset);
    const int64_t shape[2] = {1, 1};
    if (tc_request_new(&req, "simple_sequence") != TC_OK ||
        tc_request_add_input(req, "INPUT", TC_DTYPE_INT32, shape, 2) != TC_OK ||
        tc_request_add_output(req, "OUTPUT") != TC_OK)
        die("request", "cannot build");
    if (tc_client_stream_start(client, on_response, NULL, NULL, &stream) != TC_OK)
        die("unable to start the stream", tc_client_last_error(client));
    for (int step = 0; step < STEPS; step++) {
        for (int s = 0; s < SEQS; s++)
            send_step(stream, req, s, s < 2 ? ids[s] : 0, step);
    }
    /* Half-close: every response arrives before the stream ends. */
    tc_code end = tc_stream_stop(stream, false);
    if (end != TC_OK)
        die("stream ended with an error", tc_stream_error_message(stream));
    tc_stream_free(stream);

    int failures = g_errors;
    for (int step = 0; step < STEPS; step++) {
        printf("[%d]", step);
        for (int s = 0; s < SEQS; s++) {
            int32_t in = input_of(s, step);
            int32_t want = step == 0 ? in + 1 : in;
            printf(" %d", g_got[s][step]);
            if (!g_seen[s][step] || g_got[s][step] != want)
                failures++;
        }
        printf("\n");
    }
    tc_request_free(req);
    if (tc_client_free(client) != TC_OK)
        die("client", "cannot free");
    if (failures > 0)
        die("sequence stream", "missing or unexpected results");
    printf("PASS: Sequence\n");
    return 0;
}
