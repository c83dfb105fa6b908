/* Tests for the gRPC protobuf codec (src/proto/v2_pb*.c): golden replay of
 * what the upstream Python client sends, round trips and every rejection. */
#include <stdio.h>
#include <string.h>

#include "tc_test.h"

#include "common/alloc.h"
#include "proto/bytes.h"
#include "proto/model_config.h"
#include "proto/v2_pb.h"

#define GOLDEN TC_TEST_DATA_DIR "/golden/grpc/"

/* ---- helpers -------------------------------------------------------------------- */

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    tc__buf b = TC__BUF_INIT;
    uint8_t chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        assert_int_equal(tc__buf_append(&b, chunk, n), TC_OK);
    fclose(f);
    if (b.data == NULL)
        assert_int_equal(tc__buf_reserve(&b, 1), TC_OK);
    return tc__buf_steal(&b, len);
}

static uint8_t *golden(const char *rel, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, GOLDEN "%s", rel);
    uint8_t *d = read_file(path, len);
    if (d == NULL)
        fail_msg("missing golden file %s", path);
    return d;
}

static int32_t i32_at(const tc__tensor *t, size_t i)
{
    const uint8_t *p = t->data + 4 * i;
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24);
}

static void check_i32(const tc__tensor *t, const int32_t *want, size_t n)
{
    assert_int_equal(t->byte_size, 4 * n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(i32_at(t, i), want[i]);
}

static void check_shape(const tc__tensor *t, int64_t d0, int64_t d1)
{
    assert_int_equal(t->ndim, 2);
    assert_int_equal(t->shape[0], d0);
    assert_int_equal(t->shape[1], d1);
}

static tc_code decode_bytes(const uint8_t *msg, size_t len, tc__infer_request *req,
                            void **backing, tc__error *err)
{
    tc__error_clear(err);
    return tc__pb_infer_request_decode(msg, len, req, backing, err);
}

/* Deep equality of two decoded requests (params in any order). */
static void assert_params_equal(const tc__params *a, const tc__params *b)
{
    assert_int_equal(a->count, b->count);
    for (size_t i = 0; i < a->count; i++) {
        const tc__param *q = tc__params_find(b, a->items[i].key);
        assert_non_null(q);
        assert_int_equal(q->type, a->items[i].type);
        switch (q->type) {
        case TC__PARAM_BOOL: assert_int_equal(q->v.b, a->items[i].v.b); break;
        case TC__PARAM_INT64: assert_int_equal(q->v.i64, a->items[i].v.i64); break;
        case TC__PARAM_UINT64: assert_int_equal(q->v.u64, a->items[i].v.u64); break;
        case TC__PARAM_DOUBLE: assert_true(q->v.d == a->items[i].v.d); break;
        case TC__PARAM_STRING: assert_string_equal(q->v.s, a->items[i].v.s); break;
        }
    }
}

static void assert_str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        assert_true(a == b);
    else
        assert_string_equal(a, b);
}

static void assert_requests_equal(const tc__infer_request *a, const tc__infer_request *b)
{
    assert_str_eq(a->model_name, b->model_name);
    assert_str_eq(a->model_version, b->model_version);
    assert_str_eq(a->id, b->id);
    assert_int_equal(a->sequence_id, b->sequence_id);
    assert_str_eq(a->sequence_id_str, b->sequence_id_str);
    assert_int_equal(a->sequence_start, b->sequence_start);
    assert_int_equal(a->sequence_end, b->sequence_end);
    assert_int_equal(a->priority, b->priority);
    assert_int_equal(a->timeout_us, b->timeout_us);
    assert_int_equal(a->enable_empty_final_response, b->enable_empty_final_response);
    assert_params_equal(&a->params, &b->params);
    assert_int_equal(a->input_count, b->input_count);
    for (size_t i = 0; i < a->input_count; i++) {
        const tc__tensor *x = &a->inputs[i];
        const tc__tensor *y = &b->inputs[i];
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->dtype, y->dtype);
        assert_int_equal(x->ndim, y->ndim);
        for (size_t d = 0; d < x->ndim; d++)
            assert_int_equal(x->shape[d], y->shape[d]);
        assert_int_equal(x->byte_size, y->byte_size);
        if (x->byte_size > 0)
            assert_memory_equal(x->data, y->data, x->byte_size);
        assert_str_eq(x->shm.region, y->shm.region);
        assert_int_equal(x->shm.offset, y->shm.offset);
        assert_int_equal(x->shm.byte_size, y->shm.byte_size);
        assert_params_equal(&x->params, &y->params);
    }
    assert_int_equal(a->output_count, b->output_count);
    for (size_t i = 0; i < a->output_count; i++) {
        assert_string_equal(a->outputs[i].name, b->outputs[i].name);
        assert_int_equal(a->outputs[i].class_count, b->outputs[i].class_count);
        assert_str_eq(a->outputs[i].shm.region, b->outputs[i].shm.region);
        assert_int_equal(a->outputs[i].shm.offset, b->outputs[i].shm.offset);
        assert_int_equal(a->outputs[i].shm.byte_size, b->outputs[i].shm.byte_size);
        assert_params_equal(&a->outputs[i].params, &b->outputs[i].params);
    }
}

/* Encode `req`, decode the result and compare; when `golden_bytes` is given
 * the encoding must equal it byte for byte. */
static void reencode_check(const tc__infer_request *req, const uint8_t *golden_bytes,
                           size_t golden_len)
{
    tc__buf out = TC__BUF_INIT;
    tc__error err;
    tc__error_clear(&err);
    assert_int_equal(tc__pb_infer_request_encode(req, &out, &err), TC_OK);
    if (golden_bytes != NULL) {
        assert_int_equal(out.len, golden_len);
        assert_memory_equal(out.data, golden_bytes, golden_len);
    }
    tc__infer_request again;
    void *backing = NULL;
    assert_int_equal(decode_bytes(out.data, out.len, &again, &backing, &err), TC_OK);
    assert_requests_equal(req, &again);
    tc__infer_request_cleanup(&again);
    tc__pb_backing_free(backing);
    tc__buf_cleanup(&out);
}

/* Decode a golden request file; returns the bytes (caller frees). */
static uint8_t *golden_request(const char *rel, tc__infer_request *req, void **backing,
                               size_t *len)
{
    uint8_t *msg = golden(rel, len);
    tc__error err;
    tc_code rc = decode_bytes(msg, *len, req, backing, &err);
    if (rc != TC_OK)
        fail_msg("%s: %s", rel, err.msg);
    return msg;
}

static const int32_t k_iota16[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const int32_t k_ones16[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};

/* ---- golden replay ------------------------------------------------------------------ */

static void check_simple(const char *rel, bool with_outputs)
{
    tc__infer_request req;
    void *backing = NULL;
    size_t len = 0;
    uint8_t *msg = golden_request(rel, &req, &backing, &len);
    assert_int_equal(len, with_outputs ? 204 : 182);
    assert_string_equal(req.model_name, "simple");
    assert_null(req.model_version);
    assert_null(req.id);
    assert_int_equal(req.params.count, 0);
    assert_int_equal(req.sequence_id, 0);
    assert_int_equal(req.input_count, 2);
    assert_string_equal(req.inputs[0].name, "INPUT0");
    assert_string_equal(req.inputs[1].name, "INPUT1");
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(req.inputs[i].dtype, TC_DTYPE_INT32);
        check_shape(&req.inputs[i], 1, 16);
        assert_null(req.inputs[i].shm.region);
        assert_null(req.inputs[i].owned);
        /* Zero copy: the data lies inside the unpacked message. */
        assert_non_null(req.inputs[i].data);
    }
    check_i32(&req.inputs[0], k_iota16, 16);
    check_i32(&req.inputs[1], k_ones16, 16);
    assert_int_equal(req.output_count, with_outputs ? 2 : 0);
    if (with_outputs) {
        assert_string_equal(req.outputs[0].name, "OUTPUT0");
        assert_string_equal(req.outputs[1].name, "OUTPUT1");
        assert_int_equal(req.outputs[0].class_count, 0);
        assert_int_equal(req.outputs[1].params.count, 0);
    }
    reencode_check(&req, msg, len);
    tc__infer_request_cleanup(&req);
    tc__pb_backing_free(backing);
    tc__free(msg);
}

static void test_golden_simple_infer(void **state)
{
    (void)state;
    check_simple("simple_grpc_infer_client/0001.ModelInfer.request.pb", true);
    check_simple("simple_grpc_infer_client/0003.ModelInfer.request.pb", false);
    check_simple("simple_grpc_infer_client-gzip/0001.ModelInfer.request.pb", true);
    check_simple("simple_grpc_infer_client-deflate/0003.ModelInfer.request.pb", false);
    check_simple("simple_grpc_async_infer_client/0001.ModelInfer.request.pb", true);
}

