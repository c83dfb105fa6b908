/* tritonc-server: command line, start-up, signals and shutdown.
 *
 * Flags use upstream tritonserver's names; both `--flag=value` and
 * `--flag value` are accepted, and boolean flags alone mean true. After
 * each service binds, one line goes to stdout (tests parse it):
 *   Started GRPCInferenceService at <address>:<port>
 *   Started HTTPService at <address>:<port>
 *   Started Metrics Service at <address>:<port>
 * (in this order, as upstream prints them).
 *
 * Shutdown (SIGINT/SIGTERM), as upstream: the core stops accepting work
 * first, so /v2/health/ready answers "not ready" and new inferences fail
 * UNAVAILABLE (HTTP 503) while the frontends keep serving; accepted work
 * finishes within --exit-timeout-secs; then the frontends stop and the
 * process exits 0 (1 when the timeout expired with work still running).
 *
 * Tracing (--trace-file, --trace-level, --trace-rate, --trace-count,
 * --log-frequency, --trace-config) sets the core's initial global trace
 * settings; core/trace.c writes the file. Logging (--log-*) sets the log
 * hook's settings (core/settings.c); --log-file appends there instead of
 * stderr. The trace and logging endpoints change both at run time. */
#include <errno.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"
#include "core/core.h"
#include "frontend/grpc/grpc_server.h"
#include "frontend/http/http_server.h"
#include "frontend/metrics/metrics_server.h"

typedef enum flag_kind { FLAG_STRING, FLAG_UINT, FLAG_BOOL, FLAG_LIST } flag_kind;

typedef struct options {
    const char **repos;
    size_t repo_count;
    const char **load_models;
    size_t load_count;
    const char *http_address;
    const char *control_mode;
    const char *server_id;
    const char *backend_directory;
    const char *metrics_address;
    unsigned long metrics_interval_ms;
    bool allow_cpu_metrics, allow_gpu_metrics;
    /* gRPC frontend */
    const char *grpc_address, *grpc_compression, *grpc_server_cert, *grpc_server_key,
        *grpc_root_cert;
    unsigned long grpc_max_message_size, grpc_keepalive_time, grpc_keepalive_timeout,
        grpc_max_pings_without_data, grpc_min_recv_ping_interval, grpc_max_ping_strikes;
    bool grpc_keepalive_permit_without_calls, grpc_use_ssl, grpc_use_ssl_mutual;
    unsigned long http_port, grpc_port, metrics_port, verbose, exit_timeout_secs, http_threads,
        http_max_input_size, poll_secs;
    bool allow_http, allow_grpc, allow_metrics, strict_model_config, strict_readiness, log_info,
        log_warning, log_error, allow_client_shm, help;
    /* tracing and logging */
    const char *trace_file, *trace_count, *log_format, *log_file;
    const char **trace_levels;
    size_t trace_level_count;
    const char **trace_configs;
    size_t trace_config_count;
    unsigned long trace_rate, log_frequency;
} options;

typedef struct flag {
    const char *name;
    flag_kind kind;
    size_t offset; /* into options; for FLAG_LIST the array, count follows */
    const char *help;
} flag;

#define OPT(field) offsetof(options, field)

