/* Dynamic batching: queued requests gathered into fewer executions, batch
 * statistics, and backends executing several requests at once. */
#include "core_test_util.h"

static const char k_identity_cfg[] =
    "backend: \"tritonc_identity\"\n"
    "max_batch_size: 8\n"
    "dynamic_batching { preferred_batch_size: [ 4 ] max_queue_delay_microseconds: %s }\n"
    "input [ { name: \"INPUT0\" data_type: TYPE_INT32 dims: [ -1 ] } ]\n"
    "output [ { name: \"OUTPUT0\" data_type: TYPE_INT32 dims: [ -1 ] } ]\n";

static const char k_add_sub_cfg[] =
    "backend: \"tritonc_add_sub\"\n"
    "max_batch_size: 8\n"
    "dynamic_batching { max_queue_delay_microseconds: 2000000 }\n"
    "input [ { name: \"INPUT0\" data_type: TYPE_INT32 dims: [ 2 ] },\n"
    "        { name: \"INPUT1\" data_type: TYPE_INT32 dims: [ 2 ] } ]\n"
    "output [ { name: \"OUTPUT0\" data_type: TYPE_INT32 dims: [ 2 ] },\n"
    "         { name: \"OUTPUT1\" data_type: TYPE_INT32 dims: [ 2 ] } ]\n";

static char *identity_repo(const char *delay_us)
{
    char cfg[1024];
    (void)snprintf(cfg, sizeof cfg, k_identity_cfg, delay_us);
    return ut_repo_with("dyn", cfg);
}

static void stats_of(tc__core *core, const char *model, tc__model_stats **st)
{
    size_t n = 0;
    tc__error err;
    assert_int_equal(tc__core_model_stats(core, model, NULL, st, &n, &err), TC_OK);
    assert_int_equal(n, 1);
}

/* Submit `n` requests (request i has batch `batch[i]`, values i*100+k) at
 * once and check that every response holds its own data. */
static void run_concurrent(tc__core *core, size_t n, const int64_t *batch)
{
    tc__infer_request r[16];
    ut_collect c[16];
    tc__error err;
    for (size_t i = 0; i < n; i++) {
        int32_t v[8];
        for (int k = 0; k < 8; k++)
            v[k] = (int32_t)i * 100 + k;
        int64_t shape[2] = {batch[i], 1};
        ut_init_request(&r[i], "dyn");
        ut_add_input(&r[i], "INPUT0", TC_DTYPE_INT32, shape, 2, v,
                     (size_t)batch[i] * sizeof(int32_t));
        ut_collect_init(&c[i]);
        assert_int_equal(tc__core_infer_async(core, &r[i], ut_on_done, &c[i], &err), TC_OK);
    }
    for (size_t i = 0; i < n; i++) {
        assert_true(ut_wait(&c[i]));
        assert_int_equal(c[i].err.code, TC_OK);
        const tc__tensor *o = ut_output(c[i].last, "OUTPUT0");
        assert_non_null(o);
        assert_int_equal(o->shape[0], batch[i]);
        assert_int_equal(o->byte_size, (size_t)batch[i] * sizeof(int32_t));
        int32_t last;
        memcpy(&last, o->data + o->byte_size - 4, 4);
        assert_int_equal(last, (int32_t)i * 100 + (int32_t)batch[i] - 1);
        ut_collect_cleanup(&c[i]);
        tc__infer_request_cleanup(&r[i]);
    }
}

/* Four requests reach the preferred size: one execution, without waiting
 * for the (long) queue delay. */
static void test_preferred_size_runs_one_execution(void **state)
{
    (void)state;
    char *repo = identity_repo("10000000");
    tc__core *core = ut_start(repo);
    static const int64_t batch[4] = {1, 1, 1, 1};
    uint64_t t0 = tc__now_ns();
    run_concurrent(core, 4, batch);
    assert_true(tc__now_ns() - t0 < 5000000000u); /* well under the 10 s delay */
    tc__model_stats *st = NULL;
    stats_of(core, "dyn", &st);
    assert_int_equal(st[0].inference_count, 4);
    assert_int_equal(st[0].execution_count, 1);
    assert_int_equal(st[0].success.count, 4);
    assert_int_equal(st[0].batch_count, 1);
    assert_int_equal(st[0].batches[0].batch_size, 4);
    assert_int_equal(st[0].batches[0].compute_infer.count, 1);
    tc__model_stats_free(st, 1);
    tc__core_free(core);
    ut_repo_remove(repo);
}