static void check_bytes_elems(const tc__tensor *t, const char *const *elems, size_t n,
                              const size_t *lens)
{
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *e = NULL;
        size_t elen = 0;
        assert_int_equal(tc__bytes_next(t->data, t->byte_size, &pos, &e, &elen), TC_OK);
        assert_int_equal(elen, lens[i]);
        assert_memory_equal(e, elems[i], elen);
    }
    assert_int_equal(pos, t->byte_size);
}

static void test_golden_string_infer(void **state)
{
    (void)state;
    tc__infer_request req;
    void *backing = NULL;
    size_t len = 0;
    uint8_t *msg =
        golden_request("simple_grpc_string_infer_client/0001.ModelInfer.request.pb", &req,
                       &backing, &len);
    assert_int_equal(len, 249);
    assert_string_equal(req.model_name, "simple_string");
    assert_int_equal(req.input_count, 2);
    assert_int_equal(req.inputs[0].dtype, TC_DTYPE_BYTES);
    const char *digits[16] = {"0", "1", "2",  "3",  "4",  "5",  "6",  "7",
                              "8", "9", "10", "11", "12", "13", "14", "15"};
    size_t dl[16];
    for (size_t i = 0; i < 16; i++)
        dl[i] = strlen(digits[i]);
    check_bytes_elems(&req.inputs[0], digits, 16, dl);
    reencode_check(&req, msg, len);
    tc__infer_request_cleanup(&req);
    tc__pb_backing_free(backing);
    tc__free(msg);

    msg = golden_request("simple_grpc_string_infer_client/0002.ModelInfer.request.pb", &req,
                         &backing, &len);
    assert_string_equal(req.model_name, "simple_identity");
    const char *nul[16];
    size_t nl[16];
    for (size_t i = 0; i < 16; i++) {
        nul[i] = "he\0llo";
        nl[i] = 6;
    }
    check_bytes_elems(&req.inputs[0], nul, 16, nl);
    reencode_check(&req, msg, len);
    tc__infer_request_cleanup(&req);
    tc__pb_backing_free(backing);
    tc__free(msg);

    msg = golden_request("simple_grpc_string_infer_client/0003.ModelInfer.request.pb", &req,
                         &backing, &len);
    assert_int_equal(req.input_count, 1);
    reencode_check(&req, msg, len);
    tc__infer_request_cleanup(&req);
    tc__pb_backing_free(backing);
    tc__free(msg);
}

static void test_golden_shm_infer(void **state)
{
    (void)state;
    tc__infer_request req;
    void *backing = NULL;
    size_t len = 0;
    uint8_t *msg = golden_request("simple_grpc_shm_client/0005.ModelInfer.request.pb", &req,
                                  &backing, &len);
    assert_int_equal(len, 406);
    assert_int_equal(req.input_count, 2);
    assert_int_equal(req.output_count, 2);
    assert_string_equal(req.inputs[0].shm.region, "input_data");
    assert_int_equal(req.inputs[0].shm.byte_size, 64);
    assert_int_equal(req.inputs[0].shm.offset, 0);
    assert_string_equal(req.inputs[1].shm.region, "input_data");
    assert_int_equal(req.inputs[1].shm.offset, 64);
    assert_int_equal(req.inputs[1].byte_size, 0);
    assert_null(req.inputs[1].data);
    assert_int_equal(req.inputs[0].params.count, 0);
    assert_string_equal(req.outputs[0].shm.region, "output_data");
    assert_int_equal(req.outputs[0].shm.byte_size, 64);
    assert_string_equal(req.outputs[1].shm.region, "output_data");
    assert_int_equal(req.outputs[1].shm.offset, 64);
    assert_int_equal(req.outputs[1].params.count, 0);
    /* Map order differs between encoders: same size, same decoding. */
    tc__buf out = TC__BUF_INIT;
    assert_int_equal(tc__pb_infer_request_encode(&req, &out, NULL), TC_OK);
    assert_int_equal(out.len, len);
    tc__buf_cleanup(&out);
    reencode_check(&req, NULL, 0);
    tc__infer_request_cleanup(&req);
    tc__pb_backing_free(backing);
    tc__free(msg);
}

static void test_golden_sequence_stream(void **state)
{
    (void)state;
    static const int32_t values[3][8] = {{0, 11, 7, 5, 3, 2, 0, 1},
                                         {100, -11, -7, -5, -3, -2, 0, -1},
                                         {20, -11, -7, -5, -3, -2, 0, -1}};
    const char *uuid = "70741fcc-cbd1-497d-8889-8a9dd6f9a627";
    for (size_t k = 0; k < 24; k++) {
        char rel[128];
        snprintf(rel, sizeof rel,
                 "simple_grpc_sequence_stream_infer_client/0001.ModelStreamInfer.request.%03zu.pb",
                 k);
        tc__infer_request req;
        void *backing = NULL;
        size_t len = 0;
        uint8_t *msg = golden_request(rel, &req, &backing, &len);
        size_t seq = k / 8;
        size_t n = k % 8 + 1;
        char id[64];
        assert_string_equal(req.model_name, "simple_sequence");
        if (seq < 2) {
            assert_int_equal(len, 123);
            assert_int_equal(req.sequence_id, 1000 + seq);
            assert_null(req.sequence_id_str);
            snprintf(id, sizeof id, "%zu_%zu", 1000 + seq, n);
        } else {
            assert_int_equal(len, 190);
            assert_int_equal(req.sequence_id, 0);
            assert_string_equal(req.sequence_id_str, uuid);
            snprintf(id, sizeof id, "%s_%zu", uuid, n);
        }
        assert_string_equal(req.id, id);
        assert_int_equal(req.sequence_start, n == 1);
        assert_int_equal(req.sequence_end, n == 8);
        assert_int_equal(req.params.count, 0);
        assert_int_equal(req.input_count, 1);
        check_shape(&req.inputs[0], 1, 1);
        check_i32(&req.inputs[0], &values[seq][n - 1], 1);
        assert_int_equal(req.output_count, 1);
        assert_string_equal(req.outputs[0].name, "OUTPUT");
        reencode_check(&req, NULL, 0);
        tc__infer_request_cleanup(&req);
        tc__pb_backing_free(backing);
        tc__free(msg);
    }
}

static void test_golden_explicit_int(void **state)
{
    (void)state;
    tc__infer_request req;
    void *backing = NULL;
    size_t len = 0;
    uint8_t *msg = golden_request("grpc_explicit_int_content_client/0001.ModelInfer.request.pb",
                                  &req, &backing, &len);
    assert_int_equal(len, 112);
    assert_int_equal(req.input_count, 2);
    assert_non_null(req.inputs[0].owned);
    check_i32(&req.inputs[0], k_iota16, 16);
    check_i32(&req.inputs[1], k_ones16, 16);
    /* Our encoder sends the same tensors raw. */
    reencode_check(&req, NULL, 0);
    tc__infer_request_cleanup(&req);
    tc__pb_backing_free(backing);
    tc__free(msg);

    msg = golden("grpc_explicit_int_content_client/0002.ModelInfer.request.pb", &len);
    tc__error err;
    assert_int_equal(decode_bytes(msg, len, &req, &backing, &err), TC_E_INVALID_ARG);
    assert_string_equal(err.msg, "contents field must not be specified when using "
                                 "raw_input_contents for 'INPUT0' for model 'simple'");
    assert_null(backing);
    tc__free(msg);
}

static void test_golden_explicit_bytes(void **state)
{
    (void)state;
    tc__infer_request req;
    void *backing = NULL;
    size_t len = 0;
    uint8_t *msg = golden_request(
        "grpc_explicit_byte_content_client/0001.ModelInfer.request.pb", &req, &backing, &len);
    assert_int_equal(len, 185);
    assert_string_equal(req.model_name, "simple_string");
    const char *digits[16] = {"0", "1", "2",  "3",  "4",  "5",  "6",  "7",
                              "8", "9", "10", "11", "12", "13", "14", "15"};
    size_t dl[16];
    const char *ones[16];
    size_t ol[16];
    for (size_t i = 0; i < 16; i++) {
        dl[i] = strlen(digits[i]);
        ones[i] = "1";
        ol[i] = 1;
    }
    check_bytes_elems(&req.inputs[0], digits, 16, dl);
    check_bytes_elems(&req.inputs[1], ones, 16, ol);
    reencode_check(&req, NULL, 0);
    tc__infer_request_cleanup(&req);
    tc__pb_backing_free(backing);
    tc__free(msg);
}

