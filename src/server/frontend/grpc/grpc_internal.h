/* gRPC frontend internals shared by its sources.
 *
 * Lifetimes and threads (numbered as the rules the code relies on):
 * 1. The I/O thread owns every connection, nghttp2 session and call; only it
 *    reads or writes them. Core callbacks and load/unload workers never touch
 *    a call: they fill a tc__grpc_item and push it on srv->queue (guarded by
 *    srv->lock), then wake the I/O thread through the eventfd.
 * 2. A call lives until nghttp2 closed its stream (or its connection went)
 *    AND no job of it is in flight (call->pending == 0). A job's last item
 *    (item->final) is processed on the I/O thread, which then frees the job
 *    and drops call->pending, so a late result never reaches freed memory.
 * 3. A job owns the decoded request the core reads, so the request outlives
 *    the call if the client goes away. */
#ifndef TC_SRC_SERVER_FRONTEND_GRPC_GRPC_INTERNAL_H
#define TC_SRC_SERVER_FRONTEND_GRPC_GRPC_INTERNAL_H

#include <nghttp2/nghttp2.h>
#include <pthread.h>
#include <stdatomic.h>

#include "common/buf.h"
#include "common/timeutil.h"
#include "frontend/grpc/grpc_server.h"
#include "proto/grpc_frame.h"

typedef struct tc__grpc_conn tc__grpc_conn;
typedef struct tc__grpc_call tc__grpc_call;
typedef struct tc__grpc_job tc__grpc_job;
typedef struct tc__grpc_item tc__grpc_item;

/* gRPC status numbers the frontend answers with (besides grpc_frame.h's). */
enum {
    TC__GRPC_CANCELLED = 1,
    TC__GRPC_INVALID_ARGUMENT = 3,
    TC__GRPC_DEADLINE_EXCEEDED = 4,
    TC__GRPC_NOT_FOUND = 5,
    TC__GRPC_RESOURCE_EXHAUSTED = 8,
    TC__GRPC_UNIMPLEMENTED = 12,
    TC__GRPC_INTERNAL = 13,
    TC__GRPC_UNAVAILABLE = 14
};

/* A gRPC status with its (unencoded) message. code 0 = OK. */
typedef struct tc__grpc_status {
    int code;
    char msg[TC__ERROR_MSG_MAX];
} tc__grpc_status;

typedef enum tc__grpc_method {
    TC__GRPC_M_UNKNOWN = 0,
    TC__GRPC_M_SERVER_LIVE,
    TC__GRPC_M_SERVER_READY,
    TC__GRPC_M_MODEL_READY,
    TC__GRPC_M_SERVER_METADATA,
    TC__GRPC_M_MODEL_METADATA,
    TC__GRPC_M_MODEL_INFER,
    TC__GRPC_M_MODEL_STREAM_INFER,
    TC__GRPC_M_MODEL_CONFIG,
    TC__GRPC_M_MODEL_STATISTICS,
    TC__GRPC_M_REPO_INDEX,
    TC__GRPC_M_REPO_LOAD,
    TC__GRPC_M_REPO_UNLOAD,
    TC__GRPC_M_SYS_SHM_STATUS,
    TC__GRPC_M_SYS_SHM_REGISTER,
    TC__GRPC_M_SYS_SHM_UNREGISTER,
    TC__GRPC_M_CUDA_SHM_STATUS,
    TC__GRPC_M_CUDA_SHM_REGISTER,
    TC__GRPC_M_CUDA_SHM_UNREGISTER,
    TC__GRPC_M_TRACE_SETTING,
    TC__GRPC_M_LOG_SETTINGS,
    TC__GRPC_M_HEALTH_CHECK
} tc__grpc_method;

