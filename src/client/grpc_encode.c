/* ModelInferRequest messages for the gRPC transport: the codec packs the
 * tensor data once, straight behind the 5-byte gRPC prefix; typed
 * `contents` (the "explicit content" mode) are produced by converting the
 * raw entries of the packed message. */
#include "client/grpc_internal.h"

#include <string.h>

#include "client/request_internal.h"
#include "common/alloc.h"
#include "proto/v2_pb.h"

typedef Inference__ModelInferRequest pb_request;
typedef Inference__ModelInferRequest__InferInputTensor pb_input;
typedef Inference__InferTensorContents pb_contents;

/* A shallow view of the request whose inputs point at contiguous data;
 * inputs made of several chunks are joined into `joined`. */
typedef struct view {
    tc__infer_request req;
    tc__tensor *inputs;
    uint8_t **joined;
    size_t n;
} view;

static void view_cleanup(view *v)
{
    for (size_t i = 0; v->joined != NULL && i < v->n; i++)
        tc__free(v->joined[i]);
    tc__free(v->joined);
    tc__free(v->inputs);
}

static tc_code view_init(view *v, const tc_request *req)
{
    memset(v, 0, sizeof *v);
    v->req = req->base;
    v->n = req->base.input_count;
    if (v->n == 0)
        return TC_OK;
    v->inputs = tc__calloc(v->n, sizeof *v->inputs);
    v->joined = tc__calloc(v->n, sizeof *v->joined);
    if (v->inputs == NULL || v->joined == NULL)
        return TC_E_NOMEM;
    for (size_t i = 0; i < v->n; i++) {
        const tc__input_data *d = &req->data[i];
        v->inputs[i] = req->base.inputs[i];
        v->inputs[i].byte_size = d->byte_size;
        v->inputs[i].data = d->count > 0 ? d->chunks[0].data : NULL;
        if (d->count > 1) {
            uint8_t *j = tc__malloc(d->byte_size);
            if (j == NULL)
                return TC_E_NOMEM;
            size_t off = 0;
            for (size_t k = 0; k < d->count; k++) {
                memcpy(j + off, d->chunks[k].data, d->chunks[k].len);
                off += d->chunks[k].len;
            }
            v->joined[i] = j;
            v->inputs[i].data = j;
        }
    }
    v->req.inputs = v->inputs;
    return TC_OK;
}

static bool input_typed(const tc_request *req, size_t i)
{
    int t = req->data[i].typed;
    return t == TC__TYPED_TYPED || (t == TC__TYPED_DEFAULT && req->typed_contents);
}

static bool any_typed(const tc_request *req)
{
    for (size_t i = 0; i < req->base.input_count; i++) {
        if (input_typed(req, i) && req->base.inputs[i].shm.region == NULL)
            return true;
    }
    return false;
}

/* ---- typed contents ----------------------------------------------------------------- */

static uint64_t load_le(const uint8_t *p, size_t size)
{
    uint64_t v = 0;
    for (size_t i = size; i > 0; i--)
        v = (v << 8) | p[i - 1];
    return v;
}

static int64_t sign_extend(uint64_t v, size_t size)
{
    unsigned shift = (unsigned)(64 - 8 * size);
    return (int64_t)(v << shift) >> shift;
}

/* Split length-prefixed BYTES elements into bytes_contents (pointing into raw). */
static tc_code bytes_contents(const ProtobufCBinaryData *raw, pb_contents *c, tc__error *err)
{
    size_t n = 0;
    for (size_t off = 0; off + 4 <= raw->len;) {
        size_t len = (size_t)load_le(raw->data + off, 4);
        if (len > raw->len - off - 4)
            break;
        off += 4 + len;
        n++;
    }
    c->bytes_contents = tc__calloc(n ? n : 1, sizeof *c->bytes_contents);
    if (c->bytes_contents == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = (size_t)load_le(raw->data + off, 4);
        c->bytes_contents[i].data = raw->data + off + 4;
        c->bytes_contents[i].len = len;
        off += 4 + len;
    }
    c->n_bytes_contents = n;
    return TC_OK;
}

