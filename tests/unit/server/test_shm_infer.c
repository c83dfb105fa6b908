/* Inference through shared memory in the core (core/shm_infer.c): inputs
 * read from regions, outputs written into them, window checks before any
 * access, overlapping windows, BYTES inside a window, regions unregistered
 * while a request is in flight, in-place outputs and CUDA regions (through
 * the stand-in runtime). Each test creates and unlinks its shm objects. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core_test_util.h"

#include "core/shm_registry.h"

typedef struct obj {
    char key[64];
    uint8_t *p;
    size_t size;
} obj;

static void obj_make(obj *o, const char *tag, size_t size)
{
    (void)snprintf(o->key, sizeof o->key, "/tc-ut-shmi-%d-%s", (int)getpid(), tag);
    int fd = shm_open(o->key, O_RDWR | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)size), 0);
    o->p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    assert_true(o->p != MAP_FAILED);
    assert_int_equal(close(fd), 0);
    o->size = size;
}

static void obj_free(obj *o)
{
    assert_int_equal(munmap(o->p, o->size), 0);
    assert_int_equal(shm_unlink(o->key), 0);
}

static void shm_input(tc__infer_request *r, const char *name, tc_dtype t, const int64_t *shape,
                      size_t ndim, const char *region, uint64_t offset, uint64_t size)
{
    ut_add_input(r, name, t, shape, ndim, "", 0);
    tc__tensor *x = &r->inputs[r->input_count - 1];
    tc__free(x->owned);
    x->owned = NULL;
    x->data = NULL;
    x->byte_size = 0;
    x->shm.region = tc__strdup(region);
    x->shm.offset = offset;
    x->shm.byte_size = size;
}

static void shm_output(tc__infer_request *r, const char *name, const char *region, uint64_t offset,
                       uint64_t size)
{
    r->outputs = tc__reallocarray(r->outputs, r->output_count + 1, sizeof *r->outputs);
    assert_non_null(r->outputs);
    tc__requested_output *o = &r->outputs[r->output_count++];
    memset(o, 0, sizeof *o);
    o->name = tc__strdup(name);
    o->binary = -1;
    o->shm.region = tc__strdup(region);
    o->shm.offset = offset;
    o->shm.byte_size = size;
}

static tc__core *start_models(void)
{
    return ut_start(TC_MODELS_DIR);
}

/* INPUT0 = 0..15, INPUT1 = 1 at `in` + 0 / + 64. */
static void fill_simple(uint8_t *in)
{
    for (int32_t i = 0; i < 16; i++) {
        int32_t one = 1;
        memcpy(in + 4 * i, &i, 4);
        memcpy(in + 64 + 4 * i, &one, 4);
    }
}

static void check_simple(const uint8_t *out)
{
    for (int32_t i = 0; i < 16; i++) {
        int32_t sum;
        int32_t diff;
        memcpy(&sum, out + 4 * i, 4);
        memcpy(&diff, out + 64 + 4 * i, 4);
        assert_int_equal(sum, i + 1);
        assert_int_equal(diff, i - 1);
    }
}

static tc__infer_response *run_simple(tc__core *core, const char *in_region, const char *out_region,
                                      uint64_t out_offset, tc__error *err)
{
    tc__infer_request r;
    ut_init_request(&r, "simple");
    int64_t shape[] = {1, 16};
    shm_input(&r, "INPUT0", TC_DTYPE_INT32, shape, 2, in_region, 0, 64);
    shm_input(&r, "INPUT1", TC_DTYPE_INT32, shape, 2, in_region, 64, 64);
    shm_output(&r, "OUTPUT0", out_region, out_offset, 64);
    shm_output(&r, "OUTPUT1", out_region, out_offset + 64, 64);
    tc__infer_response *resp = ut_infer(core, &r, err);
    tc__infer_request_cleanup(&r);
    return resp;
}

static void simple_through_system_shm(void **state)
{
    (void)state;
    obj in;
    obj out;
    obj_make(&in, "in", 128);
    obj_make(&out, "out", 256);
    fill_simple(in.p);
    tc__core *core = start_models();
    tc__error err;
    assert_int_equal(tc__core_shm_register_system(core, "input_data", in.key, 0, 128, &err), TC_OK);
    assert_int_equal(tc__core_shm_register_system(core, "output_data", out.key, 0, 256, &err),
                     TC_OK);
    tc__infer_response *resp = run_simple(core, "input_data", "output_data", 128, &err);
    assert_non_null(resp);
    check_simple(out.p + 128);
    assert_int_equal(resp->output_count, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_non_null(resp->outputs[i].shm.region); /* codecs send no data */
        assert_null(resp->outputs[i].data);
        assert_int_equal(resp->outputs[i].ndim, 2);
    }
    tc__core_response_free(resp);
    tc__core_free(core);
    obj_free(&in);
    obj_free(&out);
}

