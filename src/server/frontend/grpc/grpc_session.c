/* nghttp2 callbacks and the per-call state machine: request headers,
 * length-prefixed messages in, response headers + DATA + trailers out,
 * Trailers-Only for early errors, keepalive pings and deadlines. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/log.h"
#include "frontend/grpc/grpc_internal.h"

#define SERVICE "/inference.GRPCInferenceService/"

static const struct route {
    const char *name;
    tc__grpc_method method;
} k_routes[] = {
    {"ServerLive", TC__GRPC_M_SERVER_LIVE},
    {"ServerReady", TC__GRPC_M_SERVER_READY},
    {"ModelReady", TC__GRPC_M_MODEL_READY},
    {"ServerMetadata", TC__GRPC_M_SERVER_METADATA},
    {"ModelMetadata", TC__GRPC_M_MODEL_METADATA},
    {"ModelInfer", TC__GRPC_M_MODEL_INFER},
    {"ModelStreamInfer", TC__GRPC_M_MODEL_STREAM_INFER},
    {"ModelConfig", TC__GRPC_M_MODEL_CONFIG},
    {"ModelStatistics", TC__GRPC_M_MODEL_STATISTICS},
    {"RepositoryIndex", TC__GRPC_M_REPO_INDEX},
    {"RepositoryModelLoad", TC__GRPC_M_REPO_LOAD},
    {"RepositoryModelUnload", TC__GRPC_M_REPO_UNLOAD},
    {"SystemSharedMemoryStatus", TC__GRPC_M_SYS_SHM_STATUS},
    {"SystemSharedMemoryRegister", TC__GRPC_M_SYS_SHM_REGISTER},
    {"SystemSharedMemoryUnregister", TC__GRPC_M_SYS_SHM_UNREGISTER},
    {"CudaSharedMemoryStatus", TC__GRPC_M_CUDA_SHM_STATUS},
    {"CudaSharedMemoryRegister", TC__GRPC_M_CUDA_SHM_REGISTER},
    {"CudaSharedMemoryUnregister", TC__GRPC_M_CUDA_SHM_UNREGISTER},
    {"TraceSetting", TC__GRPC_M_TRACE_SETTING},
    {"LogSettings", TC__GRPC_M_LOG_SETTINGS},
};

static tc__grpc_method route(const char *path)
{
    if (strcmp(path, "/grpc.health.v1.Health/Check") == 0)
        return TC__GRPC_M_HEALTH_CHECK;
    if (strncmp(path, SERVICE, sizeof SERVICE - 1) != 0)
        return TC__GRPC_M_UNKNOWN;
    const char *name = path + sizeof SERVICE - 1;
    for (size_t i = 0; i < sizeof k_routes / sizeof k_routes[0]; i++) {
        if (strcmp(name, k_routes[i].name) == 0)
            return k_routes[i].method;
    }
    return TC__GRPC_M_UNKNOWN;
}

static nghttp2_nv nv(const char *name, const char *value, size_t value_len)
{
    nghttp2_nv h = {(uint8_t *)(uintptr_t)name, (uint8_t *)(uintptr_t)value, strlen(name),
                    value_len, NGHTTP2_NV_FLAG_NONE};
    return h;
}

#define NV_LIT(n, v) nv((n), (v), sizeof(v) - 1)

/* ---- call lifetime ---------------------------------------------------------------------- */

static tc__grpc_call *call_new(tc__grpc_conn *conn, int32_t stream_id)
{
    tc__grpc_call *c = tc__calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->srv = conn->srv;
    c->conn = conn;
    c->stream_id = stream_id;
    c->accept_mask = TC__GRPC_ENC_BIT(TC__GRPC_ENC_IDENTITY);
    if (tc__core_trace_enabled(conn->srv->core))
        c->start_ns = tc__now_ns(); /* GRPC_WAITREAD_START of a traced ModelInfer */
    c->next = conn->calls;
    if (conn->calls != NULL)
        conn->calls->prev = c;
    conn->calls = c;
    conn->call_count++;
    return c;
}

/* Calls with a deadline are counted (from their start) so the timer scan
 * can be skipped when there are none. */
static void clear_deadline(tc__grpc_call *c)
{
    if (c->deadline_ms != 0 && c->started)
        c->srv->deadline_calls--;
    c->deadline_ms = 0;
}

