/* bench_onnx_server: MobileNet v2 batch-1 latency inside tritonc-server's
 * ONNX backend, seen two ways on the same runs:
 *   client   wall time of tc_client_infer() (binary tensors; includes the
 *            transport and the server's request handling)
 *   compute  the server's own compute_infer ns / count from the statistics
 *            API, taken before and after the timed runs (the backend alone)
 *
 * The server is started by the caller (bench/onnx_vs_ort.sh) so that it can
 * be profiled; this program only connects to it.
 *
 * Usage: tc_bench_onnx_server --url HOST:PORT --model NAME --input FILE.npy
 *            [--grpc] [--runs N] [--warmup N]
 * FILE.npy is a float32 array [K,3,224,224] (C order); entry 0 is sent.
 * Prints one line:
 *   SERVER model=NAME proto=http client_median_ms=.. client_p10_ms=..
 *          client_p90_ms=.. compute_mean_ms=.. runs=N top1=C prob=P
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tritonc/grpc.h>
#include <tritonc/http.h>
#include <tritonc/tritonc.h>

#define IMG_FLOATS (3 * 224 * 224)
#define CLASSES 1001

static double now_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Read entry 0 of a little-endian float32 .npy file into `out` (IMG_FLOATS). */
static int read_npy_first(const char *path, float *out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        (void)fprintf(stderr, "bench_onnx_server: %s: %s\n", path, strerror(errno));
        return -1;
    }
    unsigned char pre[12];
    int rc = -1;
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0)
        goto out;
    size_t hlen;
    if (pre[6] == 1) {
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
    } else {
        if (fread(pre + 10, 1, 2, f) != 2)
            goto out;
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    }
    char header[1024];
    if (hlen >= sizeof header || fread(header, 1, hlen, f) != hlen)
        goto out;
    header[hlen] = '\0';
    if (strstr(header, "'<f4'") == NULL || strstr(header, "'fortran_order': False") == NULL)
        goto out;
    if (fread(out, sizeof(float), IMG_FLOATS, f) != IMG_FLOATS)
        goto out;
    rc = 0;
out:
    if (rc != 0)
        (void)fprintf(stderr, "bench_onnx_server: %s: not a float32 [K,3,224,224] .npy\n", path);
    (void)fclose(f);
    return rc;
}

/* compute_infer {count, ns} of the first model in a statistics reply. */
static int compute_infer(tc_client *client, const char *model, unsigned long long *count,
                         unsigned long long *ns)
{
    char *json = NULL;
    if (tc_client_model_statistics(client, model, "", NULL, &json) != TC_OK) {
        (void)fprintf(stderr, "bench_onnx_server: statistics: %s\n", tc_client_last_error(client));
        return -1;
    }
    int rc = -1;
    const char *p = strstr(json, "\"compute_infer\"");
    const char *end = p != NULL ? strchr(p, '}') : NULL;
    const char *c = p != NULL ? strstr(p, "\"count\"") : NULL;
    const char *n = p != NULL ? strstr(p, "\"ns\"") : NULL;
    if (c != NULL && n != NULL && end != NULL && c < end && n < end) {
        *count = strtoull(strchr(c, ':') + 1, NULL, 10);
        *ns = strtoull(strchr(n, ':') + 1, NULL, 10);
        rc = 0;
    } else {
        (void)fprintf(stderr, "bench_onnx_server: no compute_infer in %s\n", json);
    }
    tc_string_free(json);
    return rc;
}

static int top1(tc_result *res, int *cls, float *prob)
{
    const uint8_t *data = NULL;
    size_t size = 0;
    if (tc_result_status(res) != TC_OK ||
        tc_result_output_data(res, "probabilities", &data, &size) != TC_OK ||
        size != CLASSES * sizeof(float)) {
        (void)fprintf(stderr, "bench_onnx_server: bad result: %s\n", tc_result_error_message(res));
        return -1;
    }
    float v[CLASSES];
    memcpy(v, data, sizeof v);
    *cls = 0;
    for (int i = 1; i < CLASSES; i++)
        if (v[i] > v[*cls])
            *cls = i;
    *prob = v[*cls];
    return 0;
}

typedef struct args {
    const char *url;
    const char *model;
    const char *input;
    int grpc;
    long runs;
    long warmup;
} args;

