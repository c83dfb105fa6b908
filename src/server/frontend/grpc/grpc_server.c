/* The gRPC frontend's I/O thread: listener, epoll loop, connections,
 * socket I/O (plain or TLS), the completion queue fed by core callbacks,
 * timers and shutdown. */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"
#include "frontend/grpc/grpc_internal.h"

#define READ_CHUNK  65536
#define WRITE_BATCH 65536
#define MAX_EVENTS  64

uint64_t tc__grpc_now_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- allocation hooks for nghttp2 ---------------------------------------------------- */

static void *mem_malloc(size_t size, void *ud)
{
    (void)ud;
    return tc__malloc(size);
}

static void mem_free(void *ptr, void *ud)
{
    (void)ud;
    tc__free(ptr);
}

static void *mem_calloc(size_t n, size_t size, void *ud)
{
    (void)ud;
    return tc__calloc(n, size);
}

static void *mem_realloc(void *ptr, size_t size, void *ud)
{
    (void)ud;
    return tc__realloc(ptr, size);
}

static nghttp2_mem k_mem = {NULL, mem_malloc, mem_free, mem_calloc, mem_realloc};

/* ---- the completion queue -------------------------------------------------------------- */

static void wake(tc__grpc_server *srv)
{
    if (srv->event_fd < 0)
        return;
    uint64_t one = 1;
    ssize_t w = write(srv->event_fd, &one, sizeof one);
    (void)w; /* EAGAIN: the counter is already non-zero, the thread wakes anyway */
}

void tc__grpc_enqueue(tc__grpc_server *srv, tc__grpc_item *item)
{
    item->next = NULL;
    pthread_mutex_lock(&srv->lock);
    if (srv->q_tail != NULL)
        srv->q_tail->next = item;
    else
        srv->q_head = item;
    srv->q_tail = item;
    pthread_mutex_unlock(&srv->lock);
    wake(srv);
}

void tc__grpc_run_queue(tc__grpc_server *srv)
{
    pthread_mutex_lock(&srv->lock);
    tc__grpc_item *list = srv->q_head;
    srv->q_head = srv->q_tail = NULL;
    pthread_mutex_unlock(&srv->lock);
    while (list != NULL) {
        tc__grpc_item *next = list->next;
        tc__grpc_item_run(list);
        list = next;
    }
}

/* ---- connections ------------------------------------------------------------------------ */

tc_code tc__grpc_conn_init(tc__grpc_server *srv, tc__grpc_conn *conn)
{
    conn->srv = srv;
    nghttp2_session_callbacks *cbs = tc__grpc_callbacks_new();
    nghttp2_option *opt = NULL;
    tc_code rc = TC_E_NOMEM;
    if (cbs == NULL || nghttp2_option_new(&opt) != 0)
        goto out;
    /* Requests may be as large as the message limit; headers stay small. */
    nghttp2_option_set_max_send_header_block_length(opt, 65536);
    if (nghttp2_session_server_new3(&conn->session, cbs, conn, opt, &k_mem) != 0)
        goto out;
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 1000},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1u << 22},
        {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, 1u << 20},
    };
    if (nghttp2_submit_settings(conn->session, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]) !=
            0 ||
        nghttp2_session_set_local_window_size(conn->session, NGHTTP2_FLAG_NONE, 0, 1 << 24) != 0) {
        nghttp2_session_del(conn->session);
        conn->session = NULL;
        goto out;
    }
    rc = TC_OK;
out:
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cbs);
    return rc;
}

bool tc__grpc_conn_recv(tc__grpc_conn *conn, const uint8_t *data, size_t len)
{
    ssize_t n = nghttp2_session_mem_recv(conn->session, data, len);
    if (n < 0) {
        tc__log(TC_LOG_VERBOSE, "gRPC connection: %s", nghttp2_strerror((int)n));
        return false;
    }
    return true;
}

static void set_epollout(tc__grpc_conn *conn, bool on)
{
    if (conn->epollout == on || conn->fd < 0)
        return;
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
    ev.data.ptr = conn;
    if (epoll_ctl(conn->srv->epoll_fd, EPOLL_CTL_MOD, conn->fd, &ev) == 0)
        conn->epollout = on;
}

/* >0 written, 0 would block, -1 error. */
static long sock_write(tc__grpc_conn *conn, const uint8_t *p, size_t len)
{
    if (conn->ssl != NULL)
        return tc__grpc_tls_write(conn->ssl, p, len);
    ssize_t w = send(conn->fd, p, len, MSG_NOSIGNAL);
    if (w >= 0)
        return (long)w;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
}