/* Allocate `count` elements of `size` for one contents member. */
static void *alloc_member(size_t count, size_t size, size_t *n_out)
{
    *n_out = count;
    return tc__calloc(count ? count : 1, size);
}

static tc_code fill_contents(tc_dtype dt, const ProtobufCBinaryData *raw, pb_contents *c,
                             tc__error *err)
{
    if (dt == TC_DTYPE_BYTES)
        return bytes_contents(raw, c, err);
    size_t es = tc_dtype_size(dt);
    if (es == 0 || dt == TC_DTYPE_FP16 || dt == TC_DTYPE_BF16)
        return tc__error_set(err, TC_E_INVALID_ARG, "datatype %s cannot be sent as typed contents",
                             tc_dtype_name(dt) ? tc_dtype_name(dt) : "?");
    size_t n = raw->len / es;
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        uint64_t v = load_le(raw->data + i * es, es);
        switch (dt) {
        case TC_DTYPE_BOOL:
            if (i == 0)
                ok = (c->bool_contents = alloc_member(n, 1, &c->n_bool_contents)) != NULL;
            if (ok)
                c->bool_contents[i] = v != 0;
            break;
        case TC_DTYPE_INT8:
        case TC_DTYPE_INT16:
        case TC_DTYPE_INT32:
            if (i == 0)
                ok = (c->int_contents = alloc_member(n, 4, &c->n_int_contents)) != NULL;
            if (ok)
                c->int_contents[i] = (int32_t)sign_extend(v, es);
            break;
        case TC_DTYPE_INT64:
            if (i == 0)
                ok = (c->int64_contents = alloc_member(n, 8, &c->n_int64_contents)) != NULL;
            if (ok)
                c->int64_contents[i] = (int64_t)v;
            break;
        case TC_DTYPE_UINT8:
        case TC_DTYPE_UINT16:
        case TC_DTYPE_UINT32:
            if (i == 0)
                ok = (c->uint_contents = alloc_member(n, 4, &c->n_uint_contents)) != NULL;
            if (ok)
                c->uint_contents[i] = (uint32_t)v;
            break;
        case TC_DTYPE_UINT64:
            if (i == 0)
                ok = (c->uint64_contents = alloc_member(n, 8, &c->n_uint64_contents)) != NULL;
            if (ok)
                c->uint64_contents[i] = v;
            break;
        case TC_DTYPE_FP32: {
            if (i == 0)
                ok = (c->fp32_contents = alloc_member(n, 4, &c->n_fp32_contents)) != NULL;
            uint32_t bits = (uint32_t)v;
            if (ok)
                memcpy(&c->fp32_contents[i], &bits, 4);
            break;
        }
        case TC_DTYPE_FP64:
            if (i == 0)
                ok = (c->fp64_contents = alloc_member(n, 8, &c->n_fp64_contents)) != NULL;
            if (ok)
                memcpy(&c->fp64_contents[i], &v, 8);
            break;
        default:
            break;
        }
    }
    return ok ? TC_OK : tc__error_set(err, TC_E_NOMEM, "out of memory");
}

static void contents_cleanup(pb_contents *c)
{
    tc__free(c->bool_contents);
    tc__free(c->int_contents);
    tc__free(c->int64_contents);
    tc__free(c->uint_contents);
    tc__free(c->uint64_contents);
    tc__free(c->fp32_contents);
    tc__free(c->fp64_contents);
    tc__free(c->bytes_contents);
}

/* Repack `m` with typed inputs' raw entries moved into `contents`. The new
 * message shares everything with `m` but its inputs and raw arrays. */
