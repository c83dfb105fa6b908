/* Bad input over both protocols (issue 7), complementing test_http_server.c
 * and test_grpc_server.c: malformed and hostile JSON, binary-header and body
 * lengths, declared sizes far beyond the data, protobuf garbage, impossible
 * shapes, shared-memory bounds, unknown models and versions, and slow clients.
 * Every case expects a client-error answer (HTTP 4xx, or a non-OK gRPC status
 * where spec/GRPC.md names one), checks that a good request on both
 * protocols still succeeds after each group, and requires the server to exit
 * 0 at teardown (a crash or, under ASan, a leak fails the case). */
#include "tc_test.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "grpc_raw.h"
#include "grpc_service.pb-c.h"
#include "server_proc.h"

#define SVC   "/inference.GRPCInferenceService/"
#define INFER "/v2/models/simple/infer"

typedef struct fixture {
    tc_test_server server;
    tc_grpc_raw *conn;
    unsigned calls; /* streams opened on `conn` (tests/lib/grpc_raw.c keeps 64) */
} fixture;

static int setup(void **state)
{
    static const char *const args[] = {"--allow-client-shm=true", NULL};
    fixture *f = calloc(1, sizeof *f);
    if (tc_test_server_start(&f->server, TC_MODELS_DIR, args) != 0 || f->server.grpc_port <= 0 ||
        tc_grpc_raw_connect(&f->conn, f->server.grpc_port) != 0) {
        if (f->server.pid > 0)
            tc_test_server_stop(&f->server);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tc_grpc_raw_close(f->conn);
    int rc = tc_test_server_stop(&f->server);
    free(f);
    assert_int_equal(rc, 0);
    return 0;
}

static int http_port(void **state)
{
    return ((fixture *)*state)->server.http_port;
}

static int grpc_port(void **state)
{
    return ((fixture *)*state)->server.grpc_port;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- good requests: the server still serves after each group ------------------------------ */

static const char k_good_json[] =
    "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\","
    "\"data\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]},"
    "{\"name\":\"INPUT1\",\"shape\":[1,16],\"datatype\":\"INT32\","
    "\"data\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}]}";

static void good_http(void **state)
{
    tc_http_reply r;
    assert_int_equal(tc_http_request(http_port(state), "POST", INFER, NULL, k_good_json,
                                     strlen(k_good_json), &r),
                     0);
    if (r.status != 200)
        fprintf(stderr, "good request -> %d %s\n", r.status, (char *)r.body);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr((char *)r.body, "OUTPUT0"));
    tc_http_reply_free(&r);
}

/* Packs a ModelInferRequest for `simple` ([1,16] INT32 x2) and frames it. */
static uint8_t *simple_frame(const int64_t *shape, size_t n_shape, const char *model,
                             const char *version, size_t *flen)
{
    static int32_t a[16];
    static int32_t b[16];
    for (int i = 0; i < 16; i++) {
        a[i] = i;
        b[i] = 1;
    }
    Inference__ModelInferRequest__InferInputTensor t0 =
        INFERENCE__MODEL_INFER_REQUEST__INFER_INPUT_TENSOR__INIT;
    Inference__ModelInferRequest__InferInputTensor t1 =
        INFERENCE__MODEL_INFER_REQUEST__INFER_INPUT_TENSOR__INIT;
    t0.name = "INPUT0";
    t1.name = "INPUT1";
    t0.datatype = t1.datatype = "INT32";
    t0.shape = t1.shape = (int64_t *)shape;
    t0.n_shape = t1.n_shape = n_shape;
    Inference__ModelInferRequest__InferInputTensor *ins[] = {&t0, &t1};
    ProtobufCBinaryData raw[] = {{sizeof a, (uint8_t *)a}, {sizeof b, (uint8_t *)b}};
    Inference__ModelInferRequest req = INFERENCE__MODEL_INFER_REQUEST__INIT;
    req.model_name = (char *)model;
    req.model_version = (char *)version;
    req.n_inputs = 2;
    req.inputs = ins;
    req.n_raw_input_contents = 2;
    req.raw_input_contents = raw;
    size_t len = protobuf_c_message_get_packed_size(&req.base);
    uint8_t *buf = malloc(len + 1);
    protobuf_c_message_pack(&req.base, buf);
    uint8_t *frame = tc_grpc_raw_frame(buf, len, flen);
    free(buf);
    return frame;
}

/* A unary call with framed bytes; returns the gRPC status (-1: no answer). */
static int grpc_call(void **state, const char *rpc, const void *frame, size_t flen,
                     tc_grpc_raw_reply *r)
{
    char path[128];
    snprintf(path, sizeof path, "%s%s", SVC, rpc);
    fixture *f = *state;
    if (++f->calls > 48) {
        tc_grpc_raw_close(f->conn);
        f->conn = NULL;
        assert_int_equal(tc_grpc_raw_connect(&f->conn, f->server.grpc_port), 0);
        f->calls = 1;
    }
    if (tc_grpc_raw_call(f->conn, path, NULL, frame, flen, r) != 0)
        fail_msg("%s: no answer within 10 s (connection %s)", rpc,
                 tc_grpc_raw_closed(f->conn) ? "closed" : "open");
    assert_int_equal(r->http_status, 200);
    return r->grpc_status;
}

static void good_grpc(void **state)
{
    static const int64_t shape[] = {1, 16};
    size_t flen;
    uint8_t *frame = simple_frame(shape, 2, "simple", "", &flen);
    tc_grpc_raw_reply r;
    int st = grpc_call(state, "ModelInfer", frame, flen, &r);
    if (st != 0)
        fprintf(stderr, "good gRPC request -> %d %s\n", st, r.grpc_message);
    assert_int_equal(st, 0);
    assert_int_equal(r.count, 1);
    tc_grpc_raw_reply_free(&r);
    free(frame);
}

static void good_both(void **state)
{
    good_http(state);
    good_grpc(state);
}

/* The VmRSS of a process in kB, or -1. */
static long rss_kb(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, fp) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    }
    fclose(fp);
    return kb;
}

