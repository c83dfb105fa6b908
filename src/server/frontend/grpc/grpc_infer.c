/* ModelInfer and ModelStreamInfer over the core, the jobs and items that
 * carry results from model instance threads (and load/unload workers) back
 * to the I/O thread, and the dispatch of unary RPCs. */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "frontend/grpc/grpc_internal.h"
#include "proto/v2_pb.h"

#define DECOUPLED_UNARY "ModelInfer RPC doesn't support models with decoupled transaction policy"

/* ---- jobs and items --------------------------------------------------------------------- */

static tc__grpc_job *job_new(tc__grpc_call *c)
{
    tc__grpc_job *job = tc__calloc(1, sizeof *job);
    tc__grpc_item *item = tc__calloc(1, sizeof *item);
    if (job == NULL || item == NULL) {
        tc__free(job);
        tc__free(item);
        return NULL;
    }
    job->srv = c->srv;
    job->call = c;
    job->method = c->method;
    job->final_item = item;
    atomic_fetch_add(&c->srv->jobs, 1u);
    return job;
}

void tc__grpc_job_free(tc__grpc_job *job)
{
    if (job == NULL)
        return;
    if (job->trace != NULL) {
        /* The answer has been handed to the session (or the call is gone). */
        tc__trace_stamp(job->trace, "GRPC_SEND_END");
        tc__trace_end(job->trace);
    }
    if (job->req_live)
        tc__infer_request_cleanup(&job->req);
    tc__pb_backing_free(job->backing);
    tc__free(job->msg);
    if (job->final_item != NULL) {
        tc__buf_cleanup(&job->final_item->frame);
        tc__free(job->final_item);
    }
    atomic_fetch_sub(&job->srv->jobs, 1u);
    tc__free(job);
}

void tc__grpc_item_free(tc__grpc_item *item)
{
    if (item == NULL)
        return;
    tc__buf_cleanup(&item->frame);
    if (item->final)
        tc__grpc_job_free(item->job);
    tc__free(item);
}

/* Take the job's preallocated carrier for its last result. */
static tc__grpc_item *final_item(tc__grpc_job *job)
{
    tc__grpc_item *item = job->final_item;
    job->final_item = NULL;
    item->job = job;
    item->final = true;
    item->seq = job->seq;
    return item;
}

/* ---- encoding --------------------------------------------------------------------------- */

typedef tc_code (*encode_fn)(const void *ctx, tc__buf *out, tc__error *err);

/* Append one framed message built by `fn`: straight after a reserved prefix
 * when not compressing (no extra copy of the tensors). */
static tc_code encode_framed(encode_fn fn, const void *ctx, tc__grpc_encoding enc, size_t max,
                             tc__buf *out, tc__error *err)
{
    tc__buf tmp = TC__BUF_INIT;
    tc__buf *dst = enc == TC__GRPC_ENC_IDENTITY ? out : &tmp;
    size_t start = out->len;
    static const uint8_t zero[TC__GRPC_PREFIX_SIZE] = {0};
    tc_code rc = TC_OK;
    if (dst == out)
        rc = tc__buf_append(out, zero, sizeof zero);
    if (rc == TC_OK)
        rc = fn(ctx, dst, err);
    size_t len = dst == out ? out->len - start - TC__GRPC_PREFIX_SIZE : tmp.len;
    if (rc == TC_OK && len > max)
        rc = tc__error_set(err, TC_E_INVALID_ARG,
                           "Response has byte size %zu which exceeds gRPC's byte size limit %zu",
                           len, max);
    if (rc == TC_OK && dst == out)
        rc = tc__grpc_prefix_write(out->data + start, false, len);
    else if (rc == TC_OK)
        rc = tc__grpc_frame_write(out, tmp.data, tmp.len, enc, err);
    tc__buf_cleanup(&tmp);
    if (rc != TC_OK)
        out->len = start;
    return rc;
}

static tc_code enc_infer(const void *ctx, tc__buf *out, tc__error *err)
{
    return tc__pb_infer_response_encode(ctx, out, err);
}

typedef struct stream_msg {
    const char *error;
    const tc__infer_response *resp;
} stream_msg;