/* Unlink from the connection: the stream is gone. */
static void call_detach(tc__grpc_call *c)
{
    tc__grpc_conn *conn = c->conn;
    if (conn == NULL)
        return;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        conn->calls = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    conn->call_count--;
    c->conn = NULL;
    c->closed = true;
    clear_deadline(c);
    if (c->pending > 0)
        atomic_store(&c->cancelled, true); /* nobody is left to answer */
}

void tc__grpc_call_maybe_free(tc__grpc_call *c)
{
    if (c == NULL || !c->closed || c->pending > 0)
        return;
    while (c->held != NULL) {
        tc__grpc_item *it = c->held;
        c->held = it->next;
        tc__grpc_item_free(it);
    }
    tc__grpc_reader_free(c->reader);
    tc__buf_cleanup(&c->unary_msg);
    tc__buf_cleanup(&c->out);
    tc__free(c->path);
    tc__free(c->status_msg);
    tc__free(c);
}

void tc__grpc_conn_release(tc__grpc_conn *conn)
{
    while (conn->calls != NULL) {
        tc__grpc_call *c = conn->calls;
        call_detach(c);
        tc__grpc_call_maybe_free(c);
    }
    nghttp2_session_del(conn->session);
    conn->session = NULL;
}

/* ---- responses -------------------------------------------------------------------------- */

static ssize_t read_data(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                         uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
    (void)user_data;
    tc__grpc_call *c = source->ptr;
    size_t avail = c->out.len - c->out_off;
    if (avail > 0) {
        size_t n = avail < length ? avail : length;
        memcpy(buf, c->out.data + c->out_off, n);
        c->out_off += n;
        if (c->out_off == c->out.len) {
            tc__buf_reset(&c->out);
            c->out_off = 0;
        }
        return (ssize_t)n;
    }
    if (!c->finished) {
        c->deferred = true;
        return NGHTTP2_ERR_DEFERRED;
    }
    /* Everything is out: the trailers end the stream. */
    char code[16];
    (void)snprintf(code, sizeof code, "%d", c->status);
    nghttp2_nv trailers[2];
    size_t n = 0;
    trailers[n++] = nv("grpc-status", code, strlen(code));
    tc__buf enc = TC__BUF_INIT;
    if (c->status_msg != NULL && c->status_msg[0] != '\0' &&
        tc__grpc_message_encode(c->status_msg, strlen(c->status_msg), &enc) == TC_OK)
        trailers[n++] = nv("grpc-message", (const char *)enc.data, enc.len);
    int rv = nghttp2_submit_trailer(session, stream_id, trailers, n);
    tc__buf_cleanup(&enc);
    if (rv != 0)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    *data_flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
    return 0;
}

static void send_headers(tc__grpc_call *c)
{
    nghttp2_nv h[4];
    size_t n = 0;
    h[n++] = NV_LIT(":status", "200");
    h[n++] = NV_LIT("content-type", "application/grpc");
    const char *enc = tc__grpc_encoding_name(c->resp_enc);
    if (c->resp_enc != TC__GRPC_ENC_IDENTITY && enc != NULL)
        h[n++] = nv("grpc-encoding", enc, strlen(enc));
    h[n++] = NV_LIT("grpc-accept-encoding", "identity, deflate, gzip");
    nghttp2_data_provider prd;
    prd.source.ptr = c;
    prd.read_callback = read_data;
    if (nghttp2_submit_response(c->conn->session, c->stream_id, h, n, &prd) == 0)
        c->headers_sent = true;
    else
        (void)nghttp2_submit_rst_stream(c->conn->session, NGHTTP2_FLAG_NONE, c->stream_id,
                                        NGHTTP2_INTERNAL_ERROR);
}

static void kick(tc__grpc_call *c)
{
    if (!c->headers_sent) {
        send_headers(c);
    } else if (c->deferred) {
        c->deferred = false;
        (void)nghttp2_session_resume_data(c->conn->session, c->stream_id);
    }
}

