/* Real ImageNet classifiers from ../shared/models/imagenet: every reference
 * input (a batch of 22 images) through MobileNet v2 and v1 0.25, compared
 * with the outputs of an independent engine: max |diff| <= 1e-4 on the
 * probabilities and the same top-5 classes. Skipped when the folder is absent. */
#include <stdlib.h>

#include "onnx_test_util.h"
#include "tc_test.h"

#ifndef TC_ONNX_MODEL_DIR
#define TC_ONNX_MODEL_DIR "../shared/models/imagenet"
#endif

typedef struct npy {
    void *file;
    const float *data;
    size_t rank;
    int64_t shape[8];
    size_t count;
} npy;

/* Minimal .npy reader: little-endian float32, C order, versions 1-3. */
static bool npy_load(const char *path, npy *a)
{
    size_t size = 0;
    memset(a, 0, sizeof *a);
    unsigned char *b = tc_test_read_file(path, &size);
    if (b == NULL)
        return false;
    a->file = b;
    if (size < 12 || memcmp(b, "\x93NUMPY", 6) != 0)
        return false;
    size_t hlen = b[6] == 1 ? (size_t)(b[8] | b[9] << 8) : (size_t)b[8] | (size_t)b[9] << 8 |
                                                             (size_t)b[10] << 16;
    size_t hoff = b[6] == 1 ? 10 : 12;
    if (hoff + hlen > size)
        return false;
    char hdr[512];
    size_t n = hlen < sizeof hdr - 1 ? hlen : sizeof hdr - 1;
    memcpy(hdr, b + hoff, n);
    hdr[n] = '\0';
    if (strstr(hdr, "'<f4'") == NULL || strstr(hdr, "'fortran_order': False") == NULL)
        return false;
    const char *s = strstr(hdr, "'shape': (");
    if (s == NULL)
        return false;
    s += 10;
    a->count = 1;
    while (*s != ')' && a->rank < 8) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s)
            break;
        a->shape[a->rank++] = v;
        a->count *= (size_t)v;
        s = end;
        while (*s == ',' || *s == ' ')
            s++;
    }
    if (hoff + hlen + a->count * 4 != size)
        return false;
    a->data = (const float *)(b + hoff + hlen);
    return true;
}

static void top5(const float *p, size_t n, size_t *out)
{
    for (size_t k = 0; k < 5; k++) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < n; i++) {
            bool taken = false;
            for (size_t j = 0; j < k; j++)
                taken = taken || out[j] == i;
            if (!taken && (best == SIZE_MAX || p[i] > p[best]))
                best = i;
        }
        out[k] = best;
    }
}

/* Run `batch` images starting at `first` and compare with the reference. */
static void check_batch(tc__onnx_model *m, const npy *in, const npy *want, size_t first,
                        size_t batch, double *worst)
{
    size_t per_in = in->count / (size_t)in->shape[0];
    size_t classes = want->count / (size_t)want->shape[0];
    int64_t shape[4] = {(int64_t)batch, in->shape[1], in->shape[2], in->shape[3]};
    tc__onnx_input input = {"input", TC_DTYPE_FP32, 4, shape, in->data + first * per_in,
                            batch * per_in * sizeof(float)};
    tc__onnx_output out;
    memset(&out, 0, sizeof out);
    out.name = "probabilities";
    tc__error err = {0};
    tc_code rc = tc__onnx_model_run(m, &input, 1, &out, 1, &err);
    if (rc != TC_OK)
        print_message("run: %s\n", err.msg);
    assert_int_equal(rc, TC_OK);
    assert_int_equal(out.rank, 2);
    assert_int_equal(out.shape[0], (int64_t)batch);
    assert_int_equal(out.shape[1], (int64_t)classes);
    for (size_t b = 0; b < batch; b++) {
        const float *got = (const float *)out.data + b * classes;
        const float *ref = want->data + (first + b) * classes;
        double max_abs;
        (void)tc_test_close(got, ref, classes, 0.0f, 1e-4f, &max_abs);
        *worst = max_abs > *worst ? max_abs : *worst;
        if (max_abs > 1e-4)
            print_message("image %zu: max abs diff %g\n", first + b, max_abs);
        assert_true(max_abs <= 1e-4);
        size_t tg[5], tr[5];
        top5(got, classes, tg);
        top5(ref, classes, tr);
        assert_memory_equal(tg, tr, sizeof tg);
    }
}

static void run_model(const char *name, int threads)
{
    char path[1024], ipath[1024], opath[1024];
    (void)snprintf(path, sizeof path, "%s/%s.onnx", TC_ONNX_MODEL_DIR, name);
    (void)snprintf(ipath, sizeof ipath, "%s/reference/%s.in.npy", TC_ONNX_MODEL_DIR, name);
    (void)snprintf(opath, sizeof opath, "%s/reference/%s.out.npy", TC_ONNX_MODEL_DIR, name);
    npy in, want;
    bool have = npy_load(ipath, &in);
    bool have_out = npy_load(opath, &want);
    if (!have || !have_out) {
        tc__free(in.file);
        tc__free(want.file);
        print_message("%s or its reference data missing under %s: skipping (the shared "
                      "ImageNet models are not available here)\n",
                      name, TC_ONNX_MODEL_DIR);
        skip();
        return;
    }
    tc__onnx_model *m = NULL;
    tc__error err = {0};
    tc_code rc = tc__onnx_model_new_from_file(&m, path, threads, &err);
    if (rc != TC_OK)
        print_message("load: %s\n", err.msg);
    assert_int_equal(rc, TC_OK);
    tc__onnx_io_info info;
    assert_int_equal(tc__onnx_model_input(m, 0, &info), TC_OK);
    assert_int_equal(info.dtype, TC_DTYPE_FP32);
    assert_int_equal(info.shape[0], -1);
    double worst = 0.0;
    size_t n = (size_t)in.shape[0];
    check_batch(m, &in, &want, 0, n, &worst); /* the whole batch at once */
    check_batch(m, &in, &want, 0, 1, &worst); /* re-plan for batch 1 */
    for (size_t b = 1; b < n; b++)
        check_batch(m, &in, &want, b, 1, &worst);
    check_batch(m, &in, &want, 3, 4, &worst);
    print_message("%s: %zu images, max abs diff %.3g\n", name, n, worst);
    tc__onnx_model_free(m);
    tc__free(in.file);
    tc__free(want.file);
}

static void test_mobilenet_v2(void **state)
{
    (void)state;
    run_model("mobilenet_v2", 2);
}

static void test_mobilenet_v1_025(void **state)
{
    (void)state;
    run_model("mobilenet_v1_025_128", 1);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_mobilenet_v2),
    cmocka_unit_test(test_mobilenet_v1_025),
};

TC_TEST_MAIN(tests)
