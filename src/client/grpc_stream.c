/* tc_stream: one ModelStreamInfer call on the client's connection.
 *
 * Lifetime: the stream is referenced by its user (until tc_stream_free) and
 * by the connection (until its end callback returned); the last reference
 * frees it. `call` belongs to the connection until the call is done, then
 * to the stream's done handler, which clears `call` under `mu` first.
 * Lock order: the stream's mu before the connection's. */
#include "client/grpc_internal.h"

#include <stdio.h>
#include <string.h>

#include "client/request_internal.h"
#include "client/result_internal.h"
#include "common/alloc.h"
#include "common/timeutil.h"
#include "proto/v2_pb.h"

#define STREAM_PATH "/inference.GRPCInferenceService/ModelStreamInfer"

struct tc_stream {
    tc__gconn *conn; /* not touched once `ended` */
    tc_stream_cb cb;
    void *ud;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    tc__gcall *call; /* lock: mu; NULL once done */
    bool ended;      /* lock: mu; the end callback returned */
    int refs;        /* lock: mu */
    tc_code status;  /* lock: mu (written before the end callback) */
    char msg[TC__ERROR_MSG_MAX];
    /* Stamps of requests sent and not yet finally answered, oldest first
     * (lock: mu): [i][0] REQUEST_START, [i][1] SEND_START. */
    uint64_t (*sent)[2];
    size_t sent_head;
    size_t sent_len;
    size_t sent_cap;
};

/* Queue the stamps of one sent request (lock: mu). Dropped on allocation
 * failure: the responses then lack their send stamps. */
static void sent_push(tc_stream *s, uint64_t request_ns, uint64_t send_ns)
{
    if (s->sent_head > 0 && s->sent_head == s->sent_len) {
        s->sent_head = 0;
        s->sent_len = 0;
    }
    if (s->sent_len == s->sent_cap) {
        if (s->sent_head > 0) {
            memmove(s->sent, s->sent + s->sent_head, (s->sent_len - s->sent_head) * sizeof *s->sent);
            s->sent_len -= s->sent_head;
            s->sent_head = 0;
        } else {
            size_t cap = s->sent_cap == 0 ? 16 : s->sent_cap * 2;
            void *p = tc__realloc(s->sent, cap * sizeof *s->sent);
            if (p == NULL)
                return;
            s->sent = p;
            s->sent_cap = cap;
        }
    }
    s->sent[s->sent_len][0] = request_ns;
    s->sent[s->sent_len][1] = send_ns;
    s->sent_len++;
}

/* Give `r` the stamps of the oldest unanswered request and of the
 * response just decoded; a final response retires that request. */
static void stream_stamp(tc_stream *s, tc__gcall *call, tc_result *r, bool final)
{
    tc__timers *t = &r->timers;
    (void)pthread_mutex_lock(&s->mu);
    if (s->sent_head < s->sent_len) {
        t->ns[TC_TIMER_REQUEST_START] = s->sent[s->sent_head][0];
        t->ns[TC_TIMER_SEND_START] = s->sent[s->sent_head][1];
        if (final)
            s->sent_head++;
    }
    (void)pthread_mutex_unlock(&s->mu);
    uint64_t now = tc__now_ns();
    uint64_t send_end = call->timers.ns[TC_TIMER_SEND_END];
    if (t->ns[TC_TIMER_SEND_START] != 0)
        t->ns[TC_TIMER_SEND_END] =
            send_end >= t->ns[TC_TIMER_SEND_START] ? send_end : t->ns[TC_TIMER_SEND_START];
    uint64_t recv = call->timers.ns[TC_TIMER_RECV_START];
    t->ns[TC_TIMER_RECV_START] = recv != 0 ? recv : now;
    call->timers.ns[TC_TIMER_RECV_START] = 0; /* the next message marks it again */
    t->ns[TC_TIMER_RECV_END] = now;
}

static void stream_unref(tc_stream *s)
{
    (void)pthread_mutex_lock(&s->mu);
    int left = --s->refs;
    (void)pthread_mutex_unlock(&s->mu);
    if (left > 0)
        return;
    (void)pthread_cond_destroy(&s->cv);
    (void)pthread_mutex_destroy(&s->mu);
    tc__free(s->sent);
    tc__free(s);
}

