/* The sequence batcher: control inputs, correlation-id rules and errors,
 * START / END / restart, idle expiry, implicit state, string ids, the
 * oldest strategy's batching and per-sequence ordering. */
#include <inttypes.h>

#include "core_test_util.h"
#include "proto/model_config.h"

static const int64_t k_shape11[2] = {1, 1};

/* A request of `model` with INPUT = [[v]] and the sequence parameters. */
static void seq_request(tc__infer_request *r, const char *model, uint64_t id, const char *sid,
                        int32_t v, bool start, bool end)
{
    ut_init_request(r, model);
    ut_add_input(r, "INPUT", TC_DTYPE_INT32, k_shape11, 2, &v, sizeof v);
    r->sequence_id = id;
    r->sequence_id_str = sid != NULL ? tc__strdup(sid) : NULL;
    r->sequence_start = start;
    r->sequence_end = end;
}

/* Run one sequence request; the OUTPUT value, or INT32_MIN with *err set. */
static int32_t seq_infer(tc__core *core, const char *model, uint64_t id, const char *sid, int32_t v,
                         bool start, bool end, tc__error *err)
{
    tc__infer_request r;
    seq_request(&r, model, id, sid, v, start, end);
    tc__infer_response *resp = ut_infer(core, &r, err);
    int32_t out = INT32_MIN;
    if (resp != NULL) {
        assert_int_equal(resp->output_count, 1);
        out = ut_i32(resp, "OUTPUT");
        tc__core_response_free(resp);
    }
    tc__infer_request_cleanup(&r);
    return out;
}

static int32_t ok_infer(tc__core *core, const char *model, uint64_t id, const char *sid, int32_t v,
                        bool start, bool end)
{
    tc__error err;
    int32_t out = seq_infer(core, model, id, sid, v, start, end, &err);
    if (err.code != TC_OK)
        fail_msg("%s: %s", model, err.msg);
    return out;
}

/* upstream's simple_*_sequence_sync_infer_client: two interleaved sequences. */
static void test_simple_sequence_interleaved(void **state)
{
    (void)state;
    tc__core *core = ut_start(TC_MODELS_DIR);
    static const int32_t values[] = {11, 7, 5, 3, 2, 0, 1};
    const uint64_t id0 = 1000;
    const uint64_t id1 = 1001;
    assert_int_equal(ok_infer(core, "simple_sequence", id0, NULL, 0, true, false), 1);
    assert_int_equal(ok_infer(core, "simple_sequence", id1, NULL, 100, true, false), 101);
    for (size_t i = 0; i < 7; i++) {
        bool end = i == 6;
        assert_int_equal(ok_infer(core, "simple_sequence", id0, NULL, values[i], false, end),
                         values[i]);
        assert_int_equal(ok_infer(core, "simple_sequence", id1, NULL, -values[i], false, end),
                         -values[i]);
    }
    tc__core_free(core);
}

static void test_dyna_sequence_adds_corrid_at_end(void **state)
{
    (void)state;
    tc__core *core = ut_start(TC_MODELS_DIR);
    const char *m = "simple_dyna_sequence";
    assert_int_equal(ok_infer(core, m, 1000, NULL, 0, true, false), 1);
    assert_int_equal(ok_infer(core, m, 1001, NULL, 100, true, false), 101);
    assert_int_equal(ok_infer(core, m, 1000, NULL, 11, false, false), 11);
    assert_int_equal(ok_infer(core, m, 1001, NULL, -11, false, false), -11);
    assert_int_equal(ok_infer(core, m, 1000, NULL, 1, false, true), 1 + 1000);
    assert_int_equal(ok_infer(core, m, 1001, NULL, -1, false, true), -1 + 1001);
    /* START and END together: INPUT + 1 + CORRID. */
    assert_int_equal(ok_infer(core, m, 7, NULL, 5, true, true), 5 + 1 + 7);
    tc__core_free(core);
}

