/* tritonc-server's gRPC frontend driven by a raw nghttp2 client
 * (tests/lib/grpc_raw.c) sending the exact messages upstream clients send
 * (tests/data/golden/grpc). Each case starts its own server on ephemeral
 * ports and requires a clean exit (status 0) at teardown, so a crash or,
 * under ASan, a leak fails the case. */
#include "tc_test.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grpc_raw.h"
#include "grpc_service.pb-c.h"
#include "health.pb-c.h"
#include "model_config.pb-c.h"
#include "server_proc.h"

#define SVC    "/inference.GRPCInferenceService/"
#define GOLDEN TC_GOLDEN_DIR "/grpc/"

typedef struct fixture {
    tc_test_server server;
    tc_grpc_raw *conn;
    char tmp[64];
} fixture;

static int start_in(void **state, const char *repo, const char *const *args)
{
    fixture *f = calloc(1, sizeof *f);
    if (tc_test_server_start(&f->server, repo, args) != 0 || f->server.grpc_port <= 0 ||
        tc_grpc_raw_connect(&f->conn, f->server.grpc_port) != 0) {
        if (f->server.pid > 0)
            tc_test_server_stop(&f->server);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return start_in(state, TC_MODELS_DIR, NULL);
}

static int setup_explicit(void **state)
{
    static const char *const args[] = {"--model-control-mode=explicit", NULL};
    return start_in(state, TC_MODELS_DIR, args);
}

static int setup_compress(void **state)
{
    static const char *const args[] = {"--grpc-infer-response-compression-level=high", NULL};
    return start_in(state, TC_MODELS_DIR, args);
}

static int setup_small(void **state)
{
    static const char *const args[] = {"--grpc-max-message-size=100", NULL};
    return start_in(state, TC_MODELS_DIR, args);
}

/* A repository with one model that sleeps 1.5 s per execution. */
static int setup_slow(void **state)
{
    char dir[64];
    if (tc_test_repo_new(dir, sizeof dir) != 0 ||
        tc_test_repo_add_model(
            dir, "slow",
            "name: \"slow\"\nbackend: \"tritonc_identity\"\nmax_batch_size: 8\n"
            "input [ { name: \"INPUT0\" data_type: TYPE_INT32 dims: [ -1 ] } ]\n"
            "output [ { name: \"OUTPUT0\" data_type: TYPE_INT32 dims: [ -1 ] } ]\n"
            "parameters [ { key: \"execute_delay_ms\" value: { string_value: \"1500\" } } ]\n") !=
            0)
        return -1;
    int rc = start_in(state, dir, NULL);
    if (rc == 0)
        snprintf(((fixture *)*state)->tmp, sizeof((fixture *)*state)->tmp, "%s", dir);
    return rc;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tc_grpc_raw_close(f->conn);
    int rc = tc_test_server_stop(&f->server);
    if (f->tmp[0] != '\0')
        tc_test_repo_remove(f->tmp);
    free(f);
    assert_int_equal(rc, 0);
    return 0;
}

static tc_grpc_raw *conn_of(void **state)
{
    return ((fixture *)*state)->conn;
}

/* A unary call with a message given as bytes; asserts the gRPC status. */
static void call(void **state, const char *rpc, const void *msg, size_t len, int want_status,
                 tc_grpc_raw_reply *r)
{
    size_t flen;
    uint8_t *frame = tc_grpc_raw_frame(msg, len, &flen);
    char path[128];
    snprintf(path, sizeof path, "%s%s", rpc[0] == '/' ? "" : SVC, rpc);
    assert_int_equal(tc_grpc_raw_call(conn_of(state), path, NULL, frame, flen, r), 0);
    free(frame);
    if (r->grpc_status != want_status)
        fprintf(stderr, "%s -> status %d '%s'\n", rpc, r->grpc_status, r->grpc_message);
    assert_int_equal(r->http_status, 200);
    assert_int_equal(r->grpc_status, want_status);
    if (want_status == 0)
        assert_int_equal(r->count, 1);
}

/* A unary call with a packed protobuf-c message. */
static void call_msg(void **state, const char *rpc, const ProtobufCMessage *m, int want_status,
                     tc_grpc_raw_reply *r)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(len + 1);
    protobuf_c_message_pack(m, buf);
    call(state, rpc, buf, len, want_status, r);
    free(buf);
}

static uint8_t *golden(const char *rel, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s%s", GOLDEN, rel);
    uint8_t *data = tc_test_read_file(path, len);
    if (data == NULL)
        fail_msg("missing golden file %s", path);
    return data;
}

static void call_golden(void **state, const char *rel, const char *rpc, int want_status,
                        tc_grpc_raw_reply *r)
{
    size_t len;
    uint8_t *msg = golden(rel, &len);
    call(state, rpc, msg, len, want_status, r);
    free(msg);
}

static void expect_msg(const tc_grpc_raw_reply *r, const char *part)
{
    if (r->grpc_message == NULL || strstr(r->grpc_message, part) == NULL)
        fail_msg("grpc-message '%s' lacks '%s'", r->grpc_message ? r->grpc_message : "", part);
}

/* ---- health and metadata ------------------------------------------------------------------ */