/* Queued requests show in the pending gauge until an instance takes them:
 * three wait for the preferred size (the delay is 10 s), the fourth
 * releases the batch and the gauge returns to zero. */
static void test_pending_counts_queued_requests(void **state)
{
    (void)state;
    char *repo = identity_repo("10000000");
    tc__core *core = ut_start(repo);
    tc__infer_request r[4];
    ut_collect c[4];
    tc__error err;
    tc__model_stats *st = NULL;
    for (size_t i = 0; i < 4; i++) {
        int32_t v = (int32_t)i;
        const int64_t shape[2] = {1, 1};
        ut_init_request(&r[i], "dyn");
        ut_add_input(&r[i], "INPUT0", TC_DTYPE_INT32, shape, 2, &v, sizeof v);
        ut_collect_init(&c[i]);
        stats_of(core, "dyn", &st);
        assert_int_equal(st[0].pending_count, i);
        tc__model_stats_free(st, 1);
        assert_int_equal(tc__core_infer_async(core, &r[i], ut_on_done, &c[i], &err), TC_OK);
    }
    for (size_t i = 0; i < 4; i++) {
        assert_true(ut_wait(&c[i]));
        assert_int_equal(c[i].err.code, TC_OK);
        ut_collect_cleanup(&c[i]);
        tc__infer_request_cleanup(&r[i]);
    }
    stats_of(core, "dyn", &st);
    assert_int_equal(st[0].pending_count, 0);
    assert_int_equal(st[0].execution_count, 1);
    tc__model_stats_free(st, 1);
    tc__core_free(core);
    ut_repo_remove(repo);
}

/* A queued request whose frontend sets its cancelled flag is failed with
 * TC_E_CANCELLED when its batch runs, without reaching the backend; the
 * other requests of the batch are unaffected. */
static void test_cancelled_request_skips_execution(void **state)
{
    (void)state;
    char *repo = identity_repo("10000000");
    tc__core *core = ut_start(repo);
    tc__infer_request r[4];
    ut_collect c[4];
    atomic_bool gone;
    atomic_init(&gone, false);
    tc__error err;
    for (size_t i = 0; i < 4; i++) {
        int32_t v = (int32_t)i;
        const int64_t shape[2] = {1, 1};
        ut_init_request(&r[i], "dyn");
        ut_add_input(&r[i], "INPUT0", TC_DTYPE_INT32, shape, 2, &v, sizeof v);
        if (i == 1)
            r[i].cancelled = &gone;
        ut_collect_init(&c[i]);
        if (i == 3)
            atomic_store(&gone, true); /* the client of request 1 left */
        assert_int_equal(tc__core_infer_async(core, &r[i], ut_on_done, &c[i], &err), TC_OK);
    }
    for (size_t i = 0; i < 4; i++) {
        assert_true(ut_wait(&c[i]));
        if (i == 1) {
            assert_int_equal(c[i].err.code, TC_E_CANCELLED);
            assert_null(c[i].last);
        } else {
            assert_int_equal(c[i].err.code, TC_OK);
            assert_int_equal(ut_i32(c[i].last, "OUTPUT0"), (int32_t)i);
        }
        ut_collect_cleanup(&c[i]);
        tc__infer_request_cleanup(&r[i]);
    }
    tc__model_stats *st = NULL;
    stats_of(core, "dyn", &st);
    assert_int_equal(st[0].success.count, 3);
    assert_int_equal(st[0].fail.count, 1);
    assert_int_equal(st[0].fail_by_reason[TC__FAIL_CANCELED], 1);
    assert_int_equal(st[0].inference_count, 3);
    assert_int_equal(st[0].execution_count, 1);
    tc__model_stats_free(st, 1);
    tc__core_free(core);
    ut_repo_remove(repo);
}

/* Fewer than the preferred size (1 + 2 = 3 < 4) run together once the
 * queue delay has passed. */