static void test_string_sequence_accumulates(void **state)
{
    (void)state;
    tc__core *core = ut_start(TC_MODELS_DIR);
    const char *m = "simple_string_dyna_sequence";
    assert_int_equal(ok_infer(core, m, 0, "42", 5, true, false), 5);
    assert_int_equal(ok_infer(core, m, 0, "other", 100, true, false), 100);
    assert_int_equal(ok_infer(core, m, 0, "42", 3, false, false), 8);
    assert_int_equal(ok_infer(core, m, 0, "other", -1, false, false), 99);
    assert_int_equal(ok_infer(core, m, 0, "42", 2, false, true), 8 + 2 + 42);
    /* START on a live id restarts it. */
    assert_int_equal(ok_infer(core, m, 0, "other", 10, true, false), 10);
    assert_int_equal(ok_infer(core, m, 0, "other", 1, false, false), 11);
    /* A 128-character id is fine; 129 is not supported. */
    char id[130];
    memset(id, 'x', sizeof id);
    id[128] = '\0';
    assert_int_equal(ok_infer(core, m, 0, id, 4, true, true), 4);
    id[128] = 'x';
    id[129] = '\0';
    tc__error err;
    assert_int_equal(seq_infer(core, m, 0, id, 4, true, true, &err), INT32_MIN);
    assert_int_equal(err.code, TC_E_NOT_SUPPORTED);
    tc__core_free(core);
}

static void expect_error(tc__core *core, const char *model, uint64_t id, const char *sid,
                         bool start, tc_code code, const char *msg)
{
    tc__error err;
    assert_int_equal(seq_infer(core, model, id, sid, 1, start, false, &err), INT32_MIN);
    assert_int_equal(err.code, code);
    if (strcmp(err.msg, msg) != 0)
        fail_msg("got '%s', want '%s'", err.msg, msg);
}

static void test_sequence_errors(void **state)
{
    (void)state;
    tc__core *core = ut_start(TC_MODELS_DIR);
    expect_error(core, "simple_sequence", 0, NULL, true, TC_E_INVALID_ARG,
                 "inference request to model 'simple_sequence' must specify a non-zero or "
                 "non-empty correlation ID");
    expect_error(core, "simple_sequence", 0, "", true, TC_E_INVALID_ARG,
                 "inference request to model 'simple_sequence' must specify a non-zero or "
                 "non-empty correlation ID");
    expect_error(core, "simple_sequence", 77, NULL, false, TC_E_INVALID_ARG,
                 "inference request for sequence 77 to model 'simple_sequence' must specify "
                 "the START flag on the first request of the sequence");
    expect_error(core, "simple_string_dyna_sequence", 0, "abc", false, TC_E_INVALID_ARG,
                 "inference request for sequence abc to model 'simple_string_dyna_sequence' "
                 "must specify the START flag on the first request of the sequence");
    expect_error(core, "simple_dyna_sequence", 0, "abc", true, TC_E_INVALID_ARG,
                 "sequence batching control 'CORRID' data-type is 'BYTES', but model "
                 "'simple_dyna_sequence' expects 'UINT64'");
    expect_error(core, "simple_string_dyna_sequence", 5, NULL, true, TC_E_INVALID_ARG,
                 "sequence batching control 'CORRID' data-type is 'UINT64', but model "
                 "'simple_string_dyna_sequence' expects 'BYTES'");
    /* Batch size 2. */
    tc__infer_request r;
    ut_init_request(&r, "simple_sequence");
    const int64_t shape[2] = {2, 1};
    const int32_t v[2] = {1, 2};
    ut_add_input(&r, "INPUT", TC_DTYPE_INT32, shape, 2, v, sizeof v);
    r.sequence_id = 5;
    r.sequence_start = true;
    tc__error err;
    assert_null(ut_infer(core, &r, &err));
    assert_int_equal(err.code, TC_E_INVALID_ARG);
    assert_string_equal(err.msg, "inference request to model 'simple_sequence' must specify "
                                 "batch-size 1 due to requirements of sequence batcher");
    tc__infer_request_cleanup(&r);
    /* Failed submissions count as failures. */
    tc__model_stats *st = NULL;
    size_t n = 0;
    assert_int_equal(tc__core_model_stats(core, "simple_sequence", NULL, &st, &n, &err), TC_OK);
    assert_int_equal(st[0].fail.count, 4);
    assert_int_equal(st[0].success.count, 0);
    /* The sequence batcher refused all four: REJECTED, as upstream labels it. */
    assert_int_equal(st[0].fail_by_reason[TC__FAIL_REJECTED], 4);
    assert_int_equal(st[0].fail_by_reason[TC__FAIL_OTHER], 0);
    assert_int_equal(st[0].fail_by_reason[TC__FAIL_BACKEND], 0);
    tc__model_stats_free(st, n);
    tc__core_free(core);
}