static void deliver_response(void *a, void *b, bool final)
{
    tc_stream *s = a;
    tc__result_finish_timers(b, NULL);
    s->cb(s, b, final, s->ud);
}

/* One ModelStreamInferResponse -> one result for the callback. */
static tc_code stream_on_msg(tc__gcall *call, const uint8_t *msg, size_t len)
{
    tc_stream *s = call->ud;
    tc_result *r = tc__result_new();
    if (r == NULL)
        return TC_E_NOMEM;
    char *errmsg = NULL;
    bool has = false;
    tc__error e;
    tc__error_clear(&e);
    tc_code rc = tc__pb_stream_response_decode(msg, len, &errmsg, &r->resp, &has, &r->pb_backing,
                                               &e);
    bool final = true;
    if (rc != TC_OK)
        tc__result_set_error(r, rc == TC_E_NOMEM ? TC_E_NOMEM : TC_E_PROTOCOL, 0, e.msg);
    else if (errmsg != NULL && errmsg[0] != '\0')
        tc__result_set_error(r, TC_E_SERVER, 0, errmsg);
    else
        tc__result_set_error(r, TC_OK, 0, NULL);
    if (rc == TC_OK && has)
        final = tc__pb_response_is_final(&r->resp);
    tc__free(errmsg);
    stream_stamp(s, call, r, final);
    if (tc__gconn_deliver(call->conn, deliver_response, s, r, final) != TC_OK) {
        tc_result_free(r);
        return TC_E_NOMEM;
    }
    return TC_OK;
}

static void stream_done(tc__gcall *call)
{
    tc_stream *s = call->ud;
    (void)pthread_mutex_lock(&s->mu);
    s->call = NULL;
    s->status = call->err.code;
    snprintf(s->msg, sizeof s->msg, "%s", call->err.code == TC_OK ? "" : call->err.msg);
    (void)pthread_mutex_unlock(&s->mu);
    tc__gcall_free(call);
    s->cb(s, NULL, true, s->ud);
    (void)pthread_mutex_lock(&s->mu);
    s->ended = true;
    (void)pthread_cond_broadcast(&s->cv);
    (void)pthread_mutex_unlock(&s->mu);
    stream_unref(s);
}

tc_code tc__grpc_stream_start(tc_client *c, tc_stream_cb cb, void *ud, const tc__hlist *h,
                              tc_stream **out)
{
    tc__grpc_client *gc = (tc__grpc_client *)c;
    tc__error err;
    tc__error_clear(&err);
    tc_stream *s = tc__calloc(1, sizeof *s);
    tc__gcall *call = NULL;
    if (s == NULL)
        return tc__client_fail(c, TC_E_NOMEM, "out of memory");
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        tc__free(s);
        return tc__client_fail(c, TC_E_NOMEM, "out of memory");
    }
    if (pthread_cond_init(&s->cv, NULL) != 0) {
        (void)pthread_mutex_destroy(&s->mu);
        tc__free(s);
        return tc__client_fail(c, TC_E_NOMEM, "out of memory");
    }
    s->conn = gc->conn;
    s->cb = cb;
    s->ud = ud;
    s->refs = 2;
    s->status = TC_E_UNAVAILABLE;
    tc_code rc = tc__gconn_start_thread(gc->conn, &err);
    if (rc == TC_OK) {
        call = tc__gcall_new(gc->conn, STREAM_PATH);
        if (call == NULL)
            rc = tc__error_set(&err, TC_E_NOMEM, "out of memory");
    }
    if (rc == TC_OK) {
        call->streaming = true;
        call->enc = tc__grpc_encoding_of(gc->opts.compression);
        call->on_msg = stream_on_msg;
        call->on_done = stream_done;
        call->ud = s;
        s->call = call;
        rc = tc__hlist_copy(&call->headers, h);
        if (rc != TC_OK)
            tc__error_set(&err, rc, "out of memory");
    }
    if (rc == TC_OK)
        rc = tc__gconn_submit(gc->conn, call, &err);
    if (rc != TC_OK) {
        tc__gcall_free(call);
        (void)pthread_cond_destroy(&s->cv);
        (void)pthread_mutex_destroy(&s->mu);
        tc__free(s);
        return tc__client_fail_err(c, &err);
    }
    *out = s;
    return TC_OK;
}

