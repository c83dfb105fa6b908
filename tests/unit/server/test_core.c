/* Server core: repository scan, version policy, validation messages,
 * classification, statistics and the built-in backends' arithmetic. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tc_test.h"

#include "common/alloc.h"
#include "core/internal.h"
#include "proto/bytes.h"
#include "proto/model_config.h"

/* ---- helpers ------------------------------------------------------------------------------- */

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void mkdirp(const char *path)
{
    char tmp[512];
    (void)snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p != '\0'; p++) {
        if (*p == '/') {
            *p = '\0';
            (void)mkdir(tmp, 0700);
            *p = '/';
        }
    }
    (void)mkdir(tmp, 0700);
}

static const char k_identity_cfg[] = "backend: \"tritonc_identity\"\n"
                                     "max_batch_size: 4\n"
                                     "input [ { name: \"IN\" data_type: TYPE_FP32 dims: [ 3 ] } ]\n"
                                     "output [ { name: \"OUT\" data_type: TYPE_FP32 dims: [ 3 ] "
                                     "label_filename: \"labels.txt\" } ]\n";

/* A repository with model "m" holding versions 1, 2, 3 and `policy`. */
static char *make_repo(const char *policy)
{
    char *dir = tc__strdup("/tmp/tc-core-test-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char path[512];
    for (int v = 1; v <= 3; v++) {
        (void)snprintf(path, sizeof path, "%s/m/%d", dir, v);
        mkdirp(path);
    }
    (void)snprintf(path, sizeof path, "%s/m/config.pbtxt", dir);
    char cfg[1024];
    (void)snprintf(cfg, sizeof cfg, "%s%s\n", k_identity_cfg, policy);
    write_text(path, cfg);
    (void)snprintf(path, sizeof path, "%s/m/labels.txt", dir);
    write_text(path, "zero\none\ntwo\n");
    (void)snprintf(path, sizeof path, "%s/notes", dir);
    mkdirp(path); /* a directory without a config: listed, never loaded */
    return dir;
}

static void remove_repo(char *dir)
{
    tc__repo_remove_tree(dir);
    tc__free(dir);
}

static tc__core *start(const char *repo, tc__control_mode mode, const char *load)
{
    const char *repos[] = {repo};
    const char *loads[] = {load};
    tc__core_options o;
    memset(&o, 0, sizeof o);
    o.repositories = repos;
    o.repository_count = 1;
    o.control_mode = mode;
    o.load_models = loads;
    o.load_model_count = load != NULL ? 1 : 0;
    tc__core *core = NULL;
    tc__error err;
    assert_int_equal(tc__core_new(&o, &core, &err), TC_OK);
    return core;
}

static bool version_ready(tc__core *core, const char *model, const char *v)
{
    bool ready = false;
    tc__error err;
    return tc__core_model_is_ready(core, model, v, &ready, &err) == TC_OK && ready;
}

static void add_input(tc__infer_request *r, const char *name, tc_dtype t, const int64_t *shape,
                      size_t ndim, const void *data, size_t size)
{
    r->inputs = tc__reallocarray(r->inputs, r->input_count + 1, sizeof *r->inputs);
    tc__tensor *x = &r->inputs[r->input_count++];
    memset(x, 0, sizeof *x);
    x->name = tc__strdup(name);
    x->dtype = t;
    x->shape = tc__memdup(shape, ndim * sizeof *shape);
    x->ndim = ndim;
    x->owned = tc__memdup(data, size);
    x->data = x->owned;
    x->byte_size = size;
}

static void init_request(tc__infer_request *r, const char *model)
{
    memset(r, 0, sizeof *r);
    r->model_name = tc__strdup(model);
    r->binary_data_output = -1;
}

typedef struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    tc__infer_response *resp;
    tc__error err;
} waiter;