/* Write what is pending; true when everything went out. */
static bool write_pending(tc__grpc_conn *conn)
{
    while (conn->woff < conn->wbuf.len) {
        long w = sock_write(conn, conn->wbuf.data + conn->woff, conn->wbuf.len - conn->woff);
        if (w < 0) {
            conn->dead = true;
            return false;
        }
        if (w == 0) {
            set_epollout(conn, true);
            return false;
        }
        conn->woff += (size_t)w;
    }
    tc__buf_reset(&conn->wbuf);
    conn->woff = 0;
    return true;
}

static void conn_flush(tc__grpc_conn *conn)
{
    if (conn->dead || conn->session == NULL || (conn->ssl != NULL && !conn->handshake_done))
        return;
    if (!write_pending(conn))
        return;
    for (;;) {
        const uint8_t *data = NULL;
        ssize_t n = nghttp2_session_mem_send(conn->session, &data);
        if (n < 0) {
            conn->dead = true;
            return;
        }
        if (n > 0 && tc__buf_append(&conn->wbuf, data, (size_t)n) != TC_OK) {
            conn->dead = true;
            return;
        }
        if (conn->fd < 0) {
            tc__buf_reset(&conn->wbuf); /* detached: output is dropped */
        } else if (n == 0 || conn->wbuf.len >= WRITE_BATCH) {
            if (!write_pending(conn))
                return;
        }
        if (n == 0)
            break;
    }
    set_epollout(conn, false);
    if (!nghttp2_session_want_read(conn->session) && !nghttp2_session_want_write(conn->session))
        conn->dead = true;
}

static void conn_free(tc__grpc_conn *conn)
{
    tc__grpc_server *srv = conn->srv;
    if (conn->prev != NULL)
        conn->prev->next = conn->next;
    else if (srv->conns == conn)
        srv->conns = conn->next;
    if (conn->next != NULL)
        conn->next->prev = conn->prev;
    if (conn->fd >= 0) {
        (void)epoll_ctl(srv->epoll_fd, EPOLL_CTL_DEL, conn->fd, NULL);
        (void)close(conn->fd);
    }
    tc__grpc_tls_conn_free(conn->ssl);
    tc__grpc_conn_release(conn);
    tc__buf_cleanup(&conn->wbuf);
    tc__free(conn);
}

static void conn_read(tc__grpc_conn *conn)
{
    uint8_t buf[READ_CHUNK];
    while (!conn->dead) {
        long n;
        if (conn->ssl != NULL) {
            bool want_write = false;
            n = tc__grpc_tls_read(conn->ssl, buf, sizeof buf, &want_write);
        } else {
            ssize_t r = recv(conn->fd, buf, sizeof buf, 0);
            if (r > 0)
                n = (long)r;
            else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
                n = 0;
            else
                n = -1;
        }
        if (n < 0) {
            conn->dead = true;
            break;
        }
        if (n == 0)
            break;
        if (!tc__grpc_conn_recv(conn, buf, (size_t)n))
            conn->dead = true;
    }
}

