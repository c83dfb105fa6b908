/* gRPC "explicit content": model `simple` with INT32 inputs sent as typed
 * `int_contents` instead of raw bytes, checked; then a request mixing a
 * typed input with a raw one, which the server must reject with
 * "contents field must not be specified when using raw_input_contents for
 * 'INPUT0' for model 'simple'".
 * Usage: grpc_explicit_int_content_client [-u host:port] [-v] */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* getopt */
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tritonc/tritonc.h>

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

static int32_t at(const uint8_t *data, size_t i)
{
    int32_t v;
    memcpy(&v, data + i * sizeof v, sizeof v);
    return v;
}

/* Check OUTPUT0 = INPUT0 + INPUT1 and OUTPUT1 = INPUT0 - INPUT1, printing each line. */
static void check(tc_result *r, const int32_t *in0, const int32_t *in1)
{
    const uint8_t *sum;
    const uint8_t *diff;
    size_t sum_size;
    size_t diff_size;
    if (tc_result_output_data(r, "OUTPUT0", &sum, &sum_size) != TC_OK ||
        tc_result_output_data(r, "OUTPUT1", &diff, &diff_size) != TC_OK)
        die("result", "OUTPUT0 or OUTPUT1 missing");
    tc_dtype dt;
    if (tc_result_output_dtype(r, "OUTPUT0", &dt) != TC_OK || dt != TC_DTYPE_INT32)
        die("result", "OUTPUT0 is not INT32");
    const int64_t *shape;
    size_t ndim;
    if (tc_result_output_shape(r, "OUTPUT0", &shape, &ndim) != TC_OK || ndim != 2 ||
        shape[0] != 1 || shape[1] != 16)
        die("result", "OUTPUT0 shape is not [1,16]");
    if (sum_size != 16 * sizeof(int32_t) || diff_size != 16 * sizeof(int32_t))
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

static tc_result *infer(tc_client *client, const tc_request *req)
{
    tc_result *r = NULL;
    if (tc_client_infer(client, req, &r) != TC_OK)
        die("inference failed", tc_client_last_error(client));
    return r;
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
            die("usage", "grpc_explicit_int_content_client [-u host:port] [-v]");
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

    int32_t in0[16];
    int32_t in1[16];
    for (int32_t i = 0; i < 16; i++) {
        in0[i] = i;
        in1[i] = 1;
    }
    const int64_t shape[2] = {1, 16};
    if (tc_request_new(&req, "simple") != TC_OK ||
        tc_request_add_input(req, "INPUT0", TC_DTYPE_INT32, shape, 2) != TC_OK ||
        tc_request_add_input(req, "INPUT1", TC_DTYPE_INT32, shape, 2) != TC_OK ||
        tc_request_input_append(req, "INPUT0", in0, sizeof in0, TC_BORROW) != TC_OK ||
        tc_request_input_append(req, "INPUT1", in1, sizeof in1, TC_BORROW) != TC_OK ||
        tc_request_add_output(req, "OUTPUT0") != TC_OK ||
        tc_request_add_output(req, "OUTPUT1") != TC_OK ||
        tc_request_set_typed_contents(req, true) != TC_OK)
        die("request", "cannot build");
    tc_result *r = infer(client, req);
    check(r, in0, in1);
    tc_result_free(r);

    /* INPUT0 typed, INPUT1 raw: the server must refuse the mix. */
    static const char expected[] = "contents field must not be specified when using "
                                   "raw_input_contents for 'INPUT0' for model 'simple'";
    if (tc_request_input_set_typed_contents(req, "INPUT1", false) != TC_OK)
        die("request", "cannot mix");
    r = NULL;
    tc_code rc = tc_client_infer(client, req, &r);
    tc_result_free(r);
    if (rc != TC_E_INVALID_ARG || strstr(tc_client_last_error(client), expected) == NULL)
        die("expected the raw + typed request to fail", tc_client_last_error(client));
    printf("expected error (%s): %s\n", tc_code_name(rc), tc_client_last_error(client));

    tc_request_free(req);
    if (tc_client_free(client) != TC_OK)
        die("client", "cannot free");
    printf("PASS: explicit int content\n");
    return 0;
}