static void on_done(tc__infer_response *resp, const tc__error *err, void *user_data)
{
    waiter *w = user_data;
    pthread_mutex_lock(&w->lock);
    w->resp = resp;
    if (err != NULL)
        w->err = *err;
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

/* Run one inference synchronously; the response (or NULL) and the error. */
static tc__infer_response *infer(tc__core *core, const tc__infer_request *req, tc__error *err)
{
    waiter w;
    memset(&w, 0, sizeof w);
    pthread_mutex_init(&w.lock, NULL);
    pthread_cond_init(&w.cond, NULL);
    tc__error_clear(&w.err);
    tc_code rc = tc__core_infer_async(core, req, on_done, &w, err);
    if (rc == TC_OK) {
        pthread_mutex_lock(&w.lock);
        while (!w.done)
            pthread_cond_wait(&w.cond, &w.lock);
        pthread_mutex_unlock(&w.lock);
        *err = w.err;
    }
    pthread_mutex_destroy(&w.lock);
    pthread_cond_destroy(&w.cond);
    return w.resp;
}

static const tc__tensor *output(const tc__infer_response *r, const char *name)
{
    for (size_t i = 0; i < r->output_count; i++) {
        if (strcmp(r->outputs[i].name, name) == 0)
            return &r->outputs[i];
    }
    return NULL;
}

/* ---- repository and versions ---------------------------------------------------------- */

static void test_bundled_repository(void **state)
{
    (void)state;
    tc__core *core = start(TC_MODELS_DIR, TC__CONTROL_NONE, NULL);
    tc__repo_index idx;
    tc__error err;
    assert_int_equal(tc__core_repo_index(core, false, &idx, &err), TC_OK);
    assert_int_equal(idx.count, 11);
    for (size_t i = 0; i < idx.count; i++) {
        assert_string_equal(idx.entries[i].state, "READY");
        assert_string_equal(idx.entries[i].version, "1");
    }
    assert_string_equal(idx.entries[0].name, "custom_identity_int32");
    tc__repo_index_cleanup(&idx);
    assert_true(tc__core_is_ready(core));
    tc__model_metadata m;
    assert_int_equal(tc__core_model_metadata(core, "simple", NULL, &m, &err), TC_OK);
    assert_int_equal(m.input_count, 2);
    assert_int_equal(m.inputs[0].ndim, 2);
    assert_int_equal(m.inputs[0].shape[0], -1);
    tc__model_metadata_cleanup(&m);
    /* Load and unload need explicit mode. */
    assert_int_equal(tc__core_model_unload(core, "simple", false, &err), TC_E_UNAVAILABLE);
    assert_string_equal(err.msg,
                        "explicit model load / unload is not allowed if polling is enabled");
    tc__core_free(core);
}

static void test_version_policy_latest(void **state)
{
    (void)state;
    char *repo = make_repo("");
    tc__core *core = start(repo, TC__CONTROL_NONE, NULL);
    assert_true(version_ready(core, "m", "3"));
    assert_false(version_ready(core, "m", "2"));
    assert_true(version_ready(core, "m", NULL));
    tc__model_handle *h = NULL;
    tc__error err;
    assert_int_equal(tc__core_model_acquire(core, "m", "1", &h, &err), TC_E_NOT_FOUND);
    assert_string_equal(err.msg, "Request for unknown model: 'm' version 1 is not found");
    assert_int_equal(tc__core_model_acquire(core, "nope", NULL, &h, &err), TC_E_NOT_FOUND);
    assert_string_equal(err.msg, "Request for unknown model: 'nope' is not found");
    assert_int_equal(tc__core_model_acquire(core, "m", NULL, &h, &err), TC_OK);
    assert_int_equal(tc__model_handle_version(h), 3);
    tc__model_handle_release(h);
    tc__core_free(core);
    remove_repo(repo);
}

static void test_version_policy_all_specific(void **state)
{
    (void)state;
    char *repo = make_repo("version_policy: { all { } }");
    tc__core *core = start(repo, TC__CONTROL_NONE, NULL);
    assert_true(version_ready(core, "m", "1"));
    assert_true(version_ready(core, "m", "2"));
    assert_true(version_ready(core, "m", "3"));
    tc__core_free(core);
    remove_repo(repo);

    repo = make_repo("version_policy: { specific { versions: [ 1, 3 ] } }");
    core = start(repo, TC__CONTROL_NONE, NULL);
    assert_true(version_ready(core, "m", "1"));
    assert_false(version_ready(core, "m", "2"));
    assert_true(version_ready(core, "m", "3"));
    tc__core_free(core);
    remove_repo(repo);

    repo = make_repo("version_policy: { latest { num_versions: 2 } }");
    core = start(repo, TC__CONTROL_NONE, NULL);
    assert_false(version_ready(core, "m", "1"));
    assert_true(version_ready(core, "m", "2"));
    tc__core_free(core);
    remove_repo(repo);
}

static void test_explicit_load_unload(void **state)
{
    (void)state;
    char *repo = make_repo("");
    tc__core *core = start(repo, TC__CONTROL_EXPLICIT, NULL);
    tc__repo_index idx;
    tc__error err;
    assert_int_equal(tc__core_repo_index(core, false, &idx, &err), TC_OK);
    assert_int_equal(idx.count, 2); /* m and notes, never loaded: names only */
    assert_null(idx.entries[0].state);
    tc__repo_index_cleanup(&idx);
    assert_int_equal(tc__core_model_load(core, "m", NULL, 0, NULL, 0, &err), TC_OK);
    assert_true(version_ready(core, "m", "3"));
    assert_int_equal(tc__core_model_load(core, "notes", NULL, 0, NULL, 0, &err), TC_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "failed to load 'notes'"));
    assert_int_equal(tc__core_model_load(core, "zzz", NULL, 0, NULL, 0, &err), TC_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "failed to load"));
    const char *bad = "{\"name\":\"m\",\"backend\":\"onnxruntime\"}";
    assert_int_equal(tc__core_model_load(core, "m", bad, strlen(bad), NULL, 0, &err),
                     TC_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "failed to load 'm'"));
    assert_true(version_ready(core, "m", "3")); /* a failed reload keeps serving */
    assert_int_equal(tc__core_model_unload(core, "m", false, &err), TC_OK);
    assert_false(version_ready(core, "m", "3"));
    assert_int_equal(tc__core_repo_index(core, false, &idx, &err), TC_OK);
    assert_string_equal(idx.entries[0].state, "UNAVAILABLE");
    assert_string_equal(idx.entries[0].reason, "unloaded");
    tc__repo_index_cleanup(&idx);
    tc__core_free(core);
    remove_repo(repo);
}

