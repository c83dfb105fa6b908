/* Model control against a server in explicit mode: load `simple`, check it
 * is ready, unload it, check it is not, list the repository, and check that
 * loading with a broken config override fails with "failed to load".
 * `simple` is loaded again at the end.
 * Usage: simple_grpc_model_control [-u host:port] [-v] */
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

static bool model_ready(tc_client *client, const char *model)
{
    bool ready = false;
    tc_code rc = tc_client_is_model_ready(client, model, NULL, NULL, &ready);
    /* An unloaded model may also be reported as unknown. */
    if (rc != TC_OK && rc != TC_E_NOT_FOUND)
        die("unable to get model readiness", tc_client_last_error(client));
    return rc == TC_OK && ready;
}

static void print_index(tc_client *client)
{
    tc_repository_index *idx = NULL;
    if (tc_client_repository_index(client, false, NULL, &idx) != TC_OK)
        die("unable to get the repository index", tc_client_last_error(client));
    size_t n = tc_repository_index_count(idx);
    printf("repository index: %zu entries\n", n);
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        const char *name = tc_repository_index_name(idx, i);
        printf("  %s version '%s' state '%s' reason '%s'\n", name,
               tc_repository_index_version(idx, i), tc_repository_index_state(idx, i),
               tc_repository_index_reason(idx, i));
        if (strcmp(name, "simple") == 0)
            found = true;
    }
    tc_repository_index_free(idx);
    if (!found)
        die("repository index", "simple is not listed");
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
            die("usage", "simple_grpc_model_control [-u host:port] [-v]");
    }
    tc_grpc_options *opts = NULL;
    tc_client *client = NULL;
    if (verbose)
        tc_set_log_callback(log_to_stderr, TC_LOG_VERBOSE, NULL);
    if (tc_grpc_options_new(&opts) != TC_OK || tc_grpc_options_set_verbose(opts, verbose) != TC_OK)
        die("options", "cannot create");
    if (tc_grpc_client_new(&client, url, opts) != TC_OK)
        die("unable to create client", url);
    tc_grpc_options_free(opts);

    if (tc_client_load_model(client, "simple", NULL, NULL) != TC_OK)
        die("unable to load simple", tc_client_last_error(client));
    if (!model_ready(client, "simple"))
        die("model readiness", "simple is not ready after load");
    printf("simple loaded and ready\n");

    if (tc_client_unload_model(client, "simple", false, NULL) != TC_OK)
        die("unable to unload simple", tc_client_last_error(client));
    if (model_ready(client, "simple"))
        die("model readiness", "simple is still ready after unload");
    printf("simple unloaded\n");

    print_index(client);

    tc_load_options *lo = NULL;
    if (tc_load_options_new(&lo) != TC_OK ||
        tc_load_options_set_config(lo, "{\"backend\":\"no_such_backend\",\"max_batch_size\":8,"
                                       "\"input\":[],\"output\":[]}") != TC_OK)
        die("load options", "cannot create");
    tc_code rc = tc_client_load_model(client, "simple", lo, NULL);
    tc_load_options_free(lo);
    if (rc == TC_OK)
        die("load with a bad config", "unexpected success");
    if (strstr(tc_client_last_error(client), "failed to load") == NULL)
        die("unexpected error message", tc_client_last_error(client));
    printf("expected error (%s): %s\n", tc_code_name(rc), tc_client_last_error(client));

    if (tc_client_load_model(client, "simple", NULL, NULL) != TC_OK)
        die("unable to reload simple", tc_client_last_error(client));
    if (!model_ready(client, "simple"))
        die("model readiness", "simple is not ready after reload");
    if (tc_client_free(client) != TC_OK)
        die("client", "cannot free");
    printf("PASS: Model Control\n");
    return 0;
}
