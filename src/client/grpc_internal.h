/* The gRPC transport's internals, shared by grpc_options.c (options and
 * gRPC-only request settings), grpc_conn.c (the HTTP/2 connection and its
 * driver loop), grpc_client.c (unary calls, the vtable), grpc_stream.c
 * (tc_stream) and grpc_encode.c (request messages).
 *
 * Threads: the connection is driven by exactly one thread at a time: the
 * caller of a sync call while the client has no I/O thread, else the I/O
 * thread. Every other thread only touches the fields marked "lock: mu". */
#ifndef TC_SRC_CLIENT_GRPC_INTERNAL_H
#define TC_SRC_CLIENT_GRPC_INTERNAL_H

#include <pthread.h>

#include <tritonc/grpc.h>
#include <tritonc/stream.h>

#include "client/client_internal.h"
#include "client/retry.h"
#include "client/result_internal.h"
#include "common/buf.h"
#include "proto/grpc_frame.h"

struct tc_grpc_options {
    bool verbose;
    uint64_t keepalive_time_us; /* 0 = off */
    uint64_t keepalive_timeout_us;
    bool keepalive_permit_without_calls;
    uint32_t max_pings_without_data; /* 0 = unlimited */
    size_t max_send_message_size;
    size_t max_receive_message_size;
    tc_compression compression;
    uint64_t connect_timeout_us;
    uint64_t network_timeout_us;
    bool use_tls;
    bool verify_peer;
    char *root_certs;
    char *cert_file;
    char *key_file;
    char *user_agent_prefix; /* grpc.primary_user_agent */
    char *user_agent_suffix; /* grpc.secondary_user_agent */
    char *tls_server_name;   /* grpc.ssl_target_name_override */
    char *authority;         /* grpc.default_authority */
    tc__hlist headers;
    tc__retry_cfg retry; /* tc_grpc_options_set_retry() */
};

/* Deep copy (NULL src = defaults) and cleanup. */
tc_code tc__grpc_options_copy(struct tc_grpc_options *dst, const struct tc_grpc_options *src);
void tc__grpc_options_cleanup(struct tc_grpc_options *o);
tc__grpc_encoding tc__grpc_encoding_of(tc_compression c);

typedef struct tc__gconn tc__gconn;
typedef struct tc__gcall tc__gcall;

/* A message arrived on the call (bytes valid for this call only). Runs on
 * the driving thread inside the HTTP/2 engine: it must not call back into
 * the connection; it may queue deliveries (tc__gconn_deliver). */
typedef tc_code (*tc__gcall_msg_fn)(tc__gcall *call, const uint8_t *msg, size_t len);
/* The call finished (call->err holds the outcome). Runs on the driving
 * thread outside the engine, after which the connection forgets the call;
 * the function owns `call` from then on (tc__gcall_free). */
typedef void (*tc__gcall_done_fn)(tc__gcall *call);

/* One HTTP/2 stream: a unary call or a bidirectional stream. */
struct tc__gcall {
    tc__gconn *conn;
    uint64_t id;       /* unique per connection object, never 0 */
    const char *path;  /* static "/inference.GRPCInferenceService/..." */
    tc__hlist headers; /* the call's own metadata (after the client's) */
    tc__grpc_encoding enc;
    uint64_t deadline_ns; /* 0 = none */
    uint64_t timeout_us;  /* sent as grpc-timeout when > 0 */
    bool streaming;
    /* send side (driving thread): framed bytes being sent */
    tc__buf out;
    size_t out_off;
    bool deferred; /* the data source said "deferred" */
    /* send side, lock: mu: bytes queued by other threads, half-close, cancel */
    tc__buf pend;
    bool half_close;
    bool cancel;
    bool finished; /* lock: mu; set once when the outcome is fixed */
    /* receive side (driving thread) */
    int32_t stream_id; /* 0 until submitted */
    tc__grpc_reader *reader;
    int http_status;
    bool has_grpc_status;
    int grpc_status;
    tc__buf grpc_message;
    bool got_message; /* at least one message arrived (unary: exactly one expected) */
    tc__buf resp;     /* unary: copy of the one response message */
    tc__error err;    /* outcome */
    /* timers (driving thread, except REQUEST_START set before submission):
     * SEND_START at the first request byte given to HTTP/2, SEND_END each
     * time the queued bytes are all given, RECV_START at the first response
     * byte (streams: the first after the previous message, cleared by the
     * message handler), RECV_END by the message handler */
    tc__timers timers;
    /* completion */
    tc__gcall_msg_fn on_msg;
    tc__gcall_done_fn on_done;
    void *ud;
    bool sync_done; /* lock: mu; for sync waiters */
    tc__gcall *next;
};