static void test_golden_image(void **state)
{
    (void)state;
    const char *path = TC_SHARED_DIR "/spec/golden/grpc/image_client/0003.ModelInfer.request.pb";
    size_t len = 0;
    uint8_t *msg = read_file(path, &len);
    if (msg == NULL) {
        print_message("skipped: %s not present\n", path);
        skip();
    }
    tc__infer_request req;
    void *backing = NULL;
    tc__error err;
    assert_int_equal(decode_bytes(msg, len, &req, &backing, &err), TC_OK);
    assert_int_equal(len, 602203);
    assert_string_equal(req.model_name, "mock_image_classifier");
    assert_string_equal(req.id, "1");
    assert_int_equal(req.inputs[0].dtype, TC_DTYPE_FP32);
    assert_int_equal(req.inputs[0].ndim, 3);
    assert_int_equal(req.inputs[0].byte_size, 602112);
    float f0;
    memcpy(&f0, req.inputs[0].data, sizeof f0);
    assert_true(f0 == 187.0f);
    assert_string_equal(req.outputs[0].name, "probabilities");
    assert_int_equal(req.outputs[0].class_count, 3);
    reencode_check(&req, msg, len);
    tc__infer_request_cleanup(&req);
    tc__pb_backing_free(backing);
    tc__free(msg);
}

static void test_golden_responses(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *msg = golden("simple_grpc_infer_client/0001.ModelInfer.response.mock.pb", &len);
    tc__infer_response resp;
    void *backing = NULL;
    tc__error err;
    assert_int_equal(tc__pb_infer_response_decode(msg, len, &resp, &backing, &err), TC_OK);
    assert_string_equal(resp.model_name, "simple");
    assert_int_equal(resp.output_count, 2);
    assert_string_equal(resp.outputs[0].name, "OUTPUT0");
    assert_int_equal(resp.outputs[0].byte_size, 64);
    int32_t sum[16];
    for (int i = 0; i < 16; i++)
        sum[i] = i + 1;
    check_i32(&resp.outputs[0], sum, 16);
    tc__buf out = TC__BUF_INIT;
    assert_int_equal(tc__pb_infer_response_encode(&resp, &out, &err), TC_OK);
    assert_int_equal(out.len, len);
    assert_memory_equal(out.data, msg, len);
    tc__buf_cleanup(&out);
    tc__infer_response_cleanup(&resp);
    tc__pb_backing_free(backing);
    tc__free(msg);

    msg = golden("simple_grpc_shm_client/0005.ModelInfer.response.mock.pb", &len);
    assert_int_equal(tc__pb_infer_response_decode(msg, len, &resp, &backing, &err), TC_OK);
    assert_int_equal(resp.output_count, 2);
    assert_int_equal(resp.outputs[1].byte_size, 0);
    assert_non_null(tc__params_find(&resp.outputs[1].params, "shared_memory_region"));
    tc__infer_response_cleanup(&resp);
    tc__pb_backing_free(backing);
    tc__free(msg);
}

static void test_golden_metadata(void **state)
{
    (void)state;
    size_t len = 0;
    tc__error err;
    uint8_t *msg = golden("simple_grpc_health_metadata/0005.ModelMetadata.response.mock.pb", &len);
    tc__model_metadata m;
    assert_int_equal(tc__pb_model_metadata_decode(msg, len, &m, &err), TC_OK);
    assert_string_equal(m.name, "simple");
    assert_int_equal(m.version_count, 1);
    assert_string_equal(m.versions[0], "1");
    assert_string_equal(m.platform, "mock");
    assert_int_equal(m.input_count, 2);
    assert_int_equal(m.outputs[1].dtype, TC_DTYPE_INT32);
    assert_int_equal(m.outputs[1].shape[1], 16);
    tc__buf out = TC__BUF_INIT;
    assert_int_equal(tc__pb_model_metadata_encode(&m, &out), TC_OK);
    assert_int_equal(out.len, len);
    assert_memory_equal(out.data, msg, len);
    tc__buf_cleanup(&out);
    tc__model_metadata_cleanup(&m);
    tc__free(msg);

    msg = golden("simple_grpc_health_metadata/0004.ServerMetadata.response.mock.pb", &len);
    tc__server_metadata sm;
    assert_int_equal(tc__pb_server_metadata_decode(msg, len, &sm, &err), TC_OK);
    assert_string_equal(sm.name, "triton");
    assert_true(sm.extension_count > 0);
    assert_int_equal(tc__pb_server_metadata_encode(&sm, &out), TC_OK);
    assert_int_equal(out.len, len);
    assert_memory_equal(out.data, msg, len);
    tc__buf_cleanup(&out);
    tc__server_metadata_cleanup(&sm);
    tc__free(msg);
}

/* ---- hand-built requests for the error paths ------------------------------------------- */

typedef Inference__ModelInferRequest pb_req;
typedef Inference__ModelInferRequest__InferInputTensor pb_in;
typedef Inference__ModelInferRequest__ParametersEntry pb_entry;

/* A one-input request for model "m", input "x" of `dtype` shape [n]. */
typedef struct built {
    pb_req req;
    pb_in in;
    pb_in *inp[1];
    int64_t shape[1];
    Inference__InferTensorContents contents;
    ProtobufCBinaryData raw[2];
    pb_entry entries[4];
    pb_entry *entp[4];
    Inference__InferParameter values[4];
    Inference__ModelInferRequest__InferInputTensor__ParametersEntry tentries[4];
    Inference__ModelInferRequest__InferInputTensor__ParametersEntry *tentp[4];
    Inference__InferParameter tvalues[4];
} built;

static void built_init(built *b, const char *dtype, int64_t n)
{
    memset(b, 0, sizeof *b);
    inference__model_infer_request__init(&b->req);
    inference__model_infer_request__infer_input_tensor__init(&b->in);
    inference__infer_tensor_contents__init(&b->contents);
    b->req.model_name = (char *)"m";
    b->in.name = (char *)"x";
    b->in.datatype = (char *)dtype;
    b->shape[0] = n;
    b->in.shape = b->shape;
    b->in.n_shape = 1;
    b->inp[0] = &b->in;
    b->req.inputs = b->inp;
    b->req.n_inputs = 1;
}

static void built_raw(built *b, const void *data, size_t len)
{
    b->raw[b->req.n_raw_input_contents].data = (uint8_t *)(uintptr_t)data;
    b->raw[b->req.n_raw_input_contents].len = len;
    b->req.n_raw_input_contents++;
    b->req.raw_input_contents = b->raw;
}

static Inference__InferParameter *built_param(built *b, const char *key)
{
    size_t i = b->req.n_parameters++;
    inference__model_infer_request__parameters_entry__init(&b->entries[i]);
    inference__infer_parameter__init(&b->values[i]);
    b->entries[i].key = (char *)key;
    b->entries[i].value = &b->values[i];
    b->entp[i] = &b->entries[i];
    b->req.parameters = b->entp;
    return &b->values[i];
}

static Inference__InferParameter *built_tparam(built *b, const char *key)
{
    size_t i = b->in.n_parameters++;
    inference__model_infer_request__infer_input_tensor__parameters_entry__init(&b->tentries[i]);
    inference__infer_parameter__init(&b->tvalues[i]);
    b->tentries[i].key = (char *)key;
    b->tentries[i].value = &b->tvalues[i];
    b->tentp[i] = &b->tentries[i];
    b->in.parameters = b->tentp;
    return &b->tvalues[i];
}

/* Pack and decode; returns the code, leaves the message in err. On success
 * the request is checked against nothing and freed. */
static tc_code built_decode(built *b, tc__error *err, tc__infer_request *keep)
{
    size_t n = protobuf_c_message_get_packed_size(&b->req.base);
    uint8_t *bytes = tc__malloc(n ? n : 1);
    assert_non_null(bytes);
    protobuf_c_message_pack(&b->req.base, bytes);
    tc__infer_request req;
    void *backing = NULL;
    tc_code rc = decode_bytes(bytes, n, &req, &backing, err);
    if (rc == TC_OK && keep != NULL) {
        /* Copy out what the caller checks; data may point into backing. */
        *keep = req;
        uint8_t *copy = tc__memdup(req.inputs[0].data, req.inputs[0].byte_size);
        assert_non_null(copy);
        tc__free(keep->inputs[0].owned);
        keep->inputs[0].owned = copy;
        keep->inputs[0].data = copy;
    } else if (rc == TC_OK) {
        tc__infer_request_cleanup(&req);
    } else {
        assert_null(backing);
    }
    tc__pb_backing_free(backing);
    tc__free(bytes);
    return rc;
}

#define PB_BOOL INFERENCE__INFER_PARAMETER__PARAMETER_CHOICE_BOOL_PARAM
#define PB_INT64 INFERENCE__INFER_PARAMETER__PARAMETER_CHOICE_INT64_PARAM
#define PB_STRING INFERENCE__INFER_PARAMETER__PARAMETER_CHOICE_STRING_PARAM
#define PB_DOUBLE INFERENCE__INFER_PARAMETER__PARAMETER_CHOICE_DOUBLE_PARAM
#define PB_UINT64 INFERENCE__INFER_PARAMETER__PARAMETER_CHOICE_UINT64_PARAM

