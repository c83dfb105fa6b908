/* libFuzzer target: client-side decoding of gRPC responses. The first byte
 * picks the message: ModelInferResponse, ModelStreamInferResponse, metadata,
 * repository index or one of the JSON bridges (stats, trace, log, config). */
#include <stddef.h>
#include <stdint.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "proto/v2_pb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void infer_response(const uint8_t *msg, size_t len)
{
    tc__infer_response resp;
    void *backing = NULL;
    tc__error err;
    if (tc__pb_infer_response_decode(msg, len, &resp, &backing, &err) != TC_OK)
        return;
    (void)tc__pb_response_is_final(&resp);
    tc__buf out = TC__BUF_INIT;
    (void)tc__pb_infer_response_encode(&resp, &out, &err);
    tc__buf_cleanup(&out);
    tc__infer_response_cleanup(&resp);
    tc__pb_backing_free(backing);
}

static void stream_response(const uint8_t *msg, size_t len)
{
    tc__infer_response resp;
    void *backing = NULL;
    char *emsg = NULL;
    bool has = false;
    if (tc__pb_stream_response_decode(msg, len, &emsg, &resp, &has, &backing, NULL) != TC_OK)
        return;
    tc__buf out = TC__BUF_INIT;
    (void)tc__pb_stream_response_encode(emsg, has ? &resp : NULL, &out, NULL);
    tc__buf_cleanup(&out);
    tc__free(emsg);
    tc__infer_response_cleanup(&resp);
    tc__pb_backing_free(backing);
}

static void metadata(const uint8_t *msg, size_t len)
{
    tc__server_metadata sm;
    tc__model_metadata mm;
    tc__repo_index idx;
    tc__buf out = TC__BUF_INIT;
    if (tc__pb_server_metadata_decode(msg, len, &sm, NULL) == TC_OK) {
        (void)tc__pb_server_metadata_encode(&sm, &out);
        tc__server_metadata_cleanup(&sm);
    }
    if (tc__pb_model_metadata_decode(msg, len, &mm, NULL) == TC_OK) {
        (void)tc__pb_model_metadata_encode(&mm, &out);
        tc__model_metadata_cleanup(&mm);
    }
    if (tc__pb_repo_index_decode(msg, len, &idx, NULL) == TC_OK) {
        (void)tc__pb_repo_index_encode(&idx, &out);
        tc__repo_index_cleanup(&idx);
    }
    tc__buf_cleanup(&out);
}

static void bridges(const uint8_t *msg, size_t len)
{
    tc__buf json = TC__BUF_INIT;
    tc__buf pb = TC__BUF_INIT;
    char *model = NULL;
    if (tc__pb_model_stats_to_json(msg, len, &json, NULL) == TC_OK)
        (void)tc__pb_model_stats_from_json((const char *)json.data, json.len, &pb, NULL);
    tc__buf_reset(&json);
    if (tc__pb_trace_settings_to_json(msg, len, &json, NULL) == TC_OK)
        (void)tc__pb_trace_settings_from_json((const char *)json.data, json.len, &pb, NULL);
    tc__buf_reset(&json);
    if (tc__pb_trace_update_to_json(msg, len, &model, &json, NULL) == TC_OK)
        (void)tc__pb_trace_update_from_json((const char *)json.data, json.len, model, &pb, NULL);
    tc__free(model);
    tc__buf_reset(&json);
    if (tc__pb_log_settings_to_json(msg, len, &json, NULL) == TC_OK)
        (void)tc__pb_log_settings_from_json((const char *)json.data, json.len, &pb, NULL);
    tc__buf_reset(&json);
    if (tc__pb_log_update_to_json(msg, len, &json, NULL) == TC_OK)
        (void)tc__pb_log_update_from_json((const char *)json.data, json.len, &pb, NULL);
    tc__buf_reset(&json);
    (void)tc__pb_model_config_to_json(msg, len, &json, NULL);
    /* The JSON side read straight from the input as well. */
    (void)tc__pb_trace_update_from_json((const char *)msg, len, NULL, &pb, NULL);
    (void)tc__pb_log_update_from_json((const char *)msg, len, &pb, NULL);
    tc__buf_cleanup(&json);
    tc__buf_cleanup(&pb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *msg = data + 1;
    size_t len = size - 1;
    switch (data[0] % 4) {
    case 0: infer_response(msg, len); break;
    case 1: stream_response(msg, len); break;
    case 2: metadata(msg, len); break;
    default: bridges(msg, len); break;
    }
    return 0;
}
