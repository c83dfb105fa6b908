/* Backend plugins (include/tritonc/backend.h): tritonc-server loads
 * libtritonc_NAME.so from --backend-directory or the model's directory,
 * serves it over HTTP and gRPC (decoupled too), reports plugin and init
 * failures in the repository index, and reloads a plugin after every model
 * using it was unloaded. The plugin is backends/scale (OUTPUT0 = INPUT0 x
 * factor); tests/integration/plugin_bad_abi.c claims another ABI version. */
#include "tc_test.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grpc_raw.h"
#include "grpc_service.pb-c.h"
#include "server_proc.h"

#define SVC "/inference.GRPCInferenceService/"

typedef struct fixture {
    tc_test_server server;
    char repo[64];
    char arg[512];
} fixture;

/* A model of the repository; with `plugin` set, a link
 * <repo>/<name>/libtritonc_<link_as>.so to it. */
static void add_model(const char *repo, const char *name, const char *config, const char *plugin,
                      const char *link_as)
{
    assert_int_equal(tc_test_repo_add_model(repo, name, config), 0);
    if (plugin != NULL) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s/libtritonc_%s.so", repo, name, link_as);
        assert_int_equal(symlink(plugin, path), 0);
    }
}

#define IO_INT32(dims)                                                                             \
    "input [ { name: \"INPUT0\" data_type: TYPE_INT32 dims: [ " dims " ] } ]\n"                    \
    "output [ { name: \"OUTPUT0\" data_type: TYPE_INT32 dims: [ " dims " ] } ]\n"

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (tc_test_repo_new(f->repo, sizeof f->repo) != 0)
        return -1;
    add_model(f->repo, "scaled",
              "backend: \"scale\"\nmax_batch_size: 8\n" IO_INT32(
                  "-1") "parameters [ { key: \"factor\" value: { string_value: \"3\" } } ]\n",
              NULL, NULL);
    add_model(f->repo, "scaled_local",
              "backend: \"local\"\n" IO_INT32(
                  "4") "parameters [ { key: \"factor\" value: { string_value: \"2\" } } ]\n",
              TC_SCALE_PLUGIN, "local");
    add_model(f->repo, "scaled_stream",
              "backend: \"scale\"\nmodel_transaction_policy { decoupled: true }\n" IO_INT32(
                  "-1") "parameters [ { key: \"factor\" value: { string_value: \"10\" } } ]\n",
              NULL, NULL);
    add_model(f->repo, "bad_factor",
              "backend: \"scale\"\n" IO_INT32(
                  "4") "parameters [ { key: \"factor\" value: { string_value: \"-1\" } } ]\n",
              NULL, NULL);
    add_model(f->repo, "bad_abi", "backend: \"badabi\"\n" IO_INT32("4"), TC_BADABI_PLUGIN,
              "badabi");
    add_model(f->repo, "no_plugin", "backend: \"nonexistent\"\n" IO_INT32("4"), NULL, NULL);
    add_model(f->repo, "sneaky", "backend: \"../scaled_local/local\"\n" IO_INT32("4"), NULL, NULL);
    snprintf(f->arg, sizeof f->arg, "--backend-directory=%s", TC_PLUGIN_DIR);
    const char *args[] = {f->arg, "--model-control-mode=explicit", "--load-model=*", NULL};
    if (tc_test_server_start(&f->server, f->repo, args) != 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    int rc = tc_test_server_stop(&f->server);
    tc_test_repo_remove(f->repo);
    free(f);
    assert_int_equal(rc, 0);
    return 0;
}

/* POST `body` to `path`; asserts the status and returns the body (free()). */
static char *post(fixture *f, const char *path, const char *body, int want)
{
    tc_http_reply r;
    assert_int_equal(tc_http_request(f->server.http_port, "POST", path,
                                     "Content-Type: application/json\r\n", body, strlen(body), &r),
                     0);
    if (r.status != want)
        fprintf(stderr, "POST %s -> %d %s\n", path, r.status, (const char *)r.body);
    assert_int_equal(r.status, want);
    char *out = strdup((const char *)r.body);
    tc_http_reply_free(&r);
    return out;
}

static void expect_in(const char *text, const char *part)
{
    if (strstr(text, part) == NULL)
        fail_msg("'%s' not found in %s", part, text);
}

static void serves_plugins_over_http(void **state)
{
    fixture *f = *state;
    char *out = post(f, "/v2/models/scaled/infer",
                     "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[2,2],\"datatype\":\"INT32\","
                     "\"data\":[1,2,3,4]}]}",
                     200);
    expect_in(out, "\"shape\":[2,2]");
    expect_in(out, "\"data\":[3,6,9,12]");
    free(out);
    /* Found in the model's own directory (no batching: shape [4]). */
    out = post(f, "/v2/models/scaled_local/infer",
               "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[4],\"datatype\":\"INT32\","
               "\"data\":[5,6,7,8]}]}",
               200);
    expect_in(out, "\"data\":[10,12,14,16]");
    free(out);
    /* An error the plugin sets reaches the client as its status. */
    out = post(f, "/v2/models/scaled/infer",
               "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,1],\"datatype\":\"INT32\","
               "\"data\":[-999]}]}",
               400);
    expect_in(out, "scale: refusing -999");
    free(out);
}