static void test_error_no_data(void **state)
{
    (void)state;
    built b;
    tc__error err;
    built_init(&b, "INT32", 1);
    assert_int_equal(built_decode(&b, &err, NULL), TC_E_INVALID_ARG);
    assert_string_equal(err.msg,
                        "unable to find data for input tensor 'x' for model 'm' in request.");
}

static void test_error_mixed_raw_typed(void **state)
{
    (void)state;
    built b;
    tc__error err;
    int32_t v = 7;
    built_init(&b, "INT32", 1);
    b.contents.int_contents = &v;
    b.contents.n_int_contents = 1;
    b.in.contents = &b.contents;
    built_raw(&b, "abcd", 4);
    assert_int_equal(built_decode(&b, &err, NULL), TC_E_INVALID_ARG);
    assert_string_equal(err.msg, "contents field must not be specified when using "
                                 "raw_input_contents for 'x' for model 'm'");
}

static void test_error_wrong_typed_field(void **state)
{
    (void)state;
    built b;
    tc__error err;
    float f = 1.0f;
    built_init(&b, "INT32", 1);
    b.contents.fp32_contents = &f;
    b.contents.n_fp32_contents = 1;
    b.in.contents = &b.contents;
    assert_int_equal(built_decode(&b, &err, NULL), TC_E_INVALID_ARG);
    assert_string_equal(err.msg, "unexpected explicit tensor data for input tensor 'x' for "
                                 "model 'm' of type 'FP32', expected datatype 'INT32'");
    /* INT8 must use int_contents, not int64_contents. */
    int64_t big = 1;
    built_init(&b, "INT8", 1);
    b.contents.int64_contents = &big;
    b.contents.n_int64_contents = 1;
    b.in.contents = &b.contents;
    assert_int_equal(built_decode(&b, &err, NULL), TC_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "unexpected explicit tensor data"));
}

static void test_error_fp16_typed(void **state)
{
    (void)state;
    const char *types[] = {"FP16", "BF16"};
    for (size_t i = 0; i < 2; i++) {
        built b;
        tc__error err;
        float f = 1.0f;
        built_init(&b, types[i], 1);
        b.contents.fp32_contents = &f;
        b.contents.n_fp32_contents = 1;
        b.in.contents = &b.contents;
        assert_int_equal(built_decode(&b, &err, NULL), TC_E_INVALID_ARG);
        assert_non_null(strstr(err.msg, "explicit tensor data is not supported"));
    }
}

static void test_typed_narrowing(void **state)
{
    (void)state;
    built b;
    tc__error err;
    tc__infer_request req;
    int32_t i8[3] = {-128, 0, 127};
    built_init(&b, "INT8", 3);
    b.contents.int_contents = i8;
    b.contents.n_int_contents = 3;
    b.in.contents = &b.contents;
    assert_int_equal(built_decode(&b, &err, &req), TC_OK);
    assert_int_equal(req.inputs[0].byte_size, 3);
    assert_int_equal(req.inputs[0].data[0], 0x80);
    assert_int_equal(req.inputs[0].data[2], 0x7f);
    tc__infer_request_cleanup(&req);

    int32_t i16[2] = {-32768, 258};
    built_init(&b, "INT16", 2);
    b.contents.int_contents = i16;
    b.contents.n_int_contents = 2;
    b.in.contents = &b.contents;
    assert_int_equal(built_decode(&b, &err, &req), TC_OK);
    static const uint8_t want16[4] = {0x00, 0x80, 0x02, 0x01};
    assert_memory_equal(req.inputs[0].data, want16, 4);
    tc__infer_request_cleanup(&req);

    uint32_t u16[1] = {65535};
    built_init(&b, "UINT16", 1);
    b.contents.uint_contents = u16;
    b.contents.n_uint_contents = 1;
    b.in.contents = &b.contents;
    assert_int_equal(built_decode(&b, &err, &req), TC_OK);
    assert_int_equal(req.inputs[0].byte_size, 2);
    tc__infer_request_cleanup(&req);

    uint32_t u8[1] = {256};
    built_init(&b, "UINT8", 1);
    b.contents.uint_contents = u8;
    b.contents.n_uint_contents = 1;
    b.in.contents = &b.contents;
    assert_int_equal(built_decode(&b, &err, NULL), TC_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "out of range for datatype 'UINT8'"));

    int32_t bad8[1] = {128};
    built_init(&b, "INT8", 1);
    b.contents.int_contents = bad8;
    b.contents.n_int_contents = 1;
    b.in.contents = &b.contents;
    assert_int_equal(built_decode(&b, &err, NULL), TC_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "out of range for datatype 'INT8'"));

    int32_t bad16[1] = {-32769};
    built_init(&b, "INT16", 1);
    b.contents.int_contents = bad16;
    b.contents.n_int_contents = 1;
    b.in.contents = &b.contents;
    assert_int_equal(built_decode(&b, &err, NULL), TC_E_INVALID_ARG);
}

static void test_typed_all_types(void **state)
{
    (void)state;
    built b;
    tc__error err;
    tc__infer_request req;
    protobuf_c_boolean bools[2] = {1, 0};
    built_init(&b, "BOOL", 2);
    b.contents.bool_contents = bools;
    b.contents.n_bool_contents = 2;
    b.in.contents = &b.contents;
    assert_int_equal(built_decode(&b, &err, &req), TC_OK);
    assert_int_equal(req.inputs[0].byte_size, 2);
    assert_int_equal(req.inputs[0].data[0], 1);
    tc__infer_request_cleanup(&req);

    int64_t i64[1] = {-2};
    built_init(&b, "INT64", 1);
    b.contents.int64_contents = i64;
    b.contents.n_int64_contents = 1;
    b.in.contents = &b.contents;
    assert_int_equal(built_decode(&b, &err, &req), TC_OK);
    static const uint8_t m2[8] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_memory_equal(req.inputs[0].data, m2, 8);
    tc__infer_request_cleanup(&req);

    uint64_t u64[1] = {UINT64_MAX};
    built_init(&b, "UINT64", 1);
    b.contents.uint64_contents = u64;
    b.contents.n_uint64_contents = 1;
    b.in.contents = &b.contents;
    assert_int_equal(built_decode(&b, &err, &req), TC_OK);
    assert_int_equal(req.inputs[0].byte_size, 8);
    tc__infer_request_cleanup(&req);

    double d[1] = {1.5};
    built_init(&b, "FP64", 1);
    b.contents.fp64_contents = d;
    b.contents.n_fp64_contents = 1;
    b.in.contents = &b.contents;
    assert_int_equal(built_decode(&b, &err, &req), TC_OK);
    double back;
    memcpy(&back, req.inputs[0].data, 8);
    assert_true(back == 1.5);
    tc__infer_request_cleanup(&req);

    float f[1] = {2.5f};
    built_init(&b, "FP32", 1);
    b.contents.fp32_contents = f;
    b.contents.n_fp32_contents = 1;
    b.in.contents = &b.contents;
    assert_int_equal(built_decode(&b, &err, &req), TC_OK);
    float fb;
    memcpy(&fb, req.inputs[0].data, 4);
    assert_true(fb == 2.5f);
    tc__infer_request_cleanup(&req);
}

static void test_error_surplus_raw(void **state)
{
    (void)state;
    built b;
    tc__error err;
    built_init(&b, "INT32", 1);
    built_raw(&b, "abcd", 4);
    built_raw(&b, "efgh", 4);
    assert_int_equal(built_decode(&b, &err, NULL), TC_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "expected 2 inputs but got 1 inputs"));
}

static void test_error_bad_datatype_and_bytes(void **state)
{
    (void)state;
    built b;
    tc__error err;
    built_init(&b, "FLOAT", 1);
    built_raw(&b, "abcd", 4);
    assert_int_equal(built_decode(&b, &err, NULL), TC_E_INVALID_ARG);
    assert_string_equal(err.msg, "invalid datatype 'FLOAT' for input 'x'");
    static const uint8_t junk[] = {0x0a, 0xff, 0x01};
    tc__infer_request req;
    void *backing = (void *)1;
    assert_int_equal(decode_bytes(junk, sizeof junk, &req, &backing, &err), TC_E_PROTOCOL);
    assert_null(backing);
}

static void expect_param_error(const char *key, Inference__InferParameter__ParameterChoiceCase c,
                               const char *want)
{
    built b;
    tc__error err;
    built_init(&b, "INT32", 1);
    built_raw(&b, "abcd", 4);
    Inference__InferParameter *v = built_param(&b, key);
    v->parameter_choice_case = c;
    v->string_param = (char *)"s";
    if (c != PB_STRING)
        v->uint64_param = 5;
    assert_int_equal(built_decode(&b, &err, NULL), TC_E_INVALID_ARG);
    if (strstr(err.msg, want) == NULL)
        fail_msg("'%s': got '%s', want '%s'", key, err.msg, want);
}