/* Outputs written over their own inputs: the sums and differences must
 * come from the original inputs (outputs are written after execution). */
static void overlapping_input_output(void **state)
{
    (void)state;
    obj io;
    obj_make(&io, "io", 128);
    fill_simple(io.p);
    tc__core *core = start_models();
    tc__error err;
    assert_int_equal(tc__core_shm_register_system(core, "io", io.key, 0, 128, &err), TC_OK);
    assert_int_equal(tc__core_shm_register_system(core, "io2", io.key, 0, 128, &err), TC_OK);
    tc__infer_response *resp = run_simple(core, "io", "io2", 0, &err);
    assert_non_null(resp);
    tc__core_response_free(resp);
    check_simple(io.p);
    tc__core_free(core);
    obj_free(&io);
}

static void window_errors(void **state)
{
    (void)state;
    obj in;
    obj_make(&in, "w", 128);
    fill_simple(in.p);
    tc__core *core = start_models();
    tc__error err;
    assert_int_equal(tc__core_shm_register_system(core, "in", in.key, 0, 128, &err), TC_OK);
    assert_int_equal(tc__core_shm_register_system(core, "small", in.key, 0, 32, &err), TC_OK);
    int64_t shape[] = {1, 16};
    struct {
        const char *region;
        uint64_t offset, size;
        tc_code code;
        const char *msg;
    } cases[] = {
        {"nope", 0, 64, TC_E_NOT_FOUND, "Unable to find shared memory region: 'nope'"},
        {"in", 128, 0, TC_E_INVALID_ARG, "Invalid offset for shared memory region: 'in'"},
        {"in", UINT64_MAX, 64, TC_E_INVALID_ARG, "Invalid offset for shared memory region: 'in'"},
        {"in", 96, 64, TC_E_INVALID_ARG,
         "Invalid offset + byte size for shared memory region: 'in'"},
        {"in", 64, UINT64_MAX - 32, TC_E_INVALID_ARG,
         "Invalid offset + byte size for shared memory region: 'in'"},
        {"small", 0, 64, TC_E_INVALID_ARG,
         "Invalid offset + byte size for shared memory region: 'small'"},
        {"in", 0, 60, TC_E_INVALID_ARG,
         "input byte size mismatch for input 'INPUT0' for model 'simple'. Expected 64, got 60"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tc__infer_request r;
        ut_init_request(&r, "simple");
        shm_input(&r, "INPUT0", TC_DTYPE_INT32, shape, 2, cases[i].region, cases[i].offset,
                  cases[i].size);
        shm_input(&r, "INPUT1", TC_DTYPE_INT32, shape, 2, "in", 64, 64);
        ut_collect c;
        ut_collect_init(&c);
        tc__error_clear(&err);
        assert_int_equal(tc__core_infer_async(core, &r, ut_on_done, &c, &err), cases[i].code);
        assert_string_equal(err.msg, cases[i].msg);
        ut_collect_cleanup(&c);
        tc__infer_request_cleanup(&r);
    }
    /* Output windows are checked at submission too. */
    tc__infer_response *resp = run_simple(core, "in", "small", 32, &err);
    assert_null(resp);
    assert_int_equal(err.code, TC_E_INVALID_ARG);
    assert_string_equal(err.msg, "Invalid offset for shared memory region: 'small'");
    tc__core_free(core);
    obj_free(&in);
}

static void output_too_small(void **state)
{
    (void)state;
    obj in;
    obj_make(&in, "ts", 256);
    fill_simple(in.p);
    tc__core *core = start_models();
    tc__error err;
    assert_int_equal(tc__core_shm_register_system(core, "in", in.key, 0, 256, &err), TC_OK);
    tc__infer_request r;
    ut_init_request(&r, "simple");
    int64_t shape[] = {1, 16};
    shm_input(&r, "INPUT0", TC_DTYPE_INT32, shape, 2, "in", 0, 64);
    shm_input(&r, "INPUT1", TC_DTYPE_INT32, shape, 2, "in", 64, 64);
    shm_output(&r, "OUTPUT0", "in", 128, 60);
    tc__infer_response *resp = ut_infer(core, &r, &err);
    assert_null(resp);
    assert_int_equal(err.code, TC_E_INTERNAL);
    assert_string_equal(err.msg, "shared memory size specified with the request for output "
                                 "'OUTPUT0' (60 bytes) should be at least 64 bytes to hold the "
                                 "results");
    tc__infer_request_cleanup(&r);
    tc__core_free(core);
    obj_free(&in);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4); /* little-endian hosts only, as the server */
}

