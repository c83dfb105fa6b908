/* libFuzzer target: bytes from a client into the gRPC frontend's nghttp2
 * server session, without sockets, over the real core and the bundled
 * models. The input follows the client connection preface; whatever the
 * session answers is produced and dropped. Async results are waited for so
 * every call and job is freed before the next input (leaks are caught). */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "frontend/grpc/grpc_internal.h"

static tc__core *g_core;
static tc__grpc_server *g_srv;

static void quiet(tc_log_level level, const char *message, void *user_data)
{
    (void)level;
    (void)message;
    (void)user_data;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    tc_set_log_callback(quiet, TC_LOG_ERROR, NULL);
    static const char *const repos[] = {TC_MODELS_DIR};
    tc__core_options co;
    memset(&co, 0, sizeof co);
    co.repositories = repos;
    co.repository_count = 1;
    tc__error err;
    if (tc__core_new(&co, &g_core, &err) != TC_OK)
        return 1;
    g_srv = tc__calloc(1, sizeof *g_srv);
    g_srv->core = g_core;
    g_srv->listen_fd = g_srv->epoll_fd = g_srv->event_fd = -1;
    g_srv->opts.max_message_size = 1u << 20;
    g_srv->opts.keepalive_time_ms = 7200000u;
    g_srv->opts.keepalive_timeout_ms = 20000u;
    g_srv->opts.max_pings_without_data = 2;
    g_srv->opts.min_recv_ping_interval_without_data_ms = 300000;
    g_srv->opts.max_ping_strikes = 2;
    pthread_mutex_init(&g_srv->lock, NULL);
    return 0;
}

static void drain_output(tc__grpc_conn *conn)
{
    for (int i = 0; i < 1000; i++) {
        const uint8_t *out = NULL;
        if (nghttp2_session_mem_send(conn->session, &out) <= 0)
            break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
                                     "\x00\x00\x00\x04\x00\x00\x00\x00\x00";
    tc__grpc_conn *conn = tc__calloc(1, sizeof *conn);
    if (conn == NULL)
        return 0;
    conn->fd = -1;
    if (tc__grpc_conn_init(g_srv, conn) != TC_OK) {
        tc__free(conn);
        return 0;
    }
    if (tc__grpc_conn_recv(conn, preface, sizeof preface - 1))
        (void)tc__grpc_conn_recv(conn, data, size);
    drain_output(conn);
    /* Let inferences and worker RPCs finish, delivering their results. */
    for (int i = 0; i < 5000 && atomic_load(&g_srv->jobs) > 0; i++) {
        tc__grpc_run_queue(g_srv);
        drain_output(conn);
        if (atomic_load(&g_srv->jobs) > 0) {
            struct timespec ts = {0, 200000};
            (void)nanosleep(&ts, NULL);
        }
    }
    tc__grpc_conn_release(conn);
    tc__grpc_run_queue(g_srv);
    tc__buf_cleanup(&conn->wbuf);
    tc__free(conn);
    return 0;
}
