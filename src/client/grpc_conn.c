/* One HTTP/2 connection per gRPC client, built on nghttp2's I/O-free
 * session: we read and write a non-blocking socket and feed the session.
 *
 * Driving: exactly one thread drives the connection at a time: the caller
 * of a sync call while no I/O thread runs (no thread hop for sync calls),
 * else the I/O thread. Other threads hand over work through the queue and
 * cancel list (lock: mu) and wake the driver through a pipe.
 *
 * Call lifecycle: queued (lock: mu) -> waiting (driver: not submitted yet,
 * e.g. while connecting) -> active (an HTTP/2 stream) -> finished: the
 * outcome is fixed once (call->finished), the call leaves every list and
 * its on_done runs from the delivery list, outside nghttp2's callbacks.
 * That gives each call exactly one completion, whatever ends it (answer,
 * deadline, cancel, GOAWAY, connection loss, client free). */
#include "client/grpc_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/timeutil.h"

#define WINDOW_SIZE      4194303 /* grpcio's INITIAL_WINDOW_SIZE and MAX_FRAME_SIZE */
#define CONN_WINDOW_SIZE (64 * 1024 * 1024)
#define MAX_HEADER_LIST  16384
#define READ_CHUNK       (64 * 1024)
#define WRITE_GATHER     (256 * 1024)
#define POLL_MAX_MS      1000
#define NS_PER_US        1000u
#define NS_PER_MS        1000000u

/* ST_TLS: TCP is up, the TLS handshake runs (TLS connections only). */
enum { ST_CLOSED, ST_CONNECTING, ST_TLS, ST_OPEN };

typedef struct delivery {
    tc__deliver_fn fn;
    void *a;
    void *b;
    bool flag;
    struct delivery *next;
} delivery;

struct tc__gconn {
    char *host;
    char *port;
    const struct tc_grpc_options *opts; /* the client's copy; outlives the connection */
    char *authority;
    char *user_agent;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    tc__gcall *queue_head; /* lock: mu */
    tc__gcall *queue_tail; /* lock: mu */
    uint64_t *cancels;     /* lock: mu */
    size_t cancel_count;   /* lock: mu */
    bool stopping;         /* lock: mu */
    uint64_t next_id;      /* lock: mu */
    bool has_thread;       /* written by the client's user thread only */
    pthread_t thread;
    int wake[2];
    /* driver only */
    int fd;
    int state;
    SSL_CTX *tls_ctx;    /* built at the first TLS connect, kept for reconnects */
    SSL *ssl;            /* NULL on plaintext connections */
    bool tls_want_write; /* the last TLS operation waits for a writable socket */
    bool tls_clean;      /* no fatal TLS error: close_notify may be sent */
    nghttp2_session *sess;
    tc__gcall *waiting;
    tc__gcall *active;
    uint8_t *wpend; /* bytes from the session the socket did not take yet */
    size_t wpend_len;
    uint64_t connect_deadline_ns;
    struct addrinfo *addrs;     /* resolved addresses while connecting, else NULL */
    struct addrinfo *next_addr; /* the next one to try when this attempt fails */
    bool goaway;
    uint64_t last_recv_ns;
    uint64_t ping_sent_ns;
    bool ping_out;
    uint32_t pings_without_data;
    delivery *dq_head;
    delivery *dq_tail;
    char lost_msg[256]; /* why the connection ended, for calls failed by it */
};

static _Thread_local const tc__gconn *t_driver_thread;

/* ---- small helpers ------------------------------------------------------------ */

pthread_mutex_t *tc__gconn_mutex(tc__gconn *conn)
{
    return &conn->mu;
}

pthread_cond_t *tc__gconn_cond(tc__gconn *conn)
{
    return &conn->cv;
}

size_t tc__gconn_max_send(const tc__gconn *conn)
{
    return conn->opts->max_send_message_size;
}

uint64_t tc__gconn_next_id(tc__gconn *conn)
{
    (void)pthread_mutex_lock(&conn->mu);
    uint64_t id = ++conn->next_id;
    (void)pthread_mutex_unlock(&conn->mu);
    return id;
}

bool tc__gconn_has_thread(tc__gconn *conn)
{
    return conn->has_thread;
}

bool tc__gconn_on_thread(const tc__gconn *conn)
{
    return t_driver_thread == conn && conn->has_thread;
}

void tc__gconn_wake(tc__gconn *conn)
{
    static const char b = 1;
    ssize_t n = write(conn->wake[1], &b, 1);
    (void)n; /* a full pipe already wakes the driver */
}

static void drain_wake(tc__gconn *conn)
{
    char buf[64];
    while (read(conn->wake[0], buf, sizeof buf) > 0) {
    }
}

tc__gcall *tc__gcall_new(tc__gconn *conn, const char *path)
{
    tc__gcall *c = tc__calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->conn = conn;
    c->path = path;
    c->id = tc__gconn_next_id(conn);
    c->enc = TC__GRPC_ENC_IDENTITY;
    if (tc__grpc_reader_new(&c->reader, conn->opts->max_receive_message_size,
                            TC__GRPC_ENC_IDENTITY) != TC_OK) {
        tc__free(c);
        return NULL;
    }
    return c;
}

void tc__gcall_free(tc__gcall *call)
{
    if (call == NULL)
        return;
    tc__hlist_cleanup(&call->headers);
    tc__buf_cleanup(&call->out);
    tc__buf_cleanup(&call->pend);
    tc__buf_cleanup(&call->grpc_message);
    tc__buf_cleanup(&call->resp);
    tc__grpc_reader_free(call->reader);
    tc__free(call);
}

tc_code tc__gcall_frame(const tc__gcall *call, const uint8_t *msg, size_t len, tc__buf *dst,
                        tc__error *err)
{
    if (len > call->conn->opts->max_send_message_size)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "request message of %zu bytes exceeds the send limit of %zu", len,
                             call->conn->opts->max_send_message_size);
    return tc__grpc_frame_write(dst, msg, len, call->enc, err);
}

tc_code tc__gconn_deliver(tc__gconn *conn, tc__deliver_fn fn, void *a, void *b, bool flag)
{
    delivery *d = tc__calloc(1, sizeof *d);
    if (d == NULL)
        return TC_E_NOMEM;
    d->fn = fn;
    d->a = a;
    d->b = b;
    d->flag = flag;
    if (conn->dq_tail != NULL)
        conn->dq_tail->next = d;
    else
        conn->dq_head = d;
    conn->dq_tail = d;
    return TC_OK;
}

/* Run queued deliveries (user callbacks among them). More may be queued meanwhile. */
static void run_deliveries(tc__gconn *conn)
{
    while (conn->dq_head != NULL) {
        delivery *d = conn->dq_head;
        conn->dq_head = d->next;
        if (conn->dq_head == NULL)
            conn->dq_tail = NULL;
        tc__deliver_fn fn = d->fn;
        void *a = d->a;
        void *b = d->b;
        bool flag = d->flag;
        tc__free(d);
        fn(a, b, flag);
    }
}

