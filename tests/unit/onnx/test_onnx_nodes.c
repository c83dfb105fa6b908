/* ONNX backend node tests from Debian's libonnx-testdata: every test whose
 * directory name starts with a prefix of an operator we support is loaded,
 * run on test_data_set_0 and compared with its expected outputs. A case the
 * engine rejects as unsupported (an attribute, type or helper operator we
 * lack) is listed as skipped; any other failure fails the test. */
#include <dirent.h>
#include <stdlib.h>

#include "onnx_test_util.h"
#include "tc_test.h"

#ifndef TC_ONNX_NODE_DIR
#define TC_ONNX_NODE_DIR "/usr/share/libonnx-testdata/data/node"
#endif

#define MAX_IO 16

typedef struct io_set {
    size_t n;
    tc__onnx_tensor t[MAX_IO];
} io_set;

static void io_cleanup(io_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        tc__onnx_tensor_cleanup(&s->t[i]);
    s->n = 0;
}

/* Load <dir>/test_data_set_0/<kind>_<k>.pb for k = 0, 1, ... */
static bool io_load(const char *dir, const char *kind, io_set *s)
{
    s->n = 0;
    for (size_t k = 0; k < MAX_IO; k++) {
        char path[1024];
        (void)snprintf(path, sizeof path, "%s/test_data_set_0/%s_%zu.pb", dir, kind, k);
        size_t size = 0;
        void *bytes = tc_test_read_file(path, &size);
        if (bytes == NULL)
            break;
        tc__error err;
        tc_code rc = tc__onnx_tensor_decode(&s->t[s->n], bytes, size, &err);
        tc__free(bytes);
        if (rc != TC_OK) {
            print_message("  %s: %s\n", path, err.msg);
            return false;
        }
        s->n++;
    }
    return true;
}

typedef enum outcome { PASS, SKIP, FAIL } outcome;

static outcome compare(const char *name, const tc__onnx_output *got, const tc__onnx_tensor *want)
{
    if (got->dtype != want->dtype || got->rank != want->rank ||
        memcmp(got->shape, want->shape, want->rank * sizeof(int64_t)) != 0 ||
        got->byte_size != want->byte_size) {
        print_message("  FAIL %s: output shape or type differs (rank %zu vs %zu)\n", name,
                      got->rank, want->rank);
        return FAIL;
    }
    if (want->dtype != TC_DTYPE_FP32) {
        if (memcmp(got->data, want->data, want->byte_size) != 0) {
            print_message("  FAIL %s: values differ\n", name);
            return FAIL;
        }
        return PASS;
    }
    double max_abs;
    if (!tc_test_close(got->data, want->data, want->byte_size / 4, 1e-3f, 1e-5f, &max_abs)) {
        print_message("  FAIL %s: max abs diff %g\n", name, max_abs);
        return FAIL;
    }
    return PASS;
}