static void test_request_param_errors(void **state)
{
    (void)state;
    expect_param_error("sequence_id", PB_UINT64,
                       "invalid value type for 'sequence_id' parameter, expected int64_param "
                       "or string_param");
    expect_param_error("sequence_id", PB_BOOL, "'sequence_id'");
    expect_param_error("sequence_start", PB_INT64, "expected bool_param");
    expect_param_error("sequence_end", PB_STRING, "expected bool_param");
    expect_param_error("priority", PB_STRING, "expected int64_param or uint64_param");
    expect_param_error("timeout", PB_UINT64, "'timeout' parameter, expected int64_param");
    expect_param_error("triton_enable_empty_final_response", PB_INT64, "expected bool_param");
    expect_param_error("triton_other", PB_BOOL,
                       "parameter keys starting with 'triton_' are reserved");
    expect_param_error("headers", PB_STRING, "reserved");
    expect_param_error("custom", PB_UINT64, "invalid value type for 'custom'");
    expect_param_error("custom", INFERENCE__INFER_PARAMETER__PARAMETER_CHOICE__NOT_SET,
                       "invalid value type for 'custom'");

    built b;
    tc__error err;
    built_init(&b, "INT32", 1);
    built_raw(&b, "abcd", 4);
    char longid[130];
    memset(longid, 'a', 129);
    longid[129] = '\0';
    Inference__InferParameter *v = built_param(&b, "sequence_id");
    v->parameter_choice_case = PB_STRING;
    v->string_param = longid;
    assert_int_equal(built_decode(&b, &err, NULL), TC_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "longer than 128"));

    built_init(&b, "INT32", 1);
    built_raw(&b, "abcd", 4);
    v = built_param(&b, "priority");
    v->parameter_choice_case = PB_INT64;
    v->int64_param = -1;
    assert_int_equal(built_decode(&b, &err, NULL), TC_E_INVALID_ARG);
}

static void test_request_params_accepted(void **state)
{
    (void)state;
    built b;
    tc__error err;
    tc__infer_request req;
    built_init(&b, "INT32", 1);
    built_raw(&b, "abcd", 4);
    Inference__InferParameter *v = built_param(&b, "sequence_id");
    v->parameter_choice_case = PB_INT64;
    v->int64_param = -1; /* bits reinterpreted as uint64 */
    v = built_param(&b, "priority");
    v->parameter_choice_case = PB_INT64;
    v->int64_param = 3;
    v = built_param(&b, "timeout");
    v->parameter_choice_case = PB_INT64;
    v->int64_param = 1000;
    v = built_param(&b, "triton_enable_empty_final_response");
    v->parameter_choice_case = PB_BOOL;
    v->bool_param = 1;
    assert_int_equal(built_decode(&b, &err, &req), TC_OK);
    assert_int_equal(req.sequence_id, UINT64_MAX);
    assert_int_equal(req.priority, 3);
    assert_int_equal(req.timeout_us, 1000);
    assert_true(req.enable_empty_final_response);
    assert_int_equal(req.params.count, 0);
    tc__infer_request_cleanup(&req);

    built_init(&b, "INT32", 1);
    built_raw(&b, "abcd", 4);
    v = built_param(&b, "b");
    v->parameter_choice_case = PB_BOOL;
    v->bool_param = 1;
    v = built_param(&b, "i");
    v->parameter_choice_case = PB_INT64;
    v->int64_param = -5;
    v = built_param(&b, "s");
    v->parameter_choice_case = PB_STRING;
    v->string_param = (char *)"str";
    v = built_param(&b, "d");
    v->parameter_choice_case = PB_DOUBLE;
    v->double_param = 0.25;
    assert_int_equal(built_decode(&b, &err, &req), TC_OK);
    assert_int_equal(req.params.count, 4);
    assert_int_equal(tc__params_find(&req.params, "i")->v.i64, -5);
    assert_string_equal(tc__params_find(&req.params, "s")->v.s, "str");
    assert_true(tc__params_find(&req.params, "d")->v.d == 0.25);
    assert_true(tc__params_find(&req.params, "b")->v.b);
    tc__infer_request_cleanup(&req);

    built_init(&b, "INT32", 1);
    built_raw(&b, "abcd", 4);
    v = built_param(&b, "priority");
    v->parameter_choice_case = PB_UINT64;
    v->uint64_param = UINT64_MAX;
    assert_int_equal(built_decode(&b, &err, &req), TC_OK);
    assert_int_equal(req.priority, UINT64_MAX);
    tc__infer_request_cleanup(&req);
}

static void test_tensor_param_errors(void **state)
{
    (void)state;
    built b;
    tc__error err;
    built_init(&b, "INT32", 1);
    Inference__InferParameter *v = built_tparam(&b, "shared_memory_region");
    v->parameter_choice_case = PB_STRING;
    v->string_param = (char *)"r";
    assert_int_equal(built_decode(&b, &err, NULL), TC_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "without 'shared_memory_byte_size'"));

    built_init(&b, "INT32", 1);
    v = built_tparam(&b, "shared_memory_region");
    v->parameter_choice_case = PB_INT64;
    assert_int_equal(built_decode(&b, &err, NULL), TC_E_INVALID_ARG);
    assert_string_equal(err.msg, "invalid value type for 'shared_memory_region' parameter, "
                                 "expected string_param.");

    built_init(&b, "INT32", 1);
    built_raw(&b, "abcd", 4);
    v = built_tparam(&b, "shared_memory_byte_size");
    v->parameter_choice_case = PB_UINT64;
    assert_int_equal(built_decode(&b, &err, NULL), TC_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "invalid value type for 'shared_memory_byte_size'"));

    built_init(&b, "INT32", 1);
    built_raw(&b, "abcd", 4);
    v = built_tparam(&b, "shared_memory_offset");
    v->parameter_choice_case = PB_INT64;
    v->int64_param = 8;
    assert_int_equal(built_decode(&b, &err, NULL), TC_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "without 'shared_memory_region'"));

    /* shm input with contents */
    int32_t x = 1;
    built_init(&b, "INT32", 1);
    v = built_tparam(&b, "shared_memory_region");
    v->parameter_choice_case = PB_STRING;
    v->string_param = (char *)"r";
    v = built_tparam(&b, "shared_memory_byte_size");
    v->parameter_choice_case = PB_INT64;
    v->int64_param = 4;
    b.contents.int_contents = &x;
    b.contents.n_int_contents = 1;
    b.in.contents = &b.contents;
    assert_int_equal(built_decode(&b, &err, NULL), TC_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "unexpected 'content' provided when using shared memory"));
}

/* Requested outputs: classification rules. */
static tc_code output_decode(Inference__InferParameter *params, const char *const *keys, size_t n,
                             tc__infer_request *keep, tc__error *err)
{
    built b;
    built_init(&b, "INT32", 1);
    built_raw(&b, "abcd", 4);
    Inference__ModelInferRequest__InferRequestedOutputTensor out =
        INFERENCE__MODEL_INFER_REQUEST__INFER_REQUESTED_OUTPUT_TENSOR__INIT;
    Inference__ModelInferRequest__InferRequestedOutputTensor *outp = &out;
    Inference__ModelInferRequest__InferRequestedOutputTensor__ParametersEntry e[4];
    Inference__ModelInferRequest__InferRequestedOutputTensor__ParametersEntry *ep[4];
    for (size_t i = 0; i < n; i++) {
        inference__model_infer_request__infer_requested_output_tensor__parameters_entry__init(
            &e[i]);
        e[i].key = (char *)keys[i];
        e[i].value = &params[i];
        ep[i] = &e[i];
    }
    out.name = (char *)"y";
    out.parameters = ep;
    out.n_parameters = n;
    b.req.outputs = &outp;
    b.req.n_outputs = 1;
    return built_decode(&b, err, keep);
}

static void test_output_params(void **state)
{
    (void)state;
    tc__error err;
    tc__infer_request req;
    Inference__InferParameter p[3];
    for (size_t i = 0; i < 3; i++)
        inference__infer_parameter__init(&p[i]);
    const char *cls[] = {"classification"};
    p[0].parameter_choice_case = PB_INT64;
    p[0].int64_param = 3;
    assert_int_equal(output_decode(p, cls, 1, &req, &err), TC_OK);
    assert_int_equal(req.outputs[0].class_count, 3);
    tc__infer_request_cleanup(&req);

    p[0].int64_param = 0;
    assert_int_equal(output_decode(p, cls, 1, NULL, &err), TC_E_INVALID_ARG);
    assert_string_equal(err.msg, "invalid value for 'classification' parameter, expected >= 0");
    p[0].parameter_choice_case = PB_UINT64;
    assert_int_equal(output_decode(p, cls, 1, NULL, &err), TC_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "expected int64_param"));

    const char *both[] = {"classification", "shared_memory_region", "shared_memory_byte_size"};
    p[0].parameter_choice_case = PB_INT64;
    p[0].int64_param = 2;
    p[1].parameter_choice_case = PB_STRING;
    p[1].string_param = (char *)"r";
    p[2].parameter_choice_case = PB_INT64;
    p[2].int64_param = 16;
    assert_int_equal(output_decode(p, both, 3, NULL, &err), TC_E_INVALID_ARG);
    assert_string_equal(err.msg,
                        "Output can't set both 'shared_memory_region' and 'classification'");
}

