/* tritonc-server's Prometheus endpoint (GET /metrics on --metrics-port):
 * upstream's names, HELP/TYPE lines and labels, counters that match the
 * inferences sent, and text that parses as exposition format 0.0.4. Each
 * case starts its own server; the metrics port is picked here (the harness
 * only reports the HTTP and gRPC ports). */
#include "tc_test.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server_proc.h"

typedef struct fixture {
    tc_test_server server;
    int metrics_port;
    char port_arg[64];
} fixture;

/* A port that was free a moment ago (the server binds it right after). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

static int start_with(void **state, const char *extra)
{
    fixture *f = calloc(1, sizeof *f);
    f->metrics_port = free_port();
    snprintf(f->port_arg, sizeof f->port_arg, "--metrics-port=%d", f->metrics_port);
    const char *args[] = {"--model-control-mode=explicit", "--load-model=simple", f->port_arg,
                          extra, NULL};
    if (f->metrics_port <= 0 || tc_test_server_start(&f->server, TC_MODELS_DIR, args) != 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return start_with(state, NULL);
}

static int setup_no_metrics(void **state)
{
    return start_with(state, "--allow-metrics=false");
}

static int teardown(void **state)
{
    fixture *f = *state;
    int rc = tc_test_server_stop(&f->server);
    free(f);
    assert_int_equal(rc, 0);
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* GET `path` on the metrics port. The metrics service starts right after
 * the HTTP one, so the first attempts may find nothing listening yet. */
static int metrics_get(fixture *f, const char *method, const char *path, tc_http_reply *r)
{
    for (int i = 0; i < 100; i++) {
        if (tc_http_request(f->metrics_port, method, path, NULL, NULL, 0, r) == 0)
            return 0;
        sleep_ms(50); /* the interval of this bounded poll (5 s in all) */
    }
    return -1;
}

static char *scrape(fixture *f)
{
    tc_http_reply r;
    assert_int_equal(metrics_get(f, "GET", "/metrics", &r), 0);
    assert_int_equal(r.status, 200);
    const char *ct = tc_http_header(&r, "content-type");
    assert_non_null(ct);
    assert_string_equal(ct, "text/plain; version=0.0.4; charset=utf-8");
    char *text = strdup((const char *)r.body);
    tc_http_reply_free(&r);
    return text;
}

/* The value of the sample written exactly as `series` (name{labels}). */
static double sample(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p != NULL && *p != '\0';) {
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    fail_msg("no sample '%s' in:\n%s", series, text);
    return -1;
}

static void post_ok(int port, const char *path, const char *body, int want)
{
    tc_http_reply r;
    assert_int_equal(tc_http_request(port, "POST", path, NULL, body, strlen(body), &r), 0);
    if (r.status != want)
        fprintf(stderr, "POST %s -> %d %s\n", path, r.status, (char *)r.body);
    assert_int_equal(r.status, want);
    tc_http_reply_free(&r);
}

static const char k_simple_ok[] =
    "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\","
    "\"data\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]},"
    "{\"name\":\"INPUT1\",\"shape\":[1,16],\"datatype\":\"INT32\","
    "\"data\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}]}";
/* Decoded fine, refused by the core's validation: counted as failures. */
static const char k_simple_bad_dtype[] =
    "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"FP32\","
    "\"data\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]},"
    "{\"name\":\"INPUT1\",\"shape\":[1,16],\"datatype\":\"INT32\","
    "\"data\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}]}";
static const char k_simple_missing[] =
    "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\","
    "\"data\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]}]}";
/* A batch of 2 for custom_identity_int32. */
static const char k_identity_batch2[] =
    "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[2,4],\"datatype\":\"INT32\","
    "\"data\":[1,2,3,4,5,6,7,8]}]}";