static void health_and_metadata(void **state)
{
    tc_grpc_raw_reply r;
    call_golden(state, "simple_grpc_health_metadata/0001.ServerLive.request.pb", "ServerLive", 0,
                &r);
    Inference__ServerLiveResponse *live =
        inference__server_live_response__unpack(NULL, r.lens[0], r.msgs[0]);
    assert_true(live->live);
    inference__server_live_response__free_unpacked(live, NULL);
    assert_string_equal(tc_grpc_raw_header(&r, "content-type"), "application/grpc");
    assert_false(r.trailers_only);
    tc_grpc_raw_reply_free(&r);

    call_golden(state, "simple_grpc_health_metadata/0002.ServerReady.request.pb", "ServerReady", 0,
                &r);
    Inference__ServerReadyResponse *ready =
        inference__server_ready_response__unpack(NULL, r.lens[0], r.msgs[0]);
    assert_true(ready->ready);
    inference__server_ready_response__free_unpacked(ready, NULL);
    tc_grpc_raw_reply_free(&r);

    call_golden(state, "simple_grpc_health_metadata/0003.ModelReady.request.pb", "ModelReady", 0,
                &r);
    Inference__ModelReadyResponse *mr =
        inference__model_ready_response__unpack(NULL, r.lens[0], r.msgs[0]);
    assert_true(mr->ready);
    inference__model_ready_response__free_unpacked(mr, NULL);
    tc_grpc_raw_reply_free(&r);

    Inference__ModelReadyRequest unknown = INFERENCE__MODEL_READY_REQUEST__INIT;
    unknown.name = "nope";
    call_msg(state, "ModelReady", &unknown.base, 5, &r);
    expect_msg(&r, "Request for unknown model");
    assert_true(r.trailers_only);
    tc_grpc_raw_reply_free(&r);

    call_golden(state, "simple_grpc_health_metadata/0004.ServerMetadata.request.pb",
                "ServerMetadata", 0, &r);
    Inference__ServerMetadataResponse *sm =
        inference__server_metadata_response__unpack(NULL, r.lens[0], r.msgs[0]);
    assert_string_equal(sm->name, "triton");
    assert_true(sm->n_extensions > 0);
    inference__server_metadata_response__free_unpacked(sm, NULL);
    tc_grpc_raw_reply_free(&r);

    call_golden(state, "simple_grpc_health_metadata/0005.ModelMetadata.request.pb", "ModelMetadata",
                0, &r);
    Inference__ModelMetadataResponse *mm =
        inference__model_metadata_response__unpack(NULL, r.lens[0], r.msgs[0]);
    assert_string_equal(mm->name, "simple");
    assert_int_equal(mm->n_inputs, 2);
    assert_string_equal(mm->inputs[0]->datatype, "INT32");
    assert_int_equal(mm->inputs[0]->shape[0], -1);
    assert_int_equal(mm->inputs[0]->shape[1], 16);
    inference__model_metadata_response__free_unpacked(mm, NULL);
    tc_grpc_raw_reply_free(&r);

    call_golden(state, "simple_grpc_health_metadata/0006.ModelMetadata.request.pb", "ModelMetadata",
                5, &r);
    expect_msg(&r, "Request for unknown model");
    tc_grpc_raw_reply_free(&r);

    call_golden(state, "simple_grpc_health_metadata/0007.ModelConfig.request.pb", "ModelConfig", 0,
                &r);
    Inference__ModelConfigResponse *mc =
        inference__model_config_response__unpack(NULL, r.lens[0], r.msgs[0]);
    assert_non_null(mc->config);
    assert_string_equal(mc->config->name, "simple");
    assert_int_equal(mc->config->max_batch_size, 8);
    assert_int_equal(mc->config->n_input, 2);
    inference__model_config_response__free_unpacked(mc, NULL);
    tc_grpc_raw_reply_free(&r);

    Grpc__Health__V1__HealthCheckRequest hc = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    call_msg(state, "/grpc.health.v1.Health/Check", &hc.base, 0, &r);
    Grpc__Health__V1__HealthCheckResponse *h =
        grpc__health__v1__health_check_response__unpack(NULL, r.lens[0], r.msgs[0]);
    assert_int_equal(h->status, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
    grpc__health__v1__health_check_response__free_unpacked(h, NULL);
    tc_grpc_raw_reply_free(&r);
}

/* ---- inference -------------------------------------------------------------------------- */

static void check_simple(const tc_grpc_raw_reply *r, size_t msg, size_t outputs)
{
    Inference__ModelInferResponse *resp =
        inference__model_infer_response__unpack(NULL, r->lens[msg], r->msgs[msg]);
    assert_non_null(resp);
    assert_string_equal(resp->model_name, "simple");
    assert_string_equal(resp->model_version, "1");
    assert_int_equal(resp->n_outputs, outputs);
    assert_int_equal(resp->n_raw_output_contents, outputs);
    for (size_t o = 0; o < outputs; o++) {
        bool sum = strcmp(resp->outputs[o]->name, "OUTPUT0") == 0;
        assert_string_equal(resp->outputs[o]->datatype, "INT32");
        assert_int_equal(resp->raw_output_contents[o].len, 64);
        int32_t v[16];
        memcpy(v, resp->raw_output_contents[o].data, 64);
        for (int i = 0; i < 16; i++)
            assert_int_equal(v[i], sum ? i + 1 : i - 1);
    }
    inference__model_infer_response__free_unpacked(resp, NULL);
}

static void infer_golden_raw(void **state)
{
    tc_grpc_raw_reply r;
    call_golden(state, "simple_grpc_infer_client/0001.ModelInfer.request.pb", "ModelInfer", 0, &r);
    check_simple(&r, 0, 2);
    tc_grpc_raw_reply_free(&r);
    call_golden(state, "simple_grpc_infer_client/0003.ModelInfer.request.pb", "ModelInfer", 0, &r);
    check_simple(&r, 0, 2);
    tc_grpc_raw_reply_free(&r);
    call_golden(state, "simple_grpc_async_infer_client/0001.ModelInfer.request.pb", "ModelInfer", 0,
                &r);
    check_simple(&r, 0, 2);
    tc_grpc_raw_reply_free(&r);
    call_golden(state, "simple_grpc_infer_client/0002.ModelStatistics.request.pb",
                "ModelStatistics", 0, &r);
    Inference__ModelStatisticsResponse *s =
        inference__model_statistics_response__unpack(NULL, r.lens[0], r.msgs[0]);
    assert_int_equal(s->n_model_stats, 1);
    assert_string_equal(s->model_stats[0]->name, "simple");
    assert_int_equal(s->model_stats[0]->inference_count, 3);
    assert_int_equal(s->model_stats[0]->inference_stats->success->count, 3);
    inference__model_statistics_response__free_unpacked(s, NULL);
    tc_grpc_raw_reply_free(&r);
}

static void infer_typed_and_strings(void **state)
{
    tc_grpc_raw_reply r;
    call_golden(state, "grpc_explicit_int_content_client/0001.ModelInfer.request.pb", "ModelInfer",
                0, &r);
    tc_grpc_raw_reply_free(&r);
    call_golden(state, "grpc_explicit_int_content_client/0002.ModelInfer.request.pb", "ModelInfer",
                3, &r);
    expect_msg(&r, "contents field must not be specified when using raw_input_contents for "
                   "'INPUT0' for model 'simple'");
    tc_grpc_raw_reply_free(&r);
    call_golden(state, "grpc_explicit_byte_content_client/0001.ModelInfer.request.pb", "ModelInfer",
                0, &r);
    Inference__ModelInferResponse *resp =
        inference__model_infer_response__unpack(NULL, r.lens[0], r.msgs[0]);
    assert_string_equal(resp->outputs[0]->datatype, "BYTES");
    inference__model_infer_response__free_unpacked(resp, NULL);
    tc_grpc_raw_reply_free(&r);
    for (int i = 1; i <= 3; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "simple_grpc_string_infer_client/%04d.ModelInfer.request.pb", i);
        call_golden(state, rel, "ModelInfer", 0, &r);
        tc_grpc_raw_reply_free(&r);
    }
    /* Unknown model. */
    Inference__ModelInferRequest bad = INFERENCE__MODEL_INFER_REQUEST__INIT;
    bad.model_name = "wrong_model_name";
    call_msg(state, "ModelInfer", &bad.base, 5, &r);
    expect_msg(&r, "Request for unknown model: 'wrong_model_name' is not found");
    tc_grpc_raw_reply_free(&r);
}

