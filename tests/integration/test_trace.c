/* Request tracing (--trace-*) and log settings (--log-*) of tritonc-server:
 * one server per case on ephemeral ports, traces written to a temp dir and
 * read back (after the server stopped, so everything is flushed). */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tritonc/tritonc.h>

#include "server_proc.h"
#include "tc_test.h"

typedef struct fixture {
    tc_test_server server;
    bool stopped;
    char dir[64];
    char trace_file[128];
    char log_file[128];
} fixture;

static const char k_simple_json[] = "{\"inputs\":["
                                    "{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\","
                                    "\"data\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]},"
                                    "{\"name\":\"INPUT1\",\"shape\":[1,16],\"datatype\":\"INT32\","
                                    "\"data\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}]}";

static const char k_identity_json[] =
    "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,1],\"datatype\":\"BYTES\",\"data\":[\"x\"]}]}";

static const char *const k_http_points[] = {
    "HTTP_RECV_START", "HTTP_RECV_END",     "REQUEST_START",        "QUEUE_START",
    "COMPUTE_START",   "COMPUTE_INPUT_END", "COMPUTE_END",          "REQUEST_END",
    "HTTP_SEND_START", "HTTP_SEND_END",     "COMPUTE_OUTPUT_START", NULL};
static const char *const k_grpc_points[] = {
    "GRPC_WAITREAD_START", "GRPC_WAITREAD_END", "REQUEST_START",        "QUEUE_START",
    "COMPUTE_START",       "COMPUTE_INPUT_END", "COMPUTE_OUTPUT_START", "COMPUTE_END",
    "REQUEST_END",         "GRPC_SEND_START",   "GRPC_SEND_END",        NULL};

