/* Check server liveness and readiness, model readiness, server metadata
 * (name "triton") and model metadata of `simple`; an unknown model must fail.
 * Usage: simple_grpc_health_metadata [-u host:port] [-v] */
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
            die("usage", "simple_grpc_health_metadata [-u host:port] [-v]");
    }
    tc_grpc_options *opts = NULL;
    tc_client *client = NULL;
    tc_headers *headers = NULL;
    if (verbose)
        tc_set_log_callback(log_to_stderr, TC_LOG_VERBOSE, NULL);
    if (tc_grpc_options_new(&opts) != TC_OK || tc_grpc_options_set_verbose(opts, verbose) != TC_OK)
        die("options", "cannot create");
    if (tc_grpc_client_new(&client, url, opts) != TC_OK)
        die("unable to create client", url);
    tc_grpc_options_free(opts);
    if (tc_headers_new(&headers) != TC_OK || tc_headers_add(headers, "test", "1") != TC_OK ||
        tc_headers_add(headers, "dummy", "2") != TC_OK)
        die("headers", "cannot create");

    bool ok = false;
    if (tc_client_is_server_live(client, headers, &ok) != TC_OK)
        die("unable to get server liveness", tc_client_last_error(client));
    if (!ok)
        die("server liveness", "server is not live");
    printf("Server Live: %s\n", ok ? "true" : "false");
    if (tc_client_is_server_ready(client, NULL, &ok) != TC_OK)
        die("unable to get server readiness", tc_client_last_error(client));
    if (!ok)
        die("server readiness", "server is not ready");
    printf("Server Ready: %s\n", ok ? "true" : "false");
    if (tc_client_is_model_ready(client, "simple", NULL, NULL, &ok) != TC_OK)
        die("unable to get model readiness", tc_client_last_error(client));
    if (!ok)
        die("model readiness", "simple is not ready");
    printf("Model Ready: %s\n", ok ? "true" : "false");

    tc_server_metadata *sm = NULL;
    if (tc_client_server_metadata(client, NULL, &sm) != TC_OK)
        die("unable to get server metadata", tc_client_last_error(client));
    printf("Server: %s %s, %zu extensions\n", tc_server_metadata_name(sm),
           tc_server_metadata_version(sm), tc_server_metadata_extension_count(sm));
    if (strcmp(tc_server_metadata_name(sm), "triton") != 0)
        die("server metadata", "unexpected server name");
    tc_server_metadata_free(sm);

    tc_model_metadata *mm = NULL;
    if (tc_client_model_metadata(client, "simple", NULL, headers, &mm) != TC_OK)
        die("unable to get model metadata", tc_client_last_error(client));
    printf("Model: %s (%s), %zu inputs, %zu outputs\n", tc_model_metadata_name(mm),
           tc_model_metadata_platform(mm), tc_model_metadata_input_count(mm),
           tc_model_metadata_output_count(mm));
    for (size_t i = 0; i < tc_model_metadata_input_count(mm); i++) {
        const char *name;
        tc_dtype dt;
        size_t ndim;
        const int64_t *shape;
        (void)tc_model_metadata_input(mm, i, &name, &dt, &shape, &ndim);
        printf("  input %s %s ndim %zu\n", name, tc_dtype_name(dt), ndim);
    }
    if (strcmp(tc_model_metadata_name(mm), "simple") != 0)
        die("model metadata", "unexpected model name");
    tc_model_metadata_free(mm);

    char *config = NULL;
    if (tc_client_model_config(client, "simple", NULL, NULL, &config) != TC_OK)
        die("unable to get model config", tc_client_last_error(client));
    if (strstr(config, "\"name\":\"simple\"") == NULL)
        die("model config", config);
    printf("Model config: %s\n", config);
    tc_string_free(config);

    tc_code rc = tc_client_model_metadata(client, "wrong_model_name", NULL, NULL, &mm);
    if (rc == TC_OK)
        die("model metadata", "expected an error for wrong_model_name");
    if (strstr(tc_client_last_error(client), "Request for unknown model") == NULL)
        die("unexpected error message", tc_client_last_error(client));
    printf("expected error (%s): %s\n", tc_code_name(rc), tc_client_last_error(client));

    tc_headers_free(headers);
    if (tc_client_free(client) != TC_OK)
        die("client", "cannot free");
    printf("PASS: Health Metadata\n");
    return 0;
}