static void conn_event(tc__grpc_conn *conn, uint32_t events)
{
    if (conn->ssl != NULL && !conn->handshake_done) {
        int hs = tc__grpc_tls_handshake(conn->ssl);
        if (hs < 0) {
            conn->dead = true;
            return;
        }
        if (hs == 0)
            return;
        conn->handshake_done = true;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        conn_read(conn);
    (void)events;
}

static void accept_all(tc__grpc_server *srv)
{
    for (;;) {
        int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        tc__grpc_conn *conn = tc__calloc(1, sizeof *conn);
        if (conn == NULL) {
            (void)close(fd);
            continue;
        }
        conn->fd = fd;
        conn->srv = srv;
        if (tc__grpc_conn_init(srv, conn) != TC_OK ||
            (srv->ssl_ctx != NULL &&
             tc__grpc_tls_conn_new(srv->ssl_ctx, fd, &conn->ssl) != TC_OK)) {
            nghttp2_session_del(conn->session);
            tc__free(conn);
            (void)close(fd);
            continue;
        }
        struct epoll_event ev;
        memset(&ev, 0, sizeof ev);
        ev.events = EPOLLIN;
        ev.data.ptr = conn;
        if (epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            tc__grpc_tls_conn_free(conn->ssl);
            nghttp2_session_del(conn->session);
            tc__free(conn);
            (void)close(fd);
            continue;
        }
        conn->next = srv->conns;
        if (srv->conns != NULL)
            srv->conns->prev = conn;
        srv->conns = conn;
        if (conn->ssl != NULL)
            conn_event(conn, 0);
    }
}

/* ---- the loop --------------------------------------------------------------------------- */

static void start_quiesce(tc__grpc_server *srv)
{
    srv->quiescing = true;
    if (srv->listen_fd >= 0) {
        (void)epoll_ctl(srv->epoll_fd, EPOLL_CTL_DEL, srv->listen_fd, NULL);
        (void)close(srv->listen_fd);
        srv->listen_fd = -1;
    }
    for (tc__grpc_conn *c = srv->conns; c != NULL; c = c->next) {
        if (c->session != NULL && !c->goaway_sent) {
            c->goaway_sent = true;
            (void)nghttp2_submit_goaway(c->session, NGHTTP2_FLAG_NONE,
                                        nghttp2_session_get_last_proc_stream_id(c->session),
                                        NGHTTP2_NO_ERROR, NULL, 0);
        }
    }
}

static int tick_ms(const tc__grpc_server *srv)
{
    if (srv->deadline_calls > 0)
        return 5;
    uint64_t t = 1000;
    uint64_t k = srv->opts.keepalive_time_ms / 2;
    uint64_t kt = srv->opts.keepalive_timeout_ms / 2;
    if (k < t)
        t = k;
    if (kt < t)
        t = kt;
    return t < 5 ? 5 : (int)t;
}

static void reap(tc__grpc_server *srv)
{
    tc__grpc_conn *c = srv->conns;
    while (c != NULL) {
        tc__grpc_conn *next = c->next;
        if (c->dead)
            conn_free(c);
        c = next;
    }
}

static void *io_main(void *arg)
{
    tc__grpc_server *srv = arg;
    struct epoll_event events[MAX_EVENTS];
    uint64_t last_timers = 0;
    for (;;) {
        int n = epoll_wait(srv->epoll_fd, events, MAX_EVENTS, tick_ms(srv));
        for (int i = 0; i < n; i++) {
            void *p = events[i].data.ptr;
            if (p == &srv->listen_fd) {
                accept_all(srv);
            } else if (p == &srv->event_fd) {
                uint64_t v;
                ssize_t r = read(srv->event_fd, &v, sizeof v);
                (void)r;
            } else {
                tc__grpc_conn *conn = p;
                if (!conn->dead)
                    conn_event(conn, events[i].events);
            }
        }
        tc__grpc_run_queue(srv);
        pthread_mutex_lock(&srv->lock);
        bool quiesce = srv->quiesce_req || srv->stop_req;
        bool stop = srv->stop_req;
        uint64_t deadline = srv->stop_deadline_ms;
        pthread_mutex_unlock(&srv->lock);
        if (quiesce && !srv->quiescing)
            start_quiesce(srv);
        uint64_t now = tc__grpc_now_ms();
        if (now - last_timers >= 5 || srv->deadline_calls == 0) {
            last_timers = now;
            for (tc__grpc_conn *c = srv->conns; c != NULL; c = c->next) {
                if (!c->dead && c->session != NULL)
                    tc__grpc_conn_timers(c, now);
            }
        }
        for (tc__grpc_conn *c = srv->conns; c != NULL; c = c->next)
            conn_flush(c);
        reap(srv);
        if (stop && (srv->conns == NULL || now >= deadline))
            break;
    }
    return NULL;
}

/* ---- start and stop --------------------------------------------------------------------- */

static tc_code bind_listener(tc__grpc_server *srv, const char *address, uint16_t port,
                             tc__error *err)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char port_s[8];
    (void)snprintf(port_s, sizeof port_s, "%u", (unsigned)port);
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(address, port_s, &hints, &res);
    if (gai != 0)
        return tc__error_set(err, TC_E_INVALID_ARG, "bad --grpc-address '%s': %s",
                             address != NULL ? address : "", gai_strerror(gai));
    int e = 0;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        int one = 1;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0) {
            struct sockaddr_storage ss;
            socklen_t sl = sizeof ss;
            if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
                srv->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                           : ((struct sockaddr_in *)&ss)->sin_port);
            srv->listen_fd = fd;
            freeaddrinfo(res);
            return TC_OK;
        }
        e = errno;
        (void)close(fd);
    }
    freeaddrinfo(res);
    return tc__error_set(err, TC_E_UNAVAILABLE, "failed to start GRPC service on %s:%u: %s",
                         address != NULL ? address : "0.0.0.0", (unsigned)port, strerror(e));
}