static void unlink_call(tc__gcall **list, tc__gcall *c)
{
    for (tc__gcall **p = list; *p != NULL; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            c->next = NULL;
            return;
        }
    }
}

static void deliver_done(void *a, void *b, bool flag)
{
    (void)b;
    (void)flag;
    tc__gcall *c = a;
    c->on_done(c);
}

/* Fix the outcome of `c` (first caller wins), detach it from the session and
 * the lists, and queue its on_done. Never runs a callback itself. */
static void finish(tc__gconn *conn, tc__gcall *c, tc_code code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void finish(tc__gconn *conn, tc__gcall *c, tc_code code, const char *fmt, ...)
{
    (void)pthread_mutex_lock(&conn->mu);
    bool already = c->finished;
    c->finished = true;
    (void)pthread_mutex_unlock(&conn->mu);
    if (already)
        return;
    c->err.code = code;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->err.msg, sizeof c->err.msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        c->err.msg[0] = '\0';
    if (c->stream_id > 0 && conn->sess != NULL) {
        nghttp2_session_set_stream_user_data(conn->sess, c->stream_id, NULL);
        if (code != TC_OK)
            (void)nghttp2_submit_rst_stream(conn->sess, NGHTTP2_FLAG_NONE, c->stream_id,
                                            NGHTTP2_CANCEL);
    }
    unlink_call(&conn->active, c);
    unlink_call(&conn->waiting, c);
    if (conn->opts->verbose)
        tc__log(TC_LOG_VERBOSE, "grpc: %s finished: %s %s", c->path, tc_code_name(code),
                c->err.msg);
    if (tc__gconn_deliver(conn, deliver_done, c, NULL, false) != TC_OK)
        c->on_done(c); /* out of memory: complete now rather than never */
}

/* ---- nghttp2 callbacks -------------------------------------------------------- */

static tc__gcall *stream_call(nghttp2_session *s, int32_t stream_id)
{
    return nghttp2_session_get_stream_user_data(s, stream_id);
}

static bool name_is(const uint8_t *name, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    return len == n && memcmp(name, lit, n) == 0;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *user_data)
{
    (void)flags;
    (void)user_data;
    if (frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    tc__gcall *c = stream_call(s, frame->hd.stream_id);
    if (c == NULL)
        return 0;
    if (!c->streaming)
        tc__timers_mark(&c->timers, TC_TIMER_RECV_START);
    if (name_is(name, namelen, ":status")) {
        int st = 0;
        for (size_t i = 0; i < valuelen && value[i] >= '0' && value[i] <= '9'; i++)
            st = st * 10 + (value[i] - '0');
        c->http_status = st;
    } else if (name_is(name, namelen, "grpc-status")) {
        int st = 0;
        if (tc__grpc_status_parse((const char *)value, valuelen, &st) == TC_OK) {
            c->grpc_status = st;
            c->has_grpc_status = true;
        }
    } else if (name_is(name, namelen, "grpc-message")) {
        tc__buf_reset(&c->grpc_message);
        (void)tc__grpc_message_decode((const char *)value, valuelen, &c->grpc_message);
    } else if (name_is(name, namelen, "grpc-encoding")) {
        tc__grpc_reader_set_encoding(c->reader,
                                     tc__grpc_encoding_parse((const char *)value, valuelen));
    }
    return 0;
}

static void fail_stream(tc__gconn *conn, tc__gcall *c, const tc__error *e)
{
    finish(conn, c, e->code, "%s", e->msg);
}

static int on_data_chunk(nghttp2_session *s, uint8_t flags, int32_t stream_id, const uint8_t *data,
                         size_t len, void *user_data)
{
    (void)flags;
    tc__gconn *conn = user_data;
    tc__gcall *c = stream_call(s, stream_id);
    if (c != NULL && len > 0)
        tc__timers_mark(&c->timers, TC_TIMER_RECV_START);
    while (c != NULL && len > 0) {
        tc__error e;
        tc__error_clear(&e);
        size_t used = 0;
        tc_code rc = tc__grpc_reader_feed(c->reader, data, len, &used, &e);
        data += used;
        len -= used;
        const uint8_t *msg = NULL;
        size_t mlen = 0;
        while (rc == TC_OK &&
               (rc = tc__grpc_reader_next(c->reader, &msg, &mlen, NULL, &e)) == TC_OK)
            rc = c->on_msg(c, msg, mlen);
        if (rc == TC_E_NOT_FOUND)
            continue;
        if (e.code == TC_OK)
            tc__error_set(&e, rc, "cannot handle the response message");
        fail_stream(conn, c, &e);
        return 0;
    }
    return 0;
}

/* The outcome of a stream the server closed (or reset). */
static void close_outcome(tc__gconn *conn, tc__gcall *c, uint32_t error_code)
{
    const char *gm = c->grpc_message.len > 0 ? (const char *)c->grpc_message.data : "";
    tc__error e;
    if (error_code == 0 && tc__grpc_reader_finish(c->reader, &e) != TC_OK) {
        fail_stream(conn, c, &e);
        return;
    }
    if (c->has_grpc_status) {
        if (c->grpc_status != TC__GRPC_STATUS_OK) {
            finish(conn, c, tc__code_from_grpc_status(c->grpc_status), "%s",
                   gm[0] != '\0' ? gm : tc__grpc_status_name(c->grpc_status));
        } else if (!c->streaming && !c->got_message) {
            finish(conn, c, TC_E_PROTOCOL, "the server sent no response message");
        } else {
            finish(conn, c, TC_OK, "%s", "");
        }
        return;
    }
    if (error_code == NGHTTP2_REFUSED_STREAM)
        finish(conn, c, TC_E_UNAVAILABLE, "the server refused the stream (GOAWAY)");
    else if (error_code == NGHTTP2_CANCEL)
        finish(conn, c, TC_E_CANCELLED, "the server cancelled the stream");
    else if (error_code != 0)
        finish(conn, c, TC_E_TRANSPORT, "stream reset by the server: %s",
               nghttp2_http2_strerror(error_code));
    else if (c->http_status != 0 && c->http_status != 200)
        finish(conn, c, c->http_status == 404 ? TC_E_NOT_SUPPORTED : TC_E_UNAVAILABLE,
               "HTTP status %d without a gRPC status", c->http_status);
    else
        finish(conn, c, TC_E_PROTOCOL, "the stream ended without a gRPC status");
}

static int on_stream_close(nghttp2_session *s, int32_t stream_id, uint32_t error_code,
                           void *user_data)
{
    tc__gconn *conn = user_data;
    tc__gcall *c = stream_call(s, stream_id);
    if (c != NULL)
        close_outcome(conn, c, error_code);
    return 0;
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *frame, void *user_data)
{
    (void)s;
    tc__gconn *conn = user_data;
    if (frame->hd.type == NGHTTP2_PING && (frame->hd.flags & NGHTTP2_FLAG_ACK) != 0)
        conn->ping_out = false;
    else if (frame->hd.type == NGHTTP2_GOAWAY) {
        conn->goaway = true;
        snprintf(conn->lost_msg, sizeof conn->lost_msg, "the server sent GOAWAY (%s)",
                 nghttp2_http2_strerror(frame->goaway.error_code));
    }
    return 0;
}

static int on_frame_send(nghttp2_session *s, const nghttp2_frame *frame, void *user_data)
{
    (void)s;
    tc__gconn *conn = user_data;
    if (frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS)
        conn->pings_without_data = 0;
    return 0;
}

static ssize_t data_read(nghttp2_session *s, int32_t stream_id, uint8_t *buf, size_t length,
                         uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
    (void)s;
    (void)stream_id;
    tc__gconn *conn = user_data;
    tc__gcall *c = source->ptr;
    if (c->out_off == c->out.len) {
        tc__buf_reset(&c->out);
        c->out_off = 0;
        (void)pthread_mutex_lock(&conn->mu);
        tc__buf tmp = c->out;
        c->out = c->pend;
        c->pend = tmp;
        bool half = c->half_close;
        (void)pthread_mutex_unlock(&conn->mu);
        if (c->out.len == 0) {
            if (!c->streaming || half) {
                *data_flags |= NGHTTP2_DATA_FLAG_EOF;
                return 0;
            }
            c->deferred = true;
            return NGHTTP2_ERR_DEFERRED;
        }
    }
    size_t n = c->out.len - c->out_off;
    if (n > length)
        n = length;
    tc__timers_mark(&c->timers, TC_TIMER_SEND_START);
    memcpy(buf, c->out.data + c->out_off, n);
    c->out_off += n;
    if (c->out_off == c->out.len)
        tc__timers_set(&c->timers, TC_TIMER_SEND_END);
    if (c->out_off == c->out.len && !c->streaming)
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

/* ---- connection setup and teardown ---------------------------------------------- */

static void tls_close(tc__gconn *conn);
static void tls_handshake(tc__gconn *conn);
static tc_code tls_start(tc__gconn *conn, tc__error *err);

static void close_conn(tc__gconn *conn)
{
    if (conn->sess != NULL) {
        nghttp2_session_del(conn->sess);
        conn->sess = NULL;
    }
    tls_close(conn);
    if (conn->fd >= 0) {
        (void)close(conn->fd);
        conn->fd = -1;
    }
    tc__free(conn->wpend);
    conn->wpend = NULL;
    conn->wpend_len = 0;
    if (conn->addrs != NULL) {
        freeaddrinfo(conn->addrs);
        conn->addrs = NULL;
        conn->next_addr = NULL;
    }
    conn->state = ST_CLOSED;
    conn->goaway = false;
    conn->ping_out = false;
    conn->pings_without_data = 0;
}

/* The connection is gone: every call on it or waiting for it fails. */
static void lose_conn(tc__gconn *conn, tc_code code, const char *why)
{
    char msg[sizeof conn->lost_msg];
    snprintf(msg, sizeof msg, "%.*s", (int)(sizeof msg - 1), why); /* cut to fit, knowingly */
    while (conn->active != NULL) {
        tc__gcall *c = conn->active;
        c->stream_id = 0; /* the session is going away: no RST */
        finish(conn, c, code, "%s", msg);
    }
    while (conn->waiting != NULL)
        finish(conn, conn->waiting, code, "%s", msg);
    close_conn(conn);
}

static tc_code session_open(tc__gconn *conn, tc__error *err)
{
    nghttp2_session_callbacks *cbs = NULL;
    nghttp2_option *opt = NULL;
    if (nghttp2_session_callbacks_new(&cbs) != 0 || nghttp2_option_new(&opt) != 0) {
        nghttp2_session_callbacks_del(cbs);
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    }
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
    nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_send);
    nghttp2_option_set_max_send_header_block_length(opt, 1u << 20);
    int r = nghttp2_session_client_new2(&conn->sess, cbs, conn, opt);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_option_del(opt);
    if (r != 0)
        return tc__error_set(err, TC_E_NOMEM, "nghttp2: %s", nghttp2_strerror(r));
    const nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, WINDOW_SIZE},
        {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, WINDOW_SIZE},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, MAX_HEADER_LIST},
    };
    r = nghttp2_submit_settings(conn->sess, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]);
    if (r == 0)
        r = nghttp2_session_set_local_window_size(conn->sess, NGHTTP2_FLAG_NONE, 0,
                                                  CONN_WINDOW_SIZE);
    if (r != 0)
        return tc__error_set(err, TC_E_NOMEM, "nghttp2: %s", nghttp2_strerror(r));
    conn->state = ST_OPEN;
    conn->last_recv_ns = tc__now_ns();
    return TC_OK;
}