/* Start a server tracing to <dir>/trace.json with the case's extra flags. */
static int start_with(void **state, const char *const *extra)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    (void)snprintf(f->dir, sizeof f->dir, "/tmp/tc-trace-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    (void)snprintf(f->trace_file, sizeof f->trace_file, "%s/trace.json", f->dir);
    (void)snprintf(f->log_file, sizeof f->log_file, "%s/server.log", f->dir);
    char trace_arg[160];
    char log_arg[160];
    (void)snprintf(trace_arg, sizeof trace_arg, "--trace-file=%s", f->trace_file);
    (void)snprintf(log_arg, sizeof log_arg, "--log-file=%s", f->log_file);
    const char *args[16] = {trace_arg, log_arg, "--trace-level=TIMESTAMPS", "--log-frequency=1"};
    size_t n = 4;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 15; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    if (tc_test_server_start(&f->server, TC_MODELS_DIR, args) != 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static void remove_dir(const fixture *f)
{
    char path[192];
    for (int i = 0; i < 64; i++) {
        (void)snprintf(path, sizeof path, "%s.%d", f->trace_file, i);
        (void)unlink(path);
    }
    (void)unlink(f->trace_file);
    (void)unlink(f->log_file);
    (void)rmdir(f->dir);
}

static int teardown(void **state)
{
    fixture *f = *state;
    int rc = f->stopped ? 0 : tc_test_server_stop(&f->server);
    remove_dir(f);
    free(f);
    assert_int_equal(rc, 0);
    return 0;
}

static void stop(fixture *f)
{
    f->stopped = true;
    assert_int_equal(tc_test_server_stop(&f->server), 0);
}

static void http_post(fixture *f, const char *path, const char *body, int status)
{
    tc_http_reply r;
    assert_int_equal(
        tc_http_request(f->server.http_port, "POST", path, NULL, body, strlen(body), &r), 0);
    if (r.status != status)
        fprintf(stderr, "POST %s -> %d %s\n", path, r.status, (const char *)r.body);
    assert_int_equal(r.status, status);
    tc_http_reply_free(&r);
}

static void http_infer(fixture *f, const char *model, const char *body, int n)
{
    char path[128];
    (void)snprintf(path, sizeof path, "/v2/models/%s/infer", model);
    for (int i = 0; i < n; i++)
        http_post(f, path, body, 200);
}

static void grpc_infer(fixture *f, int n)
{
    char url[64];
    (void)snprintf(url, sizeof url, "127.0.0.1:%d", f->server.grpc_port);
    tc_client *client = NULL;
    assert_int_equal(tc_grpc_client_new(&client, url, NULL), TC_OK);
    tc_request *req = NULL;
    int32_t in0[16];
    int32_t in1[16];
    for (int i = 0; i < 16; i++) {
        in0[i] = i;
        in1[i] = 1;
    }
    const int64_t shape[2] = {1, 16};
    assert_int_equal(tc_request_new(&req, "simple"), TC_OK);
    assert_int_equal(tc_request_add_input(req, "INPUT0", TC_DTYPE_INT32, shape, 2), TC_OK);
    assert_int_equal(tc_request_add_input(req, "INPUT1", TC_DTYPE_INT32, shape, 2), TC_OK);
    assert_int_equal(tc_request_input_append(req, "INPUT0", in0, sizeof in0, TC_BORROW), TC_OK);
    assert_int_equal(tc_request_input_append(req, "INPUT1", in1, sizeof in1, TC_BORROW), TC_OK);
    for (int i = 0; i < n; i++) {
        tc_result *r = NULL;
        assert_int_equal(tc_client_infer(client, req, &r), TC_OK);
        tc_result_free(r);
    }
    tc_request_free(req);
    assert_int_equal(tc_client_free(client), TC_OK);
}

/* ---- reading traces back ------------------------------------------------------------ */

typedef struct trace_set {
    json_object *models[256];     /* by id: the model object */
    json_object *timestamps[256]; /* by id: the timestamps array */
    json_object *arrays[70];      /* parsed files, put at the end */
    size_t array_count;
} trace_set;

static void add_file(trace_set *ts, const char *path)
{
    size_t len = 0;
    uint8_t *text = tc_test_read_file(path, &len);
    if (text == NULL)
        return;
    json_object *arr = json_tokener_parse((const char *)text);
    free(text);
    assert_non_null(arr);
    assert_true(json_object_is_type(arr, json_type_array));
    ts->arrays[ts->array_count++] = arr;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *o = json_object_array_get_idx(arr, i);
        json_object *id = NULL;
        json_object *v = NULL;
        assert_true(json_object_object_get_ex(o, "id", &id));
        int64_t k = json_object_get_int64(id);
        assert_true(k > 0 && k < 256);
        if (json_object_object_get_ex(o, "timestamps", &v))
            ts->timestamps[k] = v;
        else if (json_object_object_get_ex(o, "model_name", &v))
            ts->models[k] = o;
        else
            fail_msg("unexpected trace object");
    }
}

/* <file> and <file>.0, .1, ... (log_frequency > 0 writes indexed files). */
static void read_traces(const fixture *f, trace_set *ts)
{
    memset(ts, 0, sizeof *ts);
    add_file(ts, f->trace_file);
    for (int i = 0; i < 64; i++) {
        char path[192];
        (void)snprintf(path, sizeof path, "%s.%d", f->trace_file, i);
        if (access(path, F_OK) != 0)
            break;
        add_file(ts, path);
    }
}

static void free_traces(trace_set *ts)
{
    for (size_t i = 0; i < ts->array_count; i++)
        json_object_put(ts->arrays[i]);
}

static bool has_point(json_object *stamps, const char *name)
{
    for (size_t i = 0; i < json_object_array_length(stamps); i++) {
        json_object *n = NULL;
        (void)json_object_object_get_ex(json_object_array_get_idx(stamps, i), "name", &n);
        if (n != NULL && strcmp(json_object_get_string(n), name) == 0)
            return true;
    }
    return false;
}

/* Every trace is for `model` version 1, has each of `points`, and its
 * timestamps never go backwards. Returns the number of traces. */
static int check_traces(const trace_set *ts, const char *model, const char *const *points)
{
    int count = 0;
    for (int id = 1; id < 256; id++) {
        if (ts->models[id] == NULL && ts->timestamps[id] == NULL)
            continue;
        assert_non_null(ts->models[id]);
        assert_non_null(ts->timestamps[id]);
        json_object *v = NULL;
        assert_true(json_object_object_get_ex(ts->models[id], "model_name", &v));
        assert_string_equal(json_object_get_string(v), model);
        assert_true(json_object_object_get_ex(ts->models[id], "model_version", &v));
        assert_int_equal(json_object_get_int64(v), 1);
        json_object *stamps = ts->timestamps[id];
        for (size_t i = 0; points[i] != NULL; i++) {
            if (!has_point(stamps, points[i]))
                fail_msg("trace %d lacks %s", id, points[i]);
        }
        int64_t last = 0;
        for (size_t i = 0; i < json_object_array_length(stamps); i++) {
            json_object *ns = NULL;
            assert_true(json_object_object_get_ex(json_object_array_get_idx(stamps, i), "ns", &ns));
            int64_t t = json_object_get_int64(ns);
            assert_true(t >= last);
            last = t;
        }
        count++;
    }
    return count;
}

static int count_traces(fixture *f, const char *model, const char *const *points)
{
    trace_set ts;
    read_traces(f, &ts);
    int n = check_traces(&ts, model, points);
    free_traces(&ts);
    return n;
}

/* ---- cases ------------------------------------------------------------------------------- */

static int setup_rate1(void **state)
{
    static const char *const args[] = {"--trace-rate=1", NULL};
    return start_with(state, args);
}

static void http_requests_are_traced(void **state)
{
    fixture *f = *state;
    http_infer(f, "simple", k_simple_json, 6);
    stop(f);
    assert_int_equal(count_traces(f, "simple", k_http_points), 6);
}

static void grpc_requests_are_traced(void **state)
{
    fixture *f = *state;
    grpc_infer(f, 5);
    stop(f);
    assert_int_equal(count_traces(f, "simple", k_grpc_points), 5);
}

static int setup_rate2(void **state)
{
    static const char *const args[] = {"--trace-rate=2", NULL};
    return start_with(state, args);
}

static void rate_two_traces_every_other_request(void **state)
{
    fixture *f = *state;
    http_infer(f, "simple", k_simple_json, 10);
    stop(f);
    assert_int_equal(count_traces(f, "simple", k_http_points), 5);
}

static int setup_count3(void **state)
{
    static const char *const args[] = {"--trace-rate=1", "--trace-count=3", NULL};
    return start_with(state, args);
}

static void count_three_stops_after_three(void **state)
{
    fixture *f = *state;
    http_infer(f, "simple", k_simple_json, 8);
    stop(f);
    assert_int_equal(count_traces(f, "simple", k_http_points), 3);
}

static void per_model_setting_changes_what_is_traced(void **state)
{
    fixture *f = *state;
    http_post(f, "/v2/models/simple_identity/trace/setting", "{\"trace_level\":[\"OFF\"]}", 200);
    http_infer(f, "simple_identity", k_identity_json, 3);
    http_infer(f, "simple", k_simple_json, 4);
    stop(f);
    assert_int_equal(count_traces(f, "simple", k_http_points), 4);
}

static int setup_off(void **state)
{
    static const char *const args[] = {"--trace-rate=1", "--trace-level=OFF", NULL};
    return start_with(state, args);
}

static void level_off_traces_nothing(void **state)
{
    fixture *f = *state;
    http_infer(f, "simple", k_simple_json, 4);
    grpc_infer(f, 2);
    stop(f);
    assert_int_equal(count_traces(f, "simple", k_http_points), 0);
    assert_int_equal(access(f->trace_file, F_OK), -1);
}

static void global_setting_at_run_time_turns_tracing_on(void **state)
{
    fixture *f = *state;
    http_infer(f, "simple", k_simple_json, 2);
    http_post(f, "/v2/trace/setting", "{\"trace_level\":[\"TIMESTAMPS\"],\"log_frequency\":\"0\"}",
              200);
    http_infer(f, "simple", k_simple_json, 3);
    stop(f);
    /* log_frequency 0: everything lands in the trace file itself at exit. */
    char path[192];
    (void)snprintf(path, sizeof path, "%s.0", f->trace_file);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(access(f->trace_file, F_OK), 0);
    assert_int_equal(count_traces(f, "simple", k_http_points), 3);
}

/* ---- logging ----------------------------------------------------------------------------- */

static bool iso_prefixed(const char *line)
{
    /* 2026-11-27T04:41:08Z I <tid> ... */
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ ";
    for (size_t i = 0; shape[i] != '\0'; i++) {
        char c = line[i];
        if (shape[i] == 'd' ? (c < '0' || c > '9') : c != shape[i])
            return false;
    }
    return strchr("IWEV", line[sizeof shape - 1]) != NULL && line[sizeof shape] == ' ';
}

static int setup_iso(void **state)
{
    static const char *const args[] = {"--log-verbose=1", "--log-format=ISO8601", NULL};
    return start_with(state, args);
}

static void iso8601_lines_and_log_info_off_at_run_time(void **state)
{
    fixture *f = *state;
    http_post(f, "/v2/logging", "{\"log_info\":false}", 200);
    http_infer(f, "simple", k_simple_json, 1);
    stop(f);
    size_t len = 0;
    char *text = (char *)tc_test_read_file(f->log_file, &len);
    assert_non_null(text);
    size_t lines = 0;
    for (char *line = text; line != NULL && *line != '\0';) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        if (!iso_prefixed(line))
            fail_msg("not an ISO8601 log line: '%s'", line);
        lines++;
        line = nl != NULL ? nl + 1 : NULL;
    }
    free(text); /* cut into lines above: read it again */
    /* Loading logs info lines before the change; none come after it. */
    text = (char *)tc_test_read_file(f->log_file, &len);
    assert_true(lines > 0);
    assert_non_null(strstr(text, " I "));
    assert_null(strstr(text, "shutting down"));
    assert_null(strstr(text, "successfully unloaded"));
    free(text);
}

