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

/* ---- queue policy and priorities (EXTENSIONS.md schedule_policy) ------------------------ */

/* A one-instance identity model taking 500 ms per execution, one request
 * per execution, with `batching` as its dynamic_batching block. */
static char *slow_repo(const char *batching)
{
    char cfg[1024];
    (void)snprintf(
        cfg, sizeof cfg,
        "backend: \"tritonc_identity\"\n"
        "max_batch_size: 1\n"
        "dynamic_batching { %s }\n"
        "input [ { name: \"INPUT0\" data_type: TYPE_INT32 dims: [ -1 ] } ]\n"
        "output [ { name: \"OUTPUT0\" data_type: TYPE_INT32 dims: [ -1 ] } ]\n"
        "parameters [ { key: \"execute_delay_ms\" value: { string_value: \"500\" } } ]\n",
        batching);
    return ut_repo_with("dyn", cfg);
}

/* Completion order across callbacks. */
typedef struct ordered {
    ut_collect c;
    int *clock; /* shared counter, guarded by the test's lock */
    pthread_mutex_t *lock;
    int at;
} ordered;

static void on_ordered(tc__infer_response *resp, const tc__error *err, void *user_data)
{
    ordered *o = user_data;
    pthread_mutex_lock(o->lock);
    o->at = (*o->clock)++;
    pthread_mutex_unlock(o->lock);
    ut_on_done(resp, err, &o->c);
}

static void submit_ordered(tc__core *core, tc__infer_request *r, ordered *o, int32_t v,
                           uint64_t priority, uint64_t timeout_us)
{
    const int64_t shape[2] = {1, 1};
    ut_init_request(r, "dyn");
    ut_add_input(r, "INPUT0", TC_DTYPE_INT32, shape, 2, &v, sizeof v);
    r->priority = priority;
    r->timeout_us = timeout_us;
    ut_collect_init(&o->c);
    tc__error err;
    assert_int_equal(tc__core_infer_async(core, r, on_ordered, o, &err), TC_OK);
}

static bool nothing_pending(void *core)
{
    tc__model_stats *st = NULL;
    stats_of(core, "dyn", &st);
    bool none = st[0].pending_count == 0;
    tc__model_stats_free(st, 1);
    return none;
}

/* Wait (bounded) until the instance has taken every queued request. */
static void wait_nothing_pending(tc__core *core)
{
    if (!tc_test_wait_until(nothing_pending, core, 10000))
        fail_msg("requests still pending after 10 s");
}

/* While X executes, A (level 2, a 50 ms timeout under DELAY), B (level 2)
 * and P (priority 1) queue. P runs first (higher priority), then B, then A:
 * its deadline passed while X ran, so it moved behind B. */
static void test_priority_and_delayed_timeout_order(void **state)
{
    (void)state;
    char *repo = slow_repo("priority_levels: 2 default_priority_level: 2 "
                           "default_queue_policy { allow_timeout_override: true "
                           "timeout_action: DELAY }");
    tc__core *core = ut_start(repo);
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    int clock = 0;
    tc__infer_request r[4];
    ordered o[4];
    for (size_t i = 0; i < 4; i++) {
        o[i].clock = &clock;
        o[i].lock = &lock;
    }
    submit_ordered(core, &r[0], &o[0], 0, 0, 0);     /* X */
    wait_nothing_pending(core);                      /* X executes */
    submit_ordered(core, &r[1], &o[1], 1, 0, 50000); /* A */
    submit_ordered(core, &r[2], &o[2], 2, 2, 0);     /* B */
    submit_ordered(core, &r[3], &o[3], 3, 1, 0);     /* P */
    for (size_t i = 0; i < 4; i++) {
        assert_true(ut_wait(&o[i].c));
        assert_int_equal(o[i].c.err.code, TC_OK);
        assert_int_equal(ut_i32(o[i].c.last, "OUTPUT0"), (int32_t)i);
    }
    assert_int_equal(o[0].at, 0); /* X */
    assert_int_equal(o[3].at, 1); /* P */
    assert_int_equal(o[2].at, 2); /* B */
    assert_int_equal(o[1].at, 3); /* A, delayed */
    for (size_t i = 0; i < 4; i++) {
        ut_collect_cleanup(&o[i].c);
        tc__infer_request_cleanup(&r[i]);
    }
    tc__core_free(core);
    ut_repo_remove(repo);
}

/* REJECT (the default action): a request whose queue timeout (its own
 * 50 ms, allowed by the policy) passes while X executes fails with
 * UNAVAILABLE "Request timeout expired" and never executes. */