/* ---- validation -------------------------------------------------------------------------- */

static Inference__ModelConfig *simple_config(void)
{
    static const char text[] =
        "name: \"simple\" max_batch_size: 8\n"
        "input [ { name: \"INPUT0\" data_type: TYPE_INT32 dims: [ 16 ] },\n"
        "        { name: \"INPUT1\" data_type: TYPE_INT32 dims: [ 16 ] } ]\n"
        "output [ { name: \"OUTPUT0\" data_type: TYPE_INT32 dims: [ 16 ] } ]\n";
    Inference__ModelConfig *cfg = NULL;
    tc__error err;
    assert_int_equal(tc__model_config_from_pbtxt(text, strlen(text), &cfg, &err), TC_OK);
    assert_int_equal(tc__model_config_normalize(cfg, "simple", &err), TC_OK);
    return cfg;
}

static void expect_invalid(const Inference__ModelConfig *cfg, const tc__infer_request *r,
                           const char *msg)
{
    uint64_t batch = 0;
    tc__error err;
    assert_int_not_equal(tc__validate_request(cfg, "simple", r, &batch, &err), TC_OK);
    assert_string_equal(err.msg, msg);
}

static void test_validation_messages(void **state)
{
    (void)state;
    Inference__ModelConfig *cfg = simple_config();
    int32_t data[32] = {0};
    int64_t shape[] = {1, 16};
    tc__infer_request r;
    init_request(&r, "simple");
    add_input(&r, "INPUT0", TC_DTYPE_INT32, shape, 2, data, 64);
    expect_invalid(cfg, &r, "expected 2 inputs but got 1 inputs for model 'simple'");
    add_input(&r, "INPUT1", TC_DTYPE_INT32, shape, 2, data, 60);
    expect_invalid(cfg, &r,
                   "input byte size mismatch for input 'INPUT1' for model 'simple'. "
                   "Expected 64, got 60");
    r.inputs[1].byte_size = 64;
    uint64_t batch = 0;
    tc__error err;
    assert_int_equal(tc__validate_request(cfg, "simple", &r, &batch, &err), TC_OK);
    assert_int_equal(batch, 1);
    r.inputs[1].dtype = TC_DTYPE_FP32;
    expect_invalid(cfg, &r,
                   "inference input 'INPUT1' data-type is 'FP32', but model 'simple' "
                   "expects 'INT32'");
    r.inputs[1].dtype = TC_DTYPE_INT32;
    r.inputs[0].shape[0] = 9;
    r.inputs[1].shape[0] = 9;
    expect_invalid(cfg, &r, "inference request batch-size must be <= 8 for 'simple'");
    r.inputs[0].shape[0] = 1;
    r.inputs[1].shape[0] = 1;
    r.inputs[1].shape[1] = 15;
    expect_invalid(cfg, &r,
                   "unexpected shape for input 'INPUT1' for model 'simple'. Expected "
                   "[-1,16], got [1,15]");
    r.inputs[1].shape[1] = 16;
    tc__free(r.inputs[1].name);
    r.inputs[1].name = tc__strdup("INPUTX");
    expect_invalid(cfg, &r, "unexpected inference input 'INPUTX' for model 'simple'");
    tc__free(r.inputs[1].name);
    r.inputs[1].name = tc__strdup("INPUT1");
    r.outputs = tc__calloc(1, sizeof *r.outputs);
    r.output_count = 1;
    r.outputs[0].name = tc__strdup("NOPE");
    expect_invalid(cfg, &r, "unexpected inference output 'NOPE' for model 'simple'");
    tc__infer_request_cleanup(&r);
    tc__model_config_free(cfg);
}