static tc_code enc_stream(const void *ctx, tc__buf *out, tc__error *err)
{
    const stream_msg *m = ctx;
    return tc__pb_stream_response_encode(m->error, m->resp, out, err);
}

static tc__grpc_encoding pick_encoding(const tc__grpc_call *c)
{
    if (c->srv->opts.compression_level == TC__GRPC_LEVEL_NONE)
        return TC__GRPC_ENC_IDENTITY;
    if (c->accept_mask & TC__GRPC_ENC_BIT(TC__GRPC_ENC_GZIP))
        return TC__GRPC_ENC_GZIP;
    if (c->accept_mask & TC__GRPC_ENC_BIT(TC__GRPC_ENC_DEFLATE))
        return TC__GRPC_ENC_DEFLATE;
    return TC__GRPC_ENC_IDENTITY;
}

/* Decode a ModelInferRequest into the job. TC_E_PROTOCOL: not protobuf. */
static tc_code decode_request(tc__grpc_job *job, const uint8_t *msg, size_t len,
                              const Inference__ModelInferRequest **m, tc__error *err)
{
    ProtobufCMessage *pm = NULL;
    *m = NULL;
    tc_code rc = tc__pb_unpack(&inference__model_infer_request__descriptor, msg, len, &pm, err);
    if (rc != TC_OK)
        return rc;
    job->backing = pm;
    *m = (const Inference__ModelInferRequest *)pm;
    rc = tc__pb_infer_request_from_msg(*m, &job->req, err);
    if (rc != TC_OK) {
        memset(&job->req, 0, sizeof job->req);
        return rc;
    }
    job->req_live = true;
    job->req.cancelled = &job->call->cancelled;
    return TC_OK;
}

/* Model lookup before submission: NOT_FOUND for unknown models, and the
 * transaction policy. */
static tc_code model_policy(tc__core *core, const tc__infer_request *req, bool *decoupled,
                            tc__error *err)
{
    tc__model_handle *h = NULL;
    tc_code rc = tc__core_model_acquire(core, req->model_name != NULL ? req->model_name : "",
                                        req->model_version, &h, err);
    if (rc != TC_OK)
        return rc;
    const Inference__ModelConfig *cfg = tc__model_handle_config(h);
    *decoupled = cfg->model_transaction_policy != NULL && cfg->model_transaction_policy->decoupled;
    tc__model_handle_release(h);
    return TC_OK;
}

/* ---- ModelInfer ------------------------------------------------------------------------- */

/* Sample the decoded request; `read_start_ns` 0: the message just arrived. */
static void trace_start(tc__core *core, tc__grpc_job *job, uint64_t read_start_ns)
{
    if (!tc__core_trace_enabled(core))
        return;
    job->trace = tc__core_trace_begin(core, job->req.model_name);
    if (job->trace == NULL)
        return;
    uint64_t now = tc__now_ns();
    tc__trace_stamp_at(job->trace, "GRPC_WAITREAD_START", read_start_ns != 0 ? read_start_ns : now);
    tc__trace_stamp_at(job->trace, "GRPC_WAITREAD_END", now);
}

/* Runs on a model instance thread. */
static void unary_done(tc__infer_response *resp, const tc__error *err, void *user_data)
{
    tc__grpc_job *job = user_data;
    tc__trace_stamp(job->trace, "GRPC_SEND_START");
    tc__grpc_item *item = final_item(job);
    tc__error e;
    tc__error_clear(&e);
    if (resp == NULL)
        tc__grpc_status_from_error(&item->st, err);
    else if (encode_framed(enc_infer, resp, job->enc, job->srv->opts.max_message_size, &item->frame,
                           &e) != TC_OK)
        tc__grpc_status_from_error(&item->st, &e);
    tc__core_response_free(resp);
    tc__grpc_enqueue(job->srv, item);
}