/* Start a non-blocking connect to the next resolved address that takes
 * one (conn->next_addr on). `saved` is the errno of the attempt before. */
static tc_code connect_next(tc__gconn *conn, int saved, tc__error *err)
{
    for (struct addrinfo *ai = conn->next_addr; ai != NULL; ai = ai->ai_next) {
        int fd =
            socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
            conn->fd = fd;
            conn->state = ST_CONNECTING;
            conn->next_addr = ai->ai_next;
            return TC_OK;
        }
        saved = errno;
        (void)close(fd);
    }
    freeaddrinfo(conn->addrs);
    conn->addrs = NULL;
    conn->next_addr = NULL;
    return tc__error_set(err, TC_E_TRANSPORT, "failed to connect to %s:%s: %s", conn->host,
                         conn->port, strerror(saved));
}

/* Resolve and start connecting. An address whose connect fails, at once or
 * later (finish_connect), gives way to the next one, as gRPC core does
 * (e.g. "localhost" resolving to ::1 first for a server on 127.0.0.1). */
static tc_code start_connect(tc__gconn *conn, tc__error *err)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo *res = NULL;
    int g = getaddrinfo(conn->host, conn->port, &hints, &res);
    if (g != 0)
        return tc__error_set(err, TC_E_TRANSPORT, "cannot resolve %s: %s", conn->host,
                             gai_strerror(g));
    conn->addrs = res;
    conn->next_addr = res;
    tc_code rc = connect_next(conn, ECONNREFUSED, err);
    if (rc != TC_OK)
        return rc;
    uint64_t t = conn->opts->connect_timeout_us;
    conn->connect_deadline_ns = t > 0 ? tc__now_ns() + t * NS_PER_US : 0;
    return TC_OK;
}