static void test_validation_bytes(void **state)
{
    (void)state;
    static const char text[] = "max_batch_size: 0\n"
                               "input [ { name: \"S\" data_type: TYPE_STRING dims: [ 2 ] } ]\n"
                               "output [ { name: \"O\" data_type: TYPE_STRING dims: [ 2 ] } ]\n";
    Inference__ModelConfig *cfg = NULL;
    tc__error err;
    assert_int_equal(tc__model_config_from_pbtxt(text, strlen(text), &cfg, &err), TC_OK);
    tc__buf b = TC__BUF_INIT;
    assert_int_equal(tc__bytes_append(&b, "abc", 3), TC_OK);
    int64_t shape[] = {2};
    tc__infer_request r;
    init_request(&r, "simple");
    add_input(&r, "S", TC_DTYPE_BYTES, shape, 1, b.data, b.len);
    expect_invalid(cfg, &r,
                   "expected 2 string elements for inference input 'S' for model "
                   "'simple', got 1");
    r.inputs[0].byte_size = 5; /* truncated element */
    uint64_t batch = 0;
    assert_int_equal(tc__validate_request(cfg, "simple", &r, &batch, &err), TC_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "incomplete string length indicator"));
    tc__infer_request_cleanup(&r);
    tc__buf_cleanup(&b);
    tc__model_config_free(cfg);
}

/* ---- classification ------------------------------------------------------------------------ */