static const flag k_flags[] = {
    {"model-repository", FLAG_LIST, OPT(repos), "model repository directory (repeatable)"},
    {"http-port", FLAG_UINT, OPT(http_port), "HTTP port (default 8000; 0 = any free port)"},
    {"grpc-port", FLAG_UINT, OPT(grpc_port), "gRPC port (default 8001; 0 = any free port)"},
    {"grpc-address", FLAG_STRING, OPT(grpc_address), "gRPC bind address (default 0.0.0.0)"},
    {"grpc-max-message-size", FLAG_UINT, OPT(grpc_max_message_size),
     "largest gRPC message in bytes (default 2147483647)"},
    {"grpc-infer-response-compression-level", FLAG_STRING, OPT(grpc_compression),
     "none | low | medium | high (default none)"},
    {"grpc-keepalive-time", FLAG_UINT, OPT(grpc_keepalive_time),
     "ms between server keepalive pings (default 7200000)"},
    {"grpc-keepalive-timeout", FLAG_UINT, OPT(grpc_keepalive_timeout),
     "ms to wait for a ping ack (default 20000)"},
    {"grpc-keepalive-permit-without-calls", FLAG_BOOL, OPT(grpc_keepalive_permit_without_calls),
     "keepalive pings without calls (default false)"},
    {"grpc-http2-max-pings-without-data", FLAG_UINT, OPT(grpc_max_pings_without_data),
     "pings sent without data (default 2; 0 = no limit)"},
    {"grpc-http2-min-recv-ping-interval-without-data", FLAG_UINT, OPT(grpc_min_recv_ping_interval),
     "ms between client pings (default 300000)"},
    {"grpc-http2-max-ping-strikes", FLAG_UINT, OPT(grpc_max_ping_strikes),
     "bad pings before GOAWAY (default 2; 0 = no limit)"},
    {"grpc-use-ssl", FLAG_BOOL, OPT(grpc_use_ssl), "serve gRPC over TLS (default false)"},
    {"grpc-use-ssl-mutual", FLAG_BOOL, OPT(grpc_use_ssl_mutual),
     "TLS with client certificates (default false)"},
    {"grpc-server-cert", FLAG_STRING, OPT(grpc_server_cert), "PEM server certificate file"},
    {"grpc-server-key", FLAG_STRING, OPT(grpc_server_key), "PEM server key file"},
    {"grpc-root-cert", FLAG_STRING, OPT(grpc_root_cert), "PEM root certificate file"},
    {"metrics-port", FLAG_UINT, OPT(metrics_port),
     "metrics port (default 8002; 0 = any free port)"},
    {"metrics-address", FLAG_STRING, OPT(metrics_address),
     "metrics bind address (default: the HTTP address)"},
    {"metrics-interval-ms", FLAG_UINT, OPT(metrics_interval_ms),
     "CPU/memory metrics sampling interval (default 2000)"},
    {"allow-cpu-metrics", FLAG_BOOL, OPT(allow_cpu_metrics),
     "CPU and memory gauges (default true)"},
    {"allow-gpu-metrics", FLAG_BOOL, OPT(allow_gpu_metrics), "GPU metrics (accepted; no GPUs)"},
    {"http-address", FLAG_STRING, OPT(http_address), "HTTP bind address (default 0.0.0.0)"},
    {"allow-http", FLAG_BOOL, OPT(allow_http), "serve HTTP (default true)"},
    {"allow-grpc", FLAG_BOOL, OPT(allow_grpc), "serve gRPC (default true)"},
    {"allow-metrics", FLAG_BOOL, OPT(allow_metrics), "serve Prometheus metrics (default true)"},
    {"model-control-mode", FLAG_STRING, OPT(control_mode), "none | poll | explicit"},
    {"load-model", FLAG_LIST, OPT(load_models), "explicit mode: model to load (repeatable, *)"},
    {"strict-model-config", FLAG_BOOL, OPT(strict_model_config), "require complete configs"},
    {"strict-readiness", FLAG_BOOL, OPT(strict_readiness), "ready only if all models are"},
    {"log-verbose", FLAG_UINT, OPT(verbose), "verbose log level (0 = off)"},
    {"log-info", FLAG_BOOL, OPT(log_info), "log info messages (default true)"},
    {"log-warning", FLAG_BOOL, OPT(log_warning), "log warnings (default true)"},
    {"log-error", FLAG_BOOL, OPT(log_error), "log errors (default true)"},
    {"log-format", FLAG_STRING, OPT(log_format), "log line prefix: default | ISO8601"},
    {"log-file", FLAG_STRING, OPT(log_file), "append log lines to this file, not stderr"},
    {"trace-file", FLAG_STRING, OPT(trace_file), "write request traces here (JSON)"},
    {"trace-level", FLAG_LIST, OPT(trace_levels), "OFF | TIMESTAMPS | TENSORS (repeatable)"},
    {"trace-rate", FLAG_UINT, OPT(trace_rate), "trace 1 of every N requests (default 1000)"},
    {"trace-count", FLAG_STRING, OPT(trace_count), "traces to collect (default -1 = no limit)"},
    {"log-frequency", FLAG_UINT, OPT(log_frequency), "write every N traces (0 = at exit)"},
    {"trace-config", FLAG_LIST, OPT(trace_configs), "[triton,]KEY=VALUE: file, level, rate..."},
    {"exit-timeout-secs", FLAG_UINT, OPT(exit_timeout_secs), "shutdown wait (default 30)"},
    {"http-thread-count", FLAG_UINT, OPT(http_threads), "HTTP threads (default 8)"},
    {"http-max-input-size", FLAG_UINT, OPT(http_max_input_size), "max body bytes (64 MiB)"},
    {"allow-client-shm", FLAG_BOOL, OPT(allow_client_shm), "allow shm registration (stored)"},
    {"repository-poll-secs", FLAG_UINT, OPT(poll_secs), "poll mode interval (default 15)"},
    {"id", FLAG_STRING, OPT(server_id), "server name in metadata (default triton)"},
    {"backend-directory", FLAG_STRING, OPT(backend_directory),
     "where backend plugins (libtritonc_NAME.so) are found after the model's directory"},
    {"help", FLAG_BOOL, OPT(help), "print this help"},
};