static void test_end_forgets_and_start_restarts(void **state)
{
    (void)state;
    tc__core *core = ut_start(TC_MODELS_DIR);
    const char *m = "simple_sequence";
    assert_int_equal(ok_infer(core, m, 9, NULL, 4, true, false), 5);
    assert_int_equal(ok_infer(core, m, 9, NULL, 4, true, false), 5); /* restart */
    assert_int_equal(ok_infer(core, m, 9, NULL, 6, false, true), 6);
    expect_error(core, m, 9, NULL, false, TC_E_INVALID_ARG,
                 "inference request for sequence 9 to model 'simple_sequence' must specify the "
                 "START flag on the first request of the sequence");
    assert_int_equal(ok_infer(core, m, 9, NULL, 2, true, false), 3);
    /* Sequence parameters on a model without sequence batching are ignored. */
    tc__infer_request r;
    ut_init_request(&r, "custom_identity_int32");
    int32_t x = 3;
    ut_add_input(&r, "INPUT0", TC_DTYPE_INT32, k_shape11, 2, &x, sizeof x);
    r.sequence_id = 9;
    tc__error err;
    tc__infer_response *resp = ut_infer(core, &r, &err);
    assert_non_null(resp);
    assert_int_equal(ut_i32(resp, "OUTPUT0"), 3);
    tc__core_response_free(resp);
    tc__infer_request_cleanup(&r);
    tc__core_free(core);
}

static const char k_idle_cfg[] =
    "backend: \"tritonc_sequence\"\n"
    "max_batch_size: 4\n"
    "sequence_batching {\n"
    "  max_sequence_idle_microseconds: 100000\n"
    "  control_input [ { name: \"START\" control [ { kind: CONTROL_SEQUENCE_START "
    "int32_false_true: [ 0, 1 ] } ] } ]\n"
    "  state [ { input_name: \"STATE_IN\" output_name: \"STATE_OUT\" data_type: TYPE_INT32 "
    "dims: [ 1 ] } ]\n"
    "}\n"
    "input [ { name: \"INPUT\" data_type: TYPE_INT32 dims: [ 1 ] } ]\n"
    "output [ { name: \"OUTPUT\" data_type: TYPE_INT32 dims: [ 1 ] } ]\n"
    "instance_group [ { kind: KIND_CPU count: 2 } ]\n";