/* ---- HTTP error helpers ------------------------------------------------------------------- */

/* POST `body` to `path`; require a 4xx with a JSON {"error": ...} body. */
static int http_4xx(void **state, const char *path, const char *headers, const void *body,
                    size_t len, const char *what)
{
    tc_http_reply r;
    assert_int_equal(tc_http_request(http_port(state), "POST", path, headers, body, len, &r), 0);
    int status = r.status;
    if (status < 400 || status > 499 || strstr((char *)r.body, "\"error\"") == NULL)
        fail_msg("%s: got %d '%.200s'", what, status, (char *)r.body);
    tc_http_reply_free(&r);
    return status;
}

static void infer_4xx(void **state, const char *json, const char *what)
{
    http_4xx(state, INFER, NULL, json, strlen(json), what);
}

/* Raw bytes, then half-close; require a 4xx status line (any body). */
static void raw_4xx(void **state, const char *bytes, size_t len, const char *what)
{
    tc_http_reply r;
    tc_http_raw_half_close(http_port(state), bytes, len, 5000, &r);
    if (r.status < 400 || r.status > 499)
        fail_msg("%s: got status %d", what, r.status);
    tc_http_reply_free(&r);
}

/* ---- malformed JSON --------------------------------------------------------------------- */

static char *repeat(const char *head, const char *unit, size_t n, const char *tail)
{
    size_t hl = strlen(head);
    size_t ul = strlen(unit);
    size_t tl = strlen(tail);
    char *s = malloc(hl + ul * n + tl + 1);
    memcpy(s, head, hl);
    for (size_t i = 0; i < n; i++)
        memcpy(s + hl + i * ul, unit, ul);
    memcpy(s + hl + ul * n, tail, tl + 1);
    return s;
}

static void json_deep_nesting_and_huge_strings(void **state)
{
    /* 10,000 levels, as a whole body, inside "parameters" and inside "data". */
    char *open = repeat("", "[", 10000, "");
    char *close = repeat("", "]", 10000, "");
    size_t n = 10000;
    char *body = malloc(3 * n + 256);
    snprintf(body, 3 * n + 256, "%s%s", open, close);
    infer_4xx(state, body, "10k nested arrays");
    char *objs = repeat("{\"parameters\":", "{\"a\":", n, "1");
    char *tail = repeat(objs, "}", n, "}");
    infer_4xx(state, tail, "10k nested objects");
    free(objs);
    free(tail);
    snprintf(body, 3 * n + 256,
             "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\","
             "\"data\":%s%s}]}",
             open, close);
    infer_4xx(state, body, "10k nested data");
    /* Unterminated 10k nesting. */
    infer_4xx(state, open, "10k unclosed arrays");
    free(open);
    free(close);
    free(body);
    /* A 4 MiB input name, a 4 MiB datatype and a 4 MiB unterminated string. */
    char *big = repeat("{\"inputs\":[{\"name\":\"", "x", 4u << 20,
                       "\",\"shape\":[1,16],\"datatype\":\"INT32\",\"data\":[1]}]}");
    infer_4xx(state, big, "4 MiB name");
    free(big);
    big = repeat("{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"", "Y",
                 4u << 20, "\",\"data\":[1]}]}");
    infer_4xx(state, big, "4 MiB datatype");
    free(big);
    big = repeat("{\"id\":\"", "z", 4u << 20, "");
    infer_4xx(state, big, "4 MiB unterminated string");
    free(big);
    good_both(state);
}

static void json_invalid_utf8_and_numbers(void **state)
{
    static const char *const cases[] = {
        /* invalid UTF-8 in tensor names, datatype and output names */
        "{\"inputs\":[{\"name\":\"INPUT\xff\",\"shape\":[1,16],\"datatype\":\"INT32\",\"data\":[1]}"
        "]}",
        "{\"inputs\":[{\"name\":\"\xc0\x80\",\"shape\":[1,16],\"datatype\":\"INT32\",\"data\":[1]}]"
        "}",
        "{\"inputs\":[{\"name\":\"\xed\xa0\x80\",\"shape\":[1,16],\"datatype\":\"INT32\","
        "\"data\":[1]}]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT\xfe\","
        "\"data\":[1]}]}",
        "{\"inputs\":[{\"name\":\"\\ud800\",\"shape\":[1,16],\"datatype\":\"INT32\",\"data\":[1]}]"
        "}",
        /* numbers out of range for the shape and the data */
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1e400,16],\"datatype\":\"INT32\",\"data\":[1]"
        "}]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[18446744073709551616,16],\"datatype\":"
        "\"INT32\","
        "\"data\":[1]}]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1.5,16],\"datatype\":\"INT32\",\"data\":[1]}]"
        "}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[-9223372036854775809,16],"
        "\"datatype\":\"INT32\",\"data\":[1]}]}",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[32];
        snprintf(what, sizeof what, "utf8/number case %zu", i);
        infer_4xx(state, cases[i], what);
    }
    /* Data values out of the datatype's range, with an otherwise valid request. */
    static const char *const values[] = {
        "4294967296", "-2147483649", "1e400", "1.5",
        "\"7\"",      "true",        "null",  "99999999999999999999999"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char body[1024];
        snprintf(body, sizeof body,
                 "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\","
                 "\"data\":[%s,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]},"
                 "{\"name\":\"INPUT1\",\"shape\":[1,16],\"datatype\":\"INT32\","
                 "\"data\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}]}",
                 values[i]);
        infer_4xx(state, body, values[i]);
    }
    /* Invalid UTF-8 in the model name of the URL. */
    tc_http_reply r;
    assert_int_equal(tc_http_request(http_port(state), "POST", "/v2/models/%ff%fe/infer", NULL,
                                     k_good_json, strlen(k_good_json), &r),
                     0);
    assert_true(r.status >= 400 && r.status <= 499);
    tc_http_reply_free(&r);
    good_both(state);
}

