/* The generate extension over HTTP (HTTP.md section 15): /generate answers
 * with one flat JSON object, /generate_stream with server-sent events (one
 * per response of a decoupled model), errors as upstream reports them, and
 * a client that leaves in the middle of a stream. */
#include "tc_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "server_proc.h"

static int setup(void **state)
{
    tc_test_server *s = calloc(1, sizeof *s);
    if (tc_test_server_start(s, TC_MODELS_DIR, NULL) != 0) {
        free(s);
        return -1;
    }
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    tc_test_server *s = *state;
    int rc = tc_test_server_stop(s);
    free(s);
    assert_int_equal(rc, 0);
    return 0;
}

static tc_http_reply post(tc_test_server *s, const char *path, const char *headers,
                          const char *body)
{
    tc_http_reply r;
    assert_int_equal(tc_http_request(s->http_port, "POST", path, headers, body, strlen(body), &r),
                     0);
    return r;
}

static void expect(const tc_http_reply *r, int status, const char *type, const char *body)
{
    if (r->status != status || strcmp((const char *)r->body, body) != 0)
        fail_msg("got %d %s, want %d %s", r->status, (const char *)r->body, status, body);
    const char *ct = tc_http_header(r, "content-type");
    assert_non_null(ct);
    assert_string_equal(ct, type);
}

static const char k_simple[] =
    "{\"INPUT0\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15],"
    "\"INPUT1\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],\"id\":\"r1\",\"temperature\":0}";

static void generate_one_response(void **state)
{
    tc_test_server *s = *state;
    tc_http_reply r = post(s, "/v2/models/simple/generate", NULL, k_simple);
    expect(&r, 200, "application/json",
           "{\"OUTPUT0\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],"
           "\"OUTPUT1\":[-1,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14],\"id\":\"r1\","
           "\"model_name\":\"simple\",\"model_version\":\"1\"}");
    tc_http_reply_free(&r);
    /* A decoupled model that answers once; a scalar for a [1] input. */
    r = post(s, "/v2/models/repeat_int32/versions/1/generate", NULL,
             "{\"IN\":[4],\"DELAY\":[1],\"WAIT\":0}");
    expect(&r, 200, "application/json",
           "{\"IDX\":0,\"OUT\":4,\"model_name\":\"repeat_int32\",\"model_version\":\"1\"}");
    tc_http_reply_free(&r);
    /* More than one response: upstream's error, under the first one's 200. */
    r = post(s, "/v2/models/repeat_int32/generate", NULL,
             "{\"IN\":[4,5],\"DELAY\":[1,1],\"WAIT\":0}");
    expect(&r, 200, "application/json",
           "{\"error\":\"generate expects model to produce exactly 1 response, use generate "
           "stream for model that generates various number of responses\"}");
    tc_http_reply_free(&r);
}

static void generate_stream_events(void **state)
{
    tc_test_server *s = *state;
    tc_http_reply r = post(s, "/v2/models/repeat_int32/generate_stream", NULL,
                           "{\"IN\":[4,5,6],\"DELAY\":[5,5,5],\"WAIT\":0,\"id\":\"s\"}");
    expect(&r, 200, "text/event-stream; charset=utf-8",
           "data: {\"IDX\":0,\"OUT\":4,\"id\":\"s\",\"model_name\":\"repeat_int32\","
           "\"model_version\":\"1\"}\n\n"
           "data: {\"IDX\":1,\"OUT\":5,\"id\":\"s\",\"model_name\":\"repeat_int32\","
           "\"model_version\":\"1\"}\n\n"
           "data: {\"IDX\":2,\"OUT\":6,\"id\":\"s\",\"model_name\":\"repeat_int32\","
           "\"model_version\":\"1\"}\n\n");
    assert_non_null(strstr(r.headers, "transfer-encoding: chunked"));
    tc_http_reply_free(&r);
    /* No responses at all: an empty stream. */
    r = post(s, "/v2/models/repeat_int32/generate_stream", NULL,
             "{\"IN\":[],\"DELAY\":[],\"WAIT\":0}");
    expect(&r, 200, "text/event-stream; charset=utf-8", "");
    tc_http_reply_free(&r);
    /* The first response is an error: 400, the error as an event. */
    r = post(s, "/v2/models/square_int32/generate_stream", NULL, "{\"IN\":-3}");
    expect(&r, 400, "text/event-stream; charset=utf-8",
           "data: {\"error\":\"square: IN must not be negative, got -3\"}\n\n");
    tc_http_reply_free(&r);
}

