/* Streaming and decoupled inference through tc__core_infer_stream, with
 * the bundled repeat_int32 and square_int32 models. */
#include "core_test_util.h"

static const int64_t k_one[1] = {1};

static void repeat_request(tc__infer_request *r, const int32_t *in, size_t n, const uint32_t *delay,
                           uint32_t wait_ms)
{
    ut_init_request(r, "repeat_int32");
    int64_t shape[1] = {(int64_t)n};
    ut_add_input(r, "IN", TC_DTYPE_INT32, shape, 1, in, n * sizeof *in);
    ut_add_input(r, "DELAY", TC_DTYPE_UINT32, shape, 1, delay, n * sizeof *delay);
    ut_add_input(r, "WAIT", TC_DTYPE_UINT32, k_one, 1, &wait_ms, sizeof wait_ms);
}

static void stream(tc__core *core, const tc__infer_request *r, ut_collect *c)
{
    tc__error err;
    ut_collect_init(c);
    assert_int_equal(tc__core_infer_stream(core, r, ut_on_stream, c, &err), TC_OK);
    assert_true(ut_wait(c));
    assert_int_equal(c->finals, 1);
    assert_false(c->overlap);
}

static void test_non_decoupled_stream_one_final(void **state)
{
    (void)state;
    tc__core *core = ut_start(TC_MODELS_DIR);
    tc__infer_request r;
    ut_init_request(&r, "simple");
    r.id = tc__strdup("req-1");
    int32_t a[16];
    int32_t b[16];
    for (int i = 0; i < 16; i++) {
        a[i] = i;
        b[i] = 2;
    }
    const int64_t shape[2] = {1, 16};
    ut_add_input(&r, "INPUT0", TC_DTYPE_INT32, shape, 2, a, sizeof a);
    ut_add_input(&r, "INPUT1", TC_DTYPE_INT32, shape, 2, b, sizeof b);
    ut_collect c;
    stream(core, &r, &c);
    assert_int_equal(c.count, 0);
    assert_int_equal(c.err.code, TC_OK);
    assert_non_null(c.last);
    assert_string_equal(c.last->id, "req-1");
    const tc__tensor *sum = ut_output(c.last, "OUTPUT0");
    assert_non_null(sum);
    int32_t v[16];
    memcpy(v, sum->data, sizeof v);
    assert_int_equal(v[15], 17);
    ut_collect_cleanup(&c);
    tc__infer_request_cleanup(&r);
    tc__core_free(core);
}

static void test_repeat_empty_gives_only_final(void **state)
{
    (void)state;
    tc__core *core = ut_start(TC_MODELS_DIR);
    tc__infer_request r;
    repeat_request(&r, NULL, 0, NULL, 0);
    ut_collect c;
    stream(core, &r, &c);
    assert_int_equal(c.count, 0);
    assert_null(c.last); /* final without payload */
    assert_int_equal(c.err.code, TC_OK);
    ut_collect_cleanup(&c);
    tc__infer_request_cleanup(&r);
    tc__core_free(core);
}

static void test_repeat_responses_in_order(void **state)
{
    (void)state;
    tc__core *core = ut_start(TC_MODELS_DIR);
    const int32_t in[4] = {7, -3, 42, 0};
    const uint32_t delay[4] = {2, 0, 1, 0};
    tc__infer_request r;
    repeat_request(&r, in, 4, delay, 1);
    r.id = tc__strdup("rep");
    ut_collect c;
    stream(core, &r, &c);
    assert_int_equal(c.err.code, TC_OK);
    assert_int_equal(c.count, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(ut_i32(c.resp[i], "OUT"), in[i]);
        assert_int_equal(ut_i32(c.resp[i], "IDX"), (int32_t)i);
        assert_string_equal(c.resp[i]->id, "rep");
        assert_string_equal(c.resp[i]->model_name, "repeat_int32");
        assert_int_equal(ut_output(c.resp[i], "OUT")->ndim, 1);
    }
    assert_null(c.last);
    ut_collect_cleanup(&c);
    tc__infer_request_cleanup(&r);
    /* The statistics count one execution of one request. */
    tc__model_stats *st = NULL;
    size_t n = 0;
    tc__error err;
    assert_int_equal(tc__core_model_stats(core, "repeat_int32", NULL, &st, &n, &err), TC_OK);
    assert_int_equal(n, 1);
    assert_int_equal(st[0].execution_count, 1);
    assert_int_equal(st[0].success.count, 1);
    tc__model_stats_free(st, n);
    tc__core_free(core);
}

static void test_repeat_requested_output_filter(void **state)
{
    (void)state;
    tc__core *core = ut_start(TC_MODELS_DIR);
    const int32_t in[2] = {5, 6};
    const uint32_t delay[2] = {0, 0};
    tc__infer_request r;
    repeat_request(&r, in, 2, delay, 0);
    r.outputs = tc__calloc(1, sizeof *r.outputs);
    r.outputs[0].name = tc__strdup("IDX");
    r.outputs[0].binary = -1;
    r.output_count = 1;
    ut_collect c;
    stream(core, &r, &c);
    assert_int_equal(c.count, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(c.resp[i]->output_count, 1);
        assert_null(ut_output(c.resp[i], "OUT"));
        assert_int_equal(ut_i32(c.resp[i], "IDX"), (int32_t)i);
    }
    ut_collect_cleanup(&c);
    tc__infer_request_cleanup(&r);
    tc__core_free(core);
}