tc_code tc_stream_send(tc_stream *stream, const tc_request *req)
{
    if (stream == NULL || req == NULL)
        return TC_E_INVALID_ARG;
    uint64_t start_ns = tc__now_ns();
    tc__buf framed = TC__BUF_INIT;
    tc__error err;
    tc__error_clear(&err);
    (void)pthread_mutex_lock(&stream->mu);
    tc__gcall *call = stream->call;
    tc_code rc = call == NULL ? TC_E_CANCELLED : TC_OK;
    /* The call's encoding and limits never change: reading them under mu is safe. */
    if (rc == TC_OK)
        rc = tc__grpc_encode_infer(req, call->enc, tc__gconn_max_send(stream->conn), &framed,
                                   &err);
    if (rc == TC_OK) {
        pthread_mutex_t *cmu = tc__gconn_mutex(stream->conn);
        (void)pthread_mutex_lock(cmu);
        if (call->finished || call->half_close || call->cancel) {
            rc = TC_E_CANCELLED;
        } else if (call->pend.len == 0) {
            tc__buf tmp = call->pend;
            call->pend = framed;
            framed = tmp;
        } else {
            rc = tc__buf_append(&call->pend, framed.data, framed.len);
        }
        (void)pthread_mutex_unlock(cmu);
    }
    if (rc == TC_OK)
        sent_push(stream, start_ns, tc__now_ns());
    (void)pthread_mutex_unlock(&stream->mu);
    if (rc == TC_OK)
        tc__gconn_wake(stream->conn);
    tc__buf_cleanup(&framed);
    return rc;
}

tc_code tc_stream_stop(tc_stream *stream, bool cancel)
{
    if (stream == NULL)
        return TC_E_INVALID_ARG;
    (void)pthread_mutex_lock(&stream->mu);
    if (stream->ended) {
        tc_code st = stream->status;
        (void)pthread_mutex_unlock(&stream->mu);
        return st;
    }
    tc__gconn *conn = stream->conn;
    if (stream->call != NULL) {
        pthread_mutex_t *cmu = tc__gconn_mutex(conn);
        (void)pthread_mutex_lock(cmu);
        if (cancel)
            stream->call->cancel = true;
        else
            stream->call->half_close = true;
        (void)pthread_mutex_unlock(cmu);
    }
    (void)pthread_mutex_unlock(&stream->mu);
    tc__gconn_wake(conn);
    if (tc__gconn_on_thread(conn))
        return TC_OK;
    (void)pthread_mutex_lock(&stream->mu);
    while (!stream->ended)
        (void)pthread_cond_wait(&stream->cv, &stream->mu);
    tc_code st = stream->status;
    (void)pthread_mutex_unlock(&stream->mu);
    return st;
}

void tc_stream_free(tc_stream *stream)
{
    if (stream == NULL)
        return;
    (void)pthread_mutex_lock(&stream->mu);
    bool ended = stream->ended;
    bool in_end = stream->call == NULL; /* the done handler runs (or ran) */
    (void)pthread_mutex_unlock(&stream->mu);
    if (!ended && !in_end)
        (void)tc_stream_stop(stream, true);
    stream_unref(stream);
}

tc_code tc_stream_status(const tc_stream *stream)
{
    if (stream == NULL)
        return TC_E_INVALID_ARG;
    tc_stream *s = (tc_stream *)(uintptr_t)stream;
    (void)pthread_mutex_lock(&s->mu);
    tc_code st = s->status;
    (void)pthread_mutex_unlock(&s->mu);
    return st;
}

const char *tc_stream_error_message(const tc_stream *stream)
{
    if (stream == NULL)
        return "NULL stream";
    return stream->msg;
}