static void compressed_requests(void **state)
{
    static const char *const kinds[] = {"gzip", "deflate"};
    for (size_t k = 0; k < 2; k++) {
        char rel[128];
        snprintf(rel, sizeof rel, "simple_grpc_infer_client-%s/0001.ModelInfer.request.wire.bin",
                 kinds[k]);
        size_t len;
        uint8_t *wire = golden(rel, &len);
        assert_int_equal(wire[0], 1);
        char hdr[64];
        snprintf(hdr, sizeof hdr, "grpc-encoding: %s\ntest: 1\n", kinds[k]);
        tc_grpc_raw_reply r;
        assert_int_equal(tc_grpc_raw_call(conn_of(state), SVC "ModelInfer", hdr, wire, len, &r), 0);
        assert_int_equal(r.grpc_status, 0);
        check_simple(&r, 0, 2);
        tc_grpc_raw_reply_free(&r);
        /* Compressed flag without an encoding is a protocol error. */
        assert_int_equal(tc_grpc_raw_call(conn_of(state), SVC "ModelInfer", NULL, wire, len, &r),
                         0);
        assert_int_equal(r.grpc_status, 13);
        tc_grpc_raw_reply_free(&r);
        free(wire);
    }
    /* An encoding we do not know. */
    size_t len;
    uint8_t *msg = golden("simple_grpc_infer_client/0001.ModelInfer.request.pb", &len);
    size_t flen;
    uint8_t *frame = tc_grpc_raw_frame(msg, len, &flen);
    tc_grpc_raw_reply r;
    assert_int_equal(
        tc_grpc_raw_call(conn_of(state), SVC "ModelInfer", "grpc-encoding: br\n", frame, flen, &r),
        0);
    assert_int_equal(r.grpc_status, 12);
    tc_grpc_raw_reply_free(&r);
    free(frame);
    free(msg);
}

static void compressed_responses(void **state)
{
    tc_grpc_raw_reply r;
    call_golden(state, "simple_grpc_infer_client/0001.ModelInfer.request.pb", "ModelInfer", 0, &r);
    assert_true(r.compressed_seen);
    assert_string_equal(tc_grpc_raw_header(&r, "grpc-encoding"), "gzip");
    check_simple(&r, 0, 2);
    tc_grpc_raw_reply_free(&r);
    /* Other RPCs are not compressed. */
    call_golden(state, "simple_grpc_health_metadata/0001.ServerLive.request.pb", "ServerLive", 0,
                &r);
    assert_false(r.compressed_seen);
    tc_grpc_raw_reply_free(&r);
}

/* ---- protocol errors -------------------------------------------------------------------- */

static void unknown_method_and_bad_bytes(void **state)
{
    tc_grpc_raw_reply r;
    call(state, "NoSuchMethod", "", 0, 12, &r);
    assert_true(r.trailers_only);
    tc_grpc_raw_reply_free(&r);
    call(state, "/grpc.health.v1.Health/Watch", "", 0, 12, &r);
    tc_grpc_raw_reply_free(&r);
    /* Bytes that are no protobuf message. */
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x22};
    call(state, "ModelInfer", junk, sizeof junk, 13, &r);
    tc_grpc_raw_reply_free(&r);
    call(state, "ModelMetadata", junk, sizeof junk, 13, &r);
    tc_grpc_raw_reply_free(&r);
    /* Not gRPC at all. */
    assert_int_equal(tc_grpc_raw_call(conn_of(state), SVC "ServerLive",
                                      "content-type: application/json\n", "{}", 2, &r),
                     0);
    assert_int_equal(r.http_status, 415);
    tc_grpc_raw_reply_free(&r);
    /* Two messages on a unary call; a truncated message at END_STREAM. */
    uint8_t two[10] = {0};
    assert_int_equal(tc_grpc_raw_call(conn_of(state), SVC "ServerLive", NULL, two, 10, &r), 0);
    assert_int_equal(r.grpc_status, 13);
    tc_grpc_raw_reply_free(&r);
    uint8_t cut[8] = {0, 0, 0, 0, 9, 1, 2, 3};
    assert_int_equal(tc_grpc_raw_call(conn_of(state), SVC "ServerLive", NULL, cut, 8, &r), 0);
    assert_int_equal(r.grpc_status, 13);
    tc_grpc_raw_reply_free(&r);
    /* The connection still serves. */
    call(state, "ServerLive", "", 0, 0, &r);
    tc_grpc_raw_reply_free(&r);
}

static void message_limits(void **state)
{
    /* A length prefix beyond INT32_MAX, and a body that never comes. */
    uint8_t huge[5] = {0, 0xff, 0xff, 0xff, 0xff};
    tc_grpc_raw_reply r;
    int32_t sid = tc_grpc_raw_start(conn_of(state), SVC "ModelInfer", NULL);
    assert_true(sid > 0);
    assert_int_equal(tc_grpc_raw_send(conn_of(state), sid, huge, 5, false), 0);
    assert_int_equal(tc_grpc_raw_wait(conn_of(state), sid, 0, 5000, &r), 0);
    assert_int_equal(r.grpc_status, 8);
    expect_msg(&r, "larger than max");
    tc_grpc_raw_reply_free(&r);
    call(state, "ServerLive", "", 0, 0, &r);
    tc_grpc_raw_reply_free(&r);
}

static void small_message_limit(void **state)
{
    tc_grpc_raw_reply r;
    call_golden(state, "simple_grpc_infer_client/0001.ModelInfer.request.pb", "ModelInfer", 8, &r);
    tc_grpc_raw_reply_free(&r);
    /* A compressed message whose plain form is over the limit. */
    size_t len;
    uint8_t *wire = golden("simple_grpc_infer_client-gzip/0001.ModelInfer.request.wire.bin", &len);
    assert_int_equal(
        tc_grpc_raw_call(conn_of(state), SVC "ModelInfer", "grpc-encoding: gzip\n", wire, len, &r),
        0);
    assert_int_equal(r.grpc_status, 8);
    tc_grpc_raw_reply_free(&r);
    free(wire);
    call(state, "ServerLive", "", 0, 0, &r);
    tc_grpc_raw_reply_free(&r);
}

static void reset_mid_message(void **state)
{
    size_t len;
    uint8_t *msg = golden("simple_grpc_infer_client/0001.ModelInfer.request.pb", &len);
    size_t flen;
    uint8_t *frame = tc_grpc_raw_frame(msg, len, &flen);
    int32_t sid = tc_grpc_raw_start(conn_of(state), SVC "ModelInfer", NULL);
    assert_int_equal(tc_grpc_raw_send(conn_of(state), sid, frame, flen / 2, false), 0);
    assert_int_equal(tc_grpc_raw_reset(conn_of(state), sid), 0);
    /* Many streams reset after their message, while the server works on them. */
    for (int i = 0; i < 20; i++) {
        sid = tc_grpc_raw_start(conn_of(state), SVC "ModelInfer", NULL);
        assert_int_equal(tc_grpc_raw_send(conn_of(state), sid, frame, flen, true), 0);
        assert_int_equal(tc_grpc_raw_reset(conn_of(state), sid), 0);
    }
    tc_grpc_raw_reply r;
    assert_int_equal(tc_grpc_raw_call(conn_of(state), SVC "ModelInfer", NULL, frame, flen, &r), 0);
    assert_int_equal(r.grpc_status, 0);
    check_simple(&r, 0, 2);
    tc_grpc_raw_reply_free(&r);
    free(frame);
    free(msg);
}

