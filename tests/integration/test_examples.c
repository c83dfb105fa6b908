/* The example programs, run as a user runs them, against tritonc-server on
 * ephemeral ports: each must exit 0 and print PASS. */
#include "tc_test.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server_proc.h"

static int start_with(void **state, const char *const *args)
{
    tc_test_server *s = calloc(1, sizeof *s);
    if (tc_test_server_start(s, TC_MODELS_DIR, args) != 0) {
        free(s);
        return -1;
    }
    *state = s;
    return 0;
}

static int setup(void **state)
{
    return start_with(state, NULL);
}

static int setup_explicit(void **state)
{
    static const char *const args[] = {"--model-control-mode=explicit", NULL};
    return start_with(state, args);
}

static int teardown(void **state)
{
    tc_test_server *s = *state;
    int rc = tc_test_server_stop(s);
    free(s);
    assert_int_equal(rc, 0);
    return 0;
}

/* Run examples/<name> -u localhost:<port> [extra]; returns its output. */
static char *run_example_on(int port, const char *name, const char *extra, int *status)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s/%s -u localhost:%d %s 2>&1", TC_EXAMPLES_DIR, name, port,
             extra ? extra : "");
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16;
    size_t used = 0;
    char *out = malloc(cap);
    size_t r;
    while ((r = fread(out + used, 1, cap - used - 1, p)) > 0) {
        used += r;
        if (used + 1 >= cap) {
            cap *= 2;
            out = realloc(out, cap);
        }
    }
    out[used] = '\0';
    int st = pclose(p);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (*status != 0)
        fprintf(stderr, "%s exited %d:\n%s\n", name, *status, out);
    return out;
}

static char *run_example(void **state, const char *name, const char *extra, int *status)
{
    tc_test_server *s = *state;
    return run_example_on(s->http_port, name, extra, status);
}

static void expect_pass(void **state, const char *name, const char *extra)
{
    int status = -1;
    char *out = run_example(state, name, extra, &status);
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, "PASS"));
    free(out);
}

static void simple_http_infer_client(void **state)
{
    int status = -1;
    char *out = run_example(state, "simple_http_infer_client", NULL, &status);
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, "0 + 1 = 1"));
    assert_non_null(strstr(out, "15 - 1 = 14"));
    assert_non_null(strstr(out, "PASS"));
    free(out);
}

static void simple_http_health_metadata(void **state)
{
    expect_pass(state, "simple_http_health_metadata", "-v");
}

static void simple_http_string_infer_client(void **state)
{
    expect_pass(state, "simple_http_string_infer_client", NULL);
}

static void simple_http_async_infer_client(void **state)
{
    expect_pass(state, "simple_http_async_infer_client", NULL);
}

static void simple_http_model_control(void **state)
{
    expect_pass(state, "simple_http_model_control", NULL);
}

static void example_fails_without_server(void **state)
{
    tc_test_server *s = *state;
    int port = s->http_port;
    assert_int_equal(tc_test_server_stop(s), 0);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s/simple_http_infer_client -u localhost:%d >/dev/null 2>&1",
             TC_EXAMPLES_DIR, port);
    int st = system(cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) != 0);
    /* Restart so teardown has a server to stop. */
    assert_int_equal(tc_test_server_start(s, TC_MODELS_DIR, NULL), 0);
}


/* ---- gRPC examples (against the server's gRPC port) ------------------------------- */

/* Skip while the server has no gRPC port, or while `model` (if any) is missing. */
static void need_grpc(void **state, const char *model)
{
    tc_test_server *s = *state;
    if (s->grpc_port <= 0) {
        fprintf(stderr, "SKIP: tritonc-server does not serve gRPC yet\n");
        skip();
    }
    if (model != NULL) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s/config.pbtxt", TC_MODELS_DIR, model);
        if (access(path, R_OK) != 0) {
            fprintf(stderr, "SKIP: model %s is not in the repository yet\n", model);
            skip();
        }
    }
}

static void expect_grpc_pass(void **state, const char *name, const char *extra, const char *model)
{
    need_grpc(state, model);
    tc_test_server *s = *state;
    int status = -1;
    char *out = run_example_on(s->grpc_port, name, extra, &status);
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, "PASS"));
    free(out);
}

static void simple_grpc_infer_client(void **state)
{
    expect_grpc_pass(state, "simple_grpc_infer_client", NULL, NULL);
}

static void simple_grpc_infer_client_gzip(void **state)
{
    expect_grpc_pass(state, "simple_grpc_infer_client", "-C gzip", NULL);
}

static void simple_grpc_infer_client_deflate(void **state)
{
    expect_grpc_pass(state, "simple_grpc_infer_client", "-C deflate", NULL);
}