static void errors_before_inference(void **state)
{
    tc_test_server *s = *state;
    tc_http_reply r = post(s, "/v2/models/nope/generate", NULL, "{}");
    expect(&r, 404, "application/json",
           "{\"error\":\"Request for unknown model: 'nope' is not found\"}");
    tc_http_reply_free(&r);
    r = post(s, "/v2/models/simple/generate", NULL, "{\"INPUT0\":[1,2,3]}");
    expect(&r, 400, "application/json",
           "{\"error\":\"The schema can not convert input 'INPUT0' to tensor with proper "
           "shape\"}");
    tc_http_reply_free(&r);
    r = post(s, "/v2/models/simple/generate_stream", "Content-Encoding: gzip\r\n", k_simple);
    expect(&r, 400, "application/json",
           "{\"error\":\"generate request does not support compression\"}");
    tc_http_reply_free(&r);
    /* Missing inputs are the core's validation error. */
    r = post(s, "/v2/models/simple/generate", NULL,
             "{\"INPUT0\":[0,1,2,3,4,5,6,7,8,9,10,11,12,"
             "13,14,15]}");
    assert_int_equal(r.status, 400);
    assert_non_null(strstr((const char *)r.body, "expected 2 inputs but got 1"));
    tc_http_reply_free(&r);
    assert_int_equal(
        tc_http_request(s->http_port, "GET", "/v2/models/simple/generate", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 405);
    tc_http_reply_free(&r);
}

/* A client reading the first event and leaving: the server drops the rest
 * and keeps serving (the teardown checks it exits cleanly). */
static void client_leaves_mid_stream(void **state)
{
    tc_test_server *s = *state;
    static const char body[] = "{\"IN\":[1,2,3,4,5,6],\"DELAY\":[50,50,50,50,50,50],\"WAIT\":0}";
    char req[512];
    int n = snprintf(req, sizeof req,
                     "POST /v2/models/repeat_int32/generate_stream HTTP/1.1\r\nHost: x\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     sizeof body - 1, body);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)s->http_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    struct timeval tv = {10, 0};
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
    assert_int_equal(send(fd, req, (size_t)n, 0), n);
    char got[4096];
    size_t len = 0;
    while (len < sizeof got - 1) {
        ssize_t k = recv(fd, got + len, sizeof got - 1 - len, 0);
        assert_true(k > 0);
        len += (size_t)k;
        got[len] = '\0';
        if (strstr(got, "\"OUT\":1") != NULL)
            break; /* the first event is here */
    }
    assert_non_null(strstr(got, "HTTP/1.1 200"));
    close(fd);
    /* Still serving, and a whole stream still works. */
    tc_http_reply r = post(s, "/v2/models/repeat_int32/generate_stream", NULL,
                           "{\"IN\":[9],\"DELAY\":[1],\"WAIT\":0}");
    expect(&r, 200, "text/event-stream; charset=utf-8",
           "data: {\"IDX\":0,\"OUT\":9,\"model_name\":\"repeat_int32\",\"model_version\":\"1\"}"
           "\n\n");
    tc_http_reply_free(&r);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(generate_one_response, setup, teardown),
    cmocka_unit_test_setup_teardown(generate_stream_events, setup, teardown),
    cmocka_unit_test_setup_teardown(errors_before_inference, setup, teardown),
    cmocka_unit_test_setup_teardown(client_leaves_mid_stream, setup, teardown),
};

TC_TEST_MAIN(tests)