/* ---- round trips ---------------------------------------------------------------------- */

static void test_roundtrip_all_dtypes(void **state)
{
    (void)state;
    static const uint8_t bytes_data[] = {3, 0, 0, 0, 'a', 0, 'b', 0, 0, 0, 0,
                                         2, 0, 0, 0, 0,   0};
    uint8_t blob[64];
    for (size_t i = 0; i < sizeof blob; i++)
        blob[i] = (uint8_t)(i * 7 + 1);
    tc__tensor inputs[14];
    memset(inputs, 0, sizeof inputs);
    int64_t shapes[14][1];
    size_t k = 0;
    for (int dt = TC_DTYPE_BOOL; dt <= TC_DTYPE_BF16; dt++) {
        tc__tensor *t = &inputs[k];
        char name[16];
        snprintf(name, sizeof name, "in%d", dt);
        t->name = tc__strdup(name);
        t->dtype = (tc_dtype)dt;
        if (dt == TC_DTYPE_BYTES) {
            t->data = bytes_data;
            t->byte_size = sizeof bytes_data;
            shapes[k][0] = 3;
        } else {
            size_t es = tc_dtype_size(t->dtype);
            t->data = blob;
            t->byte_size = (sizeof blob / es) * es;
            shapes[k][0] = (int64_t)(sizeof blob / es);
        }
        t->shape = tc__memdup(shapes[k], sizeof shapes[k]);
        t->ndim = 1;
        k++;
    }
    tc__infer_request req;
    memset(&req, 0, sizeof req);
    req.model_name = tc__strdup("m");
    req.model_version = tc__strdup("2");
    req.id = tc__strdup("req-1");
    req.inputs = tc__memdup(inputs, sizeof inputs);
    req.input_count = k;
    req.sequence_id_str = tc__strdup("corr");
    req.sequence_start = true;
    req.priority = 7;
    req.timeout_us = 5000;
    req.enable_empty_final_response = true;
    assert_int_equal(tc__params_add_double(&req.params, "pd", -0.5), TC_OK);
    assert_int_equal(tc__params_add_string(&req.params, "ps", "v"), TC_OK);
    req.outputs = tc__calloc(2, sizeof *req.outputs);
    req.output_count = 2;
    req.outputs[0].name = tc__strdup("o0");
    req.outputs[0].class_count = 4;
    req.outputs[1].name = tc__strdup("o1");
    req.outputs[1].shm.region = tc__strdup("out_region");
    req.outputs[1].shm.byte_size = 128;
    req.outputs[1].shm.offset = 16;
    reencode_check(&req, NULL, 0);
    /* A shm input takes no raw entry. */
    tc__tensor *shm_in = &req.inputs[2];
    shm_in->shm.region = tc__strdup("in_region");
    shm_in->shm.byte_size = shm_in->byte_size;
    shm_in->data = NULL;
    shm_in->byte_size = 0;
    reencode_check(&req, NULL, 0);
    tc__infer_request_cleanup(&req);
}

static void test_encode_sequence_int(void **state)
{
    (void)state;
    tc__infer_request req;
    memset(&req, 0, sizeof req);
    req.model_name = (char *)"m";
    req.sequence_id = 42;
    req.sequence_end = true;
    tc__buf out = TC__BUF_INIT;
    assert_int_equal(tc__pb_infer_request_encode(&req, &out, NULL), TC_OK);
    ProtobufCMessage *pm = NULL;
    assert_int_equal(tc__pb_unpack(&inference__model_infer_request__descriptor, out.data, out.len,
                                   &pm, NULL),
                     TC_OK);
    const pb_req *m = (const pb_req *)pm;
    assert_int_equal(m->n_parameters, 3);
    assert_string_equal(m->parameters[0]->key, "sequence_id");
    assert_int_equal(m->parameters[0]->value->parameter_choice_case, PB_INT64);
    assert_int_equal(m->parameters[0]->value->int64_param, 42);
    assert_string_equal(m->parameters[1]->key, "sequence_start");
    assert_false(m->parameters[1]->value->bool_param);
    assert_string_equal(m->parameters[2]->key, "sequence_end");
    assert_true(m->parameters[2]->value->bool_param);
    tc__pb_backing_free(pm);
    tc__buf_reset(&out);

    req.sequence_id = 0;
    req.priority = 9;
    assert_int_equal(tc__pb_infer_request_encode(&req, &out, NULL), TC_OK);
    assert_int_equal(tc__pb_unpack(&inference__model_infer_request__descriptor, out.data, out.len,
                                   &pm, NULL),
                     TC_OK);
    m = (const pb_req *)pm;
    assert_int_equal(m->n_parameters, 1);
    assert_string_equal(m->parameters[0]->key, "priority");
    assert_int_equal(m->parameters[0]->value->parameter_choice_case, PB_UINT64);
    tc__pb_backing_free(pm);
    tc__buf_cleanup(&out);

    tc__error err;
    req.model_name = NULL;
    assert_int_equal(tc__pb_infer_request_encode(&req, &out, &err), TC_E_INVALID_ARG);
}

/* ---- responses ------------------------------------------------------------------------ */

static void make_response(tc__infer_response *r)
{
    memset(r, 0, sizeof *r);
    static const uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    static const int64_t shape[1] = {2};
    r->model_name = tc__strdup("m");
    r->model_version = tc__strdup("1");
    r->id = tc__strdup("");
    r->outputs = tc__calloc(3, sizeof *r->outputs);
    r->output_count = 3;
    const char *names[3] = {"a", "b", "c"};
    for (size_t i = 0; i < 3; i++) {
        r->outputs[i].name = tc__strdup(names[i]);
        r->outputs[i].dtype = TC_DTYPE_INT32;
        r->outputs[i].shape = tc__memdup(shape, sizeof shape);
        r->outputs[i].ndim = 1;
        r->outputs[i].data = data;
        r->outputs[i].byte_size = sizeof data;
    }
    r->outputs[1].shm.region = tc__strdup("shm");
    r->outputs[1].shm.byte_size = 8;
    r->outputs[2].data = NULL;
    r->outputs[2].byte_size = 0;
    assert_int_equal(tc__params_add_uint64(&r->params, "u", UINT64_MAX), TC_OK);
    assert_int_equal(tc__params_add_double(&r->params, "d", 2.0), TC_OK);
    assert_int_equal(tc__params_add_string(&r->params, "s", "x"), TC_OK);
}

static void test_response_roundtrip(void **state)
{
    (void)state;
    tc__infer_response r;
    make_response(&r);
    tc__buf out = TC__BUF_INIT;
    assert_int_equal(tc__pb_infer_response_encode(&r, &out, NULL), TC_OK);
    ProtobufCMessage *pm = NULL;
    assert_int_equal(tc__pb_unpack(&inference__model_infer_response__descriptor, out.data, out.len,
                                   &pm, NULL),
                     TC_OK);
    const Inference__ModelInferResponse *m = (const Inference__ModelInferResponse *)pm;
    assert_int_equal(m->n_raw_output_contents, 3);
    assert_int_equal(m->raw_output_contents[1].len, 0);
    assert_int_equal(m->raw_output_contents[2].len, 0);
    assert_null(m->outputs[0]->contents);
    tc__pb_backing_free(pm);

    tc__infer_response back;
    void *backing = NULL;
    assert_int_equal(tc__pb_infer_response_decode(out.data, out.len, &back, &backing, NULL),
                     TC_OK);
    assert_string_equal(back.id, "");
    assert_int_equal(back.output_count, 3);
    assert_int_equal(back.outputs[0].byte_size, 8);
    assert_memory_equal(back.outputs[0].data, r.outputs[0].data, 8);
    assert_null(back.outputs[0].owned);
    assert_int_equal(back.outputs[1].byte_size, 0);
    assert_params_equal(&r.params, &back.params);
    tc__infer_response_cleanup(&back);
    tc__pb_backing_free(backing);
    tc__buf_cleanup(&out);
    tc__infer_response_cleanup(&r);
}