#define FLAG_COUNT (sizeof k_flags / sizeof k_flags[0])

static void usage(FILE *out)
{
    (void)fputs("Usage: tritonc-server --model-repository=DIR [options]\n", out);
    for (size_t i = 0; i < FLAG_COUNT; i++)
        (void)fprintf(out, "  --%-22s %s\n", k_flags[i].name, k_flags[i].help);
}

static bool parse_bool(const char *v, bool *out)
{
    if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0 ||
        strcasecmp(v, "on") == 0)
        *out = true;
    else if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcasecmp(v, "no") == 0 ||
             strcasecmp(v, "off") == 0)
        *out = false;
    else
        return false;
    return true;
}

static bool is_bool_word(const char *v)
{
    bool ignored;
    return v != NULL && parse_bool(v, &ignored);
}

static bool set_value(options *o, const flag *f, const char *v)
{
    char *base = (char *)o + f->offset;
    switch (f->kind) {
    case FLAG_STRING:
        *(const char **)(void *)base = v;
        return true;
    case FLAG_BOOL:
        return parse_bool(v, (bool *)(void *)base);
    case FLAG_UINT: {
        char *end = NULL;
        errno = 0;
        unsigned long x = strtoul(v, &end, 10);
        if (errno != 0 || end == v || *end != '\0' || v[0] == '-')
            return false;
        *(unsigned long *)(void *)base = x;
        return true;
    }
    case FLAG_LIST: {
        const char ***arr = (const char ***)(void *)base;
        size_t *count = (size_t *)(void *)(base + sizeof(const char **));
        const char **grown = tc__reallocarray(*arr, *count + 1, sizeof *grown);
        if (grown == NULL)
            return false;
        grown[(*count)++] = v;
        *arr = grown;
        return true;
    }
    }
    return false;
}

static const flag *find_flag(const char *name, size_t len)
{
    for (size_t i = 0; i < FLAG_COUNT; i++) {
        if (strlen(k_flags[i].name) == len && strncmp(k_flags[i].name, name, len) == 0)
            return &k_flags[i];
    }
    return NULL;
}

/* Returns false (after printing why) on a bad command line. */
static bool parse_args(int argc, char **argv, options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            (void)fprintf(stderr, "tritonc-server: unexpected argument '%s'\n", a);
            return false;
        }
        const char *name = a + 2;
        const char *eqs = strchr(name, '=');
        size_t len = eqs != NULL ? (size_t)(eqs - name) : strlen(name);
        const flag *f = find_flag(name, len);
        if (f == NULL) {
            (void)fprintf(stderr, "tritonc-server: unknown flag '--%.*s' (see --help)\n", (int)len,
                          name);
            return false;
        }
        const char *v = eqs != NULL ? eqs + 1 : NULL;
        if (v == NULL && f->kind == FLAG_BOOL)
            v = i + 1 < argc && is_bool_word(argv[i + 1]) ? argv[++i] : "true";
        if (v == NULL) {
            if (i + 1 >= argc) {
                (void)fprintf(stderr, "tritonc-server: flag '--%s' needs a value\n", f->name);
                return false;
            }
            v = argv[++i];
        }
        if (!set_value(o, f, v)) {
            (void)fprintf(stderr, "tritonc-server: bad value '%s' for '--%s'\n", v, f->name);
            return false;
        }
    }
    return true;
}

