/* bench_onnx: per-image latency of MobileNet v2 (batch 1) in tc_onnx with 1
 * and 2 intra-op threads: median (and p10/p90) of 50 runs after 10 warm-up
 * runs. Usage: bench_onnx [model.onnx] [runs] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "onnx/onnx_engine.h"

#ifndef TC_ONNX_MODEL_DIR
#define TC_ONNX_MODEL_DIR "../shared/models/imagenet"
#endif

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

static int bench(const char *path, int threads, int runs)
{
    tc__onnx_model *m = NULL;
    tc__error err;
    if (tc__onnx_model_new_from_file(&m, path, threads, &err) != TC_OK) {
        fprintf(stderr, "bench_onnx: %s\n", err.msg);
        return 1;
    }
    tc__onnx_io_info info;
    (void)tc__onnx_model_input(m, 0, &info);
    int64_t shape[TC__ONNX_MAX_RANK];
    size_t count = 1;
    for (size_t d = 0; d < info.rank; d++) {
        shape[d] = info.shape[d] < 0 ? 1 : info.shape[d];
        count *= (size_t)shape[d];
    }
    float *x = tc__calloc(count, sizeof(float));
    double *t = tc__calloc((size_t)runs, sizeof(double));
    if (x == NULL || t == NULL)
        return 1;
    for (size_t i = 0; i < count; i++)
        x[i] = (float)((i * 7919) % 255) / 127.5f - 1.0f;
    tc__onnx_input in = {info.name, info.dtype, info.rank, shape, x, count * sizeof(float)};
    tc__onnx_output out;
    int rc = 0;
    for (int i = 0; i < runs + 10 && rc == 0; i++) {
        memset(&out, 0, sizeof out);
        double t0 = now_ms();
        if (tc__onnx_model_run(m, &in, 1, &out, 1, &err) != TC_OK) {
            fprintf(stderr, "bench_onnx: %s\n", err.msg);
            rc = 1;
        }
        if (i >= 10)
            t[i - 10] = now_ms() - t0;
    }
    if (rc == 0) {
        qsort(t, (size_t)runs, sizeof t[0], cmp_double);
        printf("tc_onnx %s threads=%d: median %.3f ms  p10 %.3f  p90 %.3f  (%d runs)\n",
               strrchr(path, '/') ? strrchr(path, '/') + 1 : path, threads, t[runs / 2],
               t[runs / 10], t[runs * 9 / 10], runs);
    }
    tc__free(x);
    tc__free(t);
    tc__onnx_model_free(m);
    return rc;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : TC_ONNX_MODEL_DIR "/mobilenet_v2.onnx";
    int runs = argc > 2 ? atoi(argv[2]) : 50;
    if (runs < 10)
        runs = 10;
    int rc = bench(path, 1, runs);
    if (rc == 0)
        rc = bench(path, 2, runs);
    return rc;
}