/* The socket became writable while connecting. */
static void finish_connect(tc__gconn *conn)
{
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
        soerr = errno;
    tc__error e;
    tc__error_clear(&e);
    if (soerr != 0 && conn->next_addr != NULL) {
        /* This address refused: try the next within the same deadline. */
        (void)close(conn->fd);
        conn->fd = -1;
        if (connect_next(conn, soerr, &e) != TC_OK)
            lose_conn(conn, e.code, e.msg);
        return;
    }
    if (soerr != 0) {
        char why[256];
        snprintf(why, sizeof why, "failed to connect to %s:%s: %s", conn->host, conn->port,
                 strerror(soerr));
        lose_conn(conn, TC_E_TRANSPORT, why);
        return;
    }
    if (conn->addrs != NULL) {
        freeaddrinfo(conn->addrs); /* connected: no more tries */
        conn->addrs = NULL;
        conn->next_addr = NULL;
    }
    if (conn->opts->use_tls) {
        if (tls_start(conn, &e) != TC_OK)
            lose_conn(conn, e.code, e.msg);
        else
            tls_handshake(conn); /* sends the ClientHello */
        return;
    }
    if (session_open(conn, &e) != TC_OK)
        lose_conn(conn, e.code, e.msg);
}

/* ---- TLS (OpenSSL, ALPN h2) ------------------------------------------------------ */

/* A socket BIO that sends with MSG_NOSIGNAL: a library must not raise
 * SIGPIPE in its caller's process when the server goes away. */
static BIO_METHOD *g_bio_method;
static pthread_once_t g_bio_once = PTHREAD_ONCE_INIT;

static int bio_fd(BIO *b)
{
    return (int)(intptr_t)BIO_get_data(b);
}