static void json_duplicate_keys(void **state)
{
    /* The same tensor twice is a client mistake. */
    infer_4xx(state,
              "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\","
              "\"data\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]},"
              "{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\","
              "\"data\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}]}",
              "duplicate input tensor");
    infer_4xx(state,
              "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\","
              "\"data\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]},"
              "{\"name\":\"INPUT1\",\"shape\":[1,16],\"datatype\":\"INT32\","
              "\"data\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}],"
              "\"outputs\":[{\"name\":\"OUTPUT0\"},{\"name\":\"OUTPUT0\"}]}",
              "duplicate output");
    /* Duplicate object keys: RFC 8259 only says names SHOULD be unique, so a
     * server may take one of them or refuse; it must never fail (5xx) or
     * crash. A duplicate that makes the request wrong must be refused. */
    static const char *const dup[] = {
        "{\"inputs\":[{\"name\":\"INPUT0\",\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":"
        "\"INT32\",\"data\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]},"
        "{\"name\":\"INPUT1\",\"shape\":[1,16],\"shape\":[1,16],\"datatype\":\"INT32\","
        "\"data\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}],\"id\":\"a\",\"id\":\"b\"}",
        "{\"inputs\":[],\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\","
        "\"data\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]},"
        "{\"name\":\"INPUT1\",\"shape\":[1,16],\"datatype\":\"INT32\","
        "\"data\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}]}",
    };
    for (size_t i = 0; i < sizeof dup / sizeof dup[0]; i++) {
        tc_http_reply r;
        assert_int_equal(
            tc_http_request(http_port(state), "POST", INFER, NULL, dup[i], strlen(dup[i]), &r), 0);
        if (!(r.status == 200 || (r.status >= 400 && r.status <= 499)))
            fail_msg("duplicate keys %zu: got %d %s", i, r.status, (char *)r.body);
        tc_http_reply_free(&r);
    }
    good_both(state);
}

static void json_wrong_types_at_every_level(void **state)
{
#define IN1                                                                                        \
    "{\"name\":\"INPUT1\",\"shape\":[1,16],\"datatype\":\"INT32\",\"data\":[1,1,1,1,1,1,1,1,1,1,"  \
    "1,1,1,1,1,1]}"
#define D16 "[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]"
    static const char *const cases[] = {
        "1",
        "\"inputs\"",
        "null",
        "true",
        "[{\"inputs\":[]}]",
        "{\"inputs\":{}}",
        "{\"inputs\":\"INPUT0\"}",
        "{\"inputs\":null}",
        "{\"inputs\":[1," IN1 "]}",
        "{\"inputs\":[[]," IN1 "]}",
        "{\"inputs\":[\"INPUT0\"," IN1 "]}",
        "{\"inputs\":[{\"name\":[\"INPUT0\"],\"shape\":[1,16],\"datatype\":\"INT32\",\"data\":" D16
        "}," IN1 "]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":\"1,16\",\"datatype\":\"INT32\",\"data\":" D16
        "}," IN1 "]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":16,\"datatype\":\"INT32\",\"data\":" D16
        "}," IN1 "]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[\"1\",16],\"datatype\":\"INT32\","
        "\"data\":" D16 "}," IN1 "]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[[1],16],\"datatype\":\"INT32\",\"data\":" D16
        "}," IN1 "]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":32,\"data\":" D16 "}," IN1
        "]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"NOPE\",\"data\":" D16
        "}," IN1 "]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\",\"data\":\"x\"}"
        "," IN1 "]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\",\"data\":{}}"
        "," IN1 "]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\",\"data\":7}," IN1
        "]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\",\"data\":" D16
        ","
        "\"parameters\":[]}," IN1 "]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\",\"parameters\":"
        "{\"binary_data_size\":\"64\"}}," IN1 "]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\",\"parameters\":"
        "{\"binary_data_size\":-64}}," IN1 "]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\",\"data\":" D16
        "}," IN1 "],"
        "\"outputs\":7}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\",\"data\":" D16
        "}," IN1 "],"
        "\"outputs\":[{\"name\":7}]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\",\"data\":" D16
        "}," IN1 "],"
        "\"outputs\":[{\"name\":\"OUTPUT0\",\"parameters\":{\"binary_data\":\"yes\"}}]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\",\"data\":" D16
        "}," IN1 "],"
        "\"outputs\":[{\"name\":\"OUTPUT0\",\"parameters\":{\"classification\":\"3\"}}]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\",\"data\":" D16
        "}," IN1 "],"
        "\"parameters\":[1]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\",\"data\":" D16
        "}," IN1 "],"
        "\"parameters\":{\"binary_data_output\":\"true\"}}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\",\"data\":" D16
        "}," IN1 "],"
        "\"parameters\":{\"sequence_id\":[1]}}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\",\"data\":" D16
        "}," IN1 "],"
        "\"parameters\":{\"priority\":\"high\"}}",
    };
#undef IN1
#undef D16
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[32];
        snprintf(what, sizeof what, "wrong type case %zu", i);
        infer_4xx(state, cases[i], what);
    }
    good_both(state);
}

/* ---- binary header and body lengths ---------------------------------------------------------- */

