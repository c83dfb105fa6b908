/* Sequence models over HTTP, as upstream's simple_http_sequence_sync_infer_client
 * drives them: two interleaved sequences, expected values, END, restarts, the
 * idle timeout and the error answers; decoupled models answer 501. Each case
 * starts its own server on ephemeral ports and requires a clean exit. */
#include "tc_test.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server_proc.h"

typedef struct fixture {
    tc_test_server server;
} fixture;

static int start_with(void **state, const char *const *args)
{
    fixture *f = calloc(1, sizeof *f);
    if (tc_test_server_start(&f->server, TC_MODELS_DIR, args) != 0) {
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

static int setup_explicit(void **state)
{
    static const char *const args[] = {"--model-control-mode=explicit", NULL};
    return start_with(state, args);
}

static int teardown(void **state)
{
    fixture *f = *state;
    int rc = tc_test_server_stop(&f->server);
    free(f);
    assert_int_equal(rc, 0);
    return 0;
}

static int port_of(void **state)
{
    return ((fixture *)*state)->server.http_port;
}

/* The sequence id as JSON: a number, or a quoted string. */
typedef struct seq_id {
    uint64_t num;
    const char *str;
} seq_id;

/* POST one INPUT = [[value]] request; returns the HTTP status and, on 200,
 * the OUTPUT value (else the error message in msg). */
static int send_seq(void **state, const char *model, seq_id id, int32_t value, bool start, bool end,
                    int32_t *out, char *msg, size_t msg_size)
{
    char idtext[200];
    if (id.str != NULL)
        (void)snprintf(idtext, sizeof idtext, "\"%s\"", id.str);
    else
        (void)snprintf(idtext, sizeof idtext, "%llu", (unsigned long long)id.num);
    char body[1024];
    (void)snprintf(body, sizeof body,
                   "{\"parameters\":{\"sequence_id\":%s,\"sequence_start\":%s,"
                   "\"sequence_end\":%s},\"inputs\":[{\"name\":\"INPUT\",\"shape\":[1,1],"
                   "\"datatype\":\"INT32\",\"data\":[%d]}]}",
                   idtext, start ? "true" : "false", end ? "true" : "false", (int)value);
    char path[256];
    (void)snprintf(path, sizeof path, "/v2/models/%s/infer", model);
    tc_http_reply r;
    assert_int_equal(tc_http_request(port_of(state), "POST", path, NULL, body, strlen(body), &r),
                     0);
    int status = r.status;
    json_object *obj = json_tokener_parse((const char *)r.body);
    assert_non_null(obj);
    json_object *v = NULL;
    if (status == 200) {
        json_object *outputs = NULL;
        assert_true(json_object_object_get_ex(obj, "outputs", &outputs));
        json_object *o = json_object_array_get_idx(outputs, 0);
        assert_true(json_object_object_get_ex(o, "name", &v));
        assert_string_equal(json_object_get_string(v), "OUTPUT");
        assert_true(json_object_object_get_ex(o, "data", &v));
        *out = (int32_t)json_object_get_int(json_object_array_get_idx(v, 0));
    } else if (msg != NULL) {
        assert_true(json_object_object_get_ex(obj, "error", &v));
        (void)snprintf(msg, msg_size, "%s", json_object_get_string(v));
    }
    json_object_put(obj);
    tc_http_reply_free(&r);
    return status;
}

static int32_t ok_seq(void **state, const char *model, seq_id id, int32_t value, bool start,
                      bool end)
{
    int32_t out = 0;
    char msg[512] = "";
    int status = send_seq(state, model, id, value, start, end, &out, msg, sizeof msg);
    if (status != 200)
        fail_msg("%s: HTTP %d %s", model, status, msg);
    return out;
}

static void expect_seq_error(void **state, const char *model, seq_id id, bool start, int status,
                             const char *want)
{
    int32_t out = 0;
    char msg[512] = "";
    assert_int_equal(send_seq(state, model, id, 1, start, false, &out, msg, sizeof msg), status);
    if (strstr(msg, want) == NULL)
        fail_msg("error '%s' lacks '%s'", msg, want);
}

/* upstream's sync sequence client: START with 0 / 100, then values and
 * their negatives, END on the last; `dyna` adds the correlation id at END. */
static void run_interleaved(void **state, const char *model, bool dyna)
{
    static const int32_t values[] = {11, 7, 5, 3, 2, 0, 1};
    const size_t n = sizeof values / sizeof values[0];
    seq_id id0 = {1000, NULL};
    seq_id id1 = {1001, NULL};
    int32_t result0[8];
    int32_t result1[8];
    result0[0] = ok_seq(state, model, id0, 0, true, false);
    result1[0] = ok_seq(state, model, id1, 100, true, false);
    for (size_t i = 0; i < n; i++) {
        result0[i + 1] = ok_seq(state, model, id0, values[i], false, i == n - 1);
        result1[i + 1] = ok_seq(state, model, id1, -values[i], false, i == n - 1);
    }
    for (size_t i = 0; i <= n; i++) {
        int32_t want0 = i == 0 ? 1 : values[i - 1];
        int32_t want1 = i == 0 ? 101 : -values[i - 1];
        if (dyna && i == n) {
            want0 += 1000;
            want1 += 1001;
        }
        assert_int_equal(result0[i], want0);
        assert_int_equal(result1[i], want1);
    }
}

static void simple_sequence_sync_flow(void **state)
{
    run_interleaved(state, "simple_sequence", false);
    /* Both sequences ended: their ids need a new START. */
    seq_id id0 = {1000, NULL};
    expect_seq_error(state, "simple_sequence", id0, false, 400,
                     "inference request for sequence 1000 to model 'simple_sequence' must "
                     "specify the START flag on the first request of the sequence");
}

static void dyna_sequence_sync_flow(void **state)
{
    run_interleaved(state, "simple_dyna_sequence", true);
    json_object *st = NULL;
    tc_http_reply r;
    assert_int_equal(tc_http_request(port_of(state), "GET", "/v2/models/simple_dyna_sequence/stats",
                                     NULL, NULL, 0, &r),
                     0);
    assert_int_equal(r.status, 200);
    st = json_tokener_parse((const char *)r.body);
    assert_non_null(st);
    json_object *list = NULL;
    assert_true(json_object_object_get_ex(st, "model_stats", &list));
    json_object *e = json_object_array_get_idx(list, 0);
    json_object *v = NULL;
    assert_true(json_object_object_get_ex(e, "inference_count", &v));
    assert_int_equal(json_object_get_int64(v), 16);
    json_object_put(st);
    tc_http_reply_free(&r);
}

static void string_id_sequence_flow(void **state)
{
    const char *m = "simple_string_dyna_sequence";
    seq_id a = {0, "client-a"};
    seq_id b = {0, "17"};
    assert_int_equal(ok_seq(state, m, a, 5, true, false), 5);
    assert_int_equal(ok_seq(state, m, b, 100, true, false), 100);
    assert_int_equal(ok_seq(state, m, a, 4, false, false), 9);
    assert_int_equal(ok_seq(state, m, b, -1, false, false), 99);
    assert_int_equal(ok_seq(state, m, b, 1, false, true), 100 + 17);
    assert_int_equal(ok_seq(state, m, a, 1, false, true), 10); /* "client-a" counts 0 */
    /* A restart begins a fresh accumulator. */
    assert_int_equal(ok_seq(state, m, b, 3, true, false), 3);
    assert_int_equal(ok_seq(state, m, b, 3, true, false), 3);
}

static void sequence_errors(void **state)
{
    seq_id none = {0, NULL};
    expect_seq_error(state, "simple_sequence", none, true, 400,
                     "inference request to model 'simple_sequence' must specify a non-zero or "
                     "non-empty correlation ID");
    seq_id unknown = {4242, NULL};
    expect_seq_error(state, "simple_sequence", unknown, false, 400,
                     "must specify the START flag on the first request of the sequence");
    seq_id str = {0, "abc"};
    expect_seq_error(state, "simple_dyna_sequence", str, true, 400,
                     "sequence batching control 'CORRID' data-type is 'BYTES', but model "
                     "'simple_dyna_sequence' expects 'UINT64'");
    seq_id num = {5, NULL};
    expect_seq_error(state, "simple_string_dyna_sequence", num, true, 400,
                     "sequence batching control 'CORRID' data-type is 'UINT64', but model "
                     "'simple_string_dyna_sequence' expects 'BYTES'");
    /* Batch size 2. */
    const char *body = "{\"parameters\":{\"sequence_id\":3,\"sequence_start\":true},"
                       "\"inputs\":[{\"name\":\"INPUT\",\"shape\":[2,1],\"datatype\":\"INT32\","
                       "\"data\":[1,2]}]}";
    tc_http_reply r;
    assert_int_equal(tc_http_request(port_of(state), "POST", "/v2/models/simple_sequence/infer",
                                     NULL, body, strlen(body), &r),
                     0);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr((const char *)r.body, "must specify batch-size 1 due to requirements "
                                                 "of sequence batcher"));
    tc_http_reply_free(&r);
}

static void decoupled_models_answer_501(void **state)
{
    const char *body = "{\"inputs\":[{\"name\":\"IN\",\"shape\":[1],\"datatype\":\"INT32\","
                       "\"data\":[3]}]}";
    tc_http_reply r;
    assert_int_equal(tc_http_request(port_of(state), "POST", "/v2/models/square_int32/infer", NULL,
                                     body, strlen(body), &r),
                     0);
    assert_int_equal(r.status, 501);
    assert_non_null(strstr((const char *)r.body, "decoupled"));
    tc_http_reply_free(&r);
}

/* simple_sequence loaded with a 200 ms idle time through a config override. */
static void idle_sequence_expires(void **state)
{
    const char *load =
        "{\"parameters\":{\"config\":\"{\\\"name\\\":\\\"simple_sequence\\\","
        "\\\"backend\\\":\\\"tritonc_sequence\\\",\\\"max_batch_size\\\":8,"
        "\\\"sequence_batching\\\":{\\\"max_sequence_idle_microseconds\\\":200000,"
        "\\\"control_input\\\":[{\\\"name\\\":\\\"START\\\",\\\"control\\\":[{\\\"kind\\\":"
        "\\\"CONTROL_SEQUENCE_START\\\",\\\"int32_false_true\\\":[0,1]}]},"
        "{\\\"name\\\":\\\"READY\\\",\\\"control\\\":[{\\\"kind\\\":\\\"CONTROL_SEQUENCE_READY\\\","
        "\\\"int32_false_true\\\":[0,1]}]}]},"
        "\\\"input\\\":[{\\\"name\\\":\\\"INPUT\\\",\\\"data_type\\\":\\\"TYPE_INT32\\\","
        "\\\"dims\\\":[1]}],\\\"output\\\":[{\\\"name\\\":\\\"OUTPUT\\\","
        "\\\"data_type\\\":\\\"TYPE_INT32\\\",\\\"dims\\\":[1]}]}\"}}";
    tc_http_reply r;
    assert_int_equal(tc_http_request(port_of(state), "POST",
                                     "/v2/repository/models/simple_sequence/load", NULL, load,
                                     strlen(load), &r),
                     0);
    if (r.status != 200)
        fail_msg("load: %d %s", r.status, (char *)r.body);
    tc_http_reply_free(&r);
    seq_id id = {55, NULL};
    assert_int_equal(ok_seq(state, "simple_sequence", id, 4, true, false), 5);
    assert_int_equal(ok_seq(state, "simple_sequence", id, 6, false, false), 6);
    /* The sequence's idle clock restarted when that request completed,
     * before its answer came back: from now on it only ages. */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* Wait past the configured idle time: the behaviour under test is a
     * timeout, not something to synchronise with (a request in between
     * would keep the sequence alive). */
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (long)(now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (ms > 300)
            break;
        struct timespec nap = {0, 20000000}; /* until the clock says 300 ms */
        (void)nanosleep(&nap, NULL);
    }
    expect_seq_error(state, "simple_sequence", id, false, 400,
                     "inference request for sequence 55 to model 'simple_sequence' must specify "
                     "the START flag on the first request of the sequence");
    assert_int_equal(ok_seq(state, "simple_sequence", id, 0, true, true), 1);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(simple_sequence_sync_flow, setup, teardown),
    cmocka_unit_test_setup_teardown(dyna_sequence_sync_flow, setup, teardown),
    cmocka_unit_test_setup_teardown(string_id_sequence_flow, setup, teardown),
    cmocka_unit_test_setup_teardown(sequence_errors, setup, teardown),
    cmocka_unit_test_setup_teardown(decoupled_models_answer_501, setup, teardown),
    cmocka_unit_test_setup_teardown(idle_sequence_expires, setup_explicit, teardown),
};

TC_TEST_MAIN(tests)