/* ---- streams ---------------------------------------------------------------------------- */

static uint8_t *packed(const ProtobufCMessage *m, size_t *flen)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(len + 1);
    protobuf_c_message_pack(m, buf);
    uint8_t *frame = tc_grpc_raw_frame(buf, len, flen);
    free(buf);
    return frame;
}

/* One ModelInferRequest for `model` with an INT32 input per name. */
static uint8_t *int_request(const char *model, const char *id, const char *const *names,
                            const int32_t *const *data, const size_t *counts, size_t n,
                            bool empty_final, size_t *flen)
{
    Inference__ModelInferRequest req = INFERENCE__MODEL_INFER_REQUEST__INIT;
    Inference__ModelInferRequest__InferInputTensor ins[4];
    Inference__ModelInferRequest__InferInputTensor *inp[4];
    ProtobufCBinaryData raw[4];
    int64_t shapes[4][2];
    for (size_t i = 0; i < n; i++) {
        Inference__ModelInferRequest__InferInputTensor t =
            INFERENCE__MODEL_INFER_REQUEST__INFER_INPUT_TENSOR__INIT;
        ins[i] = t;
        ins[i].name = (char *)names[i];
        ins[i].datatype =
            strcmp(names[i], "DELAY") == 0 || strcmp(names[i], "WAIT") == 0 ? "UINT32" : "INT32";
        bool batched = strcmp(model, "simple") == 0;
        shapes[i][0] = batched ? 1 : (int64_t)counts[i];
        shapes[i][1] = (int64_t)counts[i];
        ins[i].shape = batched ? shapes[i] : &shapes[i][0];
        ins[i].n_shape = batched ? 2 : 1;
        raw[i].data = (uint8_t *)data[i];
        raw[i].len = counts[i] * 4;
        inp[i] = &ins[i];
    }
    req.model_name = (char *)model;
    req.id = (char *)id;
    req.n_inputs = n;
    req.inputs = inp;
    req.n_raw_input_contents = n;
    req.raw_input_contents = raw;
    Inference__InferParameter p = INFERENCE__INFER_PARAMETER__INIT;
    Inference__ModelInferRequest__ParametersEntry e =
        INFERENCE__MODEL_INFER_REQUEST__PARAMETERS_ENTRY__INIT;
    Inference__ModelInferRequest__ParametersEntry *ep = &e;
    if (empty_final) {
        p.parameter_choice_case = INFERENCE__INFER_PARAMETER__PARAMETER_CHOICE_BOOL_PARAM;
        p.bool_param = 1;
        e.key = "triton_enable_empty_final_response";
        e.value = &p;
        req.n_parameters = 1;
        req.parameters = &ep;
    }
    return packed(&req.base, flen);
}

static uint8_t *simple_request(const char *id, size_t *flen)
{
    static int32_t a[16], b[16];
    for (int i = 0; i < 16; i++) {
        a[i] = i;
        b[i] = 1;
    }
    static const char *const names[] = {"INPUT0", "INPUT1"};
    const int32_t *data[] = {a, b};
    size_t counts[] = {16, 16};
    return int_request("simple", id, names, data, counts, 2, false, flen);
}

static Inference__ModelStreamInferResponse *stream_msg(const tc_grpc_raw_reply *r, size_t i)
{
    Inference__ModelStreamInferResponse *m =
        inference__model_stream_infer_response__unpack(NULL, r->lens[i], r->msgs[i]);
    assert_non_null(m);
    return m;
}

static bool final_flag(const Inference__ModelInferResponse *resp)
{
    for (size_t i = 0; resp != NULL && i < resp->n_parameters; i++) {
        if (strcmp(resp->parameters[i]->key, "triton_final_response") == 0)
            return resp->parameters[i]->value->bool_param;
    }
    fail_msg("no triton_final_response");
    return false;
}

static void stream_in_order(void **state)
{
    tc_grpc_raw *c = conn_of(state);
    int32_t sid = tc_grpc_raw_start(c, SVC "ModelStreamInfer", NULL);
    assert_true(sid > 0);
    for (int i = 0; i < 8; i++) {
        char id[8];
        snprintf(id, sizeof id, "%d", i);
        size_t flen;
        uint8_t *f;
        if (i == 4) {
            /* An unknown model in the middle: an in-band error, the stream goes on. */
            Inference__ModelInferRequest bad = INFERENCE__MODEL_INFER_REQUEST__INIT;
            bad.model_name = "nope";
            bad.id = id;
            f = packed(&bad.base, &flen);
        } else {
            f = simple_request(id, &flen);
        }
        assert_int_equal(tc_grpc_raw_send(c, sid, f, flen, false), 0);
        free(f);
    }
    tc_grpc_raw_reply r;
    assert_int_equal(tc_grpc_raw_wait(c, sid, 8, 10000, &r), 0);
    for (size_t i = 0; i < 8; i++) {
        Inference__ModelStreamInferResponse *m = stream_msg(&r, i);
        char id[8];
        snprintf(id, sizeof id, "%zu", i);
        assert_non_null(m->infer_response);
        assert_string_equal(m->infer_response->id, id);
        if (i == 4) {
            assert_non_null(strstr(m->error_message, "Request for unknown model"));
        } else {
            assert_string_equal(m->error_message, "");
            assert_true(final_flag(m->infer_response));
            assert_int_equal(m->infer_response->n_raw_output_contents, 2);
        }
        inference__model_stream_infer_response__free_unpacked(m, NULL);
    }
    assert_int_equal(r.grpc_status, -1); /* still open */
    tc_grpc_raw_reply_free(&r);
    /* Half-close: the server ends the call with OK. */
    assert_int_equal(tc_grpc_raw_send(c, sid, NULL, 0, true), 0);
    assert_int_equal(tc_grpc_raw_wait(c, sid, 0, 10000, &r), 0);
    assert_int_equal(r.grpc_status, 0);
    assert_int_equal(r.count, 8);
    tc_grpc_raw_reply_free(&r);
}