static void test_square_n_responses_and_error(void **state)
{
    (void)state;
    tc__core *core = ut_start(TC_MODELS_DIR);
    int32_t n = 3;
    tc__infer_request r;
    ut_init_request(&r, "square_int32");
    ut_add_input(&r, "IN", TC_DTYPE_INT32, k_one, 1, &n, sizeof n);
    ut_collect c;
    stream(core, &r, &c);
    assert_int_equal(c.count, 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(ut_i32(c.resp[i], "OUT"), 3);
    assert_null(c.last);
    assert_int_equal(c.err.code, TC_OK);
    ut_collect_cleanup(&c);
    /* A negative count fails once, with the final flag and no response. */
    n = -1;
    memcpy(r.inputs[0].owned, &n, sizeof n);
    stream(core, &r, &c);
    assert_int_equal(c.count, 0);
    assert_null(c.last);
    assert_int_equal(c.err.code, TC_E_INVALID_ARG);
    assert_non_null(strstr(c.err.msg, "must not be negative"));
    ut_collect_cleanup(&c);
    /* The backend's execute() failed it: reason BACKEND. */
    tc__model_stats *st = NULL;
    size_t ns = 0;
    tc__error err;
    assert_int_equal(tc__core_model_stats(core, "square_int32", NULL, &st, &ns, &err), TC_OK);
    assert_int_equal(st[0].fail.count, 1);
    assert_int_equal(st[0].fail_by_reason[TC__FAIL_BACKEND], 1);
    assert_int_equal(st[0].fail_by_reason[TC__FAIL_OTHER], 0);
    tc__model_stats_free(st, ns);
    /* Zero: only the final flag. */
    n = 0;
    memcpy(r.inputs[0].owned, &n, sizeof n);
    stream(core, &r, &c);
    assert_int_equal(c.count, 0);
    assert_null(c.last);
    assert_int_equal(c.err.code, TC_OK);
    ut_collect_cleanup(&c);
    tc__infer_request_cleanup(&r);
    tc__core_free(core);
}

static void test_submission_errors_never_call_back(void **state)
{
    (void)state;
    tc__core *core = ut_start(TC_MODELS_DIR);
    int32_t n = 2;
    tc__infer_request r;
    ut_init_request(&r, "square_int32");
    ut_add_input(&r, "IN", TC_DTYPE_INT32, k_one, 1, &n, sizeof n);
    ut_collect c;
    ut_collect_init(&c);
    tc__error err;
    /* Unary inference refuses decoupled models. */
    assert_int_equal(tc__core_infer_async(core, &r, ut_on_done, &c, &err), TC_E_NOT_SUPPORTED);
    assert_non_null(strstr(err.msg, "decoupled"));
    /* A validation error. */
    tc__infer_request bad;
    ut_init_request(&bad, "repeat_int32");
    ut_add_input(&bad, "IN", TC_DTYPE_INT32, k_one, 1, &n, sizeof n);
    assert_int_equal(tc__core_infer_stream(core, &bad, ut_on_stream, &c, &err), TC_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "expected 3 inputs"));
    /* Unknown model. */
    tc__free(bad.model_name);
    bad.model_name = tc__strdup("nope");
    assert_int_equal(tc__core_infer_stream(core, &bad, ut_on_stream, &c, &err), TC_E_NOT_FOUND);
    assert_int_equal(tc__core_infer_stream(core, &bad, NULL, &c, &err), TC_E_INVALID_ARG);
    tc__core_free(core);
    assert_false(c.done);
    assert_int_equal(c.count, 0);
    ut_collect_cleanup(&c);
    tc__infer_request_cleanup(&bad);
    tc__infer_request_cleanup(&r);
}

/* Several streams at once on one decoupled model all complete. */
static void test_concurrent_streams(void **state)
{
    (void)state;
    tc__core *core = ut_start(TC_MODELS_DIR);
    enum { N = 6 };
    tc__infer_request r[N];
    ut_collect c[N];
    tc__error err;
    for (int i = 0; i < N; i++) {
        int32_t n = i;
        ut_init_request(&r[i], "square_int32");
        ut_add_input(&r[i], "IN", TC_DTYPE_INT32, k_one, 1, &n, sizeof n);
        ut_collect_init(&c[i]);
        assert_int_equal(tc__core_infer_stream(core, &r[i], ut_on_stream, &c[i], &err), TC_OK);
    }
    for (int i = 0; i < N; i++) {
        assert_true(ut_wait(&c[i]));
        assert_int_equal(c[i].count, (size_t)i);
        assert_int_equal(c[i].finals, 1);
        ut_collect_cleanup(&c[i]);
        tc__infer_request_cleanup(&r[i]);
    }
    tc__core_free(core);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_non_decoupled_stream_one_final),
    cmocka_unit_test(test_repeat_empty_gives_only_final),
    cmocka_unit_test(test_repeat_responses_in_order),
    cmocka_unit_test(test_repeat_requested_output_filter),
    cmocka_unit_test(test_square_n_responses_and_error),
    cmocka_unit_test(test_submission_errors_never_call_back),
    cmocka_unit_test(test_concurrent_streams),
};

TC_TEST_MAIN(tests)