static outcome run_case(const char *dir, const char *name)
{
    char path[1024];
    int plen = snprintf(path, sizeof path, "%s/model.onnx", dir);
    if (plen < 0 || (size_t)plen >= sizeof path)
        return FAIL;
    tc__error err = {0};
    tc__onnx_model *m = NULL;
    io_set in = {0}, want = {0};
    tc__onnx_input inputs[MAX_IO];
    tc__onnx_output outputs[MAX_IO];
    outcome res = FAIL;
    tc_code rc = tc__onnx_model_new_from_file(&m, path, 2, &err);
    if (rc == TC_OK && (!io_load(dir, "input", &in) || !io_load(dir, "output", &want)))
        goto out;
    if (rc == TC_OK && (in.n != tc__onnx_model_input_count(m) || want.n == 0)) {
        rc = TC_E_NOT_SUPPORTED;
        (void)snprintf(err.msg, sizeof err.msg, "test data has %zu inputs, graph %zu", in.n,
                       tc__onnx_model_input_count(m));
    }
    for (size_t k = 0; rc == TC_OK && k < in.n; k++) {
        tc__onnx_io_info info;
        (void)tc__onnx_model_input(m, k, &info);
        inputs[k] = (tc__onnx_input){info.name, in.t[k].dtype, in.t[k].rank, in.t[k].shape,
                                     in.t[k].data, in.t[k].byte_size};
    }
    memset(outputs, 0, sizeof outputs);
    if (rc == TC_OK)
        rc = tc__onnx_model_run(m, inputs, in.n, outputs, want.n, &err);
    if (rc == TC_E_NOT_SUPPORTED) {
        print_message("  skip %s: %s\n", name, err.msg);
        res = SKIP;
        goto out;
    }
    if (rc != TC_OK) {
        print_message("  FAIL %s: %s: %s\n", name, tc_code_name(rc), err.msg);
        goto out;
    }
    res = PASS;
    for (size_t k = 0; k < want.n && res == PASS; k++)
        res = compare(name, &outputs[k], &want.t[k]);
out:
    io_cleanup(&in);
    io_cleanup(&want);
    tc__onnx_model_free(m);
    return res;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run every node test whose name starts with one of `prefixes`. */
static void run_prefixes(const char *const *prefixes)
{
    DIR *d = opendir(TC_ONNX_NODE_DIR);
    if (d == NULL) {
        print_message("libonnx-testdata not installed (%s missing): skipping; install it with "
                      "apt-get install libonnx-testdata\n",
                      TC_ONNX_NODE_DIR);
        skip();
        return;
    }
    char *names[1024];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 1024) {
        for (size_t p = 0; prefixes[p] != NULL; p++) {
            if (strncmp(e->d_name, prefixes[p], strlen(prefixes[p])) == 0) {
                names[n++] = tc__strdup(e->d_name);
                break;
            }
        }
    }
    (void)closedir(d);
    qsort(names, n, sizeof names[0], cmp_str);
    size_t pass = 0, skipped = 0, failed = 0;
    for (size_t k = 0; k < n; k++) {
        char dir[1024];
        (void)snprintf(dir, sizeof dir, "%s/%s", TC_ONNX_NODE_DIR, names[k]);
        outcome r = run_case(dir, names[k]);
        pass += r == PASS;
        skipped += r == SKIP;
        failed += r == FAIL;
        tc__free(names[k]);
    }
    print_message("node tests: %zu passed, %zu skipped, %zu failed\n", pass, skipped, failed);
    assert_int_equal(failed, 0);
    assert_true(pass > 0);
}

static void test_nodes_conv(void **state)
{
    (void)state;
    static const char *const p[] = {"test_conv_", "test_basic_conv_", "test_batchnorm_", NULL};
    run_prefixes(p);
}

static void test_nodes_pool(void **state)
{
    (void)state;
    static const char *const p[] = {"test_maxpool_", "test_averagepool_", "test_globalaverage",
                                    "test_globalmax", NULL};
    run_prefixes(p);
}

static void test_nodes_elementwise(void **state)
{
    (void)state;
    static const char *const p[] = {"test_relu",    "test_clip",        "test_sigmoid",
                                    "test_hardsig", "test_hardswish",   "test_add",
                                    "test_sub",     "test_mul",         "test_div",
                                    "test_identity", "test_dropout_",   NULL};
    run_prefixes(p);
}

static void test_nodes_matrix(void **state)
{
    (void)state;
    static const char *const p[] = {"test_gemm_", "test_matmul_", "test_softmax_", NULL};
    run_prefixes(p);
}

static void test_nodes_shape(void **state)
{
    (void)state;
    static const char *const p[] = {"test_concat_",    "test_flatten_", "test_reshape_",
                                    "test_transpose_", "test_shape",    "test_gather_",
                                    "test_unsqueeze_", "test_squeeze",  "test_constant",
                                    NULL};
    run_prefixes(p);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_nodes_conv),       cmocka_unit_test(test_nodes_pool),
    cmocka_unit_test(test_nodes_elementwise), cmocka_unit_test(test_nodes_matrix),
    cmocka_unit_test(test_nodes_shape),
};

TC_TEST_MAIN(tests)