static tc_code copy_options(tc__grpc_options *o, const tc__grpc_options *in)
{
    *o = *in;
    if (o->max_message_size == 0)
        o->max_message_size = TC__GRPC_DEFAULT_MAX_MESSAGE;
    if (o->keepalive_time_ms == 0)
        o->keepalive_time_ms = 7200000u;
    if (o->keepalive_timeout_ms == 0)
        o->keepalive_timeout_ms = 20000u;
    if (o->max_pings_without_data < 0)
        o->max_pings_without_data = 2;
    if (o->min_recv_ping_interval_without_data_ms < 0)
        o->min_recv_ping_interval_without_data_ms = 300000;
    if (o->max_ping_strikes < 0)
        o->max_ping_strikes = 2;
    o->address = in->address != NULL ? tc__strdup(in->address) : NULL;
    o->server_cert = in->server_cert != NULL ? tc__strdup(in->server_cert) : NULL;
    o->server_key = in->server_key != NULL ? tc__strdup(in->server_key) : NULL;
    o->root_cert = in->root_cert != NULL ? tc__strdup(in->root_cert) : NULL;
    if ((in->address != NULL && o->address == NULL) ||
        (in->server_cert != NULL && o->server_cert == NULL) ||
        (in->server_key != NULL && o->server_key == NULL) ||
        (in->root_cert != NULL && o->root_cert == NULL))
        return TC_E_NOMEM;
    return TC_OK;
}

static void server_destroy(tc__grpc_server *srv)
{
    while (srv->conns != NULL)
        conn_free(srv->conns);
    /* Items of jobs that finished after the loop stopped. */
    tc__grpc_run_queue(srv);
    if (srv->listen_fd >= 0)
        (void)close(srv->listen_fd);
    if (srv->event_fd >= 0)
        (void)close(srv->event_fd);
    if (srv->epoll_fd >= 0)
        (void)close(srv->epoll_fd);
    tc__grpc_tls_ctx_free(srv->ssl_ctx);
    pthread_mutex_destroy(&srv->lock);
    tc__free((void *)(uintptr_t)srv->opts.address);
    tc__free((void *)(uintptr_t)srv->opts.server_cert);
    tc__free((void *)(uintptr_t)srv->opts.server_key);
    tc__free((void *)(uintptr_t)srv->opts.root_cert);
    tc__free(srv);
}

static tc_code add_fd(tc__grpc_server *srv, int fd, void *tag)
{
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.ptr = tag;
    return epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, fd, &ev) == 0 ? TC_OK : TC_E_INTERNAL;
}

tc_code tc__grpc_server_new(tc__core *core, const tc__grpc_options *opts, tc__grpc_server **out,
                            tc__error *err)
{
    *out = NULL;
    tc__grpc_server *srv = tc__calloc(1, sizeof *srv);
    if (srv == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    srv->core = core;
    srv->listen_fd = srv->epoll_fd = srv->event_fd = -1;
    pthread_mutex_init(&srv->lock, NULL);
    atomic_init(&srv->workers, 0u);
    atomic_init(&srv->jobs, 0u);
    tc_code rc = copy_options(&srv->opts, opts);
    if (rc != TC_OK) {
        tc__error_set(err, rc, "out of memory");
        goto fail;
    }
    if (srv->opts.use_ssl) {
        rc = tc__grpc_tls_ctx_new(&srv->opts, &srv->ssl_ctx, err);
        if (rc != TC_OK)
            goto fail;
    }
    rc = bind_listener(srv, srv->opts.address, srv->opts.port, err);
    if (rc != TC_OK)
        goto fail;
    srv->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    srv->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (srv->epoll_fd < 0 || srv->event_fd < 0 || add_fd(srv, srv->listen_fd, &srv->listen_fd) ||
        add_fd(srv, srv->event_fd, &srv->event_fd)) {
        rc = tc__error_set(err, TC_E_INTERNAL, "gRPC frontend: %s", strerror(errno));
        goto fail;
    }
    if (pthread_create(&srv->thread, NULL, io_main, srv) != 0) {
        rc = tc__error_set(err, TC_E_INTERNAL, "gRPC frontend: cannot start its thread");
        goto fail;
    }
    srv->thread_started = true;
    *out = srv;
    return TC_OK;
fail:
    server_destroy(srv);
    return rc;
}

uint16_t tc__grpc_server_port(const tc__grpc_server *srv)
{
    return srv->port;
}

void tc__grpc_server_quiesce(tc__grpc_server *srv)
{
    if (srv == NULL)
        return;
    pthread_mutex_lock(&srv->lock);
    srv->quiesce_req = true;
    pthread_mutex_unlock(&srv->lock);
    wake(srv);
}

void tc__grpc_server_free(tc__grpc_server *srv, unsigned timeout_ms)
{
    if (srv == NULL)
        return;
    pthread_mutex_lock(&srv->lock);
    srv->stop_req = true;
    srv->stop_deadline_ms = tc__grpc_now_ms() + timeout_ms;
    pthread_mutex_unlock(&srv->lock);
    wake(srv);
    if (srv->thread_started)
        (void)pthread_join(srv->thread, NULL);
    /* Model loads still running hold items for us: wait for them. */
    while (atomic_load(&srv->workers) > 0) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        (void)nanosleep(&ts, NULL);
    }
    server_destroy(srv);
}