/* A JSON header for `simple` with binary inputs of 64 bytes each, then the data. */
static size_t binary_body(char *out, size_t cap, size_t *hlen)
{
    const char *json = "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\","
                       "\"parameters\":{\"binary_data_size\":64}},{\"name\":\"INPUT1\",\"shape\":"
                       "[1,16],\"datatype\":\"INT32\",\"parameters\":{\"binary_data_size\":64}}]}";
    *hlen = strlen(json);
    assert_true(*hlen + 128 <= cap);
    memcpy(out, json, *hlen);
    memset(out + *hlen, 1, 128);
    return *hlen + 128;
}

static void binary_header_lengths(void **state)
{
    char body[1024];
    size_t hlen;
    size_t len = binary_body(body, sizeof body, &hlen);
    char h[160];
    snprintf(h, sizeof h, "Inference-Header-Content-Length: %zu\r\n", hlen);
    tc_http_reply r;
    assert_int_equal(tc_http_request(http_port(state), "POST", INFER, h, body, len, &r), 0);
    assert_int_equal(r.status, 200); /* the control */
    tc_http_reply_free(&r);
    static const char *const bad[] = {"garbage",
                                      "",
                                      " ",
                                      "12abc",
                                      "0x10",
                                      "-1",
                                      "-0",
                                      "18446744073709551616",
                                      "18446744073709551615",
                                      "99999999999999999999999999",
                                      "9223372036854775808",
                                      "4611686018427387904",
                                      "1e3",
                                      "1.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(h, sizeof h, "Inference-Header-Content-Length: %s\r\n", bad[i]);
        http_4xx(state, INFER, h, body, len, bad[i]);
    }
    /* Larger than the body by one, and a header that cuts the JSON. */
    snprintf(h, sizeof h, "Inference-Header-Content-Length: %zu\r\n", len + 1);
    http_4xx(state, INFER, h, body, len, "len + 1");
    snprintf(h, sizeof h, "Inference-Header-Content-Length: %zu\r\n", hlen - 1);
    http_4xx(state, INFER, h, body, len, "hlen - 1");
    /* A leading '+' is not digits-only: refused, or read as the number (never 5xx). */
    snprintf(h, sizeof h, "Inference-Header-Content-Length: +%zu\r\n", hlen);
    assert_int_equal(tc_http_request(http_port(state), "POST", INFER, h, body, len, &r), 0);
    if (!(r.status == 200 || r.status == 400))
        fail_msg("leading +: got %d %s", r.status, (char *)r.body);
    tc_http_reply_free(&r);
    /* BYTES elements whose 4-byte length runs past the end of the binary data. */
    const char *sjson = "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"BYTES\","
                        "\"parameters\":{\"binary_data_size\":8}},{\"name\":\"INPUT1\",\"shape\":"
                        "[1,16],\"datatype\":\"BYTES\",\"parameters\":{\"binary_data_size\":8}}]}";
    size_t sl = strlen(sjson);
    memcpy(body, sjson, sl);
    static const uint8_t past[8] = {0xe8, 0x03, 0, 0, 'a', 'b', 'c', 'd'}; /* 1000 > 4 */
    memcpy(body + sl, past, 8);
    memcpy(body + sl + 8, past, 8);
    snprintf(h, sizeof h, "Inference-Header-Content-Length: %zu\r\n", sl);
    http_4xx(state, "/v2/models/simple_string/infer", h, body, sl + 16, "BYTES past the end");
    static const uint8_t huge[8] = {0xff, 0xff, 0xff, 0xff, 'a', 'b', 'c', 'd'};
    memcpy(body + sl, huge, 8);
    http_4xx(state, "/v2/models/simple_string/infer", h, body, sl + 16, "BYTES length 2^32-1");
    good_both(state);
}

static void declared_lengths_beyond_the_data(void **state)
{
    /* HTTP Content-Length 2^62 with a short body: answered at once. */
    static const char cl62[] = "POST " INFER " HTTP/1.1\r\nHost: x\r\n"
                               "Content-Length: 4611686018427387904\r\n\r\n{\"inputs\":[";
    double t0 = now_ms();
    raw_4xx(state, cl62, sizeof cl62 - 1, "Content-Length 2^62");
    assert_true(now_ms() - t0 < 4000);
    static const char *const raw[] = {
        "POST " INFER " HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551616\r\n\r\n{}",
        "POST " INFER " HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n{}",
        "POST " INFER " HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}",
        "POST " INFER " HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 9\r\n\r\n{}",
        "POST " INFER " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "ffffffffffffffffff\r\n{}\r\n0\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++)
        raw_4xx(state, raw[i], strlen(raw[i]), raw[i] + 50);
    /* gRPC: a 0x7fffffff prefix (the default limit, so not refused at once)
     * followed by a few bytes. The server must not reserve the declared
     * 2 GiB, must serve other streams meanwhile, and must end the stream
     * with a clear status when the client half-closes it early. */
    fixture *f = *state;
    long rss0 = rss_kb(f->server.pid);
    static const uint8_t big[] = {0, 0x7f, 0xff, 0xff, 0xff, 0x0a, 0x06, 's', 'i'};
    int32_t sid = tc_grpc_raw_start(f->conn, SVC "ModelInfer", NULL);
    assert_true(sid > 0);
    assert_int_equal(tc_grpc_raw_send(f->conn, sid, big, sizeof big, false), 0);
    tc_grpc_raw_reply r;
    assert_int_equal(tc_grpc_raw_wait(f->conn, sid, 0, 500, &r), -1); /* still open */
    tc_grpc_raw_reply_free(&r);
    good_grpc(state);
    long rss1 = rss_kb(f->server.pid);
    fprintf(stderr, "0x7fffffff prefix: server RSS %ld -> %ld kB\n", rss0, rss1);
    assert_true(rss1 - rss0 < 256 * 1024);
    assert_int_equal(tc_grpc_raw_send(f->conn, sid, "", 0, true), 0);
    t0 = now_ms();
    assert_int_equal(tc_grpc_raw_wait(f->conn, sid, 0, 5000, &r), 0);
    assert_true(r.grpc_status > 0 && r.grpc_status != 2);
    assert_true(now_ms() - t0 < 4000);
    tc_grpc_raw_reply_free(&r);
    /* Over a declared limit: refused at once with RESOURCE_EXHAUSTED. */
    static const uint8_t over[] = {0, 0x80, 0x00, 0x00, 0x00, 0x0a};
    sid = tc_grpc_raw_start(f->conn, SVC "ModelInfer", NULL);
    assert_int_equal(tc_grpc_raw_send(f->conn, sid, over, sizeof over, false), 0);
    assert_int_equal(tc_grpc_raw_wait(f->conn, sid, 0, 5000, &r), 0);
    assert_int_equal(r.grpc_status, 8);
    tc_grpc_raw_reply_free(&r);
    int st;
    static const uint8_t flagged[] = {1, 0, 0, 0, 2, 0x0a, 0x00};
    st = grpc_call(state, "ModelInfer", flagged, sizeof flagged, &r);
    assert_true(st > 0 && st != 2);
    tc_grpc_raw_reply_free(&r);
    static const uint8_t odd_flag[] = {0x80, 0, 0, 0, 2, 0x0a, 0x00};
    st = grpc_call(state, "ModelInfer", odd_flag, sizeof odd_flag, &r);
    assert_true(st > 0 && st != 2);
    tc_grpc_raw_reply_free(&r);
    good_both(state);
}