static void stream_golden_sequence(void **state)
{
    tc_grpc_raw *c = conn_of(state);
    int32_t sid = tc_grpc_raw_start(c, SVC "ModelStreamInfer", NULL);
    for (int i = 0; i < 24; i++) {
        char rel[128];
        snprintf(rel, sizeof rel,
                 "simple_grpc_sequence_stream_infer_client/0001.ModelStreamInfer.request.%03d.pb",
                 i);
        size_t len, flen;
        uint8_t *msg = golden(rel, &len);
        uint8_t *f = tc_grpc_raw_frame(msg, len, &flen);
        assert_int_equal(tc_grpc_raw_send(c, sid, f, flen, i == 23), 0);
        free(f);
        free(msg);
    }
    tc_grpc_raw_reply r;
    assert_int_equal(tc_grpc_raw_wait(c, sid, 0, 10000, &r), 0);
    assert_int_equal(r.grpc_status, 0);
    assert_int_equal(r.count, 24);
    for (size_t i = 0; i < r.count; i++) {
        Inference__ModelStreamInferResponse *m = stream_msg(&r, i);
        if (m->error_message[0] != '\0')
            fail_msg("response %zu: %s", i, m->error_message);
        inference__model_stream_infer_response__free_unpacked(m, NULL);
    }
    tc_grpc_raw_reply_free(&r);
}

static void stream_decoupled(void **state)
{
    tc_grpc_raw *c = conn_of(state);
    int32_t sid = tc_grpc_raw_start(c, SVC "ModelStreamInfer", NULL);
    static const char *const names[] = {"IN"};
    int32_t three = 3;
    const int32_t *d3[] = {&three};
    size_t one[] = {1};
    size_t flen;
    uint8_t *f = int_request("square_int32", "sq", names, d3, one, 1, false, &flen);
    assert_int_equal(tc_grpc_raw_send(c, sid, f, flen, false), 0);
    free(f);
    int32_t in[4] = {10, 11, 12, 13};
    uint32_t delay[4] = {0, 0, 0, 0};
    uint32_t wait = 0;
    static const char *const rnames[] = {"IN", "DELAY", "WAIT"};
    const int32_t *rd[] = {in, (const int32_t *)delay, (const int32_t *)&wait};
    size_t rc[] = {4, 4, 1};
    f = int_request("repeat_int32", "rep", rnames, rd, rc, 3, true, &flen);
    assert_int_equal(tc_grpc_raw_send(c, sid, f, flen, true), 0);
    free(f);
    tc_grpc_raw_reply r;
    assert_int_equal(tc_grpc_raw_wait(c, sid, 0, 10000, &r), 0);
    assert_int_equal(r.grpc_status, 0);
    size_t sq = 0, rep = 0, rep_final = 0;
    for (size_t i = 0; i < r.count; i++) {
        Inference__ModelStreamInferResponse *m = stream_msg(&r, i);
        assert_string_equal(m->error_message, "");
        bool fin = final_flag(m->infer_response);
        if (strcmp(m->infer_response->id, "sq") == 0) {
            sq++;
            assert_int_equal(m->infer_response->n_outputs, 1);
        } else {
            assert_string_equal(m->infer_response->id, "rep");
            if (fin) {
                rep_final++;
                assert_int_equal(m->infer_response->n_outputs, 0);
            } else {
                int32_t v;
                memcpy(&v, m->infer_response->raw_output_contents[0].data, 4);
                assert_int_equal(v, in[rep]);
                rep++;
            }
        }
        inference__model_stream_infer_response__free_unpacked(m, NULL);
    }
    assert_int_equal(sq, 3);
    assert_int_equal(rep, 4);
    assert_int_equal(rep_final, 1); /* triton_enable_empty_final_response */
    tc_grpc_raw_reply_free(&r);
    /* ModelInfer refuses decoupled models. */
    f = int_request("square_int32", "u", names, d3, one, 1, false, &flen);
    assert_int_equal(tc_grpc_raw_call(c, SVC "ModelInfer", NULL, f, flen, &r), 0);
    free(f);
    assert_int_equal(r.grpc_status, 12);
    expect_msg(&r, "ModelInfer RPC doesn't support models with decoupled transaction policy");
    tc_grpc_raw_reply_free(&r);
}

/* A backend error after the request was accepted (square_int32 refuses a
 * negative count in execute()): in-band by default (an error message, the
 * stream goes on), and with `triton_grpc_error: true` the stream ends with
 * its status instead. */
static void stream_errors_in_band_or_closing(void **state)
{
    tc_grpc_raw *c = conn_of(state);
    static const char *const names[] = {"IN"};
    int32_t neg = -3, two = 2;
    const int32_t *dneg[] = {&neg};
    const int32_t *dtwo[] = {&two};
    size_t one[] = {1};
    size_t flen;
    uint8_t *bad = int_request("square_int32", "bad", names, dneg, one, 1, false, &flen);
    size_t glen;
    uint8_t *good = int_request("square_int32", "good", names, dtwo, one, 1, false, &glen);

    int32_t sid = tc_grpc_raw_start(c, SVC "ModelStreamInfer", NULL);
    assert_int_equal(tc_grpc_raw_send(c, sid, bad, flen, false), 0);
    assert_int_equal(tc_grpc_raw_send(c, sid, good, glen, true), 0);
    tc_grpc_raw_reply r;
    assert_int_equal(tc_grpc_raw_wait(c, sid, 0, 10000, &r), 0);
    assert_int_equal(r.grpc_status, 0);
    size_t errors = 0, answers = 0;
    for (size_t i = 0; i < r.count; i++) {
        Inference__ModelStreamInferResponse *m = stream_msg(&r, i);
        if (m->error_message[0] != '\0') {
            errors++;
            assert_non_null(strstr(m->error_message, "must not be negative"));
        } else {
            answers++;
            assert_string_equal(m->infer_response->id, "good");
        }
        inference__model_stream_infer_response__free_unpacked(m, NULL);
    }
    assert_int_equal(errors, 1);
    assert_int_equal(answers, 2); /* the stream went on: two squares of 2 */
    tc_grpc_raw_reply_free(&r);

    sid = tc_grpc_raw_start(c, SVC "ModelStreamInfer", "triton_grpc_error: true\n");
    assert_int_equal(tc_grpc_raw_send(c, sid, bad, flen, false), 0);
    assert_int_equal(tc_grpc_raw_wait(c, sid, 0, 10000, &r), 0);
    assert_int_equal(r.grpc_status, 3); /* INVALID_ARGUMENT ends the stream */
    expect_msg(&r, "must not be negative");
    assert_int_equal(r.count, 0);
    tc_grpc_raw_reply_free(&r);
    free(bad);
    free(good);
}