static bool control_mode(const char *s, tc__control_mode *out)
{
    if (s == NULL || strcmp(s, "none") == 0)
        *out = TC__CONTROL_NONE;
    else if (strcmp(s, "poll") == 0)
        *out = TC__CONTROL_POLL;
    else if (strcmp(s, "explicit") == 0)
        *out = TC__CONTROL_EXPLICIT;
    else
        return false;
    return true;
}

static bool compression_level(const char *s, tc__grpc_compression_level *out)
{
    if (s == NULL || strcmp(s, "none") == 0)
        *out = TC__GRPC_LEVEL_NONE;
    else if (strcmp(s, "low") == 0)
        *out = TC__GRPC_LEVEL_LOW;
    else if (strcmp(s, "medium") == 0)
        *out = TC__GRPC_LEVEL_MEDIUM;
    else if (strcmp(s, "high") == 0)
        *out = TC__GRPC_LEVEL_HIGH;
    else
        return false;
    return true;
}

static tc_code start_grpc(const options *o, tc__core *core, tc__grpc_server **out, tc__error *err)
{
    tc__grpc_options go;
    memset(&go, 0, sizeof go);
    go.address = o->grpc_address;
    go.port = (uint16_t)o->grpc_port;
    go.max_message_size = (size_t)o->grpc_max_message_size;
    go.allow_client_shm = o->allow_client_shm;
    (void)compression_level(o->grpc_compression, &go.compression_level);
    go.keepalive_time_ms = o->grpc_keepalive_time;
    go.keepalive_timeout_ms = o->grpc_keepalive_timeout;
    go.keepalive_permit_without_calls = o->grpc_keepalive_permit_without_calls;
    go.max_pings_without_data = (int64_t)o->grpc_max_pings_without_data;
    go.min_recv_ping_interval_without_data_ms = (int64_t)o->grpc_min_recv_ping_interval;
    go.max_ping_strikes = (int64_t)o->grpc_max_ping_strikes;
    go.use_ssl = o->grpc_use_ssl || o->grpc_use_ssl_mutual;
    go.use_ssl_mutual = o->grpc_use_ssl_mutual;
    go.server_cert = o->grpc_server_cert;
    go.server_key = o->grpc_server_key;
    go.root_cert = o->grpc_root_cert;
    tc_code rc = tc__grpc_server_new(core, &go, out, err);
    if (rc != TC_OK)
        return rc;
    (void)fprintf(stdout, "Started GRPCInferenceService at %s:%u\n",
                  o->grpc_address != NULL ? o->grpc_address : "0.0.0.0",
                  (unsigned)tc__grpc_server_port(*out));
    (void)fflush(stdout);
    return TC_OK;
}

/* The frontends serving one core; NULL members are not running. */
typedef struct frontends {
    tc__grpc_server *grpc;
    tc__http_server *http;
    tc__metrics_server *metrics;
} frontends;

static tc_code start_http(const options *o, tc__core *core, tc__http_server **out, tc__error *err)
{
    tc__http_options ho = {o->http_address, (uint16_t)o->http_port, (unsigned)o->http_threads,
                           (size_t)o->http_max_input_size, o->allow_client_shm};
    tc_code rc = tc__http_server_new(core, &ho, out, err);
    if (rc != TC_OK)
        return rc;
    (void)fprintf(stdout, "Started HTTPService at %s:%u\n",
                  o->http_address != NULL ? o->http_address : "0.0.0.0",
                  (unsigned)tc__http_server_port(*out));
    (void)fflush(stdout);
    return TC_OK;
}