static void simple_grpc_async_infer_client(void **state)
{
    expect_grpc_pass(state, "simple_grpc_async_infer_client", NULL, NULL);
}

static void simple_grpc_health_metadata(void **state)
{
    expect_grpc_pass(state, "simple_grpc_health_metadata", "-v", NULL);
}

static void simple_grpc_model_control(void **state)
{
    expect_grpc_pass(state, "simple_grpc_model_control", NULL, NULL);
}

static void simple_grpc_string_infer_client(void **state)
{
    expect_grpc_pass(state, "simple_grpc_string_infer_client", NULL, NULL);
}

static void simple_grpc_sequence_stream_infer_client(void **state)
{
    expect_grpc_pass(state, "simple_grpc_sequence_stream_infer_client", NULL, "simple_sequence");
}

static void simple_grpc_sequence_sync_infer_client(void **state)
{
    expect_grpc_pass(state, "simple_grpc_sequence_sync_infer_client", NULL, "simple_sequence");
}

static void simple_http_sequence_sync_infer_client(void **state)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/simple_sequence/config.pbtxt", TC_MODELS_DIR);
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "SKIP: model simple_sequence is not in the repository yet\n");
        skip();
    }
    expect_pass(state, "simple_http_sequence_sync_infer_client", NULL);
}

static void simple_grpc_custom_repeat(void **state)
{
    expect_grpc_pass(state, "simple_grpc_custom_repeat", "-r 5 -d 1", "repeat_int32");
}

static void simple_grpc_keepalive_client(void **state)
{
    expect_grpc_pass(state, "simple_grpc_keepalive_client", NULL, NULL);
}

static void simple_grpc_custom_args_client(void **state)
{
    expect_grpc_pass(state, "simple_grpc_custom_args_client", NULL, NULL);
}

static void grpc_explicit_int_content_client(void **state)
{
    expect_grpc_pass(state, "grpc_explicit_int_content_client", NULL, NULL);
}

static void grpc_explicit_int8_content_client(void **state)
{
    expect_grpc_pass(state, "grpc_explicit_int8_content_client", NULL, NULL);
}

static void grpc_explicit_byte_content_client(void **state)
{
    expect_grpc_pass(state, "grpc_explicit_byte_content_client", NULL, NULL);
}

/* ---- shared-memory examples (server with --allow-client-shm=true) ------------------ */

static int setup_shm(void **state)
{
    static const char *const args[] = {"--allow-client-shm=true", NULL};
    return start_with(state, args);
}

/* `-s _t<pid>`: object names of their own, so cases running at once never collide. */
static void expect_shm_pass(void **state, bool grpc, const char *name, const char *extra)
{
    char args[256];
    snprintf(args, sizeof args, "-s _t%ld %s", (long)getpid(), extra != NULL ? extra : "");
    if (grpc) {
        expect_grpc_pass(state, name, args, NULL);
        return;
    }
    expect_pass(state, name, args);
}

static void simple_http_shm_client(void **state)
{
    expect_shm_pass(state, false, "simple_http_shm_client", NULL);
}

static void simple_grpc_shm_client(void **state)
{
    expect_shm_pass(state, true, "simple_grpc_shm_client", NULL);
}

static void simple_http_shm_string_client(void **state)
{
    expect_shm_pass(state, false, "simple_http_shm_string_client", NULL);
}

static void simple_grpc_shm_string_client(void **state)
{
    expect_shm_pass(state, true, "simple_grpc_shm_string_client", NULL);
}

static void reuse_infer_objects_client_http(void **state)
{
    expect_shm_pass(state, false, "reuse_infer_objects_client", "-i http");
}

static void reuse_infer_objects_client_grpc(void **state)
{
    expect_shm_pass(state, true, "reuse_infer_objects_client", "-i grpc");
}

/* PASS with a GPU, a documented SKIP (exit 0) without one. */
static void expect_cuda_example(void **state, bool grpc, const char *name)
{
    tc_test_server *s = *state;
    if (grpc)
        need_grpc(state, NULL);
    int status = -1;
    char *out = run_example_on(grpc ? s->grpc_port : s->http_port, name, NULL, &status);
    assert_int_equal(status, 0);
    assert_true(strstr(out, "PASS") != NULL || strstr(out, "CUDA not available, skipping") != NULL);
    free(out);
}

static void simple_http_cudashm_client(void **state)
{
    expect_cuda_example(state, false, "simple_http_cudashm_client");
}

static void simple_grpc_cudashm_client(void **state)
{
    expect_cuda_example(state, true, "simple_grpc_cudashm_client");
}

/* scripts/upstream_repo.sh builds the repository upstream's model-control
 * examples count (7 index entries over HTTP, 8 over gRPC). */