static void client_vanishes_mid_stream(void **state)
{
    fixture *fx = *state;
    tc_grpc_raw *c = NULL;
    assert_int_equal(tc_grpc_raw_connect(&c, fx->server.grpc_port), 0);
    int32_t sid = tc_grpc_raw_start(c, SVC "ModelStreamInfer", NULL);
    int32_t in[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint32_t delay[8] = {50, 50, 50, 50, 50, 50, 50, 50};
    uint32_t wait = 0;
    static const char *const rnames[] = {"IN", "DELAY", "WAIT"};
    const int32_t *rd[] = {in, (const int32_t *)delay, (const int32_t *)&wait};
    size_t rc[] = {8, 8, 1};
    size_t flen;
    for (int i = 0; i < 3; i++) {
        uint8_t *f = int_request("repeat_int32", "x", rnames, rd, rc, 3, false, &flen);
        assert_int_equal(tc_grpc_raw_send(c, sid, f, flen, false), 0);
        free(f);
    }
    tc_grpc_raw_reply r;
    assert_int_equal(tc_grpc_raw_wait(c, sid, 1, 10000, &r), 0);
    tc_grpc_raw_reply_free(&r);
    /* Half a message, then the socket just closes. */
    uint8_t *f = simple_request("cut", &flen);
    assert_int_equal(tc_grpc_raw_send(c, sid, f, flen / 2, false), 0);
    free(f);
    tc_grpc_raw_close(c);
    /* Others are still served while the abandoned work finishes. */
    call(state, "ServerLive", "", 0, 0, &r);
    tc_grpc_raw_reply_free(&r);
    call_golden(state, "simple_grpc_infer_client/0001.ModelInfer.request.pb", "ModelInfer", 0, &r);
    tc_grpc_raw_reply_free(&r);
}

/* A framed ModelInferRequest for the "slow" model (setup_slow). */
static uint8_t *slow_request(size_t *flen)
{
    int32_t v[2] = {1, 2};
    Inference__ModelInferRequest req = INFERENCE__MODEL_INFER_REQUEST__INIT;
    Inference__ModelInferRequest__InferInputTensor t =
        INFERENCE__MODEL_INFER_REQUEST__INFER_INPUT_TENSOR__INIT;
    Inference__ModelInferRequest__InferInputTensor *tp = &t;
    int64_t shape[2] = {1, 2};
    ProtobufCBinaryData raw = {8, (uint8_t *)v};
    t.name = "INPUT0";
    t.datatype = "INT32";
    t.n_shape = 2;
    t.shape = shape;
    req.model_name = "slow";
    req.n_inputs = 1;
    req.inputs = &tp;
    req.n_raw_input_contents = 1;
    req.raw_input_contents = &raw;
    return packed(&req.base, flen);
}

static void deadline_exceeded(void **state)
{
    size_t flen;
    uint8_t *f = slow_request(&flen);
    tc_grpc_raw_reply r;
    assert_int_equal(
        tc_grpc_raw_call(conn_of(state), SVC "ModelInfer", "grpc-timeout: 200m\n", f, flen, &r), 0);
    assert_int_equal(r.grpc_status, 4);
    tc_grpc_raw_reply_free(&r);
    /* Without a deadline it completes. */
    assert_int_equal(tc_grpc_raw_call(conn_of(state), SVC "ModelInfer", NULL, f, flen, &r), 0);
    assert_int_equal(r.grpc_status, 0);
    tc_grpc_raw_reply_free(&r);
    free(f);
}

/* Statistics of "slow": successes, failures and executions. A connection
 * of its own per call: a raw connection holds a bounded number of streams. */
static void slow_stats(void **state, uint64_t *success, uint64_t *fail, uint64_t *execs)
{
    Inference__ModelStatisticsRequest q = INFERENCE__MODEL_STATISTICS_REQUEST__INIT;
    q.name = "slow";
    size_t flen;
    uint8_t *f = packed(&q.base, &flen);
    tc_grpc_raw *c = NULL;
    assert_int_equal(tc_grpc_raw_connect(&c, ((fixture *)*state)->server.grpc_port), 0);
    tc_grpc_raw_reply r;
    assert_int_equal(tc_grpc_raw_call(c, SVC "ModelStatistics", NULL, f, flen, &r), 0);
    free(f);
    tc_grpc_raw_close(c);
    assert_int_equal(r.grpc_status, 0);
    assert_int_equal(r.count, 1);
    Inference__ModelStatisticsResponse *s =
        inference__model_statistics_response__unpack(NULL, r.lens[0], r.msgs[0]);
    assert_non_null(s);
    assert_int_equal(s->n_model_stats, 1);
    *success = s->model_stats[0]->inference_stats->success->count;
    *fail = s->model_stats[0]->inference_stats->fail->count;
    *execs = s->model_stats[0]->execution_count;
    inference__model_statistics_response__free_unpacked(s, NULL);
    tc_grpc_raw_reply_free(&r);
}

static bool slow_failed(void *state)
{
    uint64_t success = 0, fail = 0, execs = 0;
    slow_stats(state, &success, &fail, &execs);
    return fail > 0;
}

/* A call whose client resets its stream while the request waits in the
 * queue is dropped there: it never executes and counts as a failure. Three
 * calls on a one-instance model taking 1.5 s each: when A's reply arrives,
 * B is executing and C is queued; the client cancels C. */
static void cancelled_call_never_executes(void **state)
{
    tc_grpc_raw *c = conn_of(state);
    size_t flen;
    uint8_t *f = slow_request(&flen);
    int32_t sid[3];
    for (int i = 0; i < 3; i++) {
        sid[i] = tc_grpc_raw_start(c, SVC "ModelInfer", NULL);
        assert_true(sid[i] > 0);
        assert_int_equal(tc_grpc_raw_send(c, sid[i], f, flen, true), 0);
    }
    free(f);
    tc_grpc_raw_reply r;
    assert_int_equal(tc_grpc_raw_wait(c, sid[0], 0, 10000, &r), 0);
    assert_int_equal(r.grpc_status, 0);
    tc_grpc_raw_reply_free(&r);
    assert_int_equal(tc_grpc_raw_reset(c, sid[2]), 0);
    assert_int_equal(tc_grpc_raw_wait(c, sid[1], 0, 10000, &r), 0);
    assert_int_equal(r.grpc_status, 0);
    tc_grpc_raw_reply_free(&r);
    /* C completes (cancelled) when the instance reaches it, right after B. */
    (void)tc_test_wait_until(slow_failed, state, 10000);
    uint64_t success = 0, fail = 0, execs = 0;
    slow_stats(state, &success, &fail, &execs);
    assert_int_equal(fail, 1);
    assert_int_equal(success, 2);
    assert_int_equal(execs, 2);
}

/* ---- repository, shared memory, settings ------------------------------------------------ */

static void repository_rpcs(void **state)
{
    tc_grpc_raw_reply r;
    Inference__RepositoryIndexRequest idx = INFERENCE__REPOSITORY_INDEX_REQUEST__INIT;
    call_msg(state, "RepositoryIndex", &idx.base, 0, &r);
    Inference__RepositoryIndexResponse *ir =
        inference__repository_index_response__unpack(NULL, r.lens[0], r.msgs[0]);
    assert_true(ir->n_models >= 5);
    inference__repository_index_response__free_unpacked(ir, NULL);
    tc_grpc_raw_reply_free(&r);
    idx.repository_name = "other";
    call_msg(state, "RepositoryIndex", &idx.base, 12, &r);
    expect_msg(&r, "'repository_name' specification is not supported");
    tc_grpc_raw_reply_free(&r);

    Inference__RepositoryModelLoadRequest load = INFERENCE__REPOSITORY_MODEL_LOAD_REQUEST__INIT;
    load.model_name = "simple";
    call_msg(state, "RepositoryModelLoad", &load.base, 0, &r);
    tc_grpc_raw_reply_free(&r);
    Inference__ModelReadyRequest mr = INFERENCE__MODEL_READY_REQUEST__INIT;
    mr.name = "simple";
    call_msg(state, "ModelReady", &mr.base, 0, &r);
    tc_grpc_raw_reply_free(&r);
    call_golden(state, "simple_grpc_infer_client/0001.ModelInfer.request.pb", "ModelInfer", 0, &r);
    tc_grpc_raw_reply_free(&r);

    /* Parameters: wrong member, unknown key, a config override. */
    Inference__ModelRepositoryParameter p = INFERENCE__MODEL_REPOSITORY_PARAMETER__INIT;
    Inference__RepositoryModelLoadRequest__ParametersEntry e =
        INFERENCE__REPOSITORY_MODEL_LOAD_REQUEST__PARAMETERS_ENTRY__INIT;
    Inference__RepositoryModelLoadRequest__ParametersEntry *ep = &e;
    e.value = &p;
    load.n_parameters = 1;
    load.parameters = &ep;
    e.key = "config";
    p.parameter_choice_case = INFERENCE__MODEL_REPOSITORY_PARAMETER__PARAMETER_CHOICE_BOOL_PARAM;
    call_msg(state, "RepositoryModelLoad", &load.base, 3, &r);
    expect_msg(&r, "invalid value type for load parameter 'config', expected string_param.");
    tc_grpc_raw_reply_free(&r);
    e.key = "file:1/model.bin";
    call_msg(state, "RepositoryModelLoad", &load.base, 3, &r);
    expect_msg(&r, "expected bytes_param.");
    tc_grpc_raw_reply_free(&r);
    e.key = "what";
    call_msg(state, "RepositoryModelLoad", &load.base, 3, &r);
    expect_msg(&r, "unrecognized load parameter 'what'.");
    tc_grpc_raw_reply_free(&r);
    e.key = "config";
    p.parameter_choice_case = INFERENCE__MODEL_REPOSITORY_PARAMETER__PARAMETER_CHOICE_STRING_PARAM;
    p.string_param = "{\"max_batch_size\":\"x\"}";
    call_msg(state, "RepositoryModelLoad", &load.base, 3, &r);
    expect_msg(&r, "failed to load");
    tc_grpc_raw_reply_free(&r);
    p.string_param =
        "{\"name\":\"simple\",\"backend\":\"tritonc_add_sub\",\"max_batch_size\":4,"
        "\"input\":[{\"name\":\"INPUT0\",\"data_type\":\"TYPE_INT32\",\"dims\":[16]},"
        "{\"name\":\"INPUT1\",\"data_type\":\"TYPE_INT32\",\"dims\":[16]}],"
        "\"output\":[{\"name\":\"OUTPUT0\",\"data_type\":\"TYPE_INT32\",\"dims\":[16]},"
        "{\"name\":\"OUTPUT1\",\"data_type\":\"TYPE_INT32\",\"dims\":[16]}]}";
    call_msg(state, "RepositoryModelLoad", &load.base, 0, &r);
    tc_grpc_raw_reply_free(&r);
    Inference__ModelConfigRequest cr = INFERENCE__MODEL_CONFIG_REQUEST__INIT;
    cr.name = "simple";
    call_msg(state, "ModelConfig", &cr.base, 0, &r);
    Inference__ModelConfigResponse *mc =
        inference__model_config_response__unpack(NULL, r.lens[0], r.msgs[0]);
    assert_int_equal(mc->config->max_batch_size, 4);
    inference__model_config_response__free_unpacked(mc, NULL);
    tc_grpc_raw_reply_free(&r);

    Inference__RepositoryModelUnloadRequest unload =
        INFERENCE__REPOSITORY_MODEL_UNLOAD_REQUEST__INIT;
    unload.model_name = "simple";
    call_msg(state, "RepositoryModelUnload", &unload.base, 0, &r);
    tc_grpc_raw_reply_free(&r);
    call_msg(state, "ModelReady", &mr.base, 0, &r);
    Inference__ModelReadyResponse *rr =
        inference__model_ready_response__unpack(NULL, r.lens[0], r.msgs[0]);
    assert_false(rr->ready);
    inference__model_ready_response__free_unpacked(rr, NULL);
    tc_grpc_raw_reply_free(&r);
}

static void shared_memory_rpcs(void **state)
{
    tc_grpc_raw_reply r;
    Inference__SystemSharedMemoryStatusRequest st =
        INFERENCE__SYSTEM_SHARED_MEMORY_STATUS_REQUEST__INIT;
    call_msg(state, "SystemSharedMemoryStatus", &st.base, 0, &r);
    assert_int_equal(r.lens[0], 0);
    tc_grpc_raw_reply_free(&r);
    call_msg(state, "CudaSharedMemoryStatus", &st.base, 0, &r);
    tc_grpc_raw_reply_free(&r);
    st.name = "region";
    call_msg(state, "SystemSharedMemoryStatus", &st.base, 5, &r);
    tc_grpc_raw_reply_free(&r);
    call_golden(state, "simple_grpc_shm_client/0001.SystemSharedMemoryUnregister.request.pb",
                "SystemSharedMemoryUnregister", 12, &r);
    expect_msg(&r, "--allow-client-shm=true");
    tc_grpc_raw_reply_free(&r);
    call_golden(state, "simple_grpc_shm_client/0003.SystemSharedMemoryRegister.request.pb",
                "SystemSharedMemoryRegister", 12, &r);
    tc_grpc_raw_reply_free(&r);
    call_golden(state, "simple_grpc_shm_client/0002.CudaSharedMemoryUnregister.request.pb",
                "CudaSharedMemoryUnregister", 12, &r);
    tc_grpc_raw_reply_free(&r);
}

static const char *trace_value(const Inference__TraceSettingResponse *t, const char *key)
{
    for (size_t i = 0; i < t->n_settings; i++) {
        if (strcmp(t->settings[i]->key, key) == 0 && t->settings[i]->value->n_value > 0)
            return t->settings[i]->value->value[0];
    }
    fail_msg("no trace setting %s", key);
    return NULL;
}

static void trace_and_log_settings(void **state)
{
    tc_grpc_raw_reply r;
    Inference__TraceSettingRequest tq = INFERENCE__TRACE_SETTING_REQUEST__INIT;
    call_msg(state, "TraceSetting", &tq.base, 0, &r);
    Inference__TraceSettingResponse *t =
        inference__trace_setting_response__unpack(NULL, r.lens[0], r.msgs[0]);
    trace_value(t, "trace_level");
    trace_value(t, "trace_mode");
    inference__trace_setting_response__free_unpacked(t, NULL);
    tc_grpc_raw_reply_free(&r);

    char *seven[] = {"7"};
    Inference__TraceSettingRequest__SettingValue v =
        INFERENCE__TRACE_SETTING_REQUEST__SETTING_VALUE__INIT;
    v.n_value = 1;
    v.value = seven;
    Inference__TraceSettingRequest__SettingsEntry e =
        INFERENCE__TRACE_SETTING_REQUEST__SETTINGS_ENTRY__INIT;
    Inference__TraceSettingRequest__SettingsEntry *ep = &e;
    e.key = "trace_rate";
    e.value = &v;
    tq.n_settings = 1;
    tq.settings = &ep;
    call_msg(state, "TraceSetting", &tq.base, 0, &r);
    t = inference__trace_setting_response__unpack(NULL, r.lens[0], r.msgs[0]);
    assert_string_equal(trace_value(t, "trace_rate"), "7");
    inference__trace_setting_response__free_unpacked(t, NULL);
    tc_grpc_raw_reply_free(&r);
    char *two[] = {"1", "2"};
    v.n_value = 2;
    v.value = two;
    call_msg(state, "TraceSetting", &tq.base, 3, &r);
    expect_msg(&r, "expect only 1 value for 'trace_rate'");
    tc_grpc_raw_reply_free(&r);
    e.key = "trace_file";
    call_msg(state, "TraceSetting", &tq.base, 12, &r);
    tc_grpc_raw_reply_free(&r);
    v.n_value = 0;
    e.key = "trace_rate";
    tq.model_name = "nope";
    call_msg(state, "TraceSetting", &tq.base, 3, &r);
    expect_msg(&r, "Request for unknown model");
    tc_grpc_raw_reply_free(&r);

    Inference__LogSettingsRequest lq = INFERENCE__LOG_SETTINGS_REQUEST__INIT;
    Inference__LogSettingsRequest__SettingValue lv =
        INFERENCE__LOG_SETTINGS_REQUEST__SETTING_VALUE__INIT;
    Inference__LogSettingsRequest__SettingsEntry le =
        INFERENCE__LOG_SETTINGS_REQUEST__SETTINGS_ENTRY__INIT;
    Inference__LogSettingsRequest__SettingsEntry *lep = &le;
    le.key = "log_verbose_level";
    le.value = &lv;
    lv.parameter_choice_case =
        INFERENCE__LOG_SETTINGS_REQUEST__SETTING_VALUE__PARAMETER_CHOICE_UINT32_PARAM;
    lv.uint32_param = 2;
    lq.n_settings = 1;
    lq.settings = &lep;
    call_msg(state, "LogSettings", &lq.base, 0, &r);
    Inference__LogSettingsResponse *l =
        inference__log_settings_response__unpack(NULL, r.lens[0], r.msgs[0]);
    bool seen = false;
    for (size_t i = 0; i < l->n_settings; i++) {
        if (strcmp(l->settings[i]->key, "log_verbose_level") == 0) {
            assert_int_equal(l->settings[i]->value->uint32_param, 2);
            seen = true;
        }
    }
    assert_true(seen);
    assert_int_equal(l->n_settings, 6);
    inference__log_settings_response__free_unpacked(l, NULL);
    tc_grpc_raw_reply_free(&r);
    le.key = "log_info";
    call_msg(state, "LogSettings", &lq.base, 3, &r);
    expect_msg(&r, "expect boolean for 'log_info'");
    tc_grpc_raw_reply_free(&r);
    le.key = "log_file";
    call_msg(state, "LogSettings", &lq.base, 12, &r);
    tc_grpc_raw_reply_free(&r);
    /* Back to quiet, so the server's output stays small. */
    le.key = "log_verbose_level";
    lv.uint32_param = 0;
    call_msg(state, "LogSettings", &lq.base, 0, &r);
    tc_grpc_raw_reply_free(&r);
}

static void garbage_never_kills_the_server(void **state)
{
    fixture *fx = *state;
    static const char *const garbage[] = {
        "GET / HTTP/1.1\r\n\r\n",
        "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x04\x08\x00\x00\x00\x00\x00\xff\xff\xff\xff",
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    };
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        tc_http_reply hr;
        tc_http_raw_half_close(fx->server.grpc_port, garbage[i],
                               strlen(garbage[i]) + (i == 1 ? 13 : 0), 2000, &hr);
        tc_http_reply_free(&hr);
    }
    tc_grpc_raw_reply r;
    call(state, "ServerLive", "", 0, 0, &r);
    tc_grpc_raw_reply_free(&r);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(health_and_metadata, setup, teardown),
    cmocka_unit_test_setup_teardown(infer_golden_raw, setup, teardown),
    cmocka_unit_test_setup_teardown(infer_typed_and_strings, setup, teardown),
    cmocka_unit_test_setup_teardown(compressed_requests, setup, teardown),
    cmocka_unit_test_setup_teardown(compressed_responses, setup_compress, teardown),
    cmocka_unit_test_setup_teardown(unknown_method_and_bad_bytes, setup, teardown),
    cmocka_unit_test_setup_teardown(message_limits, setup, teardown),
    cmocka_unit_test_setup_teardown(small_message_limit, setup_small, teardown),
    cmocka_unit_test_setup_teardown(reset_mid_message, setup, teardown),
    cmocka_unit_test_setup_teardown(stream_in_order, setup, teardown),
    cmocka_unit_test_setup_teardown(stream_golden_sequence, setup, teardown),
    cmocka_unit_test_setup_teardown(stream_decoupled, setup, teardown),
    cmocka_unit_test_setup_teardown(stream_errors_in_band_or_closing, setup, teardown),
    cmocka_unit_test_setup_teardown(client_vanishes_mid_stream, setup, teardown),
    cmocka_unit_test_setup_teardown(deadline_exceeded, setup_slow, teardown),
    cmocka_unit_test_setup_teardown(cancelled_call_never_executes, setup_slow, teardown),
    cmocka_unit_test_setup_teardown(repository_rpcs, setup_explicit, teardown),
    cmocka_unit_test_setup_teardown(shared_memory_rpcs, setup, teardown),
    cmocka_unit_test_setup_teardown(trace_and_log_settings, setup, teardown),
    cmocka_unit_test_setup_teardown(garbage_never_kills_the_server, setup, teardown),
};

TC_TEST_MAIN(tests)
