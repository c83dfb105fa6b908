/* MHD daemon, request bodies, routing and the request lifetime. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"
#include "frontend/http/http_internal.h"

#define DEFAULT_MAX_INPUT ((size_t)1 << 26)

/* ---- routing ------------------------------------------------------------------------ */

#define MAX_SEGMENTS 10

static bool all_digits(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return false;
    }
    return true;
}

/* Split "/v2/a/b" into segments (copies into `store`). False when the path
 * has empty segments or too many. */
static bool split(const char *url, char *store, size_t store_size, char **seg, size_t *n)
{
    size_t len = strlen(url);
    if (len + 1 > store_size || url[0] != '/')
        return false;
    memcpy(store, url, len + 1);
    *n = 0;
    char *p = store + 1;
    while (*p != '\0') {
        if (*n == MAX_SEGMENTS)
            return false;
        char *slash = strchr(p, '/');
        seg[(*n)++] = p;
        if (slash == NULL)
            break;
        *slash = '\0';
        p = slash + 1;
        if (*p == '\0')
            return false; /* trailing slash */
    }
    for (size_t i = 0; i < *n; i++) {
        if (seg[i][0] == '\0')
            return false;
    }
    return true;
}

static bool eq(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static void set(tc__http_route *r, tc__http_route_kind k, unsigned methods)
{
    r->kind = k;
    r->methods = methods;
}

/* /v2/models/<m>[/versions/<v>][/<tail>] */
static void route_model(tc__http_route *r, char **s, size_t n)
{
    size_t i = 3;
    const char *version = NULL;
    if (n >= 5 && eq(s[3], "versions")) {
        if (!all_digits(s[4]))
            return;
        version = s[4];
        i = 5;
    }
    if (n == i)
        set(r, ROUTE_MODEL_META, METHOD_GET);
    else if (n == i + 1 && eq(s[i], "ready"))
        set(r, ROUTE_MODEL_READY, METHOD_GET);
    else if (n == i + 1 && eq(s[i], "config"))
        set(r, ROUTE_MODEL_CONFIG, METHOD_GET);
    else if (n == i + 1 && eq(s[i], "infer"))
        set(r, ROUTE_MODEL_INFER, METHOD_POST);
    else if (n == i + 1 && eq(s[i], "generate"))
        set(r, ROUTE_MODEL_GENERATE, METHOD_POST);
    else if (n == i + 1 && eq(s[i], "generate_stream"))
        set(r, ROUTE_MODEL_GENERATE_STREAM, METHOD_POST);
    else if (n == i + 1 && eq(s[i], "stats"))
        set(r, ROUTE_MODEL_STATS, METHOD_GET);
    else if (version == NULL && n == 5 && eq(s[3], "trace") && eq(s[4], "setting"))
        set(r, ROUTE_TRACE, METHOD_GET | METHOD_POST);
    else
        return;
    r->model = tc__strdup(s[2]);
    r->version = version != NULL ? tc__strdup(version) : NULL;
}

static void route_shm(tc__http_route *r, char **s, size_t n)
{
    r->cuda = eq(s[1], "cudasharedmemory");
    const char *region = NULL;
    size_t i = 2;
    if (n >= 4 && eq(s[2], "region")) {
        region = s[3];
        i = 4;
    }
    if (n != i + 1)
        return;
    if (eq(s[i], "status"))
        set(r, ROUTE_SHM_STATUS, METHOD_GET);
    else if (eq(s[i], "register"))
        set(r, ROUTE_SHM_REGISTER, METHOD_POST);
    else if (eq(s[i], "unregister"))
        set(r, ROUTE_SHM_UNREGISTER, METHOD_POST);
    else
        return;
    r->region = region != NULL ? tc__strdup(region) : NULL;
}

static void route_repo(tc__http_route *r, char **s, size_t n)
{
    if (n == 3 && eq(s[2], "index")) {
        set(r, ROUTE_REPO_INDEX, METHOD_POST);
    } else if (n == 5 && eq(s[2], "models") && (eq(s[4], "load") || eq(s[4], "unload"))) {
        set(r, eq(s[4], "load") ? ROUTE_REPO_LOAD : ROUTE_REPO_UNLOAD, METHOD_POST);
        r->model = tc__strdup(s[3]);
    } else if ((n == 4 && eq(s[3], "index")) ||
               (n == 6 && eq(s[3], "models") && (eq(s[5], "load") || eq(s[5], "unload")))) {
        set(r, ROUTE_REPO_NAMED, METHOD_POST);
    }
}

static void route(const char *url, tc__http_route *r)
{
    char store[2048];
    char *s[MAX_SEGMENTS];
    size_t n = 0;
    memset(r, 0, sizeof *r);
    if (!split(url, store, sizeof store, s, &n) || n == 0 || !eq(s[0], "v2"))
        return;
    if (n == 1)
        set(r, ROUTE_SERVER_META, METHOD_GET);
    else if (n == 3 && eq(s[1], "health") && eq(s[2], "live"))
        set(r, ROUTE_HEALTH_LIVE, METHOD_GET);
    else if (n == 3 && eq(s[1], "health") && eq(s[2], "ready"))
        set(r, ROUTE_HEALTH_READY, METHOD_GET);
    else if (n == 3 && eq(s[1], "models") && eq(s[2], "stats"))
        set(r, ROUTE_ALL_STATS, METHOD_GET);
    else if (n >= 3 && eq(s[1], "models"))
        route_model(r, s, n);
    else if (n >= 3 && eq(s[1], "repository"))
        route_repo(r, s, n);
    else if (n >= 3 && (eq(s[1], "systemsharedmemory") || eq(s[1], "cudasharedmemory")))
        route_shm(r, s, n);
    else if (n == 3 && eq(s[1], "trace") && eq(s[2], "setting"))
        set(r, ROUTE_TRACE, METHOD_GET | METHOD_POST);
    else if (n == 2 && eq(s[1], "logging"))
        set(r, ROUTE_LOGGING, METHOD_GET | METHOD_POST);
}

/* ---- request lifetime ------------------------------------------------------------------ */

static tc__http_req *req_new(tc__http_server *srv, struct MHD_Connection *conn, const char *url,
                             const char *method)
{
    tc__http_req *r = tc__calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->srv = srv;
    r->conn = conn;
    r->method = eq(method, "GET") || eq(method, "HEAD") ? METHOD_GET
                : eq(method, "POST")                    ? METHOD_POST
                                                        : 0;
    pthread_mutex_init(&r->lock, NULL);
    route(url, &r->route);
    if (r->route.kind == ROUTE_MODEL_INFER && tc__core_trace_enabled(srv->core)) {
        r->trace = tc__core_trace_begin(srv->core, r->route.model);
        tc__trace_stamp(r->trace, "HTTP_RECV_START");
    }
    return r;
}

static void req_free(tc__http_req *r)
{
    if (r == NULL)
        return;
    if (r->trace != NULL) {
        /* The response has been sent (or the connection is gone). */
        tc__trace_stamp(r->trace, "HTTP_SEND_END");
        tc__trace_end(r->trace);
    }
    if (r->reply.response != NULL)
        MHD_destroy_response(r->reply.response);
    if (r->infer_live)
        tc__infer_request_cleanup(&r->infer);
    tc__free(r->plain);
    tc__buf_cleanup(&r->body);
    tc__free(r->route.model);
    tc__free(r->route.version);
    tc__free(r->route.region);
    pthread_mutex_destroy(&r->lock);
    tc__free(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    /* A resumed connection whose client left is terminated without another
     * handler call: release its place in the count shutdown waits on. */
    tc__http_req *r = *con_cls;
    if (r != NULL && r->suspend_counted) {
        r->suspend_counted = false;
        atomic_fetch_sub(&r->srv->suspended, 1u);
    }
    req_free(*con_cls);
    *con_cls = NULL;
}

static enum MHD_Result queue(struct MHD_Connection *conn, tc__http_reply *reply)
{
    if (reply->response == NULL)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(conn, reply->status, reply->response);
    MHD_destroy_response(reply->response);
    reply->response = NULL;
    return ret;
}

/* Content-Length beyond the limit: answer before reading the body. */
static bool declared_too_large(struct MHD_Connection *conn, size_t max)
{
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    if (cl == NULL)
        return false;
    char *end = NULL;
    unsigned long long v = strtoull(cl, &end, 10);
    return end != cl && v > (unsigned long long)max;
}

static tc__http_reply too_large_reply(size_t max)
{
    char msg[160];
    (void)snprintf(msg, sizeof msg,
                   "request body exceeds the maximum input size of %zu bytes. Use "
                   "--http-max-input-size to increase the limit.",
                   max);
    return tc__http_reply_status(400, msg);
}

static enum MHD_Result finish(tc__http_req *r)
{
    tc__http_reply reply = {0, NULL};
    if (r->started) {
        /* Resumed after the core answered. */
        pthread_mutex_lock(&r->lock);
        reply = r->reply;
        r->reply.response = NULL;
        pthread_mutex_unlock(&r->lock);
        if (r->suspend_counted) {
            r->suspend_counted = false;
            atomic_fetch_sub(&r->srv->suspended, 1u);
        }
        return queue(r->conn, &reply);
    }
    r->started = true;
    if (r->too_large) {
        reply = too_large_reply(r->srv->max_input_size);
    } else if (r->route.kind == ROUTE_NONE) {
        reply = tc__http_reply_status(404, "Not Found");
    } else if ((r->route.methods & r->method) == 0) {
        reply = tc__http_reply_status(405, "Method Not Allowed");
    } else if (r->route.kind == ROUTE_MODEL_INFER) {
        tc__trace_stamp(r->trace, "HTTP_RECV_END");
        if (tc__http_infer_start(r, &reply))
            return MHD_YES; /* suspended */
    } else if (r->route.kind == ROUTE_MODEL_GENERATE ||
               r->route.kind == ROUTE_MODEL_GENERATE_STREAM) {
        if (tc__http_generate_start(r, r->route.kind == ROUTE_MODEL_GENERATE_STREAM, &reply))
            return MHD_YES; /* suspended */
    } else {
        reply = tc__http_handle(r, r->body.data, r->body.len);
    }
    return queue(r->conn, &reply);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    tc__http_server *srv = cls;
    tc__http_req *r = *con_cls;
    if (r == NULL) {
        r = req_new(srv, conn, url, method);
        if (r == NULL)
            return MHD_NO;
        *con_cls = r;
        if (declared_too_large(conn, srv->max_input_size)) {
            r->started = true;
            r->too_large = true;
            tc__http_reply reply = too_large_reply(srv->max_input_size);
            return queue(conn, &reply);
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->too_large)
            return MHD_YES; /* discard the rest */
        if (r->body.len + n > srv->max_input_size) {
            r->too_large = true;
            tc__buf_cleanup(&r->body);
            return MHD_YES;
        }
        if (tc__buf_append(&r->body, upload_data, n) != TC_OK)
            return MHD_NO;
        return MHD_YES;
    }
    return finish(r);
}

/* ---- daemon --------------------------------------------------------------------------- */

/* MHD's logger hands us its own format string. */
__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    (void)vsnprintf(msg, sizeof msg, fmt, ap);
    size_t len = strlen(msg);
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
        msg[--len] = '\0';
    tc__log(TC_LOG_VERBOSE, "http: %s", msg);
}

tc_code tc__http_server_new(tc__core *core, const tc__http_options *opts, tc__http_server **out,
                            tc__error *err)
{
    *out = NULL;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(opts->port);
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    if (opts->address != NULL && opts->address[0] != '\0' &&
        inet_pton(AF_INET, opts->address, &addr.sin_addr) != 1)
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid --http-address '%s'", opts->address);
    tc__http_server *srv = tc__calloc(1, sizeof *srv);
    if (srv == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    srv->core = core;
    srv->max_input_size = opts->max_input_size > 0 ? opts->max_input_size : DEFAULT_MAX_INPUT;
    srv->allow_client_shm = opts->allow_client_shm;
    atomic_init(&srv->suspended, 0u);
    srv->listen_fd = -1;
    /* libmicrohttpd zeroes a connection's whole memory pool for every
     * request; its 32 KiB default made that memset half of the server's
     * work on a small inference (callgrind). The pool holds the request
     * line, headers and read buffer (bodies stream through it), so 8 KiB
     * bounds headers at a few KiB, like common proxies do. */
    enum { CONNECTION_POOL_BYTES = 8 * 1024 };
    unsigned threads = opts->thread_count > 0 ? opts->thread_count : 8;
    /* Level-triggered poll, not epoll: with libmicrohttpd 0.9.75's edge-triggered
     * epoll, a FIN that arrives together with a partial body is never read, so
     * clients vanishing mid-upload left connections in CLOSE-WAIT until the
     * process ran out of descriptors (tests/integration/test_faults.c). */
    unsigned flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    srv->daemon = MHD_start_daemon(
        flags, opts->port, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, srv, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)0,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_POOL_BYTES,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv, MHD_OPTION_END);
    if (srv->daemon == NULL) {
        tc__free(srv);
        return tc__error_set(err, TC_E_UNAVAILABLE, "failed to start HTTP service on %s:%u",
                             opts->address != NULL ? opts->address : "0.0.0.0",
                             (unsigned)opts->port);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info != NULL ? info->port : opts->port;
    *out = srv;
    return TC_OK;
}

uint16_t tc__http_server_port(const tc__http_server *srv)
{
    return srv->port;
}

void tc__http_server_quiesce(tc__http_server *srv)
{
    if (srv != NULL && srv->daemon != NULL && srv->listen_fd < 0)
        srv->listen_fd = MHD_quiesce_daemon(srv->daemon);
}

void tc__http_server_free(tc__http_server *srv, unsigned timeout_ms)
{
    if (srv == NULL)
        return;
    /* Give resumed connections time to send their answers. */
    for (unsigned waited = 0; atomic_load(&srv->suspended) > 0 && waited < timeout_ms;
         waited += 10) {
        struct timespec ts = {0, 10 * 1000000L};
        (void)nanosleep(&ts, NULL);
    }
    struct timespec ts = {0, 50 * 1000000L};
    (void)nanosleep(&ts, NULL);
    MHD_stop_daemon(srv->daemon);
    if (srv->listen_fd >= 0)
        (void)close(srv->listen_fd); /* quiesce handed the listen socket to us */
    tc__free(srv);
}