/* ---- protobuf garbage --------------------------------------------------------------------- */

static uint32_t xorshift(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* A message that is no valid request: any non-OK status, never UNKNOWN. */
static void grpc_refused(void **state, const char *rpc, const uint8_t *msg, size_t len,
                         const char *what)
{
    size_t flen;
    uint8_t *frame = tc_grpc_raw_frame(msg, len, &flen);
    tc_grpc_raw_reply r;
    int st = grpc_call(state, rpc, frame, flen, &r);
    if (st <= 0 || st == 2 || st == 14 || st == 15)
        fail_msg("%s on %s: status %d '%s'", what, rpc, st, r.grpc_message);
    tc_grpc_raw_reply_free(&r);
    free(frame);
}

static void protobuf_garbage(void **state)
{
    uint32_t seed = 0x7e57c0deu;
    uint8_t buf[512];
    static const char *const rpcs[] = {"ModelInfer", "ModelMetadata", "ModelConfig",
                                       "ModelStatistics", "SystemSharedMemoryRegister"};
    for (int i = 0; i < 300; i++) {
        size_t len = 1 + xorshift(&seed) % sizeof buf;
        for (size_t j = 0; j < len; j++)
            buf[j] = (uint8_t)xorshift(&seed);
        /* Random bytes can decode as a message of unknown fields only: the
         * empty request each of these RPCs refuses. */
        tc_grpc_raw_reply r;
        size_t flen;
        uint8_t *frame = tc_grpc_raw_frame(buf, len, &flen);
        int st = grpc_call(state, rpcs[i % 5], frame, flen, &r);
        if (st == 2 || st == 14 || st == 15 || st < 0)
            fail_msg("random message %d on %s: status %d '%s'", i, rpcs[i % 5], st, r.grpc_message);
        tc_grpc_raw_reply_free(&r);
        free(frame);
    }
    /* Truncated varints: a tag, a length and a value that stop mid-varint. */
    static const uint8_t tv1[] = {0x80};
    static const uint8_t tv2[] = {0x0a, 0x80};
    static const uint8_t tv3[] = {0x0a, 0x06, 's', 'i', 'm', 'p', 'l', 'e', 0x2a, 0xff, 0xff};
    static const uint8_t tv4[] = {0x2a, 0x04, 0x1a, 0x02, 0x08, 0x80};
    grpc_refused(state, "ModelInfer", tv1, sizeof tv1, "truncated tag");
    grpc_refused(state, "ModelInfer", tv2, sizeof tv2, "truncated length");
    grpc_refused(state, "ModelInfer", tv3, sizeof tv3, "truncated nested length");
    grpc_refused(state, "ModelInfer", tv4, sizeof tv4, "truncated shape varint");
    /* Wrong wire types for known fields: model_name as a varint, id as
     * fixed32, inputs as fixed64, raw_input_contents as a varint. */
    static const uint8_t ww1[] = {0x08, 0x01};
    static const uint8_t ww2[] = {0x0a, 0x06, 's', 'i', 'm', 'p', 'l', 'e', 0x1d, 1, 2, 3, 4};
    static const uint8_t ww3[] = {0x0a, 0x06, 's', 'i', 'm', 'p', 'l', 'e', 0x29,
                                  1,    2,    3,   4,   5,   6,   7,   8};
    static const uint8_t ww4[] = {0x0a, 0x06, 's', 'i', 'm', 'p', 'l', 'e', 0x38, 0x05};
    static const uint8_t ww5[] = {0x0a, 0x06, 's', 'i', 'm', 'p', 'l', 'e', 0x0b, 0x0c};
    grpc_refused(state, "ModelInfer", ww1, sizeof ww1, "model_name as varint");
    grpc_refused(state, "ModelInfer", ww2, sizeof ww2, "id as fixed32");
    grpc_refused(state, "ModelInfer", ww3, sizeof ww3, "inputs as fixed64");
    grpc_refused(state, "ModelInfer", ww4, sizeof ww4, "raw contents as varint");
    grpc_refused(state, "ModelInfer", ww5, sizeof ww5, "group wire types");
    grpc_refused(state, "ModelMetadata", ww1, sizeof ww1, "name as varint");
    /* Nested lengths beyond their parent and beyond 2^32. */
    static const uint8_t nl1[] = {0x0a, 0x06, 's',  'i',  'm', 'p', 'l', 'e',
                                  0x2a, 0x05, 0x0a, 0x40, 'I', 'N', 'P'};
    static const uint8_t nl2[] = {0x0a, 0x06, 's',  'i',  'm',  'p',  'l',  'e',
                                  0x2a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x0a, 0x00};
    static const uint8_t nl3[] = {0x0a, 0x06, 's',  'i',  'm',  'p',  'l',  'e',  0x32, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    static const uint8_t nl4[] = {0x0a, 0x06, 's',  'i',  'm',  'p',  'l',  'e',
                                  0x2a, 0x06, 0x1a, 0x08, 0x01, 0x02, 0x03, 0x04};
    grpc_refused(state, "ModelInfer", nl1, sizeof nl1, "nested name past parent");
    grpc_refused(state, "ModelInfer", nl2, sizeof nl2, "nested length 2^32-1");
    grpc_refused(state, "ModelInfer", nl3, sizeof nl3, "nested length 2^64-1");
    grpc_refused(state, "ModelInfer", nl4, sizeof nl4, "packed shape past parent");
    good_both(state);
}

/* ---- shapes and sizes --------------------------------------------------------------------- */

static void grpc_shape_refused(void **state, const int64_t *shape, size_t n, const char *what)
{
    size_t flen;
    uint8_t *frame = simple_frame(shape, n, "simple", "", &flen);
    tc_grpc_raw_reply r;
    int st = grpc_call(state, "ModelInfer", frame, flen, &r);
    if (st != 3)
        fail_msg("%s: status %d '%s'", what, st, r.grpc_message);
    tc_grpc_raw_reply_free(&r);
    free(frame);
}

static void shapes_and_sizes(void **state)
{
    static const char *const shapes[] = {"[-1,16]",
                                         "[1,-16]",
                                         "[1099511627776,1099511627776]",
                                         "[1,1099511627776,1099511627776]",
                                         "[9223372036854775807,2]",
                                         "[0,16]",
                                         "[1,16,1]",
                                         "[]"};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        char body[1024];
        snprintf(body, sizeof body,
                 "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":%s,\"datatype\":\"INT32\","
                 "\"data\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]},"
                 "{\"name\":\"INPUT1\",\"shape\":[1,16],\"datatype\":\"INT32\","
                 "\"data\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}]}",
                 shapes[i]);
        infer_4xx(state, body, shapes[i]);
        /* The same shape with binary data sized for the good request. */
        char bin[1024];
        int n = snprintf(bin, sizeof bin,
                         "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":%s,\"datatype\":\"INT32\","
                         "\"parameters\":{\"binary_data_size\":64}},{\"name\":\"INPUT1\","
                         "\"shape\":%s,\"datatype\":\"INT32\",\"parameters\":"
                         "{\"binary_data_size\":64}}]}",
                         shapes[i], shapes[i]);
        char h[96];
        snprintf(h, sizeof h, "Inference-Header-Content-Length: %d\r\n", n);
        memset(bin + n, 0, 128);
        http_4xx(state, INFER, h, bin, (size_t)n + 128, shapes[i]);
    }
    static const int64_t neg[] = {1, -16};
    static const int64_t neg0[] = {-1, 16};
    static const int64_t over[] = {INT64_C(1) << 40, INT64_C(1) << 40};
    static const int64_t over3[] = {1, INT64_C(1) << 40, INT64_C(1) << 40};
    static const int64_t maxd[] = {INT64_MAX, INT64_MAX};
    static const int64_t mind[] = {INT64_MIN, 16};
    grpc_shape_refused(state, neg, 2, "shape [1,-16]");
    grpc_shape_refused(state, neg0, 2, "shape [-1,16]");
    grpc_shape_refused(state, over, 2, "shape 2^40 x 2^40");
    grpc_shape_refused(state, over3, 3, "shape 1 x 2^40 x 2^40");
    grpc_shape_refused(state, maxd, 2, "shape INT64_MAX^2");
    grpc_shape_refused(state, mind, 2, "shape INT64_MIN");
    good_both(state);
}

/* ---- shared memory bounds -------------------------------------------------------------------- */

static void shm_out_of_bounds(void **state)
{
    char key[64];
    snprintf(key, sizeof key, "/tc-bad-input-%d", (int)getpid());
    int fd = shm_open(key, O_RDWR | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 4096), 0);
    close(fd);
    static const char *const regs[] = {
        "\"offset\":9223372036854775808,\"byte_size\":16",
        "\"offset\":0,\"byte_size\":9223372036854775808",
        "\"offset\":9223372036854775807,\"byte_size\":9223372036854775807",
        "\"offset\":4096,\"byte_size\":1",
        "\"offset\":0,\"byte_size\":4097",
        "\"offset\":18446744073709551615,\"byte_size\":18446744073709551615",
    };
    char body[256];
    for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++) {
        snprintf(body, sizeof body, "{\"key\":\"%s\",%s}", key, regs[i]);
        http_4xx(state, "/v2/systemsharedmemory/region/r/register", NULL, body, strlen(body),
                 regs[i]);
    }
    /* A region of 0 bytes: refused, or registered and useless; never 5xx. */
    snprintf(body, sizeof body, "{\"key\":\"%s\",\"offset\":0,\"byte_size\":0}", key);
    tc_http_reply r;
    assert_int_equal(tc_http_request(http_port(state), "POST",
                                     "/v2/systemsharedmemory/region/zero/register", NULL, body,
                                     strlen(body), &r),
                     0);
    bool zero_registered = r.status == 200;
    if (!(r.status == 200 || r.status == 400))
        fail_msg("0-byte region: %d %s", r.status, (char *)r.body);
    tc_http_reply_free(&r);
    /* A good region, then inference windows far outside it. */
    snprintf(body, sizeof body, "{\"key\":\"%s\",\"offset\":0,\"byte_size\":4096}", key);
    assert_int_equal(tc_http_request(http_port(state), "POST",
                                     "/v2/systemsharedmemory/region/in/register", NULL, body,
                                     strlen(body), &r),
                     0);
    assert_int_equal(r.status, 200);
    tc_http_reply_free(&r);
    static const char *const windows[][2] = {
        {"9223372036854775808", "64"},
        {"0", "9223372036854775808"},
        {"4096", "64"},
        {"4032", "128"},
        {"18446744073709551552", "128"},
        {"0", "0"},
    };
    for (size_t i = 0; i < sizeof windows / sizeof windows[0]; i++) {
        char req[1024];
        snprintf(req, sizeof req,
                 "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\","
                 "\"parameters\":{\"shared_memory_region\":\"in\",\"shared_memory_offset\":%s,"
                 "\"shared_memory_byte_size\":%s}},{\"name\":\"INPUT1\",\"shape\":[1,16],"
                 "\"datatype\":\"INT32\",\"data\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}]}",
                 windows[i][0], windows[i][1]);
        infer_4xx(state, req, windows[i][0]);
        if (zero_registered) {
            snprintf(req, sizeof req,
                     "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\","
                     "\"parameters\":{\"shared_memory_region\":\"zero\",\"shared_memory_offset\":"
                     "%s,\"shared_memory_byte_size\":%s}},{\"name\":\"INPUT1\",\"shape\":[1,16],"
                     "\"datatype\":\"INT32\",\"data\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}]}",
                     windows[i][0], windows[i][1]);
            infer_4xx(state, req, "0-byte region window");
        }
    }
    /* The same over gRPC: offset and size are uint64 fields there. */
    static const uint64_t gregs[][2] = {
        {UINT64_C(1) << 63, 16}, {0, UINT64_C(1) << 63}, {UINT64_MAX, UINT64_MAX}, {4096, 1}};
    for (size_t i = 0; i < sizeof gregs / sizeof gregs[0]; i++) {
        Inference__SystemSharedMemoryRegisterRequest m =
            INFERENCE__SYSTEM_SHARED_MEMORY_REGISTER_REQUEST__INIT;
        m.name = "g";
        m.key = key;
        m.offset = gregs[i][0];
        m.byte_size = gregs[i][1];
        uint8_t msg[256];
        size_t len = protobuf_c_message_pack(&m.base, msg);
        size_t flen;
        uint8_t *frame = tc_grpc_raw_frame(msg, len, &flen);
        tc_grpc_raw_reply gr;
        int st = grpc_call(state, "SystemSharedMemoryRegister", frame, flen, &gr);
        if (st != 3)
            fail_msg("gRPC register %zu: status %d '%s'", i, st, gr.grpc_message);
        tc_grpc_raw_reply_free(&gr);
        free(frame);
    }
    assert_int_equal(tc_http_request(http_port(state), "POST", "/v2/systemsharedmemory/unregister",
                                     NULL, NULL, 0, &r),
                     0);
    assert_int_equal(r.status, 200);
    tc_http_reply_free(&r);
    assert_int_equal(shm_unlink(key), 0);
    good_both(state);
}