static int bio_write(BIO *b, const char *data, int len)
{
    BIO_clear_retry_flags(b);
    ssize_t n = send(bio_fd(b), data, (size_t)len, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_write(b);
    return (int)n;
}

static int bio_read(BIO *b, char *data, int len)
{
    BIO_clear_retry_flags(b);
    ssize_t n = recv(bio_fd(b), data, (size_t)len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_read(b);
    return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static void make_bio_method(void)
{
    int index = BIO_get_new_index();
    BIO_METHOD *m = index > 0 ? BIO_meth_new(index | BIO_TYPE_SOURCE_SINK, "tritonc socket") : NULL;
    if (m != NULL &&
        (BIO_meth_set_write(m, bio_write) != 1 || BIO_meth_set_read(m, bio_read) != 1 ||
         BIO_meth_set_ctrl(m, bio_ctrl) != 1 || BIO_meth_set_create(m, bio_create) != 1)) {
        BIO_meth_free(m);
        m = NULL;
    }
    g_bio_method = m; /* lives as long as the process */
}

/* No terminal prompt for an encrypted private key: it just fails to load. */
static int no_password(char *buf, int size, int rwflag, void *ud)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)ud;
    return 0;
}

/* OpenSSL's reason for the oldest queued error ("certificate verify failed"),
 * or `fallback`; clears the queue. */
static void tls_reason(char *out, size_t size, const char *fallback)
{
    unsigned long code = ERR_peek_error();
    const char *r = code != 0 ? ERR_reason_error_string(code) : NULL;
    if (r != NULL)
        snprintf(out, size, "%s", r);
    else if (code != 0)
        ERR_error_string_n(code, out, size);
    else
        snprintf(out, size, "%s", fallback);
    ERR_clear_error();
}

/* Describe a failed TLS operation (`e` from SSL_get_error, `saved` errno). */
static void tls_describe(tc__gconn *conn, int e, int saved, const char *what, char *why,
                         size_t size)
{
    char reason[160];
    if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
        snprintf(reason, sizeof reason, "%s",
                 saved != 0 ? strerror(saved) : "the connection was closed");
    else
        tls_reason(reason, sizeof reason, "TLS error");
    long v = SSL_get_verify_result(conn->ssl);
    if (conn->opts->verify_peer && v != X509_V_OK)
        snprintf(why, size, "%s %s:%s failed: %s (%s)", what, conn->host, conn->port, reason,
                 X509_verify_cert_error_string(v));
    else
        snprintf(why, size, "%s %s:%s failed: %s", what, conn->host, conn->port, reason);
    ERR_clear_error();
}

/* Build the TLS context from the options (files are read here, at the first
 * TLS connect; the context serves later reconnects too). */
static tc_code tls_ctx_new(tc__gconn *conn, tc__error *err)
{
    const struct tc_grpc_options *o = conn->opts;
    (void)pthread_once(&g_bio_once, make_bio_method);
    if (g_bio_method == NULL)
        return tc__error_set(err, TC_E_NOMEM, "TLS: cannot create the socket BIO");
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL)
        return tc__error_set(err, TC_E_NOMEM, "TLS: cannot create a context");
    (void)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    (void)SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                       SSL_OP_IGNORE_UNEXPECTED_EOF);
    (void)SSL_CTX_set_mode(ctx,
                           SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_default_passwd_cb(ctx, no_password);
    const char *what = NULL;
    const char *file = "";
    if (o->root_certs != NULL) {
        if (SSL_CTX_load_verify_locations(ctx, o->root_certs, NULL) != 1) {
            what = "cannot load root certificates";
            file = o->root_certs;
        }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        what = "cannot load the system's root certificates";
    }
    if (what == NULL && o->cert_file != NULL && o->key_file != NULL) {
        if (SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1) {
            what = "cannot load the client certificate";
            file = o->cert_file;
        } else if (SSL_CTX_use_PrivateKey_file(ctx, o->key_file, SSL_FILETYPE_PEM) != 1 ||
                   SSL_CTX_check_private_key(ctx) != 1) {
            what = "cannot load the client private key";
            file = o->key_file;
        }
    }
    if (what != NULL) {
        char reason[160];
        tls_reason(reason, sizeof reason, "unknown error");
        SSL_CTX_free(ctx);
        return tc__error_set(err, TC_E_TRANSPORT, "TLS: %s %s%s%s: %s", what,
                             file[0] != '\0' ? "'" : "", file, file[0] != '\0' ? "'" : "", reason);
    }
    SSL_CTX_set_verify(ctx, o->verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    conn->tls_ctx = ctx;
    return TC_OK;
}

static bool is_ip_literal(const char *name)
{
    struct in6_addr a;
    return inet_pton(AF_INET, name, &a) == 1 || inet_pton(AF_INET6, name, &a) == 1;
}

/* TCP is up: wrap the socket (SNI, ALPN h2, the name to verify). */
static tc_code tls_start(tc__gconn *conn, tc__error *err)
{
    const struct tc_grpc_options *o = conn->opts;
    if (conn->tls_ctx == NULL && tls_ctx_new(conn, err) != TC_OK)
        return err->code;
    ERR_clear_error();
    SSL *ssl = SSL_new(conn->tls_ctx);
    BIO *bio = ssl != NULL ? BIO_new(g_bio_method) : NULL;
    if (bio == NULL) {
        SSL_free(ssl);
        return tc__error_set(err, TC_E_NOMEM, "TLS: out of memory");
    }
    BIO_set_data(bio, (void *)(intptr_t)conn->fd);
    SSL_set_bio(ssl, bio, bio);
    SSL_set_connect_state(ssl);
    conn->ssl = ssl;
    conn->tls_clean = true;
    conn->tls_want_write = false;
    static const unsigned char alpn[] = {2, 'h', '2'};
    const char *name = o->tls_server_name != NULL ? o->tls_server_name : conn->host;
    bool ip = is_ip_literal(name);
    bool ok = SSL_set_alpn_protos(ssl, alpn, sizeof alpn) == 0; /* 0 is success here */
    if (ok && !ip)
        ok = SSL_set_tlsext_host_name(ssl, name) == 1;
    if (ok && o->verify_peer)
        ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1
                : SSL_set1_host(ssl, name) == 1;
    if (!ok) {
        ERR_clear_error();
        return tc__error_set(err, TC_E_TRANSPORT, "TLS: cannot set up a connection to '%s'", name);
    }
    conn->state = ST_TLS;
    return TC_OK;
}

/* Advance the handshake; once done (and h2 agreed) open the HTTP/2 session. */
static void tls_handshake(tc__gconn *conn)
{
    ERR_clear_error();
    errno = 0;
    int r = SSL_do_handshake(conn->ssl);
    if (r != 1) {
        int saved = errno;
        int e = SSL_get_error(conn->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            conn->tls_want_write = e == SSL_ERROR_WANT_WRITE;
            return;
        }
        char why[256];
        tls_describe(conn, e, saved, "TLS handshake with", why, sizeof why);
        conn->tls_clean = false;
        lose_conn(conn, TC_E_TRANSPORT, why);
        return;
    }
    conn->tls_want_write = false;
    const unsigned char *proto = NULL;
    unsigned int len = 0;
    SSL_get0_alpn_selected(conn->ssl, &proto, &len);
    if (len != 2 || memcmp(proto, "h2", 2) != 0) {
        char why[256];
        snprintf(why, sizeof why, "TLS: the server %s:%s did not select ALPN protocol h2 (%s%.*s)",
                 conn->host, conn->port, len == 0 ? "no ALPN" : "selected ",
                 (int)(len > 64 ? 64 : len), len == 0 ? "" : (const char *)proto);
        lose_conn(conn, TC_E_TRANSPORT, why);
        return;
    }
    if (conn->opts->verbose)
        tc__log(TC_LOG_VERBOSE, "grpc: %s with %s:%s (%s), ALPN h2", SSL_get_version(conn->ssl),
                conn->host, conn->port, SSL_get_cipher_name(conn->ssl));
    tc__error e;
    tc__error_clear(&e);
    if (session_open(conn, &e) != TC_OK)
        lose_conn(conn, e.code, e.msg);
}

/* Write through TLS: bytes written, 0 when it would block, -1 on failure (`why`). */
static ssize_t tls_write(tc__gconn *conn, const uint8_t *buf, size_t len, char *why, size_t size)
{
    ERR_clear_error();
    errno = 0;
    int n = SSL_write(conn->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
    if (n > 0)
        return n;
    int saved = errno;
    int e = SSL_get_error(conn->ssl, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    conn->tls_clean = false;
    tls_describe(conn, e, saved, "TLS write to", why, size);
    return -1;
}

/* Read through TLS: bytes read, 0 when nothing is available, -1 when the
 * server closed the connection (*eof) or it failed (`why`). */
static ssize_t tls_read(tc__gconn *conn, uint8_t *buf, size_t len, bool *eof, char *why,
                        size_t size)
{
    ERR_clear_error();
    errno = 0;
    int n = SSL_read(conn->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
    if (n > 0) {
        conn->tls_want_write = false;
        return n;
    }
    int saved = errno;
    int e = SSL_get_error(conn->ssl, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        conn->tls_want_write = e == SSL_ERROR_WANT_WRITE;
        return 0;
    }
    if (e == SSL_ERROR_ZERO_RETURN) {
        *eof = true; /* close_notify (or a bare EOF): answer with ours */
        return -1;
    }
    conn->tls_clean = false;
    tls_describe(conn, e, saved, "TLS read from", why, size);
    return -1;
}

/* Send close_notify (best effort, never blocks) and free the TLS state. */
static void tls_close(tc__gconn *conn)
{
    if (conn->ssl == NULL)
        return;
    if (conn->tls_clean && conn->state == ST_OPEN) {
        ERR_clear_error();
        (void)SSL_shutdown(conn->ssl);
    }
    SSL_free(conn->ssl);
    ERR_clear_error();
    conn->ssl = NULL;
    conn->tls_want_write = false;
}

/* ---- submitting calls ------------------------------------------------------------- */

static void nv_add(nghttp2_nv *nv, size_t *n, const char *name, const char *value)
{
    nv[*n].name = (uint8_t *)(uintptr_t)name;
    nv[*n].namelen = strlen(name);
    nv[*n].value = (uint8_t *)(uintptr_t)value;
    nv[*n].valuelen = strlen(value);
    nv[*n].flags = NGHTTP2_NV_FLAG_NONE;
    (*n)++;
}

static void lower(char *s)
{
    for (; *s != '\0'; s++) {
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
    }
}

static void submit_call(tc__gconn *conn, tc__gcall *c)
{
    size_t extra = conn->opts->headers.count + c->headers.count;
    nghttp2_nv *nv = tc__calloc(12 + extra, sizeof *nv);
    char **names = tc__calloc(extra + 1, sizeof *names);
    if (nv == NULL || names == NULL) {
        tc__free(nv);
        tc__free(names);
        finish(conn, c, TC_E_NOMEM, "out of memory");
        return;
    }
    char timeout[TC__GRPC_TIMEOUT_MAX];
    size_t n = 0;
    nv_add(nv, &n, ":path", c->path);
    nv_add(nv, &n, ":authority", conn->authority);
    nv_add(nv, &n, ":method", "POST");
    nv_add(nv, &n, ":scheme", conn->opts->use_tls ? "https" : "http");
    nv_add(nv, &n, "content-type", "application/grpc");
    nv_add(nv, &n, "te", "trailers");
    if (c->enc != TC__GRPC_ENC_IDENTITY)
        nv_add(nv, &n, "grpc-encoding", tc__grpc_encoding_name(c->enc));
    nv_add(nv, &n, "grpc-accept-encoding", "identity, deflate, gzip");
    nv_add(nv, &n, "user-agent", conn->user_agent);
    if (c->timeout_us > 0) {
        tc__grpc_timeout_format(c->timeout_us, timeout);
        nv_add(nv, &n, "grpc-timeout", timeout);
    }
    size_t k = 0;
    const tc__hlist *lists[2] = {&conn->opts->headers, &c->headers};
    for (size_t l = 0; l < 2; l++) {
        for (size_t i = 0; i < lists[l]->count; i++) {
            names[k] = tc__strdup(lists[l]->items[i].name);
            if (names[k] == NULL)
                continue;
            lower(names[k]);
            nv_add(nv, &n, names[k], lists[l]->items[i].value);
            k++;
        }
    }
    nghttp2_data_provider dp;
    dp.source.ptr = c;
    dp.read_callback = data_read;
    int32_t id = nghttp2_submit_request(conn->sess, NULL, nv, n, &dp, c);
    for (size_t i = 0; i < k; i++)
        tc__free(names[i]);
    tc__free(names);
    tc__free(nv);
    if (id < 0) {
        finish(conn, c,
               id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE ? TC_E_UNAVAILABLE : TC_E_TRANSPORT,
               "cannot start the call: %s", nghttp2_strerror(id));
        return;
    }
    c->stream_id = id;
    c->next = conn->active;
    conn->active = c;
    if (conn->opts->verbose)
        tc__log(TC_LOG_VERBOSE, "grpc: %s started on stream %d (%zu bytes queued)", c->path, id,
                c->out.len);
}

/* ---- reading and writing ------------------------------------------------------------ */

/* Write what the session has; false when the connection failed. Frames are
 * gathered into one buffer first, so a call's HEADERS and DATA leave in one
 * segment (one wake-up for the server instead of two). */
static bool flush(tc__gconn *conn)
{
    while (conn->state == ST_OPEN) {
        if (conn->wpend_len == 0) {
            tc__buf out = TC__BUF_INIT;
            for (;;) {
                const uint8_t *data = NULL;
                ssize_t n = nghttp2_session_mem_send(conn->sess, &data);
                if (n < 0) {
                    tc__buf_cleanup(&out);
                    lose_conn(conn, TC_E_TRANSPORT, nghttp2_strerror((int)n));
                    return false;
                }
                if (n == 0)
                    break;
                if (tc__buf_append(&out, data, (size_t)n) != TC_OK) {
                    tc__buf_cleanup(&out);
                    lose_conn(conn, TC_E_NOMEM, "out of memory");
                    return false;
                }
                if (out.len >= WRITE_GATHER)
                    break;
            }
            if (out.len == 0)
                return true;
            conn->wpend = tc__buf_steal(&out, &conn->wpend_len);
        }
        char why[256];
        ssize_t w;
        if (conn->ssl != NULL) {
            w = tls_write(conn, conn->wpend, conn->wpend_len, why, sizeof why);
            if (w == 0)
                return true;
        } else {
            w = send(conn->fd, conn->wpend, conn->wpend_len, MSG_NOSIGNAL);
            if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
                return true;
            if (w < 0)
                snprintf(why, sizeof why, "connection lost: %s", strerror(errno));
        }
        if (w < 0) {
            lose_conn(conn, TC_E_TRANSPORT, why);
            return false;
        }
        size_t done = (size_t)w;
        memmove(conn->wpend, conn->wpend + done, conn->wpend_len - done);
        conn->wpend_len -= done;
        if (conn->wpend_len > 0)
            return true;
        tc__free(conn->wpend);
        conn->wpend = NULL;
    }
    return true;
}

/* Read everything available and feed the session. */
static void read_input(tc__gconn *conn)
{
    uint8_t buf[READ_CHUNK];
    while (conn->state == ST_OPEN) {
        char why[300];
        bool eof = false;
        ssize_t n;
        if (conn->ssl != NULL) {
            /* Until WANT_READ: OpenSSL may hold decrypted bytes poll() cannot see. */
            n = tls_read(conn, buf, sizeof buf, &eof, why, sizeof why);
            if (n == 0)
                return;
        } else {
            n = recv(conn->fd, buf, sizeof buf, 0);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return;
            if (n < 0 && errno == EINTR)
                continue;
            eof = n == 0;
            if (n < 0)
                snprintf(why, sizeof why, "connection lost: %s", strerror(errno));
        }
        if (n <= 0) {
            if (eof)
                snprintf(why, sizeof why, "%s",
                         conn->goaway ? conn->lost_msg : "the server closed the connection");
            lose_conn(conn, conn->goaway ? TC_E_UNAVAILABLE : TC_E_TRANSPORT, why);
            return;
        }
        conn->last_recv_ns = tc__now_ns();
        conn->ping_out = false; /* anything received proves the peer alive */
        ssize_t r = nghttp2_session_mem_recv(conn->sess, buf, (size_t)n);
        if (r < 0) {
            snprintf(why, sizeof why, "HTTP/2 error: %s", nghttp2_strerror((int)r));
            lose_conn(conn, TC_E_PROTOCOL, why);
            return;
        }
        if (conn->ssl == NULL && (size_t)n < sizeof buf)
            return;
    }
}

/* ---- the driver ---------------------------------------------------------------------- */

/* Move queued calls to `waiting` and apply cancellations. False once stopping. */
static bool take_queue(tc__gconn *conn)
{
    (void)pthread_mutex_lock(&conn->mu);
    tc__gcall *q = conn->queue_head;
    conn->queue_head = NULL;
    conn->queue_tail = NULL;
    uint64_t *cancels = conn->cancels;
    size_t ncancel = conn->cancel_count;
    conn->cancels = NULL;
    conn->cancel_count = 0;
    bool stop = conn->stopping;
    (void)pthread_mutex_unlock(&conn->mu);
    /* Keep submission order: append to the tail of `waiting`. */
    tc__gcall **tail = &conn->waiting;
    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = q;
    for (size_t i = 0; i < ncancel; i++) {
        tc__gcall *lists[2] = {conn->waiting, conn->active};
        for (size_t l = 0; l < 2; l++) {
            for (tc__gcall *c = lists[l]; c != NULL; c = c->next) {
                if (c->id == cancels[i]) {
                    finish(conn, c, TC_E_CANCELLED, "the call was cancelled");
                    break;
                }
            }
        }
    }
    tc__free(cancels);
    return !stop;
}

/* Streams: cancellations, new bytes and half-closes posted by other threads. */
static void scan_streams(tc__gconn *conn)
{
    tc__gcall *next = NULL;
    for (tc__gcall *c = conn->active; c != NULL; c = next) {
        next = c->next;
        (void)pthread_mutex_lock(&conn->mu);
        bool cancel = c->cancel;
        bool more = c->pend.len > 0 || c->half_close;
        (void)pthread_mutex_unlock(&conn->mu);
        if (cancel) {
            finish(conn, c, TC_E_CANCELLED, "the stream was cancelled");
        } else if (c->deferred && more) {
            c->deferred = false;
            (void)nghttp2_session_resume_data(conn->sess, c->stream_id);
        }
    }
    for (tc__gcall *c = conn->waiting; c != NULL; c = next) {
        next = c->next;
        (void)pthread_mutex_lock(&conn->mu);
        bool cancel = c->cancel;
        (void)pthread_mutex_unlock(&conn->mu);
        if (cancel)
            finish(conn, c, TC_E_CANCELLED, "the stream was cancelled");
    }
}

/* Connect when calls wait, submit them once open. */
static void start_waiting(tc__gconn *conn)
{
    if (conn->waiting == NULL)
        return;
    if (conn->state == ST_OPEN && conn->goaway && conn->active == NULL)
        close_conn(conn); /* drained after GOAWAY: reconnect */
    if (conn->state == ST_OPEN && conn->active == NULL)
        read_input(conn); /* notice a connection the server closed while we were idle */
    if (conn->state == ST_CLOSED) {
        tc__error e;
        tc__error_clear(&e);
        if (start_connect(conn, &e) != TC_OK) {
            lose_conn(conn, e.code, e.msg);
            return;
        }
    }
    if (conn->state != ST_OPEN || conn->goaway)
        return;
    while (conn->waiting != NULL) {
        tc__gcall *c = conn->waiting;
        conn->waiting = c->next;
        c->next = NULL;
        submit_call(conn, c);
    }
}

static uint64_t min_deadline(uint64_t a, uint64_t b)
{
    if (a == 0)
        return b;
    if (b == 0)
        return a;
    return a < b ? a : b;
}

/* Expire calls and the connect attempt; returns the next deadline (0 = none). */
static uint64_t check_deadlines(tc__gconn *conn, uint64_t now)
{
    uint64_t next_dl = 0;
    tc__gcall *lists[2] = {conn->waiting, conn->active};
    for (size_t l = 0; l < 2; l++) {
        tc__gcall *next = NULL;
        for (tc__gcall *c = lists[l]; c != NULL; c = next) {
            next = c->next;
            if (c->deadline_ns != 0 && now >= c->deadline_ns)
                finish(conn, c, TC_E_TIMEOUT, "Deadline Exceeded");
            else
                next_dl = min_deadline(next_dl, c->deadline_ns);
        }
    }
    if ((conn->state == ST_CONNECTING || conn->state == ST_TLS) && conn->connect_deadline_ns != 0) {
        if (now >= conn->connect_deadline_ns)
            lose_conn(conn, TC_E_TIMEOUT, "timed out connecting to the server");
        else
            next_dl = min_deadline(next_dl, conn->connect_deadline_ns);
    }
    return next_dl;
}

/* Keepalive pings and their watchdog; returns the next time to look (0 = none). */
static uint64_t keepalive(tc__gconn *conn, uint64_t now)
{
    const struct tc_grpc_options *o = conn->opts;
    if (o->keepalive_time_us == 0 || conn->state != ST_OPEN)
        return 0;
    if (conn->ping_out) {
        uint64_t dl = conn->ping_sent_ns + o->keepalive_timeout_us * NS_PER_US;
        if (now < dl)
            return dl;
        lose_conn(conn, TC_E_UNAVAILABLE, "keepalive watchdog timeout");
        return 0;
    }
    if (conn->active == NULL && !o->keepalive_permit_without_calls)
        return 0;
    if (o->max_pings_without_data != 0 && conn->pings_without_data >= o->max_pings_without_data)
        return 0;
    uint64_t due = conn->last_recv_ns + o->keepalive_time_us * NS_PER_US;
    if (now < due)
        return due;
    if (nghttp2_submit_ping(conn->sess, NGHTTP2_FLAG_NONE, NULL) == 0) {
        conn->ping_out = true;
        conn->ping_sent_ns = now;
        conn->pings_without_data++;
        if (o->verbose)
            tc__log(TC_LOG_VERBOSE, "grpc: keepalive ping");
    }
    return now + o->keepalive_timeout_us * NS_PER_US;
}

static int poll_ms(uint64_t now, uint64_t until)
{
    if (until == 0)
        return POLL_MAX_MS;
    if (until <= now)
        return 0;
    uint64_t ms = (until - now + NS_PER_MS - 1) / NS_PER_MS;
    return ms > POLL_MAX_MS ? POLL_MAX_MS : (int)ms;
}

/* One round: take work, connect/submit, expire, write, wait for the socket or
 * a wake-up (at most `max_ms`), read, and run deliveries. False once stopping. */
static bool drive_once(tc__gconn *conn, int max_ms)
{
    bool running = take_queue(conn);
    if (!running)
        return false;
    if (conn->state == ST_OPEN)
        scan_streams(conn);
    start_waiting(conn);
    uint64_t now = tc__now_ns();
    uint64_t until = min_deadline(check_deadlines(conn, now), keepalive(conn, now));
    if (conn->state == ST_OPEN)
        (void)flush(conn);
    if (conn->dq_head != NULL) {
        /* Something completed: let the caller look before waiting again. */
        run_deliveries(conn);
        return true;
    }
    struct pollfd p[2];
    nfds_t np = 0;
    p[np].fd = conn->wake[0];
    p[np].events = POLLIN;
    np++;
    if (conn->fd >= 0) {
        p[np].fd = conn->fd;
        p[np].events = POLLIN;
        if (conn->state == ST_CONNECTING || conn->tls_want_write || conn->wpend_len > 0 ||
            (conn->sess != NULL && nghttp2_session_want_write(conn->sess)))
            p[np].events |= POLLOUT;
        np++;
    }
    int ms = poll_ms(now, until);
    if (ms > max_ms)
        ms = max_ms;
    if (poll(p, np, ms) <= 0)
        return true;
    if ((p[0].revents & POLLIN) != 0)
        drain_wake(conn);
    if (np > 1 && p[1].revents != 0) {
        if (conn->state == ST_CONNECTING)
            finish_connect(conn);
        else if (conn->state == ST_TLS)
            tls_handshake(conn);
        else if (conn->state == ST_OPEN)
            read_input(conn);
        if (conn->state == ST_OPEN)
            (void)flush(conn);
    }
    run_deliveries(conn);
    return true;
}

/* Every call still known ends with TC_E_CANCELLED (client freed). */
static void cancel_everything(tc__gconn *conn)
{
    (void)pthread_mutex_lock(&conn->mu);
    tc__gcall *q = conn->queue_head;
    conn->queue_head = NULL;
    conn->queue_tail = NULL;
    (void)pthread_mutex_unlock(&conn->mu);
    while (q != NULL) {
        tc__gcall *c = q;
        q = c->next;
        c->next = conn->waiting;
        conn->waiting = c;
    }
    while (conn->active != NULL)
        finish(conn, conn->active, TC_E_CANCELLED, "the client was freed with the call in flight");
    while (conn->waiting != NULL)
        finish(conn, conn->waiting, TC_E_CANCELLED, "the client was freed with the call in flight");
    if (conn->state == ST_OPEN)
        (void)flush(conn); /* best effort: tell the server */
    run_deliveries(conn);
}

static void *io_main(void *arg)
{
    tc__gconn *conn = arg;
    t_driver_thread = conn;
    while (drive_once(conn, POLL_MAX_MS)) {
    }
    /* Callbacks run by cancel_everything cannot submit more: stopping is set. */
    cancel_everything(conn);
    return NULL;
}

tc_code tc__gconn_start_thread(tc__gconn *conn, tc__error *err)
{
    if (conn->has_thread)
        return TC_OK;
    if (pthread_create(&conn->thread, NULL, io_main, conn) != 0)
        return tc__error_set(err, TC_E_TRANSPORT, "cannot start the I/O thread");
    conn->has_thread = true;
    return TC_OK;
}

tc_code tc__gconn_submit(tc__gconn *conn, tc__gcall *call, tc__error *err)
{
    if (call->timeout_us > 0)
        call->deadline_ns = tc__now_ns() + call->timeout_us * NS_PER_US;
    (void)pthread_mutex_lock(&conn->mu);
    bool stopping = conn->stopping;
    if (!stopping) {
        call->next = NULL;
        if (conn->queue_tail != NULL)
            conn->queue_tail->next = call;
        else
            conn->queue_head = call;
        conn->queue_tail = call;
    }
    (void)pthread_mutex_unlock(&conn->mu);
    if (stopping)
        return tc__error_set(err, TC_E_BUSY, "the client is being freed");
    if (conn->has_thread && !tc__gconn_on_thread(conn))
        tc__gconn_wake(conn);
    return TC_OK;
}

void tc__gconn_cancel(tc__gconn *conn, uint64_t id)
{
    (void)pthread_mutex_lock(&conn->mu);
    uint64_t *c = tc__reallocarray(conn->cancels, conn->cancel_count + 1, sizeof *c);
    if (c != NULL) {
        c[conn->cancel_count++] = id;
        conn->cancels = c;
    }
    (void)pthread_mutex_unlock(&conn->mu);
    tc__gconn_wake(conn);
}

static void sync_done(tc__gcall *call)
{
    tc__gconn *conn = call->conn;
    (void)pthread_mutex_lock(&conn->mu);
    call->sync_done = true;
    (void)pthread_cond_broadcast(&conn->cv);
    (void)pthread_mutex_unlock(&conn->mu);
}

static bool is_sync_done(tc__gconn *conn, tc__gcall *call)
{
    (void)pthread_mutex_lock(&conn->mu);
    bool done = call->sync_done;
    (void)pthread_mutex_unlock(&conn->mu);
    return done;
}

tc_code tc__gconn_run_sync(tc__gconn *conn, tc__gcall *call, tc__error *err)
{
    if (tc__gconn_on_thread(conn))
        return tc__error_set(err, TC_E_BUSY,
                             "a sync call cannot run on the client's own I/O thread (callback)");
    call->on_done = sync_done;
    tc_code rc = tc__gconn_submit(conn, call, err);
    if (rc != TC_OK)
        return rc;
    if (!conn->has_thread) {
        /* Drive on this thread: no hop. */
        while (!is_sync_done(conn, call)) {
            if (!drive_once(conn, POLL_MAX_MS)) {
                cancel_everything(conn);
                break;
            }
        }
        return TC_OK;
    }
    (void)pthread_mutex_lock(&conn->mu);
    while (!call->sync_done)
        (void)pthread_cond_wait(&conn->cv, &conn->mu);
    (void)pthread_mutex_unlock(&conn->mu);
    return TC_OK;
}

/* ---- lifetime ---------------------------------------------------------------------------- */

static tc_code make_strings(tc__gconn *conn)
{
    const struct tc_grpc_options *o = conn->opts;
    tc__buf b = TC__BUF_INIT;
    tc_code rc = TC_OK;
    if (o->authority != NULL)
        rc = tc__buf_append_str(&b, o->authority);
    else if (strchr(conn->host, ':') != NULL)
        rc = tc__buf_printf(&b, "[%s]:%s", conn->host, conn->port);
    else
        rc = tc__buf_printf(&b, "%s:%s", conn->host, conn->port);
    if (rc != TC_OK)
        return rc;
    conn->authority = (char *)tc__buf_steal(&b, NULL);
    if (o->user_agent_prefix != NULL)
        rc = tc__buf_printf(&b, "%s ", o->user_agent_prefix);
    if (rc == TC_OK)
        rc = tc__buf_printf(&b, "tritonc/%s grpc-c-nghttp2/%s", tc_library_version(),
                            nghttp2_version(0)->version_str);
    if (rc == TC_OK && o->user_agent_suffix != NULL)
        rc = tc__buf_printf(&b, " %s", o->user_agent_suffix);
    if (rc != TC_OK) {
        tc__buf_cleanup(&b);
        return rc;
    }
    conn->user_agent = (char *)tc__buf_steal(&b, NULL);
    return conn->authority != NULL && conn->user_agent != NULL ? TC_OK : TC_E_NOMEM;
}

tc_code tc__gconn_new(tc__gconn **out, const char *host, const char *port,
                      const struct tc_grpc_options *opts)
{
    tc__gconn *conn = tc__calloc(1, sizeof *conn);
    if (conn == NULL)
        return TC_E_NOMEM;
    conn->fd = -1;
    conn->wake[0] = conn->wake[1] = -1;
    conn->opts = opts;
    conn->host = tc__strdup(host);
    conn->port = tc__strdup(port);
    tc_code rc = conn->host != NULL && conn->port != NULL ? make_strings(conn) : TC_E_NOMEM;
    if (rc == TC_OK && pipe(conn->wake) != 0)
        rc = TC_E_TRANSPORT;
    for (int i = 0; rc == TC_OK && i < 2; i++) {
        if (fcntl(conn->wake[i], F_SETFL, O_NONBLOCK) != 0 ||
            fcntl(conn->wake[i], F_SETFD, FD_CLOEXEC) != 0)
            rc = TC_E_TRANSPORT;
    }
    if (rc == TC_OK && pthread_mutex_init(&conn->mu, NULL) != 0)
        rc = TC_E_NOMEM;
    if (rc == TC_OK && pthread_cond_init(&conn->cv, NULL) != 0) {
        (void)pthread_mutex_destroy(&conn->mu);
        rc = TC_E_NOMEM;
    }
    if (rc != TC_OK) {
        if (conn->wake[0] >= 0) {
            (void)close(conn->wake[0]);
            (void)close(conn->wake[1]);
        }
        tc__free(conn->authority);
        tc__free(conn->user_agent);
        tc__free(conn->host);
        tc__free(conn->port);
        tc__free(conn);
        return rc;
    }
    *out = conn;
    return TC_OK;
}

void tc__gconn_free(tc__gconn *conn)
{
    if (conn == NULL)
        return;
    (void)pthread_mutex_lock(&conn->mu);
    conn->stopping = true;
    (void)pthread_mutex_unlock(&conn->mu);
    if (conn->has_thread) {
        tc__gconn_wake(conn);
        (void)pthread_join(conn->thread, NULL);
    } else {
        t_driver_thread = conn;
        cancel_everything(conn);
        t_driver_thread = NULL;
    }
    close_conn(conn);
    SSL_CTX_free(conn->tls_ctx);
    tc__free(conn->cancels);
    (void)close(conn->wake[0]);
    (void)close(conn->wake[1]);
    (void)pthread_cond_destroy(&conn->cv);
    (void)pthread_mutex_destroy(&conn->mu);
    tc__free(conn->authority);
    tc__free(conn->user_agent);
    tc__free(conn->host);
    tc__free(conn->port);
    tc__free(conn);
}