static void test_response_typed_contents(void **state)
{
    (void)state;
    Inference__ModelInferResponse m = INFERENCE__MODEL_INFER_RESPONSE__INIT;
    Inference__ModelInferResponse__InferOutputTensor o =
        INFERENCE__MODEL_INFER_RESPONSE__INFER_OUTPUT_TENSOR__INIT;
    Inference__ModelInferResponse__InferOutputTensor *op = &o;
    Inference__InferTensorContents c = INFERENCE__INFER_TENSOR_CONTENTS__INIT;
    ProtobufCBinaryData elems[2] = {{2, (uint8_t *)"hi"}, {0, (uint8_t *)""}};
    int64_t shape[1] = {2};
    c.bytes_contents = elems;
    c.n_bytes_contents = 2;
    o.name = (char *)"out";
    o.datatype = (char *)"BYTES";
    o.shape = shape;
    o.n_shape = 1;
    o.contents = &c;
    m.outputs = &op;
    m.n_outputs = 1;
    tc__buf out = TC__BUF_INIT;
    assert_int_equal(tc__pb_pack(&m.base, &out), TC_OK);
    tc__infer_response r;
    void *backing = NULL;
    assert_int_equal(tc__pb_infer_response_decode(out.data, out.len, &r, &backing, NULL), TC_OK);
    static const uint8_t want[] = {2, 0, 0, 0, 'h', 'i', 0, 0, 0, 0};
    assert_int_equal(r.outputs[0].byte_size, sizeof want);
    assert_memory_equal(r.outputs[0].data, want, sizeof want);
    tc__infer_response_cleanup(&r);
    tc__pb_backing_free(backing);

    /* More raw entries than outputs is a protocol error. */
    ProtobufCBinaryData raw[2] = {{0, NULL}, {0, NULL}};
    m.raw_output_contents = raw;
    m.n_raw_output_contents = 2;
    tc__buf_reset(&out);
    assert_int_equal(tc__pb_pack(&m.base, &out), TC_OK);
    assert_int_equal(tc__pb_infer_response_decode(out.data, out.len, &r, &backing, NULL),
                     TC_E_PROTOCOL);
    tc__buf_cleanup(&out);
}

static void test_stream_response(void **state)
{
    (void)state;
    tc__infer_response r;
    make_response(&r);
    assert_true(tc__pb_response_is_final(&r));
    assert_int_equal(tc__pb_response_set_final(&r, false), TC_OK);
    assert_false(tc__pb_response_is_final(&r));
    assert_int_equal(tc__pb_response_set_final(&r, true), TC_OK);
    assert_true(tc__pb_response_is_final(&r));
    assert_int_equal(tc__pb_response_set_final(&r, false), TC_OK);
    tc__buf out = TC__BUF_INIT;
    assert_int_equal(tc__pb_stream_response_encode(NULL, &r, &out, NULL), TC_OK);
    char *emsg = (char *)1;
    bool has = false;
    tc__infer_response back;
    void *backing = NULL;
    assert_int_equal(
        tc__pb_stream_response_decode(out.data, out.len, &emsg, &back, &has, &backing, NULL),
        TC_OK);
    assert_null(emsg);
    assert_true(has);
    assert_false(tc__pb_response_is_final(&back));
    assert_int_equal(back.output_count, 3);
    tc__infer_response_cleanup(&back);
    tc__pb_backing_free(backing);
    tc__buf_reset(&out);

    tc__infer_response idonly;
    memset(&idonly, 0, sizeof idonly);
    idonly.id = (char *)"r7";
    assert_int_equal(tc__pb_stream_response_encode("bad input", &idonly, &out, NULL), TC_OK);
    assert_int_equal(
        tc__pb_stream_response_decode(out.data, out.len, &emsg, &back, &has, &backing, NULL),
        TC_OK);
    assert_string_equal(emsg, "bad input");
    assert_true(has);
    assert_string_equal(back.id, "r7");
    tc__free(emsg);
    tc__infer_response_cleanup(&back);
    tc__pb_backing_free(backing);
    tc__buf_reset(&out);

    assert_int_equal(tc__pb_stream_response_encode("e", NULL, &out, NULL), TC_OK);
    assert_int_equal(
        tc__pb_stream_response_decode(out.data, out.len, &emsg, &back, &has, &backing, NULL),
        TC_OK);
    assert_false(has);
    tc__free(emsg);
    tc__pb_backing_free(backing);
    tc__buf_cleanup(&out);
    tc__infer_response_cleanup(&r);
}

static void test_repo_index_roundtrip(void **state)
{
    (void)state;
    tc__repo_entry e[2] = {{(char *)"a", (char *)"1", (char *)"READY", NULL},
                           {(char *)"b", NULL, NULL, NULL}};
    tc__repo_index idx = {e, 2};
    tc__buf out = TC__BUF_INIT;
    assert_int_equal(tc__pb_repo_index_encode(&idx, &out), TC_OK);
    tc__repo_index back;
    assert_int_equal(tc__pb_repo_index_decode(out.data, out.len, &back, NULL), TC_OK);
    assert_int_equal(back.count, 2);
    assert_string_equal(back.entries[0].state, "READY");
    assert_null(back.entries[0].reason);
    assert_null(back.entries[1].version);
    tc__repo_index_cleanup(&back);
    tc__buf_cleanup(&out);
}


/* ---- JSON bridges ----------------------------------------------------------------------- */

static void test_stats_json(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *msg = golden("simple_grpc_infer_client/0002.ModelStatistics.response.mock.pb", &len);
    tc__buf json = TC__BUF_INIT;
    assert_int_equal(tc__pb_model_stats_to_json(msg, len, &json, NULL), TC_OK);
    const char *want =
        "{\"model_stats\":[{\"name\":\"simple\",\"version\":\"1\",\"last_inference\":0,"
        "\"inference_count\":1,\"execution_count\":1,\"inference_stats\":{"
        "\"success\":{\"count\":0,\"ns\":0},\"fail\":{\"count\":0,\"ns\":0},"
        "\"queue\":{\"count\":0,\"ns\":0},\"compute_input\":{\"count\":0,\"ns\":0},"
        "\"compute_infer\":{\"count\":0,\"ns\":0},\"compute_output\":{\"count\":0,\"ns\":0},"
        "\"cache_hit\":{\"count\":0,\"ns\":0},\"cache_miss\":{\"count\":0,\"ns\":0}},"
        "\"response_stats\":{},\"batch_stats\":[],\"memory_usage\":[]}]}";
    assert_string_equal((const char *)json.data, want);
    /* JSON -> message -> JSON keeps every counter. */
    const char *full =
        "{\"model_stats\":[{\"name\":\"m\",\"version\":\"2\",\"last_inference\":1700000000000,"
        "\"inference_count\":18446744073709551615,\"execution_count\":3,\"inference_stats\":{"
        "\"success\":{\"count\":1,\"ns\":2},\"fail\":{\"count\":3,\"ns\":4},"
        "\"queue\":{\"count\":5,\"ns\":6},\"compute_input\":{\"count\":7,\"ns\":8},"
        "\"compute_infer\":{\"count\":9,\"ns\":10},\"compute_output\":{\"count\":11,\"ns\":12},"
        "\"cache_hit\":{\"count\":13,\"ns\":14},\"cache_miss\":{\"count\":15,\"ns\":16}},"
        "\"response_stats\":{\"0\":{\"compute_infer\":{\"count\":1,\"ns\":1},"
        "\"compute_output\":{\"count\":2,\"ns\":2},\"success\":{\"count\":3,\"ns\":3},"
        "\"fail\":{\"count\":0,\"ns\":0},\"empty_response\":{\"count\":0,\"ns\":0},"
        "\"cancel\":{\"count\":0,\"ns\":0}}},\"batch_stats\":[{\"batch_size\":1,"
        "\"compute_input\":{\"count\":1,\"ns\":5},\"compute_infer\":{\"count\":1,\"ns\":6},"
        "\"compute_output\":{\"count\":1,\"ns\":7}}],\"memory_usage\":[{\"type\":\"GPU\","
        "\"id\":-1,\"byte_size\":1024}]}]}";
    tc__buf pb = TC__BUF_INIT;
    tc__error err;
    tc__error_clear(&err);
    if (tc__pb_model_stats_from_json(full, strlen(full), &pb, &err) != TC_OK)
        fail_msg("%s", err.msg);
    tc__buf_reset(&json);
    assert_int_equal(tc__pb_model_stats_to_json(pb.data, pb.len, &json, NULL), TC_OK);
    assert_string_equal((const char *)json.data, full);
    tc__buf_cleanup(&pb);
    tc__buf_cleanup(&json);
    tc__free(msg);
}