static void test_classification(void **state)
{
    (void)state;
    float v[] = {0.1f, 0.75f, 0.5f, 0.75f, 0.0f, 0.3f};
    int64_t shape[] = {2, 3};
    tc__tensor t;
    memset(&t, 0, sizeof t);
    t.dtype = TC_DTYPE_FP32;
    t.shape = tc__memdup(shape, sizeof shape);
    t.ndim = 2;
    t.owned = tc__memdup(v, sizeof v);
    t.data = t.owned;
    t.byte_size = sizeof v;
    char *lines[] = {"cat", "dog", ""};
    tc__labels labels = {lines, 3};
    tc__error err;
    assert_int_equal(tc__classify(&t, 2, true, &labels, &err), TC_OK);
    assert_int_equal(t.dtype, TC_DTYPE_BYTES);
    assert_int_equal(t.ndim, 2);
    assert_int_equal(t.shape[0], 2);
    assert_int_equal(t.shape[1], 2);
    const char *want[] = {"0.750000:1:dog", "0.500000:2", "0.750000:0:cat", "0.300000:2"};
    size_t pos = 0;
    for (size_t i = 0; i < 4; i++) {
        const uint8_t *e;
        size_t len;
        assert_int_equal(tc__bytes_next(t.data, t.byte_size, &pos, &e, &len), TC_OK);
        assert_int_equal(len, strlen(want[i]));
        assert_memory_equal(e, want[i], len);
    }
    tc__tensor_cleanup(&t);

    int32_t iv[] = {5, -2, 9};
    int64_t ishape[] = {3};
    memset(&t, 0, sizeof t);
    t.dtype = TC_DTYPE_INT32;
    t.shape = tc__memdup(ishape, sizeof ishape);
    t.ndim = 1;
    t.owned = tc__memdup(iv, sizeof iv);
    t.data = t.owned;
    t.byte_size = sizeof iv;
    assert_int_equal(tc__classify(&t, 10, false, NULL, &err), TC_OK);
    assert_int_equal(t.ndim, 1);
    assert_int_equal(t.shape[0], 3); /* k' = min(k, elements) */
    pos = 0;
    const uint8_t *e;
    size_t len;
    assert_int_equal(tc__bytes_next(t.data, t.byte_size, &pos, &e, &len), TC_OK);
    assert_memory_equal(e, "9:2", 3);
    t.dtype = TC_DTYPE_BOOL;
    assert_int_equal(tc__classify(&t, 1, false, NULL, &err), TC_E_INVALID_ARG);
    assert_string_equal(err.msg,
                        "class result not available for output due to unsupported type 'BOOL'");
    tc__tensor_cleanup(&t);
}

/* ---- backends and statistics ----------------------------------------------------------------- */

static void test_simple_add_sub_and_stats(void **state)
{
    (void)state;
    tc__core *core = start(TC_MODELS_DIR, TC__CONTROL_NONE, NULL);
    int32_t a[16];
    int32_t b[16];
    for (int i = 0; i < 16; i++) {
        a[i] = i;
        b[i] = 1;
    }
    a[15] = INT32_MAX;
    int64_t shape[] = {1, 16};
    tc__infer_request r;
    init_request(&r, "simple");
    add_input(&r, "INPUT0", TC_DTYPE_INT32, shape, 2, a, sizeof a);
    add_input(&r, "INPUT1", TC_DTYPE_INT32, shape, 2, b, sizeof b);
    tc__error err;
    for (int k = 0; k < 3; k++) {
        tc__infer_response *resp = infer(core, &r, &err);
        assert_non_null(resp);
        const tc__tensor *o0 = output(resp, "OUTPUT0");
        const tc__tensor *o1 = output(resp, "OUTPUT1");
        assert_non_null(o0);
        assert_non_null(o1);
        int32_t x;
        memcpy(&x, o0->data + 4 * 3, 4);
        assert_int_equal(x, 4);
        memcpy(&x, o0->data + 4 * 15, 4);
        assert_int_equal(x, INT32_MIN); /* wraps */
        memcpy(&x, o1->data + 4 * 3, 4);
        assert_int_equal(x, 2);
        assert_string_equal(resp->model_version, "1");
        tc__core_response_free(resp);
    }
    r.inputs[1].byte_size = 8; /* fails validation: counted as a failure */
    assert_null(infer(core, &r, &err));
    assert_int_equal(err.code, TC_E_INVALID_ARG);
    tc__model_stats *s = NULL;
    size_t n = 0;
    assert_int_equal(tc__core_model_stats(core, "simple", NULL, &s, &n, &err), TC_OK);
    assert_int_equal(n, 1);
    assert_int_equal(s[0].success.count, 3);
    assert_int_equal(s[0].fail.count, 1);
    assert_int_equal(s[0].fail_by_reason[TC__FAIL_OTHER], 1); /* validation */
    assert_int_equal(s[0].fail_by_reason[TC__FAIL_BACKEND], 0);
    assert_int_equal(s[0].fail_by_reason[TC__FAIL_REJECTED], 0);
    assert_int_equal(s[0].queue.count, 3);
    assert_int_equal(s[0].compute_infer.count, 3);
    assert_int_equal(s[0].inference_count, 3);
    assert_int_equal(s[0].execution_count, 3);
    assert_int_equal(s[0].batch_count, 1);
    assert_int_equal(s[0].batches[0].batch_size, 1);
    assert_int_equal(s[0].batches[0].compute_infer.count, 3);
    assert_true(s[0].last_inference_ms > 0);
    tc__model_stats_free(s, n);
    assert_int_equal(tc__core_model_stats(core, NULL, NULL, &s, &n, &err), TC_OK);
    assert_int_equal(n, 11);
    tc__model_stats_free(s, n);
    assert_int_equal(tc__core_model_stats(core, "nope", NULL, &s, &n, &err), TC_E_INVALID_ARG);
    assert_string_equal(err.msg, "requested model 'nope' is not available");
    tc__infer_request_cleanup(&r);
    tc__core_free(core);
}