/* custom_identity_int32 with a 5 ms execute delay, so compute time shows. */
static void load_identity(int port)
{
    post_ok(port, "/v2/repository/models/custom_identity_int32/load",
            "{\"parameters\":{\"config\":\"{\\\"name\\\":\\\"custom_identity_int32\\\","
            "\\\"backend\\\":\\\"tritonc_identity\\\",\\\"max_batch_size\\\":1024,"
            "\\\"input\\\":[{\\\"name\\\":\\\"INPUT0\\\",\\\"data_type\\\":\\\"TYPE_INT32\\\","
            "\\\"dims\\\":[-1]}],\\\"output\\\":[{\\\"name\\\":\\\"OUTPUT0\\\","
            "\\\"data_type\\\":\\\"TYPE_INT32\\\",\\\"dims\\\":[-1]}],\\\"parameters\\\":"
            "{\\\"execute_delay_ms\\\":{\\\"string_value\\\":\\\"5\\\"}}}\"}}",
            200);
}

#define SIMPLE "{model=\"simple\",version=\"1\"}"
#define IDENT  "{model=\"custom_identity_int32\",version=\"1\"}"

static void counters_match_the_inferences(void **state)
{
    fixture *f = *state;
    int port = f->server.http_port;
    load_identity(port);
    for (int i = 0; i < 3; i++)
        post_ok(port, "/v2/models/simple/infer", k_simple_ok, 200);
    post_ok(port, "/v2/models/simple/infer", k_simple_bad_dtype, 400);
    post_ok(port, "/v2/models/simple/infer", k_simple_missing, 400);
    for (int i = 0; i < 2; i++)
        post_ok(port, "/v2/models/custom_identity_int32/infer", k_identity_batch2, 200);

    char *text = scrape(f);
    assert_int_equal((int)sample(text, "nv_inference_request_success" SIMPLE), 3);
    assert_int_equal((int)sample(text,
                                 "nv_inference_request_failure{model=\"simple\",reason=\"OTHER\","
                                 "version=\"1\"}"),
                     2);
    static const char *const zero_reasons[] = {"REJECTED", "CANCELED", "BACKEND"};
    for (size_t i = 0; i < 3; i++) {
        char series[160];
        snprintf(series, sizeof series,
                 "nv_inference_request_failure{model=\"simple\",reason=\"%s\",version=\"1\"}",
                 zero_reasons[i]);
        assert_int_equal((int)sample(text, series), 0);
    }
    assert_int_equal((int)sample(text, "nv_inference_pending_request_count" SIMPLE), 0);
    assert_int_equal((int)sample(text, "nv_inference_count" SIMPLE), 3);
    assert_int_equal((int)sample(text, "nv_inference_exec_count" SIMPLE), 3);
    assert_true(sample(text, "nv_inference_request_duration_us" SIMPLE) > 0);
    sample(text, "nv_inference_queue_duration_us" SIMPLE);
    sample(text, "nv_inference_compute_input_duration_us" SIMPLE);
    sample(text, "nv_inference_compute_output_duration_us" SIMPLE);

    assert_int_equal((int)sample(text, "nv_inference_request_success" IDENT), 2);
    assert_int_equal((int)sample(text, "nv_inference_count" IDENT), 4); /* 2 x batch 2 */
    assert_int_equal((int)sample(text, "nv_inference_exec_count" IDENT), 2);
    /* Two executions of at least 5 ms each. */
    assert_true(sample(text, "nv_inference_compute_infer_duration_us" IDENT) >= 10000);
    assert_true(sample(text, "nv_inference_request_duration_us" IDENT) >= 10000);
    free(text);
}

/* ---- exposition format ------------------------------------------------------------------ */

static bool is_name_char(char c, bool first)
{
    return isalpha((unsigned char)c) || c == '_' || c == ':' ||
           (!first && isdigit((unsigned char)c));
}

/* `{k="v",...}`; returns the character after '}' or NULL. */
static const char *parse_labels(const char *p)
{
    p++;
    while (*p != '}') {
        if (!is_name_char(*p, true))
            return NULL;
        while (is_name_char(*p, false))
            p++;
        if (p[0] != '=' || p[1] != '"')
            return NULL;
        p += 2;
        while (*p != '"') {
            if (*p == '\0' || *p == '\n')
                return NULL;
            if (*p == '\\') {
                if (p[1] != '\\' && p[1] != '"' && p[1] != 'n')
                    return NULL;
                p++;
            }
            p++;
        }
        p++;
        if (*p == ',')
            p++;
        else if (*p != '}')
            return NULL;
    }
    return p + 1;
}