/* A call with defaults; NULL on allocation failure. */
tc__gcall *tc__gcall_new(tc__gconn *conn, const char *path);
void tc__gcall_free(tc__gcall *call);
/* Frame `msg` onto call->out (or `dst`), compressed with call->enc. */
tc_code tc__gcall_frame(const tc__gcall *call, const uint8_t *msg, size_t len, tc__buf *dst,
                        tc__error *err);

/* ---- the connection (grpc_conn.c) ---------------------------------------------- */

tc_code tc__gconn_new(tc__gconn **out, const char *host, const char *port,
                      const struct tc_grpc_options *opts);
/* Stop the I/O thread (every pending call ends with TC_E_CANCELLED, callbacks
 * run), close and free. */
void tc__gconn_free(tc__gconn *conn);
/* Queue a call. With no I/O thread the call waits for the next drive. TC_E_BUSY
 * when the connection is being freed. */
tc_code tc__gconn_submit(tc__gconn *conn, tc__gcall *call, tc__error *err);
/* Start the I/O thread if it is not running. */
tc_code tc__gconn_start_thread(tc__gconn *conn, tc__error *err);
bool tc__gconn_has_thread(tc__gconn *conn);
bool tc__gconn_on_thread(const tc__gconn *conn);
/* Run `call` (not yet submitted) to completion on this thread or through the
 * I/O thread; afterwards call->err holds the outcome and the caller still
 * owns the call. */
tc_code tc__gconn_run_sync(tc__gconn *conn, tc__gcall *call, tc__error *err);
/* Ask for cancellation of the call with this id (any thread). */
void tc__gconn_cancel(tc__gconn *conn, uint64_t id);
/* Wake the driver: new bytes in a call's `pend`, a half-close or cancel. */
void tc__gconn_wake(tc__gconn *conn);
uint64_t tc__gconn_next_id(tc__gconn *conn);
pthread_mutex_t *tc__gconn_mutex(tc__gconn *conn);
pthread_cond_t *tc__gconn_cond(tc__gconn *conn);
size_t tc__gconn_max_send(const tc__gconn *conn);

/* A deferred action run on the driving thread after the engine returns. */
typedef void (*tc__deliver_fn)(void *a, void *b, bool flag);
tc_code tc__gconn_deliver(tc__gconn *conn, tc__deliver_fn fn, void *a, void *b, bool flag);

/* ---- request messages (grpc_encode.c) ------------------------------------------ */

/* Encode `req` as a framed ModelInferRequest onto `out` (one pass over the
 * tensor data, compressed when `enc` says so; typed contents as requested). */
tc_code tc__grpc_encode_infer(const tc_request *req, tc__grpc_encoding enc, size_t max_send,
                              tc__buf *out, tc__error *err);
/* The request's compression override, or -1. */
int tc__grpc_request_compression(const tc_request *req);

/* ---- the client (grpc_client.c) ---------------------------------------------------- */

typedef struct tc__grpc_client {
    tc_client base; /* first */
    struct tc_grpc_options opts;
    tc__gconn *conn;
} tc__grpc_client;

extern const tc__client_vtable tc__grpc_vtable;

/* Turn a finished unary infer call into a result (takes call->resp). */
void tc__grpc_infer_result(tc__gcall *call, tc_result *r);
/* Management calls (grpc_manage.c). */
tc_code tc__grpc_unary(tc__grpc_client *gc, const char *path, const tc__buf *req,
                       const tc__hlist *h, tc__buf *resp, tc__error *err);
tc_code tc__grpc_health(tc_client *c, int which, const char *model, const char *version,
                        const tc__hlist *h, bool *ok);
tc_code tc__grpc_server_metadata(tc_client *c, const tc__hlist *h, tc_server_metadata **out);
tc_code tc__grpc_model_metadata(tc_client *c, const char *model, const char *version,
                                const tc__hlist *h, tc_model_metadata **out);
tc_code tc__grpc_document(tc_client *c, int which, const char *model, const char *version,
                          const char *body, const tc__hlist *h, char **json);
tc_code tc__grpc_repository_index(tc_client *c, bool ready_only, const tc__hlist *h,
                                  tc_repository_index **out);
tc_code tc__grpc_load(tc_client *c, const char *model, const tc_load_options *o,
                      const tc__hlist *h);
tc_code tc__grpc_unload(tc_client *c, const char *model, bool dependents, const tc__hlist *h);
tc_code tc__grpc_shm_register(tc_client *c, int kind, const tc__shm_reg *reg, const tc__hlist *h);
tc_code tc__grpc_shm_unregister(tc_client *c, int kind, const char *name, const tc__hlist *h);
tc_code tc__grpc_shm_status(tc_client *c, int kind, const char *name, const tc__hlist *h,
                            tc_shm_status **out);
/* Streams (grpc_stream.c). */
tc_code tc__grpc_stream_start(tc_client *c, tc_stream_cb cb, void *ud, const tc__hlist *h,
                              tc_stream **out);

#endif /* TC_SRC_CLIENT_GRPC_INTERNAL_H */