void tc__grpc_call_send(tc__grpc_call *c, const uint8_t *data, size_t len)
{
    if (c->conn == NULL || c->finished)
        return;
    if (tc__buf_append(&c->out, data, len) != TC_OK) {
        tc__grpc_call_finish(c, TC__GRPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    kick(c);
}

/* Errors before any response byte: one HEADERS frame with END_STREAM. */
static void trailers_only(tc__grpc_call *c)
{
    char code[16];
    (void)snprintf(code, sizeof code, "%d", c->status);
    nghttp2_nv h[4];
    size_t n = 0;
    h[n++] = NV_LIT(":status", "200");
    h[n++] = NV_LIT("content-type", "application/grpc");
    h[n++] = nv("grpc-status", code, strlen(code));
    tc__buf enc = TC__BUF_INIT;
    if (c->status_msg != NULL && c->status_msg[0] != '\0' &&
        tc__grpc_message_encode(c->status_msg, strlen(c->status_msg), &enc) == TC_OK)
        h[n++] = nv("grpc-message", (const char *)enc.data, enc.len);
    if (nghttp2_submit_response(c->conn->session, c->stream_id, h, n, NULL) == 0)
        c->headers_sent = true;
    tc__buf_cleanup(&enc);
}

void tc__grpc_call_finish(tc__grpc_call *c, int status, const char *msg)
{
    if (c->finished)
        return;
    c->finished = true;
    clear_deadline(c);
    if (c->conn == NULL)
        return;
    c->status = status;
    c->status_msg = tc__strdup(msg != NULL ? msg : "");
    c->rst_after_end = !c->remote_ended;
    if (status != 0)
        tc__log(TC_LOG_VERBOSE, "gRPC %s -> status %d: %s", c->path != NULL ? c->path : "?", status,
                msg != NULL ? msg : "");
    if (!c->headers_sent && c->out.len == c->out_off)
        trailers_only(c);
    else
        kick(c);
}

void tc__grpc_call_finish_st(tc__grpc_call *c, const tc__grpc_status *st)
{
    tc__grpc_call_finish(c, st->code, st->msg);
}

/* A plain HTTP error (not gRPC): wrong method or content type. */
static void http_error(tc__grpc_call *c, const char *status)
{
    c->finished = true;
    clear_deadline(c);
    c->rst_after_end = !c->remote_ended;
    nghttp2_nv h[1] = {nv(":status", status, strlen(status))};
    if (nghttp2_submit_response(c->conn->session, c->stream_id, h, 1, NULL) == 0)
        c->headers_sent = true;
}

/* ---- requests --------------------------------------------------------------------------- */

static void set_deadline(tc__grpc_call *c, const uint8_t *v, size_t len)
{
    uint64_t us = 0;
    if (tc__grpc_timeout_parse((const char *)v, len, &us) != TC_OK)
        return; /* malformed: no deadline, as grpc does */
    uint64_t ms = us / 1000 + (us % 1000 != 0 ? 1 : 0);
    c->deadline_ms = tc__grpc_now_ms() + (ms > 0 ? ms : 1);
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *user_data)
{
    (void)flags;
    (void)user_data;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    tc__grpc_call *c = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (c == NULL)
        return 0;
    const char *n = (const char *)name;
    const char *v = (const char *)value;
    if (namelen == 5 && memcmp(n, ":path", 5) == 0) {
        tc__free(c->path);
        c->path = tc__strndup(v, valuelen);
        if (c->path == NULL)
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    } else if (namelen == 7 && memcmp(n, ":method", 7) == 0) {
        c->post = valuelen == 4 && memcmp(v, "POST", 4) == 0;
    } else if (namelen == 12 && memcmp(n, "content-type", 12) == 0) {
        c->content_type_ok = valuelen >= 16 && strncasecmp(v, "application/grpc", 16) == 0 &&
                             (valuelen == 16 || v[16] == '+' || v[16] == ';');
    } else if (namelen == 13 && memcmp(n, "grpc-encoding", 13) == 0) {
        c->req_enc = tc__grpc_encoding_parse(v, valuelen);
    } else if (namelen == 20 && memcmp(n, "grpc-accept-encoding", 20) == 0) {
        c->accept_mask = tc__grpc_accept_encoding_parse(v, valuelen);
    } else if (namelen == 12 && memcmp(n, "grpc-timeout", 12) == 0) {
        set_deadline(c, value, valuelen);
    } else if (namelen == 17 && memcmp(n, "triton_grpc_error", 17) == 0) {
        c->grpc_error_mode = valuelen == 4 && strncasecmp(v, "true", 4) == 0;
    }
    return 0;
}

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    tc__grpc_conn *conn = user_data;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    tc__grpc_call *c = call_new(conn, frame->hd.stream_id);
    if (c == NULL)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    (void)nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, c);
    return 0;
}