static void bytes_in_window(void **state)
{
    (void)state;
    obj b;
    obj_make(&b, "bytes", 256);
    /* "hello" "ab" at 0 (15 bytes); a prefix claiming 100 bytes at 64. */
    put_u32(b.p, 5);
    memcpy(b.p + 4, "hello", 5);
    put_u32(b.p + 9, 2);
    memcpy(b.p + 13, "ab", 2);
    put_u32(b.p + 64, 100);
    tc__core *core = start_models();
    tc__error err;
    assert_int_equal(tc__core_shm_register_system(core, "b", b.key, 0, 256, &err), TC_OK);
    int64_t shape[] = {1, 2};
    tc__infer_request r;
    ut_init_request(&r, "simple_identity");
    shm_input(&r, "INPUT0", TC_DTYPE_BYTES, shape, 2, "b", 0, 15);
    shm_output(&r, "OUTPUT0", "b", 128, 64);
    tc__infer_response *resp = ut_infer(core, &r, &err);
    assert_non_null(resp);
    tc__core_response_free(resp);
    assert_memory_equal(b.p + 128, b.p, 15);
    tc__infer_request_cleanup(&r);

    /* The window cuts the second element: its prefix lies inside, its bytes do not. */
    int64_t s1[] = {1, 1};
    const struct {
        uint64_t offset, size;
        const int64_t *shape;
    } bad[] = {{0, 14, shape}, {0, 11, shape}, {64, 104 - 1, s1}, {64, 3, s1}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ut_init_request(&r, "simple_identity");
        shm_input(&r, "INPUT0", TC_DTYPE_BYTES, bad[i].shape, 2, "b", bad[i].offset, bad[i].size);
        ut_collect c;
        ut_collect_init(&c);
        assert_int_equal(tc__core_infer_async(core, &r, ut_on_done, &c, &err), TC_E_INVALID_ARG);
        assert_non_null(strstr(err.msg, "incomplete string length indicator"));
        ut_collect_cleanup(&c);
        tc__infer_request_cleanup(&r);
    }
    tc__core_free(core);
    obj_free(&b);
}

#define SLOW_CONFIG                                                                                \
    "name: \"slow\"\nbackend: \"tritonc_identity\"\nmax_batch_size: 8\n"                           \
    "input [ { name: \"INPUT0\" data_type: TYPE_INT32 dims: [ -1 ] } ]\n"                          \
    "output [ { name: \"OUTPUT0\" data_type: TYPE_INT32 dims: [ -1 ] } ]\n"                        \
    "parameters [ { key: \"execute_delay_ms\" value: { string_value: \"300\" } } ]\n"

/* Unregistering while a request runs: the call succeeds, the region stays
 * mapped for the request, which still writes its output. */
static void unregister_during_inference(void **state)
{
    (void)state;
    obj o;
    obj_make(&o, "slow", 4096);
    for (int32_t i = 0; i < 8; i++)
        memcpy(o.p + 4 * i, &i, 4);
    char *repo = ut_repo_with("slow", SLOW_CONFIG);
    tc__core *core = ut_start(repo);
    tc__error err;
    assert_int_equal(tc__core_shm_register_system(core, "in", o.key, 0, 2048, &err), TC_OK);
    assert_int_equal(tc__core_shm_register_system(core, "out", o.key, 2048, 2048, &err), TC_OK);
    tc__infer_request r;
    ut_init_request(&r, "slow");
    int64_t shape[] = {1, 8};
    shm_input(&r, "INPUT0", TC_DTYPE_INT32, shape, 2, "in", 0, 32);
    shm_output(&r, "OUTPUT0", "out", 0, 32);
    ut_collect c;
    ut_collect_init(&c);
    assert_int_equal(tc__core_infer_async(core, &r, ut_on_done, &c, &err), TC_OK);
    assert_int_equal(tc__core_shm_unregister(core, TC__SHM_SYSTEM, NULL, &err), TC_OK);
    tc__shm_status *s = NULL;
    size_t n = 0;
    assert_int_equal(tc__core_shm_status(core, TC__SHM_SYSTEM, NULL, &s, &n, &err), TC_OK);
    assert_int_equal(n, 0);
    tc__shm_status_free(s, n);
    /* A new request cannot use the gone region; the name can be reused. */
    tc__infer_request r2;
    ut_init_request(&r2, "slow");
    shm_input(&r2, "INPUT0", TC_DTYPE_INT32, shape, 2, "in", 0, 32);
    ut_collect c2;
    ut_collect_init(&c2);
    assert_int_equal(tc__core_infer_async(core, &r2, ut_on_done, &c2, &err), TC_E_NOT_FOUND);
    ut_collect_cleanup(&c2);
    tc__infer_request_cleanup(&r2);
    assert_int_equal(tc__core_shm_register_system(core, "in", o.key, 0, 64, &err), TC_OK);

    assert_true(ut_wait(&c));
    assert_int_equal(c.err.code, TC_OK);
    assert_non_null(c.last);
    assert_memory_equal(o.p + 2048, o.p, 32);
    ut_collect_cleanup(&c);
    tc__infer_request_cleanup(&r);
    tc__core_free(core);
    ut_repo_remove(repo);
    obj_free(&o);
}