/* ---- unknown models and versions ----------------------------------------------------------- */

static void unknown_models_and_versions(void **state)
{
    static const char *const versions[] = {"abc", "-1", "99999999999999999999", "0", "1.0",
                                           "%20", "2",  "18446744073709551617"};
    static const char *const suffixes[] = {"/ready", "", "/config", "/infer", "/stats"};
    for (size_t v = 0; v < sizeof versions / sizeof versions[0]; v++) {
        for (size_t s = 0; s < sizeof suffixes / sizeof suffixes[0]; s++) {
            char path[256];
            snprintf(path, sizeof path, "/v2/models/simple/versions/%s%s", versions[v],
                     suffixes[s]);
            bool post = strcmp(suffixes[s], "/infer") == 0;
            tc_http_reply r;
            assert_int_equal(tc_http_request(http_port(state), post ? "POST" : "GET", path, NULL,
                                             post ? k_good_json : NULL,
                                             post ? strlen(k_good_json) : 0, &r),
                             0);
            if (r.status < 400 || r.status > 499)
                fail_msg("%s -> %d %s", path, r.status, (char *)r.body);
            tc_http_reply_free(&r);
        }
    }
    infer_4xx(state, "{}", "empty object");
    http_4xx(state, "/v2/models/no_such_model/infer", NULL, k_good_json, strlen(k_good_json),
             "unknown model");
    http_4xx(state, "/v2/models/no_such_model/versions/1/infer", NULL, k_good_json,
             strlen(k_good_json), "unknown model version");
    /* gRPC: unknown model/version -> NOT_FOUND, malformed version likewise. */
    static const int64_t shape[] = {1, 16};
    for (size_t v = 0; v < sizeof versions / sizeof versions[0]; v++) {
        if (strcmp(versions[v], "%20") == 0)
            continue;
        size_t flen;
        uint8_t *frame = simple_frame(shape, 2, "simple", versions[v], &flen);
        tc_grpc_raw_reply r;
        int st = grpc_call(state, "ModelInfer", frame, flen, &r);
        if (st != 5 && st != 3)
            fail_msg("gRPC version '%s': status %d '%s'", versions[v], st, r.grpc_message);
        tc_grpc_raw_reply_free(&r);
        free(frame);
        Inference__ModelMetadataRequest m = INFERENCE__MODEL_METADATA_REQUEST__INIT;
        m.name = "simple";
        m.version = (char *)versions[v];
        uint8_t msg[128];
        size_t len = protobuf_c_message_pack(&m.base, msg);
        frame = tc_grpc_raw_frame(msg, len, &flen);
        st = grpc_call(state, "ModelMetadata", frame, flen, &r);
        if (st != 5 && st != 3)
            fail_msg("gRPC metadata version '%s': status %d", versions[v], st);
        tc_grpc_raw_reply_free(&r);
        free(frame);
    }
    size_t flen;
    uint8_t *frame = simple_frame(shape, 2, "no_such_model", "", &flen);
    tc_grpc_raw_reply r;
    assert_int_equal(grpc_call(state, "ModelInfer", frame, flen, &r), 5);
    tc_grpc_raw_reply_free(&r);
    free(frame);
    good_both(state);
}