static void test_int8_and_string_backends(void **state)
{
    (void)state;
    tc__core *core = start(TC_MODELS_DIR, TC__CONTROL_NONE, NULL);
    int8_t a[16] = {127, -128, 5};
    int8_t b[16] = {1, 1, 7};
    int64_t shape[] = {1, 16};
    tc__infer_request r;
    init_request(&r, "simple_int8");
    add_input(&r, "INPUT0", TC_DTYPE_INT8, shape, 2, a, sizeof a);
    add_input(&r, "INPUT1", TC_DTYPE_INT8, shape, 2, b, sizeof b);
    tc__error err;
    tc__infer_response *resp = infer(core, &r, &err);
    assert_non_null(resp);
    const int8_t *sum = (const int8_t *)output(resp, "OUTPUT0")->data;
    const int8_t *diff = (const int8_t *)output(resp, "OUTPUT1")->data;
    assert_int_equal(sum[0], -128);
    assert_int_equal(diff[1], 127);
    assert_int_equal(sum[2], 12);
    assert_int_equal(diff[2], -2);
    tc__core_response_free(resp);
    tc__infer_request_cleanup(&r);

    tc__buf x = TC__BUF_INIT;
    tc__buf y = TC__BUF_INIT;
    for (int i = 0; i < 16; i++) {
        char t[8];
        int len = snprintf(t, sizeof t, "%d", i * 10);
        assert_int_equal(tc__bytes_append(&x, t, (size_t)len), TC_OK);
        assert_int_equal(tc__bytes_append(&y, "3", 1), TC_OK);
    }
    init_request(&r, "simple_string");
    add_input(&r, "INPUT0", TC_DTYPE_BYTES, shape, 2, x.data, x.len);
    add_input(&r, "INPUT1", TC_DTYPE_BYTES, shape, 2, y.data, y.len);
    resp = infer(core, &r, &err);
    assert_non_null(resp);
    const tc__tensor *o1 = output(resp, "OUTPUT1");
    size_t pos = 0;
    const uint8_t *e;
    size_t len;
    assert_int_equal(tc__bytes_next(o1->data, o1->byte_size, &pos, &e, &len), TC_OK);
    assert_memory_equal(e, "-3", 2);
    assert_int_equal(tc__bytes_next(o1->data, o1->byte_size, &pos, &e, &len), TC_OK);
    assert_memory_equal(e, "7", 1);
    const tc__tensor *o0 = output(resp, "OUTPUT0");
    pos = 0;
    assert_int_equal(tc__bytes_next(o0->data, o0->byte_size, &pos, &e, &len), TC_OK);
    assert_memory_equal(e, "3", 1);
    tc__core_response_free(resp);
    tc__infer_request_cleanup(&r);
    tc__buf_cleanup(&x);
    tc__buf_cleanup(&y);
    tc__core_free(core);
}