/* The identity backend builds an output straight in its window unless the
 * window aliases an input; the inline path works the same. */
static void placed_outputs(void **state)
{
    (void)state;
    obj o;
    obj_make(&o, "place", 4096);
    for (int32_t i = 0; i < 16; i++)
        memcpy(o.p + 4 * i, &i, 4);
    tc__core *core = start_models();
    tc__error err;
    assert_int_equal(tc__core_shm_register_system(core, "a", o.key, 0, 4096, &err), TC_OK);
    tc__infer_request r;
    ut_init_request(&r, "custom_identity_int32");
    int64_t shape[] = {1, 16};
    shm_input(&r, "INPUT0", TC_DTYPE_INT32, shape, 2, "a", 0, 64);
    shm_output(&r, "OUTPUT0", "a", 1024, 64);
    tc__shm_binding *b = NULL;
    assert_int_equal(tc__shm_bind(core, &r, &b, &err), TC_OK);
    assert_non_null(b);
    assert_ptr_equal(tc__shm_binding_place(b, "OUTPUT0", 64),
                     tc__shm_binding_request(b)->inputs[0].data + 1024);
    assert_null(tc__shm_binding_place(b, "OUTPUT0", 65));
    assert_null(tc__shm_binding_place(b, "OTHER", 4));
    tc__shm_binding_free(b);

    tc__infer_response *resp = NULL;
    tc_code rc = tc__core_infer_inline(core, &r, &resp, &err);
    if (rc == TC_E_BUSY)
        resp = ut_infer(core, &r, &err);
    assert_non_null(resp);
    tc__core_response_free(resp);
    assert_memory_equal(o.p + 1024, o.p, 64);

    /* Aliasing (shifted by 4 bytes): no in-place output, still correct. */
    r.outputs[0].shm.offset = 4;
    assert_int_equal(tc__shm_bind(core, &r, &b, &err), TC_OK);
    assert_null(tc__shm_binding_place(b, "OUTPUT0", 64));
    tc__shm_binding_free(b);
    resp = ut_infer(core, &r, &err);
    assert_non_null(resp);
    tc__core_response_free(resp);
    for (int32_t i = 0; i < 16; i++) {
        int32_t v;
        memcpy(&v, o.p + 4 + 4 * i, 4);
        assert_int_equal(v, i);
    }
    tc__infer_request_cleanup(&r);
    tc__core_free(core);
    obj_free(&o);
}

/* CUDA regions through the stand-in runtime: inputs staged in, outputs out. */
static void simple_through_cuda_stand_in(void **state)
{
    (void)state;
    assert_int_equal(setenv("TC_CUDART_PATH", TC_FAKE_CUDART, 1), 0);
    obj dev;
    obj_make(&dev, "dev", 4096);
    fill_simple(dev.p);
    tc__core *core = start_models();
    tc__error err;
    uint8_t h[64] = {0};
    memcpy(h, "TCFAKEIPC:", 10);
    memcpy(h + 10, dev.key, strnlen(dev.key, 53));
    assert_int_equal(tc__core_shm_register_cuda(core, "gpu", h, 64, 0, 4096, &err), TC_OK);
    tc__infer_response *resp = run_simple(core, "gpu", "gpu", 0, &err); /* overlapping too */
    assert_non_null(resp);
    tc__core_response_free(resp);
    check_simple(dev.p);
    assert_int_equal(tc__core_shm_unregister(core, TC__SHM_CUDA, "gpu", &err), TC_OK);
    tc__core_free(core);
    obj_free(&dev);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(simple_through_system_shm),
    cmocka_unit_test(overlapping_input_output),
    cmocka_unit_test(window_errors),
    cmocka_unit_test(output_too_small),
    cmocka_unit_test(bytes_in_window),
    cmocka_unit_test(unregister_during_inference),
    cmocka_unit_test(placed_outputs),
    cmocka_unit_test(simple_through_cuda_stand_in),
};

TC_TEST_MAIN(tests)