static void test_delay_flushes_partial_batch(void **state)
{
    (void)state;
    char *repo = identity_repo("200000");
    tc__core *core = ut_start(repo);
    static const int64_t batch[2] = {1, 2};
    uint64_t t0 = tc__now_ns();
    run_concurrent(core, 2, batch);
    assert_true(tc__now_ns() - t0 >= 200000000u);
    tc__model_stats *st = NULL;
    stats_of(core, "dyn", &st);
    assert_int_equal(st[0].inference_count, 3);
    assert_int_equal(st[0].execution_count, 1);
    assert_int_equal(st[0].batches[0].batch_size, 3);
    assert_true(st[0].queue.ns >= 200000000u);
    tc__model_stats_free(st, 1);
    tc__core_free(core);
    ut_repo_remove(repo);
}

/* More than max_batch_size queued: split into several executions. */
static void test_max_batch_size_splits(void **state)
{
    (void)state;
    char *repo = identity_repo("300000");
    tc__core *core = ut_start(repo);
    static const int64_t batch[5] = {3, 3, 3, 3, 3};
    run_concurrent(core, 5, batch);
    tc__model_stats *st = NULL;
    stats_of(core, "dyn", &st);
    assert_int_equal(st[0].inference_count, 15);
    assert_true(st[0].execution_count >= 2 && st[0].execution_count < 5);
    for (size_t i = 0; i < st[0].batch_count; i++)
        assert_true(st[0].batches[i].batch_size <= 8);
    tc__model_stats_free(st, 1);
    tc__core_free(core);
    ut_repo_remove(repo);
}

/* add_sub computes each request of a batched execution separately. */
static void test_add_sub_batched_requests(void **state)
{
    (void)state;
    char *repo = ut_repo_with("as", k_add_sub_cfg);
    tc__core *core = ut_start(repo);
    enum { N = 8 };
    tc__infer_request r[N];
    ut_collect c[N];
    tc__error err;
    const int64_t shape[2] = {1, 2};
    for (int i = 0; i < N; i++) {
        int32_t a[2] = {i, 10 * i};
        int32_t b[2] = {1, i};
        ut_init_request(&r[i], "as");
        ut_add_input(&r[i], "INPUT0", TC_DTYPE_INT32, shape, 2, a, sizeof a);
        ut_add_input(&r[i], "INPUT1", TC_DTYPE_INT32, shape, 2, b, sizeof b);
        ut_collect_init(&c[i]);
        assert_int_equal(tc__core_infer_async(core, &r[i], ut_on_done, &c[i], &err), TC_OK);
    }
    for (int i = 0; i < N; i++) {
        assert_true(ut_wait(&c[i]));
        int32_t sum[2];
        int32_t diff[2];
        memcpy(sum, ut_output(c[i].last, "OUTPUT0")->data, sizeof sum);
        memcpy(diff, ut_output(c[i].last, "OUTPUT1")->data, sizeof diff);
        assert_int_equal(sum[0], i + 1);
        assert_int_equal(sum[1], 11 * i);
        assert_int_equal(diff[0], i - 1);
        assert_int_equal(diff[1], 9 * i);
        ut_collect_cleanup(&c[i]);
        tc__infer_request_cleanup(&r[i]);
    }
    tc__model_stats *st = NULL;
    stats_of(core, "as", &st);
    assert_int_equal(st[0].inference_count, N);
    assert_int_equal(st[0].execution_count, 1); /* preferred = max_batch_size = 8 */
    tc__model_stats_free(st, 1);
    /* Dynamic batching models never run inline. */
    tc__infer_response *resp = NULL;
    tc__infer_request one;
    int32_t a[2] = {1, 2};
    ut_init_request(&one, "as");
    ut_add_input(&one, "INPUT0", TC_DTYPE_INT32, shape, 2, a, sizeof a);
    ut_add_input(&one, "INPUT1", TC_DTYPE_INT32, shape, 2, a, sizeof a);
    assert_int_equal(tc__core_infer_inline(core, &one, &resp, &err), TC_E_BUSY);
    assert_null(resp);
    tc__infer_request_cleanup(&one);
    tc__core_free(core);
    ut_repo_remove(repo);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_preferred_size_runs_one_execution),
    cmocka_unit_test(test_pending_counts_queued_requests),
    cmocka_unit_test(test_cancelled_request_skips_execution),
    cmocka_unit_test(test_delay_flushes_partial_batch),
    cmocka_unit_test(test_max_batch_size_splits),
    cmocka_unit_test(test_add_sub_batched_requests),
};

TC_TEST_MAIN(tests)