static void default_format_logs_shutdown(void **state)
{
    fixture *f = *state;
    stop(f);
    size_t len = 0;
    char *text = (char *)tc_test_read_file(f->log_file, &len);
    assert_non_null(text);
    /* "I1127 04:41:08.123456 <tid> tritonc] ..." */
    assert_true(text[0] == 'I' && text[5] == ' ' && text[8] == ':' && text[14] == '.');
    assert_non_null(strstr(text, "shutting down"));
    free(text);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(http_requests_are_traced, setup_rate1, teardown),
    cmocka_unit_test_setup_teardown(grpc_requests_are_traced, setup_rate1, teardown),
    cmocka_unit_test_setup_teardown(rate_two_traces_every_other_request, setup_rate2, teardown),
    cmocka_unit_test_setup_teardown(count_three_stops_after_three, setup_count3, teardown),
    cmocka_unit_test_setup_teardown(per_model_setting_changes_what_is_traced, setup_rate1,
                                    teardown),
    cmocka_unit_test_setup_teardown(level_off_traces_nothing, setup_off, teardown),
    cmocka_unit_test_setup_teardown(global_setting_at_run_time_turns_tracing_on, setup_off,
                                    teardown),
    cmocka_unit_test_setup_teardown(iso8601_lines_and_log_info_off_at_run_time, setup_iso,
                                    teardown),
    cmocka_unit_test_setup_teardown(default_format_logs_shutdown, setup_rate1, teardown),
};

TC_TEST_MAIN(tests)
