/* gRPC: send several inference requests to model `simple` without waiting, check
 * each result in its completion callback, and wait until all have run.
 * Usage: simple_grpc_async_infer_client [-u host:port] [-v] */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* getopt */
#endif

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tritonc/tritonc.h>

#define REQUESTS 8

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static int g_done;
static int g_failed;
static int32_t g_in0[16];
static int32_t g_in1[16];

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

/* True when OUTPUT0 = INPUT0 + INPUT1 and OUTPUT1 = INPUT0 - INPUT1. */
static bool result_ok(tc_result *r)
{
    const uint8_t *sum;
    const uint8_t *diff;
    size_t n0;
    size_t n1;
    if (tc_result_status(r) != TC_OK) {
        fprintf(stderr, "async inference failed: %s\n", tc_result_error_message(r));
        return false;
    }
    if (tc_result_output_data(r, "OUTPUT0", &sum, &n0) != TC_OK ||
        tc_result_output_data(r, "OUTPUT1", &diff, &n1) != TC_OK || n0 != sizeof g_in0 ||
        n1 != sizeof g_in0)
        return false;
    for (size_t i = 0; i < 16; i++) {
        int32_t s;
        int32_t d;
        memcpy(&s, sum + 4 * i, 4);
        memcpy(&d, diff + 4 * i, 4);
        if (s != g_in0[i] + g_in1[i] || d != g_in0[i] - g_in1[i])
            return false;
    }
    return true;
}

/* Runs on the client's I/O thread, once per request. */
static void on_done(tc_result *result, void *user_data)
{
    int index = (int)(intptr_t)user_data;
    bool ok = result_ok(result);
    printf("request %d: %s (id \"%s\")\n", index, ok ? "ok" : "FAILED", tc_result_id(result));
    tc_result_free(result);
    pthread_mutex_lock(&g_mu);
    g_done++;
    if (!ok)
        g_failed++;
    pthread_cond_signal(&g_cv);
    pthread_mutex_unlock(&g_mu);
}

int main(int argc, char **argv)
{
    const char *url = "localhost:8001";
    bool verbose = false;
    int opt;
    while ((opt = getopt(argc, argv, "u:v")) != -1) {
        if (opt == 'u')
            url = optarg;
        else if (opt == 'v')
            verbose = true;
        else
            die("usage", "simple_grpc_async_infer_client [-u host:port] [-v]");
    }
    tc_grpc_options *opts = NULL;
    tc_client *client = NULL;
    tc_request *req = NULL;
    if (verbose)
        tc_set_log_callback(log_to_stderr, TC_LOG_VERBOSE, NULL);
    if (tc_grpc_options_new(&opts) != TC_OK ||
        tc_grpc_options_set_verbose(opts, verbose) != TC_OK)
        die("options", "cannot create");
    if (tc_grpc_client_new(&client, url, opts) != TC_OK)
        die("unable to create client", url);
    tc_grpc_options_free(opts);

    for (int32_t i = 0; i < 16; i++) {
        g_in0[i] = i;
        g_in1[i] = 1;
    }
    const int64_t shape[2] = {1, 16};
    if (tc_request_new(&req, "simple") != TC_OK ||
        tc_request_add_input(req, "INPUT0", TC_DTYPE_INT32, shape, 2) != TC_OK ||
        tc_request_add_input(req, "INPUT1", TC_DTYPE_INT32, shape, 2) != TC_OK ||
        tc_request_input_append(req, "INPUT0", g_in0, sizeof g_in0, TC_BORROW) != TC_OK ||
        tc_request_input_append(req, "INPUT1", g_in1, sizeof g_in1, TC_BORROW) != TC_OK ||
        tc_request_add_output(req, "OUTPUT0") != TC_OK ||
        tc_request_add_output(req, "OUTPUT1") != TC_OK)
        die("request", "cannot build");

    for (int i = 0; i < REQUESTS; i++) {
        char id[16];
        snprintf(id, sizeof id, "%d", i);
        if (tc_request_set_id(req, id) != TC_OK)
            die("request", "cannot set id");
        if (tc_client_infer_async(client, req, on_done, (void *)(intptr_t)i) != TC_OK)
            die("unable to send async request", tc_client_last_error(client));
    }
    /* The borrowed inputs stay valid until every callback has run. */
    pthread_mutex_lock(&g_mu);
    while (g_done < REQUESTS)
        pthread_cond_wait(&g_cv, &g_mu);
    int failed = g_failed;
    pthread_mutex_unlock(&g_mu);

    tc_request_free(req);
    if (tc_client_free(client) != TC_OK)
        die("client", "cannot free");
    if (failed > 0)
        die("async inference", "some results were wrong");
    printf("PASS: Async infer\n");
    return 0;
}