static void infer_unary(tc__grpc_call *c, const uint8_t *msg, size_t len)
{
    tc__grpc_job *job = job_new(c);
    if (job == NULL) {
        tc__grpc_call_finish(c, TC__GRPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    tc__grpc_status st;
    st.code = 0;
    st.msg[0] = '\0';
    tc__error err;
    tc__error_clear(&err);
    c->resp_enc = job->enc = pick_encoding(c);
    const Inference__ModelInferRequest *m = NULL;
    bool decoupled = false;
    tc_code rc = decode_request(job, msg, len, &m, &err);
    if (rc == TC_OK)
        rc = model_policy(c->srv->core, &job->req, &decoupled, &err);
    if (rc == TC_OK && decoupled)
        rc = tc__error_set(&err, TC_E_NOT_SUPPORTED, DECOUPLED_UNARY);
    if (rc != TC_OK)
        goto fail;
    trace_start(c->srv->core, job, c->start_ns);
    /* Small requests to cheap models run right here (as over HTTP). */
    tc__infer_response *resp = NULL;
    rc = tc__core_infer_inline_traced(c->srv->core, &job->req, job->trace, &resp, &err);
    if (rc != TC_E_BUSY) {
        tc__trace_stamp(job->trace, "GRPC_SEND_START");
        tc__buf out = TC__BUF_INIT;
        if (resp != NULL)
            rc =
                encode_framed(enc_infer, resp, job->enc, c->srv->opts.max_message_size, &out, &err);
        tc__core_response_free(resp);
        if (resp != NULL && rc == TC_OK) {
            tc__grpc_call_send(c, out.data, out.len);
            tc__grpc_call_finish(c, 0, NULL);
        }
        tc__buf_cleanup(&out);
        if (resp == NULL || rc != TC_OK)
            goto fail;
        tc__grpc_job_free(job);
        return;
    }
    c->pending++;
    tc__error_clear(&err);
    rc = tc__core_infer_async_traced(c->srv->core, &job->req, job->trace, unary_done, job, &err);
    if (rc == TC_OK)
        return;
    c->pending--;
fail:
    tc__grpc_status_from_error(&st, &err);
    tc__grpc_call_finish_st(c, &st);
    tc__grpc_job_free(job);
}

/* ---- ModelStreamInfer ------------------------------------------------------------------- */

/* The in-band error or empty final response: id, model and the final flag
 * (`with_model` false: only the id, for requests that never ran). */
static void small_response(const tc__grpc_job *job, const char *id, bool with_model,
                           const char *error, tc__buf *frame, tc__error *err)
{
    tc__infer_response r;
    memset(&r, 0, sizeof r);
    char empty[1] = "";
    r.id = id != NULL ? (char *)(uintptr_t)id : empty;
    r.model_name = with_model && job->req.model_name != NULL ? job->req.model_name : empty;
    r.model_version = with_model && job->req.model_version != NULL ? job->req.model_version : empty;
    if (with_model && tc__pb_response_set_final(&r, true) != TC_OK) {
        tc__error_set(err, TC_E_NOMEM, "out of memory");
        return;
    }
    stream_msg m = {error, &r};
    (void)encode_framed(enc_stream, &m, job->enc, job->srv->opts.max_message_size, frame, err);
    tc__params_cleanup(&r.params);
}

/* Runs on a model instance thread, once per response. */
static void stream_done(tc__infer_response *resp, const tc__error *err, bool final, void *user_data)
{
    tc__grpc_job *job = user_data;
    if (final)
        tc__trace_stamp(job->trace, "GRPC_SEND_START");
    tc__grpc_item *item = final ? final_item(job) : tc__calloc(1, sizeof *item);
    if (item == NULL) {
        tc__log(TC_LOG_ERROR, "gRPC stream: out of memory, dropping a response");
        tc__core_response_free(resp);
        return;
    }
    item->job = job;
    item->seq = job->seq;
    tc__infer_response *owned = resp;
    tc__error e;
    tc__error_clear(&e);
    if (resp != NULL) {
        stream_msg m = {NULL, resp};
        if (tc__pb_response_set_final(resp, final) != TC_OK ||
            encode_framed(enc_stream, &m, job->enc, job->srv->opts.max_message_size, &item->frame,
                          &e) != TC_OK) {
            if (e.code == TC_OK)
                tc__error_set(&e, TC_E_NOMEM, "out of memory");
            err = &e;
            resp = NULL;
            tc__buf_reset(&item->frame);
        }
    }
    if (resp == NULL && err != NULL && err->code != TC_OK) {
        item->inference_error = true;
        tc__grpc_status_from_error(&item->st, err);
        small_response(job, job->req.id, true, item->st.msg, &item->frame, &e);
    } else if (resp == NULL && final && job->req.enable_empty_final_response) {
        small_response(job, job->req.id, true, NULL, &item->frame, &e);
    }
    tc__core_response_free(owned);
    tc__grpc_enqueue(job->srv, item);
}

static tc_code stream_submit(tc__core *core, tc__grpc_job *job, tc__error *err)
{
    return tc__core_infer_stream_traced(core, &job->req, job->trace, stream_done, job, err);
}

static void stream_write(tc__grpc_call *c, tc__grpc_item *item)
{
    if (item->inference_error && c->grpc_error_mode)
        tc__grpc_call_finish_st(c, &item->st);
    else if (item->frame.len > 0)
        tc__grpc_call_send(c, item->frame.data, item->frame.len);
    tc__grpc_item_free(item);
}

/* Non-decoupled responses (seq != 0) leave in request order; decoupled
 * ones as they come. */
static void stream_deliver(tc__grpc_call *c, tc__grpc_item *item)
{
    if (item->seq == 0) {
        stream_write(c, item);
        return;
    }
    if (item->seq != c->write_seq + 1) {
        tc__grpc_item **p = &c->held;
        while (*p != NULL && (*p)->seq < item->seq)
            p = &(*p)->next;
        item->next = *p;
        *p = item;
        return;
    }
    stream_write(c, item);
    c->write_seq++;
    while (c->held != NULL && c->held->seq == c->write_seq + 1 && !c->finished) {
        tc__grpc_item *h = c->held;
        c->held = h->next;
        stream_write(c, h);
        c->write_seq++;
    }
}

static void stream_maybe_end(tc__grpc_call *c)
{
    if (c->remote_ended && c->pending == 0 && c->held == NULL && !c->finished)
        tc__grpc_call_finish(c, 0, NULL);
}

/* A request that fails before reaching the core: an in-band error in its
 * slot, carrying only the request id. */
static void stream_reject(tc__grpc_call *c, tc__grpc_job *job, const char *id, const tc__error *err)
{
    tc__grpc_item *item = final_item(job);
    tc__grpc_status st;
    tc__grpc_status_from_error(&st, err);
    tc__error e;
    tc__error_clear(&e);
    small_response(job, id, false, st.msg, &item->frame, &e);
    c->pending++;
    tc__grpc_item_run(item);
}

void tc__grpc_stream_message(tc__grpc_call *c, const uint8_t *msg, size_t len)
{
    tc__grpc_job *job = job_new(c);
    if (job == NULL) {
        tc__grpc_call_finish(c, TC__GRPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    if (c->next_seq == 0 && c->write_seq == 0 && !c->headers_sent)
        c->resp_enc = pick_encoding(c);
    job->enc = c->resp_enc;
    job->stream = true;
    tc__error err;
    tc__error_clear(&err);
    const Inference__ModelInferRequest *m = NULL;
    tc_code rc = decode_request(job, msg, len, &m, &err);
    if (rc == TC_E_PROTOCOL || m == NULL) {
        /* Not a ModelInferRequest at all: the stream itself is broken. */
        tc__grpc_status st;
        tc__grpc_status_from_error(&st, &err);
        tc__grpc_call_finish_st(c, &st);
        tc__grpc_job_free(job);
        return;
    }
    bool decoupled = false;
    if (rc == TC_OK)
        rc = model_policy(c->srv->core, &job->req, &decoupled, &err);
    job->decoupled = decoupled;
    job->seq = decoupled && rc == TC_OK ? 0 : ++c->next_seq;
    if (rc != TC_OK) {
        stream_reject(c, job, m->id, &err);
        return;
    }
    trace_start(c->srv->core, job, 0);
    c->pending++;
    rc = stream_submit(c->srv->core, job, &err);
    if (rc != TC_OK) {
        c->pending--;
        stream_reject(c, job, m->id, &err);
    }
}

void tc__grpc_stream_end(tc__grpc_call *c)
{
    stream_maybe_end(c);
}

/* ---- items on the I/O thread ------------------------------------------------------------ */

void tc__grpc_item_run(tc__grpc_item *item)
{
    tc__grpc_job *job = item->job;
    tc__grpc_call *c = job->call;
    if (item->final)
        c->pending--;
    if (c->closed || c->finished || c->conn == NULL) {
        tc__grpc_item_free(item);
        tc__grpc_call_maybe_free(c);
        return;
    }
    if (!job->stream) {
        if (item->st.code != 0) {
            tc__grpc_call_finish_st(c, &item->st);
        } else {
            tc__grpc_call_send(c, item->frame.data, item->frame.len);
            tc__grpc_call_finish(c, 0, NULL);
        }
        tc__grpc_item_free(item);
        return;
    }
    stream_deliver(c, item);
    stream_maybe_end(c);
}

/* ---- unary dispatch --------------------------------------------------------------------- */

static tc_code unary_reply(tc__buf *out, const tc__buf *body, tc__error *err)
{
    return tc__grpc_frame_write(out, body->data != NULL ? body->data : (const uint8_t *)"",
                                body->len, TC__GRPC_ENC_IDENTITY, err);
}

static void *worker_main(void *arg)
{
    tc__grpc_job *job = arg;
    tc__grpc_server *srv = job->srv;
    tc__grpc_item *item = final_item(job);
    tc__buf body = TC__BUF_INIT;
    tc__grpc_unary_run(srv, job->method, job->msg, job->len, &body, &item->st);
    tc__error err;
    tc__error_clear(&err);
    if (item->st.code == 0 && unary_reply(&item->frame, &body, &err) != TC_OK)
        tc__grpc_status_from_error(&item->st, &err);
    tc__buf_cleanup(&body);
    tc__grpc_enqueue(srv, item);
    atomic_fetch_sub(&srv->workers, 1u);
    return NULL;
}

static void run_inline(tc__grpc_call *c, const uint8_t *msg, size_t len)
{
    tc__buf body = TC__BUF_INIT;
    tc__buf out = TC__BUF_INIT;
    tc__grpc_status st;
    st.code = 0;
    st.msg[0] = '\0';
    tc__grpc_unary_run(c->srv, c->method, msg, len, &body, &st);
    tc__error err;
    tc__error_clear(&err);
    if (st.code == 0 && unary_reply(&out, &body, &err) != TC_OK)
        tc__grpc_status_from_error(&st, &err);
    if (st.code == 0)
        tc__grpc_call_send(c, out.data, out.len);
    tc__grpc_call_finish_st(c, &st);
    tc__buf_cleanup(&body);
    tc__buf_cleanup(&out);
}

/* Model load/unload may take long: a thread of their own keeps the I/O
 * thread serving everyone else meanwhile. */
static void run_worker(tc__grpc_call *c, const uint8_t *msg, size_t len)
{
    tc__grpc_job *job = job_new(c);
    if (job != NULL)
        job->msg = tc__memdup(msg, len);
    if (job == NULL || job->msg == NULL) {
        tc__grpc_job_free(job);
        tc__grpc_call_finish(c, TC__GRPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    job->len = len;
    c->pending++;
    atomic_fetch_add(&c->srv->workers, 1u);
    pthread_attr_t attr;
    pthread_t t;
    bool started = pthread_attr_init(&attr) == 0;
    if (started) {
        (void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        started = pthread_create(&t, &attr, worker_main, job) == 0;
        (void)pthread_attr_destroy(&attr);
    }
    if (started)
        return;
    atomic_fetch_sub(&c->srv->workers, 1u);
    c->pending--;
    tc__grpc_job_free(job);
    run_inline(c, msg, len);
}

void tc__grpc_dispatch_unary(tc__grpc_call *c)
{
    const uint8_t *msg = c->unary_msg.data != NULL ? c->unary_msg.data : (const uint8_t *)"";
    size_t len = c->unary_msg.len;
    if (c->method == TC__GRPC_M_MODEL_INFER)
        infer_unary(c, msg, len);
    else if (tc__grpc_unary_blocks(c->method))
        run_worker(c, msg, len);
    else
        run_inline(c, msg, len);
}