static void test_idle_sequence_expires(void **state)
{
    (void)state;
    char *repo = ut_repo_with("idle", k_idle_cfg);
    tc__core *core = ut_start(repo);
    assert_int_equal(ok_infer(core, "idle", 1, NULL, 1, true, false), 2);
    assert_int_equal(ok_infer(core, "idle", 1, NULL, 1, false, false), 3);
    /* The idle clock restarted when that request completed, before its
     * result came back: from now on the sequence only ages. */
    uint64_t t0 = tc__now_ns();
    /* Past the 100 ms idle time the sequence is gone. The wait is the
     * timeout under test, not a synchronisation (a request in between would
     * keep the sequence alive). */
    while (tc__now_ns() - t0 < 150000000u) {
        struct timespec ts = {0, 10000000}; /* until the clock says 150 ms */
        (void)nanosleep(&ts, NULL);
    }
    expect_error(core, "idle", 1, NULL, false, TC_E_INVALID_ARG,
                 "inference request for sequence 1 to model 'idle' must specify the START flag "
                 "on the first request of the sequence");
    /* A new START begins with a zero state again. */
    assert_int_equal(ok_infer(core, "idle", 1, NULL, 1, true, false), 2);
    tc__core_free(core);
    ut_repo_remove(repo);
}

/* Implicit state: OUTPUT = state + INPUT + START; separate per sequence, and the
 * state output is not returned. */
static void test_implicit_state_per_sequence(void **state)
{
    (void)state;
    char *repo = ut_repo_with("acc", k_idle_cfg);
    tc__core *core = ut_start(repo);
    assert_int_equal(ok_infer(core, "acc", 1, NULL, 1, true, false), 2);
    assert_int_equal(ok_infer(core, "acc", 2, NULL, 10, true, false), 11);
    assert_int_equal(ok_infer(core, "acc", 1, NULL, 2, false, false), 4);
    assert_int_equal(ok_infer(core, "acc", 2, NULL, 5, false, false), 16);
    assert_int_equal(ok_infer(core, "acc", 1, NULL, 3, false, true), 7);
    assert_int_equal(ok_infer(core, "acc", 1, NULL, 3, true, false), 4); /* fresh state */
    assert_int_equal(ok_infer(core, "acc", 2, NULL, 0, true, false), 1); /* restart */
    tc__core_free(core);
    ut_repo_remove(repo);
}

/* The control tensors the backend sees, for each value form and CORRID type. */
static const char k_controls_cfg[] =
    "name: \"ctl\"\nbackend: \"tritonc_sequence\"\nmax_batch_size: 2\n"
    "sequence_batching {\n control_input [\n"
    "  { name: \"S\" control [ { kind: CONTROL_SEQUENCE_START int32_false_true: [ 5, 7 ] } ] },\n"
    "  { name: \"E\" control [ { kind: CONTROL_SEQUENCE_END fp32_false_true: [ 0.5, 1.5 ] } ] },\n"
    "  { name: \"R\" control [ { kind: CONTROL_SEQUENCE_READY bool_false_true: [ false, true ] } "
    "] },\n"
    "  { name: \"C\" control [ { kind: CONTROL_SEQUENCE_CORRID data_type: TYPE_INT32 } ] }\n ]\n"
    " state [ { input_name: \"SI\" output_name: \"SO\" data_type: TYPE_INT32 dims: [ 3 ] } ]\n}\n"
    "input [ { name: \"INPUT\" data_type: TYPE_INT32 dims: [ 1 ] } ]\n"
    "output [ { name: \"OUTPUT\" data_type: TYPE_INT32 dims: [ 1 ] } ]\n";

static const tc__tensor *find(const tc__infer_request *r, const char *name)
{
    for (size_t i = 0; i < r->input_count; i++) {
        if (strcmp(r->inputs[i].name, name) == 0)
            return &r->inputs[i];
    }
    fail_msg("no input %s", name);
    return NULL;
}