static tc_code retype(const tc_request *req, const pb_request *m, tc__buf *out, tc__error *err)
{
    size_t n = m->n_inputs;
    pb_input *ins = tc__calloc(n ? n : 1, sizeof *ins);
    pb_input **inptr = tc__calloc(n ? n : 1, sizeof *inptr);
    pb_contents *cs = tc__calloc(n ? n : 1, sizeof *cs);
    ProtobufCBinaryData *raws = tc__calloc(m->n_raw_input_contents + 1, sizeof *raws);
    tc_code rc = TC_OK;
    if (ins == NULL || inptr == NULL || cs == NULL || raws == NULL) {
        rc = tc__error_set(err, TC_E_NOMEM, "out of memory");
        goto out;
    }
    size_t k = 0;
    size_t nraw = 0;
    for (size_t i = 0; i < n && rc == TC_OK; i++) {
        ins[i] = *m->inputs[i];
        inptr[i] = &ins[i];
        pb_contents init = INFERENCE__INFER_TENSOR_CONTENTS__INIT;
        cs[i] = init;
        if (req->base.inputs[i].shm.region != NULL || k >= m->n_raw_input_contents)
            continue;
        const ProtobufCBinaryData *raw = &m->raw_input_contents[k++];
        if (!input_typed(req, i)) {
            raws[nraw++] = *raw;
            continue;
        }
        rc = fill_contents(req->base.inputs[i].dtype, raw, &cs[i], err);
        ins[i].contents = &cs[i];
    }
    if (rc == TC_OK) {
        pb_request copy = *m;
        copy.inputs = inptr;
        copy.raw_input_contents = raws;
        copy.n_raw_input_contents = nraw;
        rc = tc__pb_pack(&copy.base, out);
        if (rc != TC_OK)
            tc__error_set(err, rc, "out of memory");
    }
out:
    for (size_t i = 0; cs != NULL && i < n; i++)
        contents_cleanup(&cs[i]);
    tc__free(cs);
    tc__free(inptr);
    tc__free(ins);
    tc__free(raws);
    return rc;
}

static tc_code encode_typed(const tc_request *req, const tc__buf *packed, tc__buf *out,
                            tc__error *err)
{
    ProtobufCMessage *m = NULL;
    tc_code rc = tc__pb_unpack(&inference__model_infer_request__descriptor, packed->data,
                               packed->len, &m, err);
    if (rc == TC_OK)
        rc = retype(req, (const pb_request *)m, out, err);
    tc__pb_backing_free(m);
    return rc;
}

/* ---- framing ------------------------------------------------------------------------- */

tc_code tc__grpc_encode_infer(const tc_request *req, tc__grpc_encoding enc, size_t max_send,
                              tc__buf *out, tc__error *err)
{
    view v;
    tc__buf plain = TC__BUF_INIT;
    tc__buf typed = TC__BUF_INIT;
    size_t start = out->len;
    tc_code rc = view_init(&v, req);
    if (rc != TC_OK) {
        rc = tc__error_set(err, rc, "out of memory");
        goto out;
    }
    bool direct = enc == TC__GRPC_ENC_IDENTITY && !any_typed(req);
    if (direct) {
        /* Leave room for the prefix so the tensors are packed exactly once. */
        static const uint8_t zero[TC__GRPC_PREFIX_SIZE] = {0};
        rc = tc__buf_append(out, zero, sizeof zero);
        if (rc == TC_OK)
            rc = tc__pb_infer_request_encode(&v.req, out, err);
        size_t len = out->len - start - TC__GRPC_PREFIX_SIZE;
        if (rc == TC_OK && len > max_send)
            rc = tc__error_set(err, TC_E_INVALID_ARG,
                               "request message of %zu bytes exceeds the send limit of %zu", len,
                               max_send);
        if (rc == TC_OK)
            rc = tc__grpc_prefix_write(out->data + start, false, len);
        goto out;
    }
    rc = tc__pb_infer_request_encode(&v.req, &plain, err);
    const tc__buf *msg = &plain;
    if (rc == TC_OK && any_typed(req)) {
        rc = encode_typed(req, &plain, &typed, err);
        msg = &typed;
    }
    if (rc == TC_OK && msg->len > max_send)
        rc = tc__error_set(err, TC_E_INVALID_ARG,
                           "request message of %zu bytes exceeds the send limit of %zu", msg->len,
                           max_send);
    if (rc == TC_OK)
        rc = tc__grpc_frame_write(out, msg->data, msg->len, enc, err);
out:
    if (rc != TC_OK) {
        out->len = start;
        if (err != NULL && err->code == TC_OK)
            tc__error_set(err, rc, "cannot encode the request");
    }
    tc__buf_cleanup(&plain);
    tc__buf_cleanup(&typed);
    view_cleanup(&v);
    return rc;
}