/* One sample line: `name{labels} value`; *name_len gets the name's length. */
static bool parse_sample(const char *line, size_t *name_len)
{
    const char *p = line;
    if (!is_name_char(*p, true))
        return false;
    while (is_name_char(*p, false))
        p++;
    *name_len = (size_t)(p - line);
    if (*p == '{')
        p = parse_labels(p);
    if (p == NULL || *p != ' ')
        return false;
    char *end = NULL;
    (void)strtod(p + 1, &end);
    return end != p + 1 && (*end == '\n' || *end == '\0');
}

/* Every family announced by HELP then TYPE; every sample parses and belongs
 * to the family last announced. */
static void text_parses_as_exposition_format(void **state)
{
    fixture *f = *state;
    post_ok(f->server.http_port, "/v2/models/simple/infer", k_simple_ok, 200);
    char *text = scrape(f);
    char family[128] = "";
    char typed[128] = "";
    int samples = 0;
    for (char *line = text; *line != '\0';) {
        char *eol = strchr(line, '\n');
        assert_non_null(eol); /* every line ends with a newline */
        *eol = '\0';
        if (strncmp(line, "# HELP ", 7) == 0) {
            assert_int_equal(sscanf(line + 7, "%127s", family), 1);
            assert_true(strlen(line + 7) > strlen(family) + 1); /* a help text follows */
        } else if (strncmp(line, "# TYPE ", 7) == 0) {
            char type[32];
            assert_int_equal(sscanf(line + 7, "%127s %31s", typed, type), 2);
            assert_string_equal(typed, family);
            assert_true(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0);
        } else {
            size_t n = 0;
            if (!parse_sample(line, &n))
                fail_msg("not a sample line: '%s'", line);
            assert_int_equal(n, strlen(typed));
            assert_memory_equal(line, typed, n);
            samples++;
        }
        line = eol + 1;
    }
    assert_true(samples > 10);
    free(text);

    text = scrape(f);
    assert_non_null(strstr(text, "# TYPE nv_inference_request_success counter\n"));
    assert_non_null(strstr(text, "# TYPE nv_cpu_utilization gauge\n"));
    assert_non_null(strstr(text, "# TYPE nv_inference_pending_request_count gauge\n"));
    double util = sample(text, "nv_cpu_utilization");
    assert_true(util >= 0.0 && util <= 1.0);
    double total = sample(text, "nv_cpu_memory_total_bytes");
    double used = sample(text, "nv_cpu_memory_used_bytes");
    assert_true(total > 0 && used > 0 && used <= total);
    free(text);
}

static void other_paths_and_methods(void **state)
{
    fixture *f = *state;
    tc_http_reply r;
    assert_int_equal(metrics_get(f, "GET", "/v2/health/ready", &r), 0);
    assert_int_equal(r.status, 404);
    tc_http_reply_free(&r);
    assert_int_equal(metrics_get(f, "POST", "/metrics", &r), 0);
    assert_int_equal(r.status, 405);
    tc_http_reply_free(&r);
    assert_int_equal(metrics_get(f, "HEAD", "/metrics", &r), 0);
    assert_int_equal(r.status, 200);
    tc_http_reply_free(&r);
}

/* A negative check: with --allow-metrics=false nothing ever listens on the
 * metrics port. There is no event to wait for (the server prints nothing in
 * place of "Started Metrics Service"), so it looks after a short window in
 * which an enabled service would have come up: it starts right after the
 * HTTP one, within milliseconds. */
static void allow_metrics_false_serves_nothing(void **state)
{
    fixture *f = *state;
    tc_http_reply r;
    sleep_ms(200); /* the window of the negative check, not a synchronisation */
    assert_int_equal(tc_http_request(f->metrics_port, "GET", "/metrics", NULL, NULL, 0, &r), -1);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(counters_match_the_inferences, setup, teardown),
    cmocka_unit_test_setup_teardown(text_parses_as_exposition_format, setup, teardown),
    cmocka_unit_test_setup_teardown(other_paths_and_methods, setup, teardown),
    cmocka_unit_test_setup_teardown(allow_metrics_false_serves_nothing, setup_no_metrics, teardown),
};

TC_TEST_MAIN(tests)