static void test_control_tensors(void **state)
{
    (void)state;
    tc__error err;
    Inference__ModelConfig *cfg = NULL;
    assert_int_equal(
        tc__model_config_from_pbtxt(k_controls_cfg, strlen(k_controls_cfg), &cfg, &err), TC_OK);
    tc__model_handle mv;
    memset(&mv, 0, sizeof mv);
    mv.config = cfg;
    tc__seq seq;
    memset(&seq, 0, sizeof seq);
    seq.id = 0x100000002ull;
    tc__infer_request req;
    seq_request(&req, "ctl", seq.id, NULL, 9, true, false);
    tc__job job;
    memset(&job, 0, sizeof job);
    job.req = &req;
    job.seq = &seq;
    job.seq_start = true;
    tc__infer_request *br = NULL;
    assert_int_equal(tc__seq_request(&mv, &job, &br, &err), TC_OK);
    assert_int_equal(br->input_count, 6);
    assert_ptr_equal(br->inputs[0].data, req.inputs[0].data); /* borrowed */
    const tc__tensor *s = find(br, "S");
    assert_int_equal(s->dtype, TC_DTYPE_INT32);
    assert_int_equal(s->ndim, 2);
    assert_int_equal(s->shape[0], 1);
    assert_int_equal(s->shape[1], 1);
    int32_t i32;
    memcpy(&i32, s->data, 4);
    assert_int_equal(i32, 7);
    const tc__tensor *e = find(br, "E");
    assert_int_equal(e->dtype, TC_DTYPE_FP32);
    float f;
    memcpy(&f, e->data, 4);
    assert_true(f == 0.5f);
    const tc__tensor *r = find(br, "R");
    assert_int_equal(r->dtype, TC_DTYPE_BOOL);
    assert_int_equal(r->byte_size, 1);
    assert_int_equal(r->data[0], 1);
    const tc__tensor *c = find(br, "C");
    assert_int_equal(c->dtype, TC_DTYPE_INT32);
    memcpy(&i32, c->data, 4);
    assert_int_equal(i32, 2); /* low 32 bits */
    const tc__tensor *si = find(br, "SI");
    assert_int_equal(si->ndim, 2);
    assert_int_equal(si->shape[1], 3);
    assert_int_equal(si->byte_size, 12);
    for (size_t k = 0; k < 12; k++)
        assert_int_equal(si->data[k], 0);
    tc__seq_request_free(&job, br);
    /* Not the start, the end; a string id. */
    job.seq_start = false;
    job.seq_end = true;
    seq.is_str = true;
    seq.sid = tc__strdup("abc");
    assert_int_equal(tc__seq_request(&mv, &job, &br, &err), TC_OK);
    memcpy(&i32, find(br, "S")->data, 4);
    assert_int_equal(i32, 5);
    memcpy(&f, find(br, "E")->data, 4);
    assert_true(f == 1.5f);
    c = find(br, "C");
    assert_int_equal(c->dtype, TC_DTYPE_BYTES);
    assert_int_equal(c->byte_size, 7);
    assert_memory_equal(c->data,
                        "\x03\x00\x00\x00"
                        "abc",
                        7);
    tc__seq_request_free(&job, br);
    tc__free(seq.sid);
    tc__infer_request_cleanup(&req);
    tc__model_config_free(cfg);
}

/* Oldest strategy: START requests of several sequences queued together run
 * in fewer executions. */
static void test_oldest_batches_sequences(void **state)
{
    (void)state;
    tc__core *core = ut_start(TC_MODELS_DIR);
    enum { N = 6 };
    tc__infer_request r[N];
    ut_collect c[N];
    tc__error err;
    for (int i = 0; i < N; i++) {
        seq_request(&r[i], "simple_dyna_sequence", 500 + (uint64_t)i, NULL, i, true, false);
        ut_collect_init(&c[i]);
        assert_int_equal(tc__core_infer_async(core, &r[i], ut_on_done, &c[i], &err), TC_OK);
    }
    for (int i = 0; i < N; i++) {
        assert_true(ut_wait(&c[i]));
        assert_int_equal(c[i].err.code, TC_OK);
        assert_int_equal(ut_i32(c[i].last, "OUTPUT"), i + 1);
        ut_collect_cleanup(&c[i]);
        tc__infer_request_cleanup(&r[i]);
    }
    tc__model_stats *st = NULL;
    size_t n = 0;
    assert_int_equal(tc__core_model_stats(core, "simple_dyna_sequence", NULL, &st, &n, &err),
                     TC_OK);
    assert_int_equal(st[0].inference_count, N);
    assert_true(st[0].execution_count < N);
    assert_true(st[0].batch_count >= 1);
    assert_true(st[0].batches[st[0].batch_count - 1].batch_size > 1);
    tc__model_stats_free(st, n);
    tc__core_free(core);
}