static void test_timeout_rejects_queued_request(void **state)
{
    (void)state;
    char *repo = slow_repo("default_queue_policy { allow_timeout_override: true }");
    tc__core *core = ut_start(repo);
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    int clock = 0;
    tc__infer_request r[2];
    ordered o[2] = {{.clock = &clock, .lock = &lock}, {.clock = &clock, .lock = &lock}};
    submit_ordered(core, &r[0], &o[0], 0, 0, 0);
    wait_nothing_pending(core);
    submit_ordered(core, &r[1], &o[1], 1, 0, 50000);
    assert_true(ut_wait(&o[0].c));
    assert_true(ut_wait(&o[1].c));
    assert_int_equal(o[0].c.err.code, TC_OK);
    assert_int_equal(o[1].c.err.code, TC_E_UNAVAILABLE);
    assert_string_equal(o[1].c.err.msg, "Request timeout expired");
    assert_null(o[1].c.last);
    tc__model_stats *st = NULL;
    stats_of(core, "dyn", &st);
    assert_int_equal(st[0].success.count, 1);
    assert_int_equal(st[0].fail_by_reason[TC__FAIL_REJECTED], 1);
    assert_int_equal(st[0].execution_count, 1);
    assert_int_equal(st[0].pending_count, 0);
    tc__model_stats_free(st, 1);
    for (size_t i = 0; i < 2; i++) {
        ut_collect_cleanup(&o[i].c);
        tc__infer_request_cleanup(&r[i]);
    }
    tc__core_free(core);
    ut_repo_remove(repo);
}

/* An idle instance wakes for a deadline: a lone request waiting for a
 * batch (10 s delay) is rejected once its 50 ms timeout passes. */
static void test_timeout_wakes_idle_instance(void **state)
{
    (void)state;
    char *repo = identity_repo("10000000 default_queue_policy { default_timeout_microseconds: "
                               "50000 }");
    tc__core *core = ut_start(repo);
    tc__infer_request r;
    const int64_t shape[2] = {1, 1};
    int32_t v = 7;
    ut_init_request(&r, "dyn");
    ut_add_input(&r, "INPUT0", TC_DTYPE_INT32, shape, 2, &v, sizeof v);
    ut_collect c;
    ut_collect_init(&c);
    tc__error err;
    uint64_t t0 = tc__now_ns();
    assert_int_equal(tc__core_infer_async(core, &r, ut_on_done, &c, &err), TC_OK);
    assert_true(ut_wait(&c));
    assert_true(tc__now_ns() - t0 >= 50000000u);
    assert_true(tc__now_ns() - t0 < 5000000000u); /* not the 10 s batch delay */
    assert_int_equal(c.err.code, TC_E_UNAVAILABLE);
    assert_string_equal(c.err.msg, "Request timeout expired");
    ut_collect_cleanup(&c);
    tc__infer_request_cleanup(&r);
    tc__core_free(core);
    ut_repo_remove(repo);
}

/* max_queue_size of priority level 1 is 2: its third request is refused at
 * once. Level 2 is unbounded; two requests there make the preferred batch
 * of 4, which runs without waiting for the 10 s delay. */
static void test_full_queue_refuses(void **state)
{
    (void)state;
    char *repo = identity_repo("10000000 priority_levels: 2 default_priority_level: 2 "
                               "priority_queue_policy { key: 1 value { max_queue_size: 2 } }");
    tc__core *core = ut_start(repo);
    tc__infer_request r[5];
    ut_collect c[5];
    tc__error err;
    static const uint64_t prio[5] = {1, 1, 1, 2, 0};
    for (size_t i = 0; i < 5; i++) {
        const int64_t shape[2] = {1, 1};
        int32_t v = (int32_t)i;
        ut_init_request(&r[i], "dyn");
        ut_add_input(&r[i], "INPUT0", TC_DTYPE_INT32, shape, 2, &v, sizeof v);
        r[i].priority = prio[i];
        ut_collect_init(&c[i]);
    }
    assert_int_equal(tc__core_infer_async(core, &r[0], ut_on_done, &c[0], &err), TC_OK);
    assert_int_equal(tc__core_infer_async(core, &r[1], ut_on_done, &c[1], &err), TC_OK);
    assert_int_equal(tc__core_infer_async(core, &r[2], ut_on_done, &c[2], &err), TC_E_UNAVAILABLE);
    assert_string_equal(err.msg, "Exceeds maximum queue size");
    tc__model_stats *st = NULL;
    stats_of(core, "dyn", &st);
    assert_int_equal(st[0].fail_by_reason[TC__FAIL_REJECTED], 1);
    assert_int_equal(st[0].pending_count, 2);
    tc__model_stats_free(st, 1);
    /* Priority 0 means the default level (2). */
    assert_int_equal(tc__core_infer_async(core, &r[3], ut_on_done, &c[3], &err), TC_OK);
    assert_int_equal(tc__core_infer_async(core, &r[4], ut_on_done, &c[4], &err), TC_OK);
    for (size_t i = 0; i < 5; i++) {
        if (i == 2)
            continue;
        assert_true(ut_wait(&c[i]));
        assert_int_equal(c[i].err.code, TC_OK);
        assert_int_equal(ut_i32(c[i].last, "OUTPUT0"), (int32_t)i);
    }
    stats_of(core, "dyn", &st);
    assert_int_equal(st[0].execution_count, 1);
    assert_int_equal(st[0].inference_count, 4);
    tc__model_stats_free(st, 1);
    for (size_t i = 0; i < 5; i++) {
        ut_collect_cleanup(&c[i]);
        tc__infer_request_cleanup(&r[i]);
    }
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
    cmocka_unit_test(test_priority_and_delayed_timeout_order),
    cmocka_unit_test(test_timeout_rejects_queued_request),
    cmocka_unit_test(test_timeout_wakes_idle_instance),
    cmocka_unit_test(test_full_queue_refuses),
};

TC_TEST_MAIN(tests)
