/* Cost of decoding one small v2 JSON infer request and response (the
 * `simple` model), without any I/O.
 *
 *   tc_bench_codec [iterations [request|binary|json]]
 *
 * prints the wall time per call of each decoder (all three cases, or the one
 * named). Wall time depends on the
 * machine; the figure to compare is the instruction count per call, which
 * callgrind gives deterministically. Count one decoder at a time with
 *
 *   valgrind --tool=callgrind --toggle-collect=tc__v2_http_request_decode \
 *       --callgrind-out-file=/dev/null build/.../tc_bench_codec 1000
 *
 * and divide the "Collected" total by the iterations (name one case to
 * count tc__v2_http_response_decode on one body). The response
 * decoder runs on two bodies: the golden mock with binary outputs and a
 * JSON-data response as tritonc-server writes it. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "proto/v2_json.h"

#define GOLDEN TC_TEST_DATA_DIR "/golden/http/simple_http_infer_client/"

typedef struct body {
    uint8_t *data;
    size_t len;
    size_t header_len;
} body;

static int read_file(const char *path, size_t header_len, body *out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    uint8_t *buf = NULL;
    size_t len = 0;
    size_t cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *grown = realloc(buf, cap);
            if (grown == NULL)
                break;
            buf = grown;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        if (n == 0)
            break;
        len += n;
    }
    fclose(f);
    out->data = buf;
    out->len = len;
    out->header_len = header_len;
    return buf != NULL && len > 0 ? 0 : -1;
}

/* The JSON-only answer to the golden request: two 1x16 INT32 outputs. */
static int json_response(body *out)
{
    static const char k_text[] =
        "{\"id\":\"7\",\"model_name\":\"simple\",\"model_version\":\"1\",\"outputs\":["
        "{\"name\":\"OUTPUT0\",\"datatype\":\"INT32\",\"shape\":[1,16],\"data\":"
        "[1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31]},"
        "{\"name\":\"OUTPUT1\",\"datatype\":\"INT32\",\"shape\":[1,16],\"data\":"
        "[-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1]}]}";
    out->len = sizeof k_text - 1;
    out->data = malloc(out->len);
    out->header_len = TC__NO_HEADER_LENGTH;
    if (out->data == NULL)
        return -1;
    memcpy(out->data, k_text, out->len);
    return 0;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int bench_request(const body *b, long n)
{
    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
        tc__infer_request req;
        tc__error err;
        if (tc__v2_http_request_decode(b->data, b->len, b->header_len, NULL, &req, &err) != TC_OK) {
            fprintf(stderr, "request decode failed: %s\n", err.msg);
            return -1;
        }
        tc__infer_request_cleanup(&req);
    }
    printf("request decode        %8ld calls %8.0f ns/call\n", n, (now_ns() - t0) / (double)n);
    return 0;
}

static int bench_response(const char *what, const body *b, long n)
{
    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
        tc__infer_response resp;
        tc__error err;
        if (tc__v2_http_response_decode(b->data, b->len, b->header_len, &resp, &err) != TC_OK) {
            fprintf(stderr, "response decode failed: %s\n", err.msg);
            return -1;
        }
        tc__infer_response_cleanup(&resp);
    }
    printf("response decode %-6s%8ld calls %8.0f ns/call\n", what, n, (now_ns() - t0) / (double)n);
    return 0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
    if (n <= 0)
        n = 1;
    body req = {0};
    body resp = {0};
    body resp_json = {0};
    int rc = 1;
    /* Header lengths from the golden 0001.*.json descriptions. */
    if (read_file(GOLDEN "0001.request.body.bin", 319, &req) != 0 ||
        read_file(GOLDEN "0001.response.mock.body.bin", 284, &resp) != 0 ||
        json_response(&resp_json) != 0) {
        fprintf(stderr, "cannot load the golden bodies from %s\n", GOLDEN);
        goto out;
    }
    const char *which = argc > 2 ? argv[2] : "";
    bool all = which[0] == '\0';
    rc = 0;
    if ((all || strcmp(which, "request") == 0) && bench_request(&req, n) != 0)
        rc = 1;
    if ((all || strcmp(which, "binary") == 0) && bench_response("binary", &resp, n) != 0)
        rc = 1;
    if ((all || strcmp(which, "json") == 0) && bench_response("json", &resp_json, n) != 0)
        rc = 1;
out:
    free(req.data);
    free(resp.data);
    free(resp_json.data);
    return rc;
}