/* All request headers are in: check them and route. */
static void call_start(tc__grpc_call *c)
{
    c->started = true;
    if (c->deadline_ms != 0)
        c->srv->deadline_calls++;
    if (!c->post) {
        http_error(c, "405");
        return;
    }
    if (!c->content_type_ok) {
        http_error(c, "415");
        return;
    }
    c->method = c->path != NULL ? route(c->path) : TC__GRPC_M_UNKNOWN;
    if (c->method == TC__GRPC_M_UNKNOWN) {
        char msg[300];
        (void)snprintf(msg, sizeof msg, "Method not found: %.200s", c->path ? c->path : "");
        tc__grpc_call_finish(c, TC__GRPC_UNIMPLEMENTED, msg);
        return;
    }
    if (c->req_enc == TC__GRPC_ENC_UNKNOWN) {
        tc__grpc_call_finish(c, TC__GRPC_UNIMPLEMENTED,
                             "grpc-encoding is not supported (use identity, deflate or gzip)");
        return;
    }
    if (c->srv->quiescing) {
        tc__grpc_call_finish(c, TC__GRPC_UNAVAILABLE,
                             "GRPC server is shutting down and has stopped accepting new "
                             "requests.");
        return;
    }
    if (tc__grpc_reader_new(&c->reader, c->srv->opts.max_message_size, c->req_enc) != TC_OK)
        tc__grpc_call_finish(c, TC__GRPC_RESOURCE_EXHAUSTED, "out of memory");
}

static void reader_error(tc__grpc_call *c, tc_code rc, const tc__error *err)
{
    int code = rc == TC_E_INVALID_ARG ? TC__GRPC_RESOURCE_EXHAUSTED
               : rc == TC_E_NOMEM     ? TC__GRPC_RESOURCE_EXHAUSTED
                                      : TC__GRPC_INTERNAL;
    tc__grpc_call_finish(c, code, err->msg[0] != '\0' ? err->msg : "malformed gRPC message");
}

static void on_message(tc__grpc_call *c, const uint8_t *msg, size_t len)
{
    if (c->method == TC__GRPC_M_MODEL_STREAM_INFER) {
        tc__grpc_stream_message(c, msg, len);
        return;
    }
    if (c->msg_count++ > 0) {
        tc__grpc_call_finish(c, TC__GRPC_INTERNAL,
                             "more than one request message on a unary "
                             "call");
        return;
    }
    if (tc__buf_append(&c->unary_msg, msg, len) != TC_OK)
        tc__grpc_call_finish(c, TC__GRPC_RESOURCE_EXHAUSTED, "out of memory");
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id,
                         const uint8_t *data, size_t len, void *user_data)
{
    (void)flags;
    (void)user_data;
    tc__grpc_call *c = nghttp2_session_get_stream_user_data(session, stream_id);
    if (c == NULL || !c->started || c->finished || c->reader == NULL)
        return 0;
    tc__error err;
    tc__error_clear(&err);
    while (!c->finished) {
        size_t used = 0;
        tc_code rc = tc__grpc_reader_feed(c->reader, data, len, &used, &err);
        if (rc != TC_OK) {
            reader_error(c, rc, &err);
            return 0;
        }
        data += used;
        len -= used;
        bool got = false;
        while (!c->finished) {
            const uint8_t *msg = NULL;
            size_t mlen = 0;
            rc = tc__grpc_reader_next(c->reader, &msg, &mlen, NULL, &err);
            if (rc == TC_E_NOT_FOUND)
                break;
            if (rc != TC_OK) {
                reader_error(c, rc, &err);
                return 0;
            }
            got = true;
            on_message(c, msg, mlen);
        }
        if (len == 0 || (used == 0 && !got))
            break;
    }
    return 0;
}

static void remote_end(tc__grpc_call *c)
{
    c->remote_ended = true;
    if (!c->started || c->finished)
        return;
    tc__error err;
    tc__error_clear(&err);
    if (tc__grpc_reader_finish(c->reader, &err) != TC_OK) {
        tc__grpc_call_finish(c, TC__GRPC_INTERNAL, err.msg);
        return;
    }
    if (c->method == TC__GRPC_M_MODEL_STREAM_INFER) {
        tc__grpc_stream_end(c);
        return;
    }
    if (c->msg_count == 0) {
        tc__grpc_call_finish(c, TC__GRPC_INTERNAL, "no request message on a unary call");
        return;
    }
    tc__grpc_dispatch_unary(c);
}