/* One HTTP/2 stream carrying one RPC. I/O thread only. */
struct tc__grpc_call {
    tc__grpc_server *srv;
    tc__grpc_conn *conn;        /* NULL once the stream or connection is gone */
    tc__grpc_call *prev, *next; /* in conn->calls while conn != NULL */
    int32_t stream_id;
    tc__grpc_method method;
    /* request headers */
    char *path;
    bool post;
    bool content_type_ok;
    bool grpc_error_mode; /* triton_grpc_error: true */
    tc__grpc_encoding req_enc;
    unsigned accept_mask;
    uint64_t deadline_ms; /* monotonic; 0 = none */
    uint64_t start_ns;    /* headers received (taken only while tracing is on) */
    tc__grpc_reader *reader;
    tc__buf unary_msg;
    unsigned msg_count;
    /* state */
    bool started;      /* headers checked, method routed */
    bool remote_ended; /* END_STREAM received */
    bool closed;       /* nghttp2 closed the stream */
    bool finished;     /* final status decided (trailers queued or sent) */
    bool headers_sent;
    bool deferred;      /* the data provider is waiting for bytes */
    bool rst_after_end; /* client still sending when we ended: RST_STREAM(NO_ERROR) */
    tc__grpc_encoding resp_enc;
    tc__buf out; /* framed response bytes not yet taken by nghttp2 */
    size_t out_off;
    int status;
    char *status_msg;
    unsigned pending; /* jobs in flight */
    /* Set (I/O thread) when the stream or connection goes away or the
     * deadline passes while jobs are in flight; read by the core's threads
     * through tc__infer_request.cancelled, so queued work is dropped. */
    atomic_bool cancelled;
    /* ModelStreamInfer: non-decoupled responses go out in request order. */
    uint64_t next_seq;
    uint64_t write_seq;
    tc__grpc_item *held; /* completed, waiting for earlier ones; sorted by seq */
};

/* Work handed to the core or a worker thread. */
struct tc__grpc_job {
    tc__grpc_server *srv;
    tc__grpc_call *call; /* dereferenced on the I/O thread only */
    tc__grpc_method method;
    uint64_t seq; /* ordered stream slot; 0 = unordered */
    bool stream;
    bool decoupled;
    tc__grpc_encoding enc; /* response compression */
    tc__infer_request req;
    bool req_live;
    void *backing; /* unpacked ModelInferRequest behind `req` */
    uint8_t *msg;  /* worker RPCs: the request message */
    size_t len;
    tc__grpc_item *final_item; /* allocated up front: the last result always has a carrier */
    tc__trace *trace;          /* sampled inference: ended with the job */
};

/* A result travelling to the I/O thread. */
struct tc__grpc_item {
    tc__grpc_item *next;
    tc__grpc_job *job;
    uint64_t seq;
    bool final;           /* the job's last item */
    bool inference_error; /* stream: an error from inference (close-on-error mode) */
    tc__buf frame;        /* framed response message(s); may be empty */
    tc__grpc_status st;   /* unary error (or the stream's close status) */
};

struct tc__grpc_conn {
    tc__grpc_server *srv;
    tc__grpc_conn *prev, *next;
    int fd; /* -1 for a detached (fuzz) connection */
    nghttp2_session *session;
    void *ssl; /* SSL *, or NULL */
    bool handshake_done;
    tc__buf wbuf; /* produced bytes the socket did not take yet */
    size_t woff;
    bool epollout;
    bool dead; /* closed; freed after the current event round */
    tc__grpc_call *calls;
    unsigned call_count;
    /* keepalive (GRPC.md section 8) */
    uint64_t last_ping_sent_ms;
    bool ping_outstanding;
    unsigned pings_without_data;
    uint64_t last_ping_recv_ms;
    unsigned ping_strikes;
    bool goaway_sent;
};

struct tc__grpc_server {
    tc__core *core;
    tc__grpc_options opts; /* strings owned */
    int listen_fd;
    int epoll_fd;
    int event_fd;
    uint16_t port;
    pthread_t thread;
    bool thread_started;
    void *ssl_ctx; /* SSL_CTX *, or NULL */

    pthread_mutex_t lock;      /* guards the fields down to stop_deadline_ms */
    tc__grpc_item *q_head;     /* guarded by lock */
    tc__grpc_item *q_tail;     /* guarded by lock */
    bool quiesce_req;          /* guarded by lock */
    bool stop_req;             /* guarded by lock */
    uint64_t stop_deadline_ms; /* guarded by lock */

    atomic_uint workers; /* load/unload threads still running */
    atomic_uint jobs;    /* jobs allocated and not freed yet (any thread reads) */

    /* I/O thread only */
    tc__grpc_conn *conns;
    bool quiescing;
    unsigned deadline_calls; /* calls with a grpc-timeout not finished yet */
};

