/* Replays the exact HTTP requests the upstream Python client sent (captured
 * in ../shared/spec/golden/http) against tritonc-server, in order, on one
 * keep-alive connection as the client did. Each must get the kind of answer
 * upstream expected: 2xx where the captured run succeeded, an error (with
 * the unknown-model message) where it expected one, and a body the upstream
 * client can decode. Skips when the golden folder is absent. */
#define _GNU_SOURCE
#include "tc_test.h"

#include <arpa/inet.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server_proc.h"

#define GOLDEN TC_SHARED_DIR "/spec/golden/http"

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

static int connect_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

/* Read one HTTP/1.1 response with a Content-Length body (bounded wait). */
static int read_response(int fd, char **headers, uint8_t **body, size_t *body_len)
{
    static char buf[1 << 20];
    size_t used = 0;
    size_t need = 0;
    char *hend = NULL;
    for (;;) {
        if (hend != NULL && used >= need)
            break;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 10000) <= 0 || used >= sizeof buf - 1)
            return -1;
        ssize_t r = recv(fd, buf + used, sizeof buf - 1 - used, 0);
        if (r <= 0)
            return -1;
        used += (size_t)r;
        buf[used] = '\0';
        if (hend == NULL && (hend = strstr(buf, "\r\n\r\n")) != NULL) {
            const char *cl = strcasestr(buf, "\r\ncontent-length:");
            size_t len = cl != NULL && cl < hend ? (size_t)strtoul(cl + 17, NULL, 10) : 0;
            need = (size_t)(hend - buf) + 4 + len;
        }
    }
    size_t hlen = (size_t)(hend - buf);
    *headers = strndup(buf, hlen);
    *body_len = need - hlen - 4;
    *body = malloc(*body_len + 1);
    memcpy(*body, hend + 4, *body_len);
    (*body)[*body_len] = 0;
    return atoi(buf + 9);
}

static json_object *read_json_file(const char *path)
{
    size_t len = 0;
    uint8_t *text = tc_test_read_file(path, &len);
    if (text == NULL)
        return NULL;
    json_object *o = json_tokener_parse((const char *)text);
    free(text);
    return o;
}

static json_object *member(json_object *o, const char *key)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* Send request NNNN of `run` as captured and check the answer. Returns
 * false when the file does not exist (end of the run). */
static bool replay_one(int fd, const char *run, int seq)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%04d.request.json", GOLDEN, run, seq);
    json_object *req = read_json_file(path);
    if (req == NULL)
        return false;
    snprintf(path, sizeof path, "%s/%s/%04d.response.mock.json", GOLDEN, run, seq);
    json_object *mock = read_json_file(path);
    int want = mock != NULL ? json_object_get_int(member(mock, "status")) : 200;

    size_t body_len = 0;
    uint8_t *body = NULL;
    json_object *bf = member(req, "body_file");
    if (bf != NULL) {
        snprintf(path, sizeof path, "%s/%s/%s", GOLDEN, run, json_object_get_string(bf));
        body = tc_test_read_file(path, &body_len);
        assert_non_null(body);
    }
    size_t cap = 8192 + body_len;
    char *wire = malloc(cap);
    int n = snprintf(wire, cap, "%s\r\nhost: 127.0.0.1\r\n",
                     json_object_get_string(member(req, "request_line")));
    json_object *hdrs = member(req, "headers");
    for (size_t i = 0; i < json_object_array_length(hdrs); i++) {
        json_object *h = json_object_array_get_idx(hdrs, i);
        n += snprintf(wire + n, cap - (size_t)n, "%s: %s\r\n",
                      json_object_get_string(json_object_array_get_idx(h, 0)),
                      json_object_get_string(json_object_array_get_idx(h, 1)));
    }
    n += snprintf(wire + n, cap - (size_t)n, "\r\n");
    if (body_len > 0)
        memcpy(wire + n, body, body_len);
    assert_int_equal(send(fd, wire, (size_t)n + body_len, MSG_NOSIGNAL), (ssize_t)n + (ssize_t)body_len);

    char *headers = NULL;
    uint8_t *resp = NULL;
    size_t resp_len = 0;
    int status = read_response(fd, &headers, &resp, &resp_len);
    if ((want < 400) != (status >= 200 && status < 300))
        fail_msg("%s %04d: status %d (upstream expected %d): %s", run, seq, status, want, resp);
    if (status >= 400) {
        json_object *err = json_tokener_parse((const char *)resp);
        assert_non_null(err);
        const char *msg = json_object_get_string(member(err, "error"));
        assert_non_null(strstr(msg, "Request for unknown model"));
        json_object_put(err);
    } else if (strcasestr(headers, "inference-header-content-length") == NULL && resp_len > 0) {
        /* An all-JSON answer must be JSON the client can parse. */
        json_object *o = json_tokener_parse((const char *)resp);
        assert_non_null(o);
        json_object_put(o);
    }
    free(headers);
    free(resp);
    free(wire);
    free(body);
    json_object_put(req);
    json_object_put(mock);
    return true;
}

static void replay_run(void **state, const char *run)
{
    struct stat st;
    if (stat(GOLDEN, &st) != 0) {
        fprintf(stderr, "SKIP: golden captures not found at %s\n", GOLDEN);
        skip();
    }
    int fd = connect_port(((tc_test_server *)*state)->http_port);
    int seq = 1;
    while (replay_one(fd, run, seq))
        seq++;
    close(fd);
    assert_true(seq > 1);
}

static void golden_simple_http_infer_client(void **state)
{
    replay_run(state, "simple_http_infer_client");
}

static void golden_simple_http_infer_client_gzip(void **state)
{
    replay_run(state, "simple_http_infer_client-gzip");
}

static void golden_simple_http_infer_client_deflate(void **state)
{
    replay_run(state, "simple_http_infer_client-deflate");
}

static void golden_simple_http_string_infer_client(void **state)
{
    replay_run(state, "simple_http_string_infer_client");
}

static void golden_simple_http_health_metadata(void **state)
{
    replay_run(state, "simple_http_health_metadata");
}

static void golden_simple_http_async_infer_client(void **state)
{
    replay_run(state, "simple_http_async_infer_client");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(golden_simple_http_infer_client, setup, teardown),
    cmocka_unit_test_setup_teardown(golden_simple_http_infer_client_gzip, setup, teardown),
    cmocka_unit_test_setup_teardown(golden_simple_http_infer_client_deflate, setup, teardown),
    cmocka_unit_test_setup_teardown(golden_simple_http_string_infer_client, setup, teardown),
    cmocka_unit_test_setup_teardown(golden_simple_http_health_metadata, setup, teardown),
    cmocka_unit_test_setup_teardown(golden_simple_http_async_infer_client, setup, teardown),
};

TC_TEST_MAIN(tests)
