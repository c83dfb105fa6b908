/* HTTP frontend internals shared by the frontend sources. */
#ifndef TC_SRC_SERVER_FRONTEND_HTTP_HTTP_INTERNAL_H
#define TC_SRC_SERVER_FRONTEND_HTTP_HTTP_INTERNAL_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

#include "common/buf.h"
#include "frontend/http/http_server.h"
#include "proto/v2_types.h"

struct tc__http_server {
    tc__core *core;
    struct MHD_Daemon *daemon;
    uint16_t port;
    size_t max_input_size;
    bool allow_client_shm;
    atomic_uint suspended; /* inferences waiting on the core */
    int listen_fd;         /* returned by MHD_quiesce_daemon, or -1 */
};

typedef enum tc__http_route_kind {
    ROUTE_NONE = 0,
    ROUTE_HEALTH_LIVE,
    ROUTE_HEALTH_READY,
    ROUTE_SERVER_META,
    ROUTE_MODEL_META,
    ROUTE_MODEL_READY,
    ROUTE_MODEL_CONFIG,
    ROUTE_MODEL_INFER,
    ROUTE_MODEL_GENERATE,
    ROUTE_MODEL_GENERATE_STREAM,
    ROUTE_MODEL_STATS,
    ROUTE_ALL_STATS,
    ROUTE_REPO_INDEX,
    ROUTE_REPO_LOAD,
    ROUTE_REPO_UNLOAD,
    ROUTE_REPO_NAMED, /* /v2/repository/<repo>/... : unsupported */
    ROUTE_SHM_STATUS,
    ROUTE_SHM_REGISTER,
    ROUTE_SHM_UNREGISTER,
    ROUTE_TRACE,
    ROUTE_LOGGING
} tc__http_route_kind;

enum { METHOD_GET = 1, METHOD_POST = 2 };

typedef struct tc__http_route {
    tc__http_route_kind kind;
    unsigned methods; /* METHOD_* allowed */
    char *model;      /* owned, or NULL */
    char *version;    /* owned, or NULL */
    char *region;     /* owned, or NULL */
    bool cuda;        /* shared memory kind */
} tc__http_route;

/* Outcome of a handler: an MHD response to queue with a status. */
typedef struct tc__http_reply {
    unsigned status;
    struct MHD_Response *response;
} tc__http_reply;

/* One HTTP request. Lives from the first access-handler call to the
 * request-completed notification. */
typedef struct tc__http_req {
    tc__http_server *srv;
    struct MHD_Connection *conn;
    unsigned method;
    tc__http_route route;
    tc__buf body;
    bool too_large;
    bool started;         /* the final handler call ran (infer suspended) */
    bool suspend_counted; /* counted in srv->suspended until answered or terminated */

    pthread_mutex_t lock; /* guards reply and done between handler and core callback */
    bool done;
    tc__http_reply reply;

    /* inference */
    uint8_t *plain; /* decompressed body (owned) or NULL */
    tc__infer_request infer;
    bool infer_live;     /* `infer` needs cleanup */
    int accept_encoding; /* 0 identity, 1 deflate, 2 gzip */
    tc__trace *trace;    /* sampled inference: ended when the request completes */
} tc__http_req;

/* http_util.c */
tc__http_reply tc__http_reply_error(tc_code code, const char *msg);
tc__http_reply tc__http_reply_status(unsigned status, const char *msg); /* {"error":msg} */
tc__http_reply tc__http_reply_empty(unsigned status);
/* Takes the bytes of `json` (left empty). */
tc__http_reply tc__http_reply_json(tc__buf *json);
/* Decompress per Content-Encoding into *out (caller frees); *out NULL when
 * the body is used as is. Errors come as a ready reply in *err_reply. */
bool tc__http_decompress(struct MHD_Connection *conn, const tc__buf *body, size_t max,
                         uint8_t **out, size_t *out_len, tc__http_reply *err_reply);
/* 0 identity, 1 deflate, 2 gzip from an Accept-Encoding value (NULL ok). */
int tc__http_pick_encoding(const char *accept);
/* Compress `in` (deflate = zlib stream, gzip); false on failure. */
bool tc__http_compress(int encoding, const uint8_t *in, size_t len, tc__buf *out);

/* A request handed to the core: tc__http_suspend_locked() (r->lock held)
 * suspends its connection and counts it for shutdown; tc__http_answer(),
 * from any thread, gives it its reply and resumes it (taking r->lock). */
void tc__http_suspend_locked(tc__http_req *r);
void tc__http_answer(tc__http_req *r, tc__http_reply reply);
/* http_infer.c: handle the final call of an infer request. Returns true
 * when the request was suspended (the reply comes later). */
bool tc__http_infer_start(tc__http_req *r, tc__http_reply *reply);

/* http_generate.c: handle the final call of a generate request (HTTP.md
 * 15). Returns true when the request was suspended (the reply comes later). */
bool tc__http_generate_start(tc__http_req *r, bool streaming, tc__http_reply *reply);
/* http_settings.c: trace and logging settings. */
tc__http_reply tc__http_trace(tc__http_req *r, const uint8_t *body, size_t len);
tc__http_reply tc__http_logging(tc__http_req *r, const uint8_t *body, size_t len);

/* http_shm.c: system and CUDA shared-memory status, register, unregister. */
tc__http_reply tc__http_shm(tc__http_req *r, const uint8_t *body, size_t len);

/* http_misc.c: every other endpoint. */
tc__http_reply tc__http_handle(tc__http_req *r, const uint8_t *body, size_t len);

#endif /* TC_SRC_SERVER_FRONTEND_HTTP_HTTP_INTERNAL_H */