/* ---- grpc_server.c ---------------------------------------------------------------------- */
uint64_t tc__grpc_now_ms(void);
/* Push an item (any thread) and wake the I/O thread. */
void tc__grpc_enqueue(tc__grpc_server *srv, tc__grpc_item *item);
/* Run every queued item (I/O thread). */
void tc__grpc_run_queue(tc__grpc_server *srv);
/* Create the nghttp2 session of a new connection and queue our SETTINGS. */
tc_code tc__grpc_conn_init(tc__grpc_server *srv, tc__grpc_conn *conn);
/* Feed received bytes; false when the connection must close. */
bool tc__grpc_conn_recv(tc__grpc_conn *conn, const uint8_t *data, size_t len);
/* Detach every call and free the session (not the struct). */
void tc__grpc_conn_release(tc__grpc_conn *conn);

/* ---- grpc_session.c: nghttp2 callbacks and the call state machine --------------------- */
nghttp2_session_callbacks *tc__grpc_callbacks_new(void);
/* Append framed bytes to the response (headers go first, once). */
void tc__grpc_call_send(tc__grpc_call *c, const uint8_t *data, size_t len);
/* End the call with a status (trailers, or Trailers-Only when nothing was
 * sent). Later calls do nothing. */
void tc__grpc_call_finish(tc__grpc_call *c, int status, const char *msg);
void tc__grpc_call_finish_st(tc__grpc_call *c, const tc__grpc_status *st);
/* Free a call that is closed and has no job in flight. */
void tc__grpc_call_maybe_free(tc__grpc_call *c);
/* Keepalive and deadlines (I/O thread, from the loop). */
void tc__grpc_conn_timers(tc__grpc_conn *conn, uint64_t now);

/* ---- grpc_unary.c --------------------------------------------------------------------- */
/* Status from a core error (TC_E_PROTOCOL -> INTERNAL). */
void tc__grpc_status_from_error(tc__grpc_status *st, const tc__error *err);
void tc__grpc_status_set(tc__grpc_status *st, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Run a unary RPC other than ModelInfer: response message bytes in `out`
 * (unframed) or an error in `st`. */
void tc__grpc_unary_run(tc__grpc_server *srv, tc__grpc_method m, const uint8_t *msg, size_t len,
                        tc__buf *out, tc__grpc_status *st);
/* True for RPCs that may block (model load/unload): run on a worker thread. */
bool tc__grpc_unary_blocks(tc__grpc_method m);

/* ---- grpc_settings.c: TraceSetting and LogSettings over the core's stored settings ---- */
void tc__grpc_trace_setting(tc__grpc_server *srv, const uint8_t *msg, size_t len, tc__buf *out,
                            tc__grpc_status *st);
void tc__grpc_log_settings(tc__grpc_server *srv, const uint8_t *msg, size_t len, tc__buf *out,
                           tc__grpc_status *st);

/* ---- grpc_infer.c --------------------------------------------------------------------- */
/* A complete unary request arrived (END_STREAM). */
void tc__grpc_dispatch_unary(tc__grpc_call *c);
/* ModelStreamInfer: one request message; the client half-closed. */
void tc__grpc_stream_message(tc__grpc_call *c, const uint8_t *msg, size_t len);
void tc__grpc_stream_end(tc__grpc_call *c);
/* Handle one item on the I/O thread and free it. */
void tc__grpc_item_run(tc__grpc_item *item);
void tc__grpc_item_free(tc__grpc_item *item);
void tc__grpc_job_free(tc__grpc_job *job);

/* ---- grpc_tls.c ----------------------------------------------------------------------- */
tc_code tc__grpc_tls_ctx_new(const tc__grpc_options *o, void **ctx, tc__error *err);
void tc__grpc_tls_ctx_free(void *ctx);
/* Wrap an accepted socket. */
tc_code tc__grpc_tls_conn_new(void *ctx, int fd, void **ssl);
void tc__grpc_tls_conn_free(void *ssl);
/* Non-blocking I/O: >0 bytes, 0 = would block, -1 = closed/error. */
long tc__grpc_tls_read(void *ssl, uint8_t *buf, size_t len, bool *want_write);
long tc__grpc_tls_write(void *ssl, const uint8_t *buf, size_t len);
/* Handshake step: 1 done, 0 in progress, -1 failed (ALPN h2 required). */
int tc__grpc_tls_handshake(void *ssl);

#endif /* TC_SRC_SERVER_FRONTEND_GRPC_GRPC_INTERNAL_H */