static tc_code start_metrics(const options *o, tc__core *core, tc__metrics_server **out,
                             tc__error *err)
{
    /* As upstream: the HTTP address unless --metrics-address says otherwise. */
    const char *address = o->metrics_address;
    if (address == NULL && o->allow_http)
        address = o->http_address;
    tc__metrics_options mo = {address, (uint16_t)o->metrics_port, (uint32_t)o->metrics_interval_ms,
                              o->allow_cpu_metrics};
    tc_code rc = tc__metrics_server_new(core, &mo, out, err);
    if (rc != TC_OK)
        return rc;
    (void)fprintf(stdout, "Started Metrics Service at %s:%u\n",
                  address != NULL && address[0] != '\0' ? address : "0.0.0.0",
                  (unsigned)tc__metrics_server_port(*out));
    (void)fflush(stdout);
    return TC_OK;
}

/* No new connections, then up to `timeout_ms` for answers still owed. */
static void stop_frontends(frontends *f, unsigned timeout_ms)
{
    tc__grpc_server_quiesce(f->grpc);
    tc__http_server_quiesce(f->http);
    tc__metrics_server_free(f->metrics);
    tc__grpc_server_free(f->grpc, timeout_ms);
    tc__http_server_free(f->http, timeout_ms);
    memset(f, 0, sizeof *f);
}

/* tc__core_drain runs on a helper thread so that the wait can end at the
 * exit timeout. Static: after a timeout the helper outlives serve(). */
static struct {
    pthread_mutex_t lock; /* guards done */
    pthread_cond_t cond;
    bool done;
} g_drain = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false};

static void *drain_main(void *arg)
{
    tc__core_drain(arg);
    pthread_mutex_lock(&g_drain.lock);
    g_drain.done = true;
    pthread_cond_broadcast(&g_drain.cond);
    pthread_mutex_unlock(&g_drain.lock);
    return NULL;
}

/* Stop accepting inferences and wait for the accepted ones. True when they
 * all finished within `timeout_secs`. */
static bool drain_within(tc__core *core, unsigned long timeout_secs)
{
    pthread_t t;
    if (pthread_create(&t, NULL, drain_main, core) != 0) {
        tc__core_drain(core);
        return true;
    }
    struct timespec deadline;
    (void)clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += (time_t)timeout_secs;
    pthread_mutex_lock(&g_drain.lock);
    int wrc = 0;
    while (!g_drain.done && wrc != ETIMEDOUT)
        wrc = pthread_cond_timedwait(&g_drain.cond, &g_drain.lock, &deadline);
    bool done = g_drain.done;
    pthread_mutex_unlock(&g_drain.lock);
    if (done)
        (void)pthread_join(t, NULL);
    else
        (void)pthread_detach(t);
    return done;
}

static bool trace_level(const char *v, uint32_t *level)
{
    if (strcasecmp(v, "OFF") == 0)
        *level = 0;
    else if (strcasecmp(v, "TIMESTAMPS") == 0)
        *level |= TC__TRACE_LEVEL_TIMESTAMPS;
    else if (strcasecmp(v, "TENSORS") == 0)
        *level |= TC__TRACE_LEVEL_TENSORS;
    else
        return false;
    return true;
}

static bool parse_i64(const char *v, int64_t min, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || x < min)
        return false;
    *out = (int64_t)x;
    return true;
}

/* One --trace-config value: "[triton,]key=value" (upstream's spelling). */
static bool trace_config(const char *v, tc__trace_settings *t)
{
    const char *comma = strchr(v, ',');
    if (comma != NULL && strchr(v, '=') > comma) {
        if (strncmp(v, "triton,", 7) != 0)
            return false; /* only the triton trace mode */
        v = comma + 1;
    }
    const char *eq = strchr(v, '=');
    if (eq == NULL)
        return false;
    size_t klen = (size_t)(eq - v);
    const char *val = eq + 1;
    if (klen == 4 && strncmp(v, "file", 4) == 0)
        return snprintf(t->file, sizeof t->file, "%s", val) < (int)sizeof t->file;
    if (klen == 5 && strncmp(v, "level", 5) == 0)
        return trace_level(val, &t->level);
    if (klen == 4 && strncmp(v, "rate", 4) == 0)
        return parse_i64(val, 0, &t->rate);
    if (klen == 5 && strncmp(v, "count", 5) == 0)
        return parse_i64(val, -1, &t->count);
    if (klen == 13 && strncmp(v, "log_frequency", 13) == 0)
        return parse_i64(val, 0, &t->log_frequency);
    return false;
}