static void test_trace_json(void **state)
{
    (void)state;
    const char *resp = "{\"trace_level\":[\"TIMESTAMPS\",\"TENSORS\"],\"trace_rate\":\"1000\","
                       "\"trace_count\":\"-1\",\"trace_mode\":\"triton\"}";
    tc__buf pb = TC__BUF_INIT;
    tc__buf json = TC__BUF_INIT;
    assert_int_equal(tc__pb_trace_settings_from_json(resp, strlen(resp), &pb, NULL), TC_OK);
    assert_int_equal(tc__pb_trace_settings_to_json(pb.data, pb.len, &json, NULL), TC_OK);
    assert_string_equal((const char *)json.data, resp);
    tc__buf_reset(&pb);
    tc__buf_reset(&json);

    const char *upd = "{\"trace_level\":[\"OFF\"],\"trace_rate\":\"5\",\"log_frequency\":null}";
    assert_int_equal(tc__pb_trace_update_from_json(upd, strlen(upd), "simple", &pb, NULL), TC_OK);
    ProtobufCMessage *pm = NULL;
    assert_int_equal(
        tc__pb_unpack(&inference__trace_setting_request__descriptor, pb.data, pb.len, &pm, NULL),
        TC_OK);
    const Inference__TraceSettingRequest *r = (const Inference__TraceSettingRequest *)pm;
    assert_string_equal(r->model_name, "simple");
    assert_int_equal(r->n_settings, 3);
    tc__pb_backing_free(pm);
    char *model = NULL;
    assert_int_equal(tc__pb_trace_update_to_json(pb.data, pb.len, &model, &json, NULL), TC_OK);
    assert_string_equal(model, "simple");
    assert_string_equal((const char *)json.data, upd);
    tc__free(model);
    /* A number becomes its decimal text; objects are refused. */
    tc__buf_reset(&pb);
    tc__buf_reset(&json);
    assert_int_equal(tc__pb_trace_update_from_json("{\"trace_count\":7}", 17, NULL, &pb, NULL),
                     TC_OK);
    assert_int_equal(tc__pb_trace_update_to_json(pb.data, pb.len, &model, &json, NULL), TC_OK);
    assert_null(model);
    assert_string_equal((const char *)json.data, "{\"trace_count\":\"7\"}");
    tc__error err;
    assert_int_equal(tc__pb_trace_update_from_json("{\"a\":{}}", 8, NULL, &pb, &err),
                     TC_E_INVALID_ARG);
    assert_int_equal(tc__pb_trace_update_from_json("[1]", 3, NULL, &pb, &err), TC_E_INVALID_ARG);
    tc__buf_cleanup(&pb);
    tc__buf_cleanup(&json);
}

static void test_log_json(void **state)
{
    (void)state;
    const char *resp = "{\"log_file\":\"\",\"log_info\":true,\"log_warning\":true,"
                       "\"log_error\":false,\"log_verbose_level\":2,\"log_format\":\"default\"}";
    tc__buf pb = TC__BUF_INIT;
    tc__buf json = TC__BUF_INIT;
    assert_int_equal(tc__pb_log_settings_from_json(resp, strlen(resp), &pb, NULL), TC_OK);
    assert_int_equal(tc__pb_log_settings_to_json(pb.data, pb.len, &json, NULL), TC_OK);
    assert_string_equal((const char *)json.data, resp);
    tc__buf_reset(&pb);
    tc__buf_reset(&json);
    const char *upd = "{\"log_info\":false,\"log_verbose_level\":1,\"log_file\":null}";
    assert_int_equal(tc__pb_log_update_from_json(upd, strlen(upd), &pb, NULL), TC_OK);
    assert_int_equal(tc__pb_log_update_to_json(pb.data, pb.len, &json, NULL), TC_OK);
    assert_string_equal((const char *)json.data, "{\"log_info\":false,\"log_verbose_level\":1}");
    tc__error err;
    assert_int_equal(tc__pb_log_update_from_json("{\"log_verbose_level\":-1}", 24, &pb, &err),
                     TC_E_INVALID_ARG);
    assert_string_equal(err.msg, "expect int32 for 'log_verbose_level'");
    assert_int_equal(tc__pb_log_update_from_json("{\"x\":[]}", 8, &pb, &err), TC_E_INVALID_ARG);
    tc__buf_cleanup(&pb);
    tc__buf_cleanup(&json);
}

static void test_model_config_json(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *msg = golden("simple_grpc_health_metadata/0007.ModelConfig.response.mock.pb", &len);
    tc__buf json = TC__BUF_INIT;
    assert_int_equal(tc__pb_model_config_to_json(msg, len, &json, NULL), TC_OK);
    assert_non_null(strstr((const char *)json.data, "\"name\":\"simple\""));
    Inference__ModelConfig *cfg = NULL;
    assert_int_equal(tc__model_config_from_json((const char *)json.data, json.len, &cfg, NULL),
                     TC_OK);
    tc__buf pb = TC__BUF_INIT;
    assert_int_equal(tc__pb_model_config_encode(cfg, &pb), TC_OK);
    assert_int_equal(pb.len, len);
    tc__model_config_free(cfg);
    tc__buf_cleanup(&pb);
    tc__buf_cleanup(&json);
    tc__free(msg);
}


/* Fail each allocation in turn: every path must fail cleanly (ASan checks
 * for leaks) and the run eventually succeeds. */
static void test_fail_alloc(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *msg = golden("simple_grpc_shm_client/0005.ModelInfer.request.pb", &len);
    bool done = false;
    for (unsigned long n = 1; !done && n < 10000; n++) {
        tc__infer_request req;
        void *backing = NULL;
        tc__buf out = TC__BUF_INIT;
        tc__alloc_fail_after(n);
        tc_code rc = tc__pb_infer_request_decode(msg, len, &req, &backing, NULL);
        if (rc == TC_OK) {
            rc = tc__pb_infer_request_encode(&req, &out, NULL);
            tc__infer_request_cleanup(&req);
            tc__pb_backing_free(backing);
        }
        tc__alloc_fail_after(0);
        assert_true(rc == TC_OK || rc == TC_E_NOMEM || rc == TC_E_PROTOCOL);
        done = rc == TC_OK;
        tc__buf_cleanup(&out);
    }
    assert_true(done);
    tc__free(msg);
    const char *stats = "{\"model_stats\":[{\"name\":\"m\",\"batch_stats\":[{\"batch_size\":1}]}]}";
    const char *log = "{\"log_info\":true,\"log_format\":\"default\"}";
    const char *trace = "{\"trace_level\":[\"OFF\"],\"trace_rate\":\"1\"}";
    done = false;
    for (unsigned long n = 1; !done && n < 10000; n++) {
        tc__buf pb = TC__BUF_INIT;
        tc__buf json = TC__BUF_INIT;
        tc__alloc_fail_after(n);
        tc_code rc = tc__pb_model_stats_from_json(stats, strlen(stats), &pb, NULL);
        if (rc == TC_OK)
            rc = tc__pb_model_stats_to_json(pb.data, pb.len, &json, NULL);
        if (rc == TC_OK)
            rc = tc__pb_log_update_from_json(log, strlen(log), &pb, NULL);
        if (rc == TC_OK)
            rc = tc__pb_trace_update_from_json(trace, strlen(trace), "m", &pb, NULL);
        tc__alloc_fail_after(0);
        done = rc == TC_OK;
        tc__buf_cleanup(&pb);
        tc__buf_cleanup(&json);
    }
    assert_true(done);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_golden_simple_infer),
    cmocka_unit_test(test_golden_string_infer),
    cmocka_unit_test(test_golden_shm_infer),
    cmocka_unit_test(test_golden_sequence_stream),
    cmocka_unit_test(test_golden_explicit_int),
    cmocka_unit_test(test_golden_explicit_bytes),
    cmocka_unit_test(test_golden_image),
    cmocka_unit_test(test_golden_responses),
    cmocka_unit_test(test_golden_metadata),
    cmocka_unit_test(test_error_no_data),
    cmocka_unit_test(test_error_mixed_raw_typed),
    cmocka_unit_test(test_error_wrong_typed_field),
    cmocka_unit_test(test_error_fp16_typed),
    cmocka_unit_test(test_typed_narrowing),
    cmocka_unit_test(test_typed_all_types),
    cmocka_unit_test(test_error_surplus_raw),
    cmocka_unit_test(test_error_bad_datatype_and_bytes),
    cmocka_unit_test(test_request_param_errors),
    cmocka_unit_test(test_request_params_accepted),
    cmocka_unit_test(test_tensor_param_errors),
    cmocka_unit_test(test_output_params),
    cmocka_unit_test(test_roundtrip_all_dtypes),
    cmocka_unit_test(test_encode_sequence_int),
    cmocka_unit_test(test_response_roundtrip),
    cmocka_unit_test(test_response_typed_contents),
    cmocka_unit_test(test_stream_response),
    cmocka_unit_test(test_repo_index_roundtrip),
    cmocka_unit_test(test_stats_json),
    cmocka_unit_test(test_trace_json),
    cmocka_unit_test(test_log_json),
    cmocka_unit_test(test_model_config_json),
    cmocka_unit_test(test_fail_alloc),
};

TC_TEST_MAIN(tests)