static int parse_args(int argc, char **argv, args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--grpc") == 0) {
            a->grpc = 1;
        } else if (v != NULL && strcmp(argv[i], "--url") == 0) {
            a->url = v;
            i++;
        } else if (v != NULL && strcmp(argv[i], "--model") == 0) {
            a->model = v;
            i++;
        } else if (v != NULL && strcmp(argv[i], "--input") == 0) {
            a->input = v;
            i++;
        } else if (v != NULL && strcmp(argv[i], "--runs") == 0) {
            a->runs = strtol(v, NULL, 10);
            i++;
        } else if (v != NULL && strcmp(argv[i], "--warmup") == 0) {
            a->warmup = strtol(v, NULL, 10);
            i++;
        } else {
            return -1;
        }
    }
    return a->url != NULL && a->model != NULL && a->input != NULL && a->runs >= 1 &&
                   a->warmup >= 0
               ? 0
               : -1;
}

static int run(const args *a, tc_client *client, const float *img, double *t)
{
    tc_request *req = NULL;
    const int64_t shape[4] = {1, 3, 224, 224};
    if (tc_request_new(&req, a->model) != TC_OK ||
        tc_request_add_input(req, "input", TC_DTYPE_FP32, shape, 4) != TC_OK ||
        tc_request_input_append(req, "input", img, IMG_FLOATS * sizeof(float), TC_BORROW) !=
            TC_OK ||
        tc_request_input_set_binary(req, "input", true) != TC_OK ||
        tc_request_add_output(req, "probabilities") != TC_OK ||
        tc_request_output_set_binary(req, "probabilities", true) != TC_OK) {
        (void)fprintf(stderr, "bench_onnx_server: building the request failed\n");
        tc_request_free(req);
        return -1;
    }
    int rc = 0, cls = -1;
    float prob = 0.0f;
    unsigned long long c0 = 0, n0 = 0, c1 = 0, n1 = 0;
    for (long i = -a->warmup; i < a->runs && rc == 0; i++) {
        if (i == 0 && compute_infer(client, a->model, &c0, &n0) != 0)
            rc = -1;
        tc_result *res = NULL;
        double t0 = now_ms();
        tc_code code = tc_client_infer(client, req, &res);
        double dt = now_ms() - t0;
        if (code != TC_OK) {
            (void)fprintf(stderr, "bench_onnx_server: infer: %s: %s\n", tc_code_name(code),
                          tc_client_last_error(client));
            rc = -1;
        } else if (top1(res, &cls, &prob) != 0) {
            rc = -1;
        }
        tc_result_free(res);
        if (i >= 0)
            t[i] = dt;
    }
    if (rc == 0 && compute_infer(client, a->model, &c1, &n1) != 0)
        rc = -1;
    if (rc == 0 && c1 - c0 != (unsigned long long)a->runs) {
        (void)fprintf(stderr, "bench_onnx_server: %llu executions for %ld requests (batched?)\n",
                      c1 - c0, a->runs);
        rc = -1;
    }
    if (rc == 0) {
        size_t n = (size_t)a->runs;
        qsort(t, n, sizeof *t, cmp_double);
        (void)fprintf(stdout,
                      "SERVER model=%s proto=%s client_median_ms=%.3f client_p10_ms=%.3f "
                      "client_p90_ms=%.3f compute_mean_ms=%.3f runs=%ld top1=%d prob=%.4f\n",
                      a->model, a->grpc ? "grpc" : "http", t[n / 2], t[n / 10], t[n * 9 / 10],
                      (double)(n1 - n0) / (double)(c1 - c0) / 1e6, a->runs, cls, (double)prob);
    }
    tc_request_free(req);
    return rc;
}

int main(int argc, char **argv)
{
    args a = {NULL, NULL, NULL, 0, 50, 10};
    if (parse_args(argc, argv, &a) != 0) {
        (void)fprintf(stderr, "usage: %s --url HOST:PORT --model NAME --input FILE.npy [--grpc] "
                              "[--runs N] [--warmup N]\n",
                      argv[0]);
        return 2;
    }
    float *img = calloc(IMG_FLOATS, sizeof *img);
    double *t = calloc((size_t)a.runs, sizeof *t);
    if (img == NULL || t == NULL || read_npy_first(a.input, img) != 0) {
        free(img);
        free(t);
        return 1;
    }
    tc_client *client = NULL;
    tc_code code = a.grpc ? tc_grpc_client_new(&client, a.url, NULL)
                          : tc_http_client_new(&client, a.url, NULL);
    int rc = 1;
    if (code != TC_OK)
        (void)fprintf(stderr, "bench_onnx_server: client: %s\n", tc_code_name(code));
    else
        rc = run(&a, client, img, t) == 0 ? 0 : 1;
    (void)tc_client_free(client);
    free(img);
    free(t);
    return rc;
}
