/* Our gRPC client against a foreign server (grpc_python_server_interop.py
 * runs it against a stock grpcio server). One check per run:
 *   grpc_peer_client URL infer [CA]     model `simple`, batch 8, checked
 *   grpc_peer_client URL deadline [CA]  model `slow` (the server sleeps 2 s)
 *                                       with a 300 ms client timeout must end
 *                                       with TC_E_TIMEOUT well before 2 s; then
 *                                       `simple` works on the same client
 *   grpc_peer_client URL notfound [CA]  an unknown model: TC_E_NOT_FOUND and
 *                                       the server's message
 *   grpc_peer_client URL badca CA       TLS with a CA that did not sign the
 *                                       server's certificate: TC_E_TRANSPORT
 * With CA (a PEM file) the client uses TLS with those root certificates.
 * Prints "PASS: <check>" and exits 0 on success; 1 with the reason else. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tritonc/tritonc.h>

#define BATCH 8

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "error: %s: %s\n", what, detail);
    exit(1);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int32_t g_in0[BATCH * 16];
static int32_t g_in1[BATCH * 16];

static tc_request *simple_request(const char *model)
{
    const int64_t shape[2] = {BATCH, 16};
    tc_request *req = NULL;
    for (int32_t i = 0; i < BATCH * 16; i++) {
        g_in0[i] = i % 16;
        g_in1[i] = 1;
    }
    if (tc_request_new(&req, model) != TC_OK || tc_request_set_id(req, "peer") != TC_OK ||
        tc_request_add_input(req, "INPUT0", TC_DTYPE_INT32, shape, 2) != TC_OK ||
        tc_request_add_input(req, "INPUT1", TC_DTYPE_INT32, shape, 2) != TC_OK ||
        tc_request_input_append(req, "INPUT0", g_in0, sizeof g_in0, TC_BORROW) != TC_OK ||
        tc_request_input_append(req, "INPUT1", g_in1, sizeof g_in1, TC_BORROW) != TC_OK)
        die("request", "cannot build");
    return req;
}

/* Infer `simple` and check OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1. */
static void infer_simple(tc_client *client)
{
    tc_request *req = simple_request("simple");
    tc_result *r = NULL;
    if (tc_client_infer(client, req, &r) != TC_OK)
        die("inference failed", tc_client_last_error(client));
    const uint8_t *sum;
    const uint8_t *diff;
    size_t n0;
    size_t n1;
    const int64_t *shape;
    size_t ndim;
    if (tc_result_output_data(r, "OUTPUT0", &sum, &n0) != TC_OK ||
        tc_result_output_data(r, "OUTPUT1", &diff, &n1) != TC_OK || n0 != sizeof g_in0 ||
        n1 != sizeof g_in0)
        die("result", "OUTPUT0/OUTPUT1 missing or of the wrong size");
    if (tc_result_output_shape(r, "OUTPUT0", &shape, &ndim) != TC_OK || ndim != 2 ||
        shape[0] != BATCH || shape[1] != 16)
        die("result", "OUTPUT0 shape is not [8,16]");
    if (strcmp(tc_result_id(r), "peer") != 0)
        die("result", "wrong id");
    for (size_t i = 0; i < BATCH * 16; i++) {
        int32_t s;
        int32_t d;
        memcpy(&s, sum + 4 * i, 4);
        memcpy(&d, diff + 4 * i, 4);
        if (s != g_in0[i] + g_in1[i] || d != g_in0[i] - g_in1[i])
            die("result", "wrong values");
    }
    tc_result_free(r);
    tc_request_free(req);
}

/* Expect `model` to fail with `want`; returns the seconds the call took. */
static double expect_error(tc_client *client, const char *model, uint64_t timeout_us, tc_code want,
                           const char *message)
{
    tc_request *req = simple_request(model);
    if (timeout_us > 0 && tc_request_set_client_timeout_us(req, timeout_us) != TC_OK)
        die("request", "cannot set the client timeout");
    tc_result *r = NULL;
    double t0 = now_s();
    tc_code rc = tc_client_infer(client, req, &r);
    double took = now_s() - t0;
    tc_result_free(r);
    tc_request_free(req);
    printf("%s: %s after %.3f s: %s\n", model, tc_code_name(rc), took,
           tc_client_last_error(client));
    if (rc != want)
        die("unexpected code", tc_code_name(rc));
    if (message != NULL && strstr(tc_client_last_error(client), message) == NULL)
        die("unexpected message", tc_client_last_error(client));
    return took;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        die("usage", "grpc_peer_client URL infer|deadline|notfound|badca [CA]");
    const char *url = argv[1];
    const char *check = argv[2];
    const char *ca = argc > 3 ? argv[3] : NULL;
    tc_grpc_options *opts = NULL;
    tc_client *client = NULL;
    if (tc_grpc_options_new(&opts) != TC_OK)
        die("options", "cannot create");
    if (ca != NULL && (tc_grpc_options_set_tls(opts, true) != TC_OK ||
                       tc_grpc_options_set_root_certificates(opts, ca) != TC_OK))
        die("options", "cannot set TLS");
    if (tc_grpc_client_new(&client, url, opts) != TC_OK)
        die("unable to create client", url);
    tc_grpc_options_free(opts);

    if (strcmp(check, "infer") == 0) {
        infer_simple(client);
    } else if (strcmp(check, "deadline") == 0) {
        double took = expect_error(client, "slow", 300000, TC_E_TIMEOUT, NULL);
        if (took < 0.25 || took > 1.5)
            die("deadline", "the call did not end near its 300 ms deadline");
        infer_simple(client); /* the connection outlives the expired call */
    } else if (strcmp(check, "notfound") == 0) {
        (void)expect_error(client, "nope", 0, TC_E_NOT_FOUND,
                           "Request for unknown model: 'nope' is not found");
        infer_simple(client);
    } else if (strcmp(check, "badca") == 0 && ca != NULL) {
        (void)expect_error(client, "simple", 0, TC_E_TRANSPORT, "certificate verify failed");
    } else {
        die("unknown check", check);
    }
    if (tc_client_free(client) != TC_OK)
        die("client", "cannot free");
    printf("PASS: %s\n", check);
    return 0;
}