static void test_identity_backend(void **state)
{
    (void)state;
    tc__core *core = start(TC_MODELS_DIR, TC__CONTROL_NONE, NULL);
    tc__buf x = TC__BUF_INIT;
    assert_int_equal(tc__bytes_append(&x, "a\0\xff", 3), TC_OK);
    assert_int_equal(tc__bytes_append(&x, "", 0), TC_OK);
    int64_t shape[] = {1, 2};
    tc__infer_request r;
    init_request(&r, "simple_identity");
    r.binary_data_output = 1;
    add_input(&r, "INPUT0", TC_DTYPE_BYTES, shape, 2, x.data, x.len);
    tc__error err;
    tc__infer_response *resp = infer(core, &r, &err);
    assert_non_null(resp);
    const tc__tensor *o = output(resp, "OUTPUT0");
    assert_int_equal(o->byte_size, x.len);
    assert_memory_equal(o->data, x.data, x.len);
    assert_true(o->binary);
    assert_int_equal(o->shape[1], 2);
    tc__core_response_free(resp);
    tc__infer_request_cleanup(&r);
    tc__buf_cleanup(&x);

    int32_t v[6] = {1, 2, 3, 4, 5, 6};
    int64_t s2[] = {2, 3};
    init_request(&r, "custom_identity_int32");
    add_input(&r, "INPUT0", TC_DTYPE_INT32, s2, 2, v, sizeof v);
    resp = infer(core, &r, &err);
    assert_non_null(resp);
    assert_memory_equal(output(resp, "OUTPUT0")->data, v, sizeof v);
    assert_false(output(resp, "OUTPUT0")->binary);
    tc__core_response_free(resp);
    tc__infer_request_cleanup(&r);
    tc__core_free(core);
}

static void test_classification_through_core(void **state)
{
    (void)state;
    char *repo = make_repo("");
    tc__core *core = start(repo, TC__CONTROL_NONE, NULL);
    float v[3] = {0.2f, 0.9f, 0.4f};
    int64_t shape[] = {1, 3};
    tc__infer_request r;
    init_request(&r, "m");
    add_input(&r, "IN", TC_DTYPE_FP32, shape, 2, v, sizeof v);
    r.outputs = tc__calloc(1, sizeof *r.outputs);
    r.output_count = 1;
    r.outputs[0].name = tc__strdup("OUT");
    r.outputs[0].binary = -1;
    r.outputs[0].class_count = 1;
    tc__error err;
    tc__infer_response *resp = infer(core, &r, &err);
    assert_non_null(resp);
    const tc__tensor *o = output(resp, "OUT");
    assert_int_equal(o->dtype, TC_DTYPE_BYTES);
    size_t pos = 0;
    const uint8_t *e;
    size_t len;
    assert_int_equal(tc__bytes_next(o->data, o->byte_size, &pos, &e, &len), TC_OK);
    assert_int_equal(len, strlen("0.900000:1:one"));
    assert_memory_equal(e, "0.900000:1:one", len);
    tc__core_response_free(resp);
    tc__infer_request_cleanup(&r);
    tc__core_free(core);
    remove_repo(repo);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_bundled_repository),
    cmocka_unit_test(test_version_policy_latest),
    cmocka_unit_test(test_version_policy_all_specific),
    cmocka_unit_test(test_explicit_load_unload),
    cmocka_unit_test(test_validation_messages),
    cmocka_unit_test(test_validation_bytes),
    cmocka_unit_test(test_classification),
    cmocka_unit_test(test_simple_add_sub_and_stats),
    cmocka_unit_test(test_int8_and_string_backends),
    cmocka_unit_test(test_identity_backend),
    cmocka_unit_test(test_classification_through_core),
};

TC_TEST_MAIN(tests)