/* The initial global trace settings from the --trace-* flags. */
static bool trace_settings(const options *o, tc__trace_settings *t)
{
    memset(t, 0, sizeof *t);
    t->rate = (int64_t)o->trace_rate;
    t->count = -1;
    t->log_frequency = (int64_t)o->log_frequency;
    if (o->trace_count != NULL && !parse_i64(o->trace_count, -1, &t->count))
        return false;
    if (o->trace_file != NULL &&
        snprintf(t->file, sizeof t->file, "%s", o->trace_file) >= (int)sizeof t->file)
        return false;
    for (size_t i = 0; i < o->trace_level_count; i++) {
        if (!trace_level(o->trace_levels[i], &t->level))
            return false;
    }
    for (size_t i = 0; i < o->trace_config_count; i++) {
        if (!trace_config(o->trace_configs[i], t))
            return false;
    }
    return true;
}

static int serve(const options *o, tc__control_mode mode, const tc__trace_settings *trace)
{
    tc__core_options co = {0};
    co.repositories = o->repos;
    co.repository_count = o->repo_count;
    co.control_mode = mode;
    co.load_models = o->load_models;
    co.load_model_count = o->load_count;
    co.strict_model_config = o->strict_model_config;
    co.strict_readiness = o->strict_readiness;
    co.poll_secs = (uint32_t)o->poll_secs;
    co.server_id = o->server_id;
    co.backend_directory = o->backend_directory;
    co.trace = trace;
    tc__core *core = NULL;
    frontends f = {NULL, NULL, NULL};
    tc__error err;
    tc__error_clear(&err);
    if (tc__core_new(&co, &core, &err) != TC_OK) {
        tc__log(TC_LOG_ERROR, "failed to start the server: %s", err.msg);
        return 1;
    }
    if ((o->allow_grpc && start_grpc(o, core, &f.grpc, &err) != TC_OK) ||
        (o->allow_http && start_http(o, core, &f.http, &err) != TC_OK) ||
        (o->allow_metrics && start_metrics(o, core, &f.metrics, &err) != TC_OK)) {
        tc__log(TC_LOG_ERROR, "%s", err.msg);
        tc__core_drain(core);
        stop_frontends(&f, 0);
        tc__core_free(core);
        return 1;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int sig = 0;
    (void)sigwait(&set, &sig);
    tc__log(TC_LOG_INFO, "signal %d received: shutting down", sig);
    /* The frontends keep serving while the core drains: probes see "not
     * ready" and new inferences get UNAVAILABLE instead of a dead port. */
    if (!drain_within(core, o->exit_timeout_secs)) {
        tc__log(TC_LOG_ERROR, "Exit timeout expired. Exiting immediately.");
        (void)fflush(NULL);
        /* Work is still running on core threads, so nothing can be freed or
         * stopped safely: leave now, as upstream does. */
        _Exit(1);
    }
    stop_frontends(&f, (unsigned)(o->exit_timeout_secs * 1000u));
    tc__core_free(core);
    return 0;
}

/* glibc gives every thread that contends for malloc its own arena, up to 8
 * per core; the server's ~24 threads (HTTP, gRPC, instances) then each keep
 * a heap's high-water mark, and RSS creeps up for the first many minutes
 * of mixed traffic (the soak saw +6 % in 10 minutes, none of it leaked:
 * every workload alone is flat). One arena per core bounds that. An
 * explicit MALLOC_ARENA_MAX in the environment wins. */
static void limit_malloc_arenas(void)
{
#if defined(__GLIBC__)
    if (getenv("MALLOC_ARENA_MAX") != NULL)
        return;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    (void)mallopt(M_ARENA_MAX, cpus > 2 ? (int)cpus : 2);
#endif
}

int main(int argc, char **argv)
{
    limit_malloc_arenas();
    options o;
    memset(&o, 0, sizeof o);
    o.http_port = 8000;
    o.grpc_port = 8001;
    o.metrics_port = 8002;
    o.allow_http = o.allow_grpc = o.allow_metrics = o.allow_cpu_metrics = true;
    o.metrics_interval_ms = 2000;
    o.log_info = o.log_warning = o.log_error = true;
    o.strict_readiness = true;
    o.exit_timeout_secs = 30;
    o.http_threads = 8;
    o.http_max_input_size = (unsigned long)1 << 26;
    o.poll_secs = 15;
    o.grpc_keepalive_time = 7200000;
    o.grpc_keepalive_timeout = 20000;
    o.grpc_max_pings_without_data = 2;
    o.grpc_min_recv_ping_interval = 300000;
    o.grpc_max_ping_strikes = 2;
    o.trace_rate = 1000;
    int rc = 1;
    tc__control_mode mode = TC__CONTROL_NONE;
    if (!parse_args(argc, argv, &o))
        goto out;
    if (o.help) {
        usage(stdout);
        rc = 0;
        goto out;
    }
    tc__grpc_compression_level level;
    if (!compression_level(o.grpc_compression, &level) || o.grpc_port > 65535 ||
        o.grpc_max_message_size > (unsigned long)INT32_MAX) {
        (void)fprintf(stderr, "tritonc-server: bad --grpc-port, --grpc-max-message-size or "
                              "--grpc-infer-response-compression-level\n");
        goto out;
    }
    if (!control_mode(o.control_mode, &mode)) {
        (void)fprintf(stderr, "tritonc-server: unknown --model-control-mode '%s'\n",
                      o.control_mode);
        goto out;
    }
    if (o.metrics_port > 65535 || o.metrics_interval_ms > UINT32_MAX) {
        (void)fprintf(stderr, "tritonc-server: bad --metrics-port or --metrics-interval-ms\n");
        goto out;
    }
    if (o.repo_count == 0 || o.http_port > 65535) {
        (void)fprintf(stderr, o.repo_count == 0 ? "tritonc-server: --model-repository is required\n"
                                                : "tritonc-server: bad --http-port\n");
        goto out;
    }
    tc__trace_settings trace;
    if (!trace_settings(&o, &trace) || o.trace_rate > INT64_MAX) {
        (void)fprintf(stderr, "tritonc-server: bad --trace-level, --trace-count or --trace-config "
                              "value\n");
        goto out;
    }
    bool iso = o.log_format != NULL && strcmp(o.log_format, "ISO8601") == 0;
    if (o.log_format != NULL && !iso && strcmp(o.log_format, "default") != 0) {
        (void)fprintf(stderr, "tritonc-server: invalid argument for --log-format, got: %s\n",
                      o.log_format);
        goto out;
    }
    tc__log_settings ls = {"", o.log_info, o.log_warning, o.log_error, (uint32_t)o.verbose, iso};
    if (o.log_file != NULL &&
        snprintf(ls.file, sizeof ls.file, "%s", o.log_file) >= (int)sizeof ls.file) {
        (void)fprintf(stderr, "tritonc-server: --log-file path too long\n");
        goto out;
    }
    if (!tc__server_log_set(&ls)) {
        (void)fprintf(stderr, "tritonc-server: unable to open --log-file '%s'\n", o.log_file);
        goto out;
    }
    tc_set_log_callback(tc__server_log_cb, TC_LOG_VERBOSE, NULL);
    /* Every thread inherits the blocked set; main takes them with sigwait. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGPIPE);
    (void)pthread_sigmask(SIG_BLOCK, &set, NULL);
    rc = serve(&o, mode, &trace);
    tc_set_log_callback(NULL, TC_LOG_ERROR, NULL);
    tc__server_log_close();
out:
    tc__free(o.repos);
    tc__free(o.load_models);
    tc__free(o.trace_levels);
    tc__free(o.trace_configs);
    return rc;
}