static void reports_plugin_failures(void **state)
{
    fixture *f = *state;
    char *index = post(f, "/v2/repository/index", "{}", 200);
    expect_in(index, "parameter 'factor' must be a number >= 0, got '-1'");
    expect_in(index, "it was built for another backend API version (newer than this server)");
    expect_in(index, "no plugin libtritonc_nonexistent.so is in the model directory or "
                     "--backend-directory");
    /* A backend name is never a path. */
    expect_in(index, "unable to find backend '../scaled_local/local'");
    free(index);
    tc_http_reply r;
    assert_int_equal(
        tc_http_request(f->server.http_port, "GET", "/v2/models/bad_abi/ready", NULL, NULL, 0, &r),
        0);
    assert_true(r.status >= 400);
    tc_http_reply_free(&r);
}

/* The decoupled plugin model over ModelStreamInfer: one response per
 * element, in order. */
static void streams_decoupled_responses(void **state)
{
    fixture *f = *state;
    int32_t v[3] = {1, 2, 3};
    Inference__ModelInferRequest req = INFERENCE__MODEL_INFER_REQUEST__INIT;
    Inference__ModelInferRequest__InferInputTensor t =
        INFERENCE__MODEL_INFER_REQUEST__INFER_INPUT_TENSOR__INIT;
    Inference__ModelInferRequest__InferInputTensor *tp = &t;
    int64_t shape[1] = {3};
    ProtobufCBinaryData raw = {sizeof v, (uint8_t *)v};
    t.name = "INPUT0";
    t.datatype = "INT32";
    t.n_shape = 1;
    t.shape = shape;
    req.model_name = "scaled_stream";
    req.id = "s1";
    req.n_inputs = 1;
    req.inputs = &tp;
    req.n_raw_input_contents = 1;
    req.raw_input_contents = &raw;
    size_t len = protobuf_c_message_get_packed_size(&req.base);
    uint8_t *buf = malloc(len);
    protobuf_c_message_pack(&req.base, buf);
    size_t flen;
    uint8_t *frame = tc_grpc_raw_frame(buf, len, &flen);
    free(buf);

    tc_grpc_raw *c = NULL;
    assert_int_equal(tc_grpc_raw_connect(&c, f->server.grpc_port), 0);
    int32_t sid = tc_grpc_raw_start(c, SVC "ModelStreamInfer", NULL);
    assert_true(sid > 0);
    assert_int_equal(tc_grpc_raw_send(c, sid, frame, flen, true), 0);
    free(frame);
    tc_grpc_raw_reply r;
    assert_int_equal(tc_grpc_raw_wait(c, sid, 0, 10000, &r), 0);
    assert_int_equal(r.grpc_status, 0);
    assert_int_equal(r.count, 3);
    for (size_t i = 0; i < r.count; i++) {
        Inference__ModelStreamInferResponse *m =
            inference__model_stream_infer_response__unpack(NULL, r.lens[i], r.msgs[i]);
        assert_non_null(m);
        assert_string_equal(m->error_message, "");
        assert_non_null(m->infer_response);
        assert_string_equal(m->infer_response->id, "s1");
        assert_int_equal(m->infer_response->n_raw_output_contents, 1);
        assert_int_equal(m->infer_response->raw_output_contents[0].len, 4);
        int32_t got;
        memcpy(&got, m->infer_response->raw_output_contents[0].data, 4);
        assert_int_equal(got, 10 * (int32_t)(i + 1));
        inference__model_stream_infer_response__free_unpacked(m, NULL);
    }
    tc_grpc_raw_reply_free(&r);
    tc_grpc_raw_close(c);
}

/* Unloading every model of a plugin closes it; loading one opens it again. */
static void reloads_after_unload(void **state)
{
    fixture *f = *state;
    free(post(f, "/v2/repository/models/scaled/unload", "{}", 200));
    free(post(f, "/v2/repository/models/scaled_stream/unload", "{}", 200));
    free(post(f, "/v2/repository/models/bad_factor/unload", "{}", 200));
    free(post(f, "/v2/repository/models/scaled/load", "{}", 200));
    char *out = post(f, "/v2/models/scaled/infer",
                     "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,2],\"datatype\":\"INT32\","
                     "\"data\":[7,-7]}]}",
                     200);
    expect_in(out, "\"data\":[21,-21]");
    free(out);
    /* A config override naming the plugin works too. */
    free(post(f, "/v2/repository/models/scaled/load",
              "{\"parameters\":{\"config\":\"{\\\"backend\\\":\\\"scale\\\",\\\"max_batch_size\\\":"
              "8,\\\"input\\\":[{\\\"name\\\":\\\"INPUT0\\\",\\\"data_type\\\":\\\"TYPE_INT32\\\","
              "\\\"dims\\\":[-1]}],\\\"output\\\":[{\\\"name\\\":\\\"OUTPUT0\\\",\\\"data_type\\\":"
              "\\\"TYPE_INT32\\\",\\\"dims\\\":[-1]}],\\\"parameters\\\":{\\\"factor\\\":"
              "{\\\"string_value\\\":\\\"5\\\"}}}\"}}",
              200));
    out = post(f, "/v2/models/scaled/infer",
               "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,1],\"datatype\":\"INT32\","
               "\"data\":[3]}]}",
               200);
    expect_in(out, "\"data\":[15]");
    free(out);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(serves_plugins_over_http, setup, teardown),
    cmocka_unit_test_setup_teardown(reports_plugin_failures, setup, teardown),
    cmocka_unit_test_setup_teardown(streams_decoupled_responses, setup, teardown),
    cmocka_unit_test_setup_teardown(reloads_after_unload, setup, teardown),
};

TC_TEST_MAIN(tests)