/* ---- slow clients ---------------------------------------------------------------------------- */

#define SLOW_CONNS 20

static int connect_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

typedef struct trickle {
    int fds[SLOW_CONNS];
    size_t n;
    int duration_ms;
    const char *data; /* bytes to trickle, NULL: 'x' for ever */
    size_t data_len;
    size_t pos[SLOW_CONNS];
    size_t bytes_sent;
} trickle;

/* One byte per connection every 100 ms until `duration_ms` pass. Half the
 * connections trickle; the other half sent their start and stay silent. */
static void *trickle_main(void *arg)
{
    trickle *t = arg;
    double end = now_ms() + t->duration_ms;
    while (now_ms() < end) {
        for (size_t i = 0; i < t->n; i += 2) {
            if (t->data != NULL && t->pos[i] >= t->data_len)
                continue;
            const char *b = t->data != NULL ? t->data + t->pos[i] : "x";
            if (send(t->fds[i], b, 1, MSG_NOSIGNAL) == 1) {
                t->pos[i]++;
                t->bytes_sent++;
            }
        }
        struct timespec ts = {0, 100 * 1000 * 1000}; /* pacing: these clients are slow */
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void slow_clients_do_not_block_others(void **state)
{
    /* 20 HTTP connections: headers with a 100 kB Content-Length, then 1 byte
     * per 100 ms (even ones) or nothing more (odd ones); and 20 gRPC
     * connections: the client preface cut after 10 bytes, the rest trickled
     * the same way (then silence: no SETTINGS) or never sent. */
    static const char head[] =
        "POST " INFER " HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n";
    static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    trickle http = {.n = SLOW_CONNS, .duration_ms = 4000};
    trickle grpc = {.n = SLOW_CONNS,
                    .duration_ms = 4000,
                    .data = preface + 10,
                    .data_len = sizeof preface - 11};
    for (size_t i = 0; i < SLOW_CONNS; i++) {
        http.fds[i] = connect_port(http_port(state));
        assert_true(http.fds[i] >= 0);
        assert_int_equal(send(http.fds[i], head, sizeof head - 1, MSG_NOSIGNAL),
                         (ssize_t)(sizeof head - 1));
        grpc.fds[i] = connect_port(grpc_port(state));
        assert_true(grpc.fds[i] >= 0);
        assert_int_equal(send(grpc.fds[i], preface, 10, MSG_NOSIGNAL), 10);
    }
    pthread_t th[2];
    assert_int_equal(pthread_create(&th[0], NULL, trickle_main, &http), 0);
    assert_int_equal(pthread_create(&th[1], NULL, trickle_main, &grpc), 0);
    /* Meanwhile other clients are served promptly (bounded: 2 s each). */
    double worst = 0;
    for (int i = 0; i < 10; i++) {
        double t0 = now_ms();
        good_both(state);
        double dt = now_ms() - t0;
        worst = dt > worst ? dt : worst;
        /* Pacing, not a synchronisation: spread the probes over the 4 s in
         * which the slow clients trickle. */
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    /* A fresh gRPC connection works too while the slow ones are open. */
    tc_grpc_raw *fresh = NULL;
    assert_int_equal(tc_grpc_raw_connect(&fresh, grpc_port(state)), 0);
    tc_grpc_raw_close(fresh);
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    fprintf(stderr, "slow clients: worst good request pair %.1f ms, trickled %zu+%zu bytes\n",
            worst, http.bytes_sent, grpc.bytes_sent);
    assert_true(worst < 2000);
    assert_true(http.bytes_sent >= 10 * 20);
    assert_int_equal(grpc.bytes_sent, 10 * (sizeof preface - 11));
    for (size_t i = 0; i < SLOW_CONNS; i++) {
        close(http.fds[i]);
        close(grpc.fds[i]);
    }
    good_both(state);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(json_deep_nesting_and_huge_strings, setup, teardown),
    cmocka_unit_test_setup_teardown(json_invalid_utf8_and_numbers, setup, teardown),
    cmocka_unit_test_setup_teardown(json_duplicate_keys, setup, teardown),
    cmocka_unit_test_setup_teardown(json_wrong_types_at_every_level, setup, teardown),
    cmocka_unit_test_setup_teardown(binary_header_lengths, setup, teardown),
    cmocka_unit_test_setup_teardown(declared_lengths_beyond_the_data, setup, teardown),
    cmocka_unit_test_setup_teardown(protobuf_garbage, setup, teardown),
    cmocka_unit_test_setup_teardown(shapes_and_sizes, setup, teardown),
    cmocka_unit_test_setup_teardown(shm_out_of_bounds, setup, teardown),
    cmocka_unit_test_setup_teardown(unknown_models_and_versions, setup, teardown),
    cmocka_unit_test_setup_teardown(slow_clients_do_not_block_others, setup, teardown),
};

TC_TEST_MAIN(tests)
