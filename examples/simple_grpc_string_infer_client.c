/* Send two BYTES tensors of decimal strings to model `simple_string` and
 * check the decimal strings of the sum and the difference it returns.
 * Usage: simple_grpc_string_infer_client [-u host:port] [-v] */
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

/* Element i of a BYTES output as an integer. */
static long element(tc_result *r, const char *name, size_t i)
{
    const uint8_t *p;
    size_t len;
    char text[32];
    if (tc_result_output_bytes_element(r, name, i, &p, &len) != TC_OK || len == 0 ||
        len >= sizeof text)
        die("result", "bad BYTES element");
    memcpy(text, p, len);
    text[len] = '\0';
    char *end;
    long v = strtol(text, &end, 10);
    if (*end != '\0')
        die("result: not a decimal string", text);
    return v;
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
            die("usage", "simple_grpc_string_infer_client [-u host:port] [-v]");
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

    const int64_t shape[2] = {1, 16};
    if (tc_request_new(&req, "simple_string") != TC_OK ||
        tc_request_add_input(req, "INPUT0", TC_DTYPE_BYTES, shape, 2) != TC_OK ||
        tc_request_add_input(req, "INPUT1", TC_DTYPE_BYTES, shape, 2) != TC_OK ||
        tc_request_add_output(req, "OUTPUT0") != TC_OK ||
        tc_request_add_output(req, "OUTPUT1") != TC_OK)
        die("request", "cannot build");
    for (int i = 0; i < 16; i++) {
        char text[16];
        int n = snprintf(text, sizeof text, "%d", i);
        if (tc_request_input_append_bytes(req, "INPUT0", text, (size_t)n) != TC_OK ||
            tc_request_input_append_bytes(req, "INPUT1", "1", 1) != TC_OK)
            die("request", "cannot append");
    }

    tc_result *r = NULL;
    if (tc_client_infer(client, req, &r) != TC_OK)
        die("inference failed", tc_client_last_error(client));
    size_t count = 0;
    if (tc_result_output_bytes_count(r, "OUTPUT0", &count) != TC_OK || count != 16)
        die("result", "OUTPUT0 does not hold 16 strings");
    for (size_t i = 0; i < 16; i++) {
        long sum = element(r, "OUTPUT0", i);
        long diff = element(r, "OUTPUT1", i);
        printf("%zu + 1 = %ld\n", i, sum);
        printf("%zu - 1 = %ld\n", i, diff);
        if (sum != (long)i + 1)
            die("result", "incorrect sum");
        if (diff != (long)i - 1)
            die("result", "incorrect difference");
    }
    tc_result_free(r);
    tc_request_free(req);
    if (tc_client_free(client) != TC_OK)
        die("client", "cannot free");
    printf("PASS: String Infer\n");
    return 0;
}