static void upstream_model_control_repository(void **state)
{
    (void)state;
    const char *modes[2] = {"http", "grpc"};
    const size_t want[2] = {7, 8};
    for (int m = 0; m < 2; m++) {
        char dir[] = "/tmp/tc_upstream_repo_XXXXXX";
        assert_non_null(mkdtemp(dir));
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "%s/../scripts/upstream_repo.sh %s %s/repo >/dev/null",
                 TC_MODELS_DIR, modes[m], dir);
        assert_int_equal(system(cmd), 0);
        char repo[512];
        snprintf(repo, sizeof repo, "%s/repo", dir);
        static const char *const args[] = {"--model-control-mode=explicit", NULL};
        tc_test_server s;
        assert_int_equal(tc_test_server_start(&s, repo, args), 0);
        tc_http_reply r;
        assert_int_equal(tc_http_request(s.http_port, "POST", "/v2/repository/index", NULL, "", 0, &r), 0);
        assert_int_equal(r.status, 200);
        size_t entries = 0;
        for (const char *p = (const char *)r.body; (p = strstr(p, "\"name\"")) != NULL; p++)
            entries++;
        assert_int_equal(entries, want[m]);
        tc_http_reply_free(&r);
        assert_int_equal(tc_http_request(s.http_port, "POST", "/v2/repository/models/simple/load", NULL, "", 0, &r), 0);
        assert_int_equal(r.status, 200);
        tc_http_reply_free(&r);
        assert_int_equal(tc_test_server_stop(&s), 0);
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        assert_int_equal(system(cmd), 0);
    }
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(upstream_model_control_repository),
    cmocka_unit_test_setup_teardown(simple_http_infer_client, setup, teardown),
    cmocka_unit_test_setup_teardown(simple_http_health_metadata, setup, teardown),
    cmocka_unit_test_setup_teardown(simple_http_string_infer_client, setup, teardown),
    cmocka_unit_test_setup_teardown(simple_http_async_infer_client, setup, teardown),
    cmocka_unit_test_setup_teardown(simple_http_model_control, setup_explicit, teardown),
    cmocka_unit_test_setup_teardown(example_fails_without_server, setup, teardown),
    cmocka_unit_test_setup_teardown(simple_grpc_infer_client, setup, teardown),
    cmocka_unit_test_setup_teardown(simple_grpc_infer_client_gzip, setup, teardown),
    cmocka_unit_test_setup_teardown(simple_grpc_infer_client_deflate, setup, teardown),
    cmocka_unit_test_setup_teardown(simple_grpc_async_infer_client, setup, teardown),
    cmocka_unit_test_setup_teardown(simple_grpc_health_metadata, setup, teardown),
    cmocka_unit_test_setup_teardown(simple_grpc_model_control, setup_explicit, teardown),
    cmocka_unit_test_setup_teardown(simple_grpc_string_infer_client, setup, teardown),
    cmocka_unit_test_setup_teardown(simple_grpc_sequence_stream_infer_client, setup, teardown),
    cmocka_unit_test_setup_teardown(simple_grpc_sequence_sync_infer_client, setup, teardown),
    cmocka_unit_test_setup_teardown(simple_http_sequence_sync_infer_client, setup, teardown),
    cmocka_unit_test_setup_teardown(simple_grpc_custom_repeat, setup, teardown),
    cmocka_unit_test_setup_teardown(simple_grpc_keepalive_client, setup, teardown),
    cmocka_unit_test_setup_teardown(simple_grpc_custom_args_client, setup, teardown),
    cmocka_unit_test_setup_teardown(grpc_explicit_int_content_client, setup, teardown),
    cmocka_unit_test_setup_teardown(grpc_explicit_int8_content_client, setup, teardown),
    cmocka_unit_test_setup_teardown(grpc_explicit_byte_content_client, setup, teardown),
    cmocka_unit_test_setup_teardown(simple_http_shm_client, setup_shm, teardown),
    cmocka_unit_test_setup_teardown(simple_grpc_shm_client, setup_shm, teardown),
    cmocka_unit_test_setup_teardown(simple_http_shm_string_client, setup_shm, teardown),
    cmocka_unit_test_setup_teardown(simple_grpc_shm_string_client, setup_shm, teardown),
    cmocka_unit_test_setup_teardown(simple_http_cudashm_client, setup_shm, teardown),
    cmocka_unit_test_setup_teardown(simple_grpc_cudashm_client, setup_shm, teardown),
    cmocka_unit_test_setup_teardown(reuse_infer_objects_client_http, setup_shm, teardown),
    cmocka_unit_test_setup_teardown(reuse_infer_objects_client_grpc, setup_shm, teardown),
};

TC_TEST_MAIN(tests)