typedef struct order_rec {
    pthread_mutex_t lock;
    int next;
    int order[64];
    int32_t out[64];
    int done;
    pthread_cond_t cond;
} order_rec;

typedef struct order_arg {
    order_rec *rec;
    int index;
} order_arg;

static void on_order(tc__infer_response *resp, const tc__error *err, void *user_data)
{
    order_arg *a = user_data;
    order_rec *rec = a->rec;
    pthread_mutex_lock(&rec->lock);
    rec->order[rec->next++] = a->index;
    rec->out[a->index] = err == NULL ? ut_i32(resp, "OUTPUT") : INT32_MIN;
    rec->done++;
    pthread_cond_broadcast(&rec->cond);
    pthread_mutex_unlock(&rec->lock);
    tc__core_response_free(resp);
}

/* Requests of one sequence queued at once run in arrival order, each seeing
 * the right controls. */
static void test_sequence_runs_in_arrival_order(void **state)
{
    (void)state;
    tc__core *core = ut_start(TC_MODELS_DIR);
    enum { N = 12 };
    tc__infer_request r[N];
    order_arg args[N];
    order_rec rec;
    memset(&rec, 0, sizeof rec);
    pthread_mutex_init(&rec.lock, NULL);
    pthread_cond_init(&rec.cond, NULL);
    tc__error err;
    for (int i = 0; i < N; i++) {
        seq_request(&r[i], "simple_dyna_sequence", 77, NULL, 10 * i, i == 0, i == N - 1);
        args[i].rec = &rec;
        args[i].index = i;
        assert_int_equal(tc__core_infer_async(core, &r[i], on_order, &args[i], &err), TC_OK);
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 20;
    pthread_mutex_lock(&rec.lock);
    while (rec.done < N && pthread_cond_timedwait(&rec.cond, &rec.lock, &until) == 0) {
    }
    pthread_mutex_unlock(&rec.lock);
    assert_int_equal(rec.done, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(rec.order[i], i);
        int32_t want = 10 * i + (i == 0 ? 1 : 0) + (i == N - 1 ? 77 : 0);
        assert_int_equal(rec.out[i], want);
        tc__infer_request_cleanup(&r[i]);
    }
    pthread_mutex_destroy(&rec.lock);
    pthread_cond_destroy(&rec.cond);
    tc__core_free(core);
}

static void test_sequence_extension_advertised(void **state)
{
    (void)state;
    tc__core *core = ut_start(TC_MODELS_DIR);
    tc__server_metadata m;
    assert_int_equal(tc__core_server_metadata(core, &m), TC_OK);
    assert_true(m.extension_count > 2);
    assert_string_equal(m.extensions[0], "classification");
    assert_string_equal(m.extensions[1], "sequence");
    tc__server_metadata_cleanup(&m);
    tc__core_free(core);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_sequence_extension_advertised),
    cmocka_unit_test(test_simple_sequence_interleaved),
    cmocka_unit_test(test_dyna_sequence_adds_corrid_at_end),
    cmocka_unit_test(test_string_sequence_accumulates),
    cmocka_unit_test(test_sequence_errors),
    cmocka_unit_test(test_end_forgets_and_start_restarts),
    cmocka_unit_test(test_idle_sequence_expires),
    cmocka_unit_test(test_implicit_state_per_sequence),
    cmocka_unit_test(test_control_tensors),
    cmocka_unit_test(test_oldest_batches_sequences),
    cmocka_unit_test(test_sequence_runs_in_arrival_order),
};

TC_TEST_MAIN(tests)