static void on_ping(tc__grpc_conn *conn, const nghttp2_frame *frame)
{
    if (frame->hd.flags & NGHTTP2_FLAG_ACK) {
        conn->ping_outstanding = false;
        return;
    }
    const tc__grpc_options *o = &conn->srv->opts;
    uint64_t now = tc__grpc_now_ms();
    uint64_t interval = conn->call_count == 0 && !o->keepalive_permit_without_calls
                            ? 7200000u
                            : (uint64_t)o->min_recv_ping_interval_without_data_ms;
    if (conn->last_ping_recv_ms != 0 && now - conn->last_ping_recv_ms < interval) {
        conn->ping_strikes++;
        if (o->max_ping_strikes > 0 && conn->ping_strikes > (uint64_t)o->max_ping_strikes &&
            !conn->goaway_sent) {
            static const char why[] = "too_many_pings";
            conn->goaway_sent = true;
            (void)nghttp2_submit_goaway(conn->session, NGHTTP2_FLAG_NONE,
                                        nghttp2_session_get_last_proc_stream_id(conn->session),
                                        NGHTTP2_ENHANCE_YOUR_CALM, (const uint8_t *)why,
                                        sizeof why - 1);
        }
    }
    conn->last_ping_recv_ms = now;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    tc__grpc_conn *conn = user_data;
    if (frame->hd.type == NGHTTP2_PING) {
        on_ping(conn, frame);
        return 0;
    }
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
        return 0;
    tc__grpc_call *c = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (c == NULL)
        return 0;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST &&
        !c->started)
        call_start(c);
    if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
        remote_end(c);
    return 0;
}

static int on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    tc__grpc_conn *conn = user_data;
    if (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) {
        /* Data flows: the ping policies start over (as grpc does). */
        conn->pings_without_data = 0;
        conn->ping_strikes = 0;
        conn->last_ping_recv_ms = 0;
    }
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
        tc__grpc_call *c = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
        if (c != NULL && c->rst_after_end && !c->remote_ended)
            (void)nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
                                            NGHTTP2_NO_ERROR);
    }
    return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
                           void *user_data)
{
    (void)error_code;
    (void)user_data;
    tc__grpc_call *c = nghttp2_session_get_stream_user_data(session, stream_id);
    if (c == NULL)
        return 0;
    (void)nghttp2_session_set_stream_user_data(session, stream_id, NULL);
    call_detach(c);
    tc__grpc_call_maybe_free(c);
    return 0;
}

static ssize_t read_length(nghttp2_session *session, uint8_t frame_type, int32_t stream_id,
                           int32_t session_window, int32_t stream_window, uint32_t peer_max,
                           void *user_data)
{
    (void)session;
    (void)frame_type;
    (void)stream_id;
    (void)user_data;
    int32_t w = session_window < stream_window ? session_window : stream_window;
    ssize_t n = (ssize_t)peer_max;
    if (w < n)
        n = w;
    return n > 0 ? n : 1;
}

nghttp2_session_callbacks *tc__grpc_callbacks_new(void)
{
    nghttp2_session_callbacks *cbs = NULL;
    if (nghttp2_session_callbacks_new(&cbs) != 0)
        return NULL;
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_send);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
    nghttp2_session_callbacks_set_data_source_read_length_callback(cbs, read_length);
    return cbs;
}

/* ---- timers ----------------------------------------------------------------------------- */

void tc__grpc_conn_timers(tc__grpc_conn *conn, uint64_t now)
{
    const tc__grpc_options *o = &conn->srv->opts;
    if (conn->srv->deadline_calls > 0) {
        for (tc__grpc_call *c = conn->calls; c != NULL; c = c->next) {
            if (c->deadline_ms != 0 && !c->finished && now >= c->deadline_ms) {
                atomic_store(&c->cancelled, true);
                tc__grpc_call_finish(c, TC__GRPC_DEADLINE_EXCEEDED, "Deadline Exceeded");
            }
        }
    }
    if (conn->ping_outstanding) {
        if (now - conn->last_ping_sent_ms >= o->keepalive_timeout_ms) {
            tc__log(TC_LOG_VERBOSE, "gRPC keepalive ping not acknowledged: closing connection");
            conn->dead = true;
        }
        return;
    }
    if (conn->last_ping_sent_ms == 0)
        conn->last_ping_sent_ms = now; /* the clock starts with the connection */
    if (now - conn->last_ping_sent_ms < o->keepalive_time_ms)
        return;
    if (conn->call_count == 0 && !o->keepalive_permit_without_calls)
        return;
    if (o->max_pings_without_data > 0 &&
        conn->pings_without_data >= (uint64_t)o->max_pings_without_data)
        return;
    if (nghttp2_submit_ping(conn->session, NGHTTP2_FLAG_NONE, NULL) == 0) {
        conn->ping_outstanding = true;
        conn->pings_without_data++;
        conn->last_ping_sent_ms = now;
    }
}
