/* Metrics daemon: one MHD polling thread answering GET /metrics, and the
 * CPU/memory sampler it drives. Model figures are read from the core at
 * every scrape (they are counters, cheap to copy); host figures are sampled
 * at most once per interval, as upstream does, so utilisation covers the
 * last interval rather than the instant of the scrape. */
#include "frontend/metrics/metrics_server.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "frontend/metrics/metrics_render.h"

#define DEFAULT_INTERVAL_MS 2000u

typedef struct cpu_times {
    uint64_t busy;
    uint64_t total;
} cpu_times;

struct tc__metrics_server {
    tc__core *core;
    struct MHD_Daemon *daemon;
    uint16_t port;
    uint64_t interval_ns;
    bool cpu_metrics;
    pthread_mutex_t lock; /* guards prev, sampled_ns and sys */
    cpu_times prev;
    bool has_prev;
    uint64_t sampled_ns;
    tc__metrics_system sys;
};

/* ---- host sampling -------------------------------------------------------------------- */

/* The aggregate "cpu" line of /proc/stat. Idle time is idle + iowait. */
static bool read_cpu_times(cpu_times *out)
{
    FILE *f = fopen("/proc/stat", "r");
    if (f == NULL)
        return false;
    unsigned long long v[8] = {0};
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]);
    (void)fclose(f);
    if (n < 4)
        return false;
    uint64_t total = 0;
    for (size_t i = 0; i < 8; i++)
        total += v[i];
    out->total = total;
    out->busy = total - v[3] - v[4];
    return true;
}

/* MemTotal and MemAvailable of /proc/meminfo, in bytes. */
static bool read_memory(uint64_t *total, uint64_t *available)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (f == NULL)
        return false;
    char line[256];
    unsigned long long kb = 0;
    bool has_total = false;
    bool has_available = false;
    while (fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "MemTotal: %llu kB", &kb) == 1) {
            *total = (uint64_t)kb * 1024u;
            has_total = true;
        } else if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
            *available = (uint64_t)kb * 1024u;
            has_available = true;
        }
    }
    (void)fclose(f);
    return has_total && has_available;
}

/* srv->lock held. Refresh the host figures when the interval has passed. */
static void sample_locked(tc__metrics_server *srv, uint64_t now_ns)
{
    if (srv->has_prev && now_ns - srv->sampled_ns < srv->interval_ns)
        return;
    cpu_times cur;
    if (read_cpu_times(&cur)) {
        if (srv->has_prev && cur.total > srv->prev.total) {
            uint64_t busy = cur.busy >= srv->prev.busy ? cur.busy - srv->prev.busy : 0u;
            srv->sys.cpu_utilization = (double)busy / (double)(cur.total - srv->prev.total);
            if (srv->sys.cpu_utilization > 1.0)
                srv->sys.cpu_utilization = 1.0;
        }
        srv->sys.has_cpu_utilization = true;
        srv->prev = cur;
    }
    uint64_t total = 0;
    uint64_t available = 0;
    srv->sys.has_memory = read_memory(&total, &available);
    srv->sys.memory_total_bytes = total;
    srv->sys.memory_used_bytes = total >= available ? total - available : 0u;
    srv->has_prev = true;
    srv->sampled_ns = now_ns;
}

/* ---- scrape ------------------------------------------------------------------------ */

static tc_code render(tc__metrics_server *srv, tc__buf *out)
{
    tc__model_stats *stats = NULL;
    size_t count = 0;
    tc__error err;
    tc__error_clear(&err);
    tc_code rc = tc__core_model_stats(srv->core, NULL, NULL, &stats, &count, &err);
    if (rc != TC_OK)
        return rc;
    tc__metrics_system sys;
    memset(&sys, 0, sizeof sys);
    if (srv->cpu_metrics) {
        pthread_mutex_lock(&srv->lock);
        sample_locked(srv, tc__now_ns());
        sys = srv->sys;
        pthread_mutex_unlock(&srv->lock);
    }
    rc = tc__metrics_render(out, stats, count, &sys);
    tc__model_stats_free(stats, count);
    return rc;
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *text)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        strlen(text), (void *)(uintptr_t)text, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        return MHD_NO;
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result scrape(tc__metrics_server *srv, struct MHD_Connection *conn)
{
    tc__buf text = TC__BUF_INIT;
    if (render(srv, &text) != TC_OK) {
        tc__buf_cleanup(&text);
        return answer(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "failed to collect metrics\n");
    }
    size_t len = 0;
    uint8_t *body = tc__buf_steal(&text, &len);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer_with_free_callback(len, body, tc__free);
    if (resp == NULL) {
        tc__free(body);
        return MHD_NO;
    }
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, TC__METRICS_CONTENT_TYPE);
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    (void)upload_data;
    static int first_call_marker;
    /* The first call only announces the headers; answer on the second. */
    if (*con_cls == NULL) {
        *con_cls = &first_call_marker;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        *upload_data_size = 0; /* ignore any body */
        return MHD_YES;
    }
    if (strcmp(url, "/metrics") != 0)
        return answer(conn, MHD_HTTP_NOT_FOUND, "Not Found\n");
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return answer(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "Method Not Allowed\n");
    return scrape(cls, conn);
}

/* ---- daemon ------------------------------------------------------------------------- */

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    (void)vsnprintf(msg, sizeof msg, fmt, ap);
    size_t len = strlen(msg);
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
        msg[--len] = '\0';
    tc__log(TC_LOG_VERBOSE, "metrics: %s", msg);
}

tc_code tc__metrics_server_new(tc__core *core, const tc__metrics_options *opts,
                               tc__metrics_server **out, tc__error *err)
{
    *out = NULL;
    const char *shown =
        opts->address != NULL && opts->address[0] != '\0' ? opts->address : "0.0.0.0";
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(opts->port);
    if (inet_pton(AF_INET, shown, &addr.sin_addr) != 1)
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid --metrics-address '%s'", shown);
    tc__metrics_server *srv = tc__calloc(1, sizeof *srv);
    if (srv == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    srv->core = core;
    srv->cpu_metrics = opts->cpu_metrics;
    srv->interval_ns =
        (uint64_t)(opts->interval_ms > 0 ? opts->interval_ms : DEFAULT_INTERVAL_MS) * 1000000u;
    pthread_mutex_init(&srv->lock, NULL);
    if (srv->cpu_metrics) {
        /* The first sample is the baseline of the first interval. */
        pthread_mutex_lock(&srv->lock);
        sample_locked(srv, tc__now_ns());
        pthread_mutex_unlock(&srv->lock);
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    srv->daemon =
        MHD_start_daemon(flags, opts->port, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR,
                         (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                         MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv, MHD_OPTION_END);
    if (srv->daemon == NULL) {
        pthread_mutex_destroy(&srv->lock);
        tc__free(srv);
        return tc__error_set(err, TC_E_UNAVAILABLE, "failed to start Metrics service on %s:%u",
                             shown, (unsigned)opts->port);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info != NULL ? info->port : opts->port;
    *out = srv;
    return TC_OK;
}

uint16_t tc__metrics_server_port(const tc__metrics_server *srv)
{
    return srv->port;
}

void tc__metrics_server_free(tc__metrics_server *srv)
{
    if (srv == NULL)
        return;
    MHD_stop_daemon(srv->daemon);
    pthread_mutex_destroy(&srv->lock);
    tc__free(srv);
}
