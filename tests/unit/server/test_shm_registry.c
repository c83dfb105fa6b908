/* The shared-memory region registry (core/shm_registry.c): registration
 * checks, status, unregister, reference counting and checked windows.
 * Each test creates its own POSIX shm objects and unlinks them. CUDA
 * regions use the stand-in runtime (fake_cudart.c) through $TC_CUDART_PATH,
 * or a path that does not exist for "GPUs not supported". */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tc_test.h"

#include "core/shm_registry.h"

/* A shm object of `size` bytes named "/tc-ut-shm-<pid>-<tag>", filled with
 * byte i % 251 at offset i. Returns its name in `name`. */
static void make_object(char *name, size_t cap, const char *tag, size_t size)
{
    (void)snprintf(name, cap, "/tc-ut-shm-%d-%s", (int)getpid(), tag);
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)size), 0);
    uint8_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    assert_true(p != MAP_FAILED);
    for (size_t i = 0; i < size; i++)
        p[i] = (uint8_t)(i % 251);
    assert_int_equal(munmap(p, size), 0);
    assert_int_equal(close(fd), 0);
}

static void no_cuda(void)
{
    assert_int_equal(setenv("TC_CUDART_PATH", "/nonexistent/libcudart.so", 1), 0);
}

static void register_status_unregister(void **state)
{
    (void)state;
    char key[64];
    make_object(key, sizeof key, "a", 8192);
    tc__shm_registry *reg = tc__shm_registry_new();
    tc__error err;
    assert_int_equal(tc__shm_register_system(reg, "r1", key, 4096, 100, &err), TC_OK);
    assert_int_equal(tc__shm_register_system(reg, "r0", key, 0, 8192, &err), TC_OK);

    tc__shm_status *s = NULL;
    size_t n = 0;
    assert_int_equal(tc__shm_registry_status(reg, TC__SHM_SYSTEM, NULL, &s, &n, &err), TC_OK);
    assert_int_equal(n, 2);
    assert_string_equal(s[0].name, "r0"); /* sorted by name */
    assert_string_equal(s[1].name, "r1");
    assert_string_equal(s[1].key, key);
    assert_int_equal(s[1].offset, 4096);
    assert_int_equal(s[1].byte_size, 100);
    tc__shm_status_free(s, n);

    assert_int_equal(tc__shm_registry_status(reg, TC__SHM_CUDA, NULL, &s, &n, &err), TC_OK);
    assert_int_equal(n, 0);
    tc__shm_status_free(s, n);
    assert_int_equal(tc__shm_registry_status(reg, TC__SHM_CUDA, "r1", &s, &n, &err),
                     TC_E_NOT_FOUND);
    assert_string_equal(err.msg, "The region named 'r1' is registered as system shared memory, "
                                 "not CUDA shared memory");
    assert_int_equal(tc__shm_registry_status(reg, TC__SHM_SYSTEM, "zz", &s, &n, &err),
                     TC_E_NOT_FOUND);
    assert_string_equal(err.msg, "Unable to find system shared memory region: 'zz'");
    assert_int_equal(tc__shm_registry_status(reg, TC__SHM_CUDA, "zz", &s, &n, &err),
                     TC_E_NOT_FOUND);
    assert_string_equal(err.msg, "Unable to find cuda shared memory region: 'zz'");

    /* The registered window starts at the object offset. */
    tc__shm_region *r = tc__shm_acquire(reg, "r1", &err);
    assert_non_null(r);
    assert_int_equal(tc__shm_region_host(r, 0)[0], 4096 % 251);
    tc__shm_region_release(r);

    assert_int_equal(tc__shm_unregister(reg, TC__SHM_SYSTEM, "nope", &err), TC_OK);
    assert_int_equal(tc__shm_unregister(reg, TC__SHM_CUDA, "r1", &err), TC_OK); /* other kind */
    assert_int_equal(tc__shm_registry_status(reg, TC__SHM_SYSTEM, "r1", &s, &n, &err), TC_OK);
    tc__shm_status_free(s, n);
    assert_int_equal(tc__shm_unregister(reg, TC__SHM_SYSTEM, "r1", &err), TC_OK);
    assert_int_equal(tc__shm_registry_status(reg, TC__SHM_SYSTEM, "r1", &s, &n, &err),
                     TC_E_NOT_FOUND);
    assert_int_equal(tc__shm_unregister(reg, TC__SHM_SYSTEM, NULL, &err), TC_OK);
    assert_int_equal(tc__shm_registry_status(reg, TC__SHM_SYSTEM, NULL, &s, &n, &err), TC_OK);
    assert_int_equal(n, 0);
    tc__shm_status_free(s, n);
    tc__shm_registry_free(reg);
    assert_int_equal(shm_unlink(key), 0);
}

static void duplicate_and_bad_args(void **state)
{
    (void)state;
    char key[64];
    make_object(key, sizeof key, "b", 4096);
    tc__shm_registry *reg = tc__shm_registry_new();
    tc__error err;
    assert_int_equal(tc__shm_register_system(reg, "r", key, 0, 4096, &err), TC_OK);
    assert_int_equal(tc__shm_register_system(reg, "r", key, 0, 16, &err), TC_E_ALREADY_EXISTS);
    assert_string_equal(err.msg, "shared memory region 'r' already in manager");

    /* Past the end, overflowing, empty. */
    assert_int_equal(tc__shm_register_system(reg, "x", key, 0, 4097, &err), TC_E_INVALID_ARG);
    assert_string_equal(err.msg, "failed to register shared memory region 'x': invalid args");
    assert_int_equal(tc__shm_register_system(reg, "x", key, 1, 4096, &err), TC_E_INVALID_ARG);
    assert_int_equal(tc__shm_register_system(reg, "x", key, 4096, 1, &err), TC_E_INVALID_ARG);
    assert_int_equal(tc__shm_register_system(reg, "x", key, UINT64_MAX, 2, &err), TC_E_INVALID_ARG);
    assert_int_equal(tc__shm_register_system(reg, "x", key, 2, UINT64_MAX, &err), TC_E_INVALID_ARG);
    assert_int_equal(tc__shm_register_system(reg, "x", key, 0, 0, &err), TC_E_INVALID_ARG);

    /* Keys: missing object, malformed, reserved. */
    assert_int_equal(tc__shm_register_system(reg, "x", "/tc-ut-shm-does-not-exist", 0, 1, &err),
                     TC_E_INTERNAL);
    assert_string_equal(err.msg,
                        "Unable to open shared memory region: '/tc-ut-shm-does-not-exist'");
    const char *bad[] = {"", "/", "/a/b", "a/b", "/..", ".", "//x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(tc__shm_register_system(reg, "x", bad[i], 0, 1, &err), TC_E_INVALID_ARG);
    char longkey[300];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[0] = '/';
    longkey[sizeof longkey - 1] = '\0';
    assert_int_equal(tc__shm_register_system(reg, "x", longkey, 0, 1, &err), TC_E_INVALID_ARG);
    assert_int_equal(
        tc__shm_register_system(reg, "x", "/triton_python_backend_shm_region_1", 0, 1, &err),
        TC_E_INVALID_ARG);
    assert_non_null(strstr(err.msg, "reserved prefix"));
    assert_int_equal(
        tc__shm_register_system(reg, "x", "triton_python_backend_shm_region_1", 0, 1, &err),
        TC_E_INVALID_ARG);
    assert_int_equal(tc__shm_register_system(reg, "", key, 0, 1, &err), TC_E_INVALID_ARG);

    tc__shm_status *s = NULL;
    size_t n = 0;
    assert_int_equal(tc__shm_registry_status(reg, TC__SHM_SYSTEM, NULL, &s, &n, &err), TC_OK);
    assert_int_equal(n, 1); /* only "r" */
    tc__shm_status_free(s, n);
    tc__shm_registry_free(reg);
    assert_int_equal(shm_unlink(key), 0);
}

static void windows_checked(void **state)
{
    (void)state;
    char key[64];
    make_object(key, sizeof key, "c", 8192);
    tc__shm_registry *reg = tc__shm_registry_new();
    tc__error err;
    assert_int_equal(tc__shm_register_system(reg, "w", key, 4096, 64, &err), TC_OK);
    assert_int_equal(tc__shm_register_system(reg, "w2", key, 4096, 4096, &err), TC_OK);
    tc__shm_region *r = tc__shm_acquire(reg, "w", &err);
    tc__shm_region *r2 = tc__shm_acquire(reg, "w2", &err);
    assert_non_null(r);
    assert_null(tc__shm_acquire(reg, "none", &err));
    assert_int_equal(err.code, TC_E_NOT_FOUND);
    assert_string_equal(err.msg, "Unable to find shared memory region: 'none'");

    assert_int_equal(tc__shm_region_check(r, 0, 64, &err), TC_OK);
    assert_int_equal(tc__shm_region_check(r, 63, 1, &err), TC_OK);
    assert_int_equal(tc__shm_region_check(r, 64, 0, &err), TC_E_INVALID_ARG);
    assert_string_equal(err.msg, "Invalid offset for shared memory region: 'w'");
    assert_int_equal(tc__shm_region_check(r, UINT64_MAX, 1, &err), TC_E_INVALID_ARG);
    assert_int_equal(tc__shm_region_check(r, 1, 64, &err), TC_E_INVALID_ARG);
    assert_string_equal(err.msg, "Invalid offset + byte size for shared memory region: 'w'");
    assert_int_equal(tc__shm_region_check(r, 8, UINT64_MAX, &err), TC_E_INVALID_ARG);
    assert_int_equal(tc__shm_region_check(r, 8, UINT64_MAX - 7, &err), TC_E_INVALID_ARG);

    /* Same object: [4096+0, 4096+64) of w against windows of w2. */
    assert_true(tc__shm_windows_alias(r, 0, 64, r2, 32, 64));
    assert_false(tc__shm_windows_alias(r, 0, 64, r2, 64, 64));
    assert_false(tc__shm_windows_alias(r, 0, 0, r2, 0, 64));

    uint8_t buf[4] = {9, 8, 7, 6};
    assert_int_equal(tc__shm_region_write(r2, 64, buf, sizeof buf, &err), TC_OK);
    uint8_t back[4];
    assert_int_equal(tc__shm_region_read(r2, 64, back, sizeof back, &err), TC_OK);
    assert_memory_equal(back, buf, sizeof buf);
    tc__shm_region_release(r);
    tc__shm_region_release(r2);
    tc__shm_registry_free(reg);
    assert_int_equal(shm_unlink(key), 0);
}

/* A held region survives unregister; the name is free again at once. */
static void held_region_outlives_unregister(void **state)
{
    (void)state;
    char key[64];
    make_object(key, sizeof key, "d", 4096);
    tc__shm_registry *reg = tc__shm_registry_new();
    tc__error err;
    assert_int_equal(tc__shm_register_system(reg, "h", key, 0, 4096, &err), TC_OK);
    tc__shm_region *held = tc__shm_acquire(reg, "h", &err);
    assert_non_null(held);
    assert_int_equal(tc__shm_unregister(reg, TC__SHM_SYSTEM, "h", &err), TC_OK);
    assert_null(tc__shm_acquire(reg, "h", &err));
    uint8_t *p = tc__shm_region_host(held, 100);
    assert_int_equal(p[0], 100); /* still mapped */
    p[0] = 42;
    assert_int_equal(tc__shm_register_system(reg, "h", key, 0, 128, &err), TC_OK);
    tc__shm_region *again = tc__shm_acquire(reg, "h", &err);
    assert_int_equal(tc__shm_region_size(again), 128);
    assert_int_equal(tc__shm_region_host(again, 100)[0], 42);
    tc__shm_region_release(again);
    tc__shm_region_release(held); /* unmaps the old mapping */
    tc__shm_registry_free(reg);
    assert_int_equal(shm_unlink(key), 0);
}

static void cuda_without_gpu(void **state)
{
    (void)state;
    no_cuda();
    tc__shm_registry *reg = tc__shm_registry_new();
    tc__error err;
    uint8_t handle[64] = {0};
    assert_int_equal(tc__shm_register_cuda(reg, "c", handle, sizeof handle, 0, 16, &err),
                     TC_E_INVALID_ARG);
    assert_string_equal(err.msg,
                        "failed to register CUDA shared memory region: 'c', GPUs not supported");
    assert_int_equal(tc__shm_register_cuda(reg, "c", handle, 63, 0, 16, &err), TC_E_INVALID_ARG);
    tc__shm_status *s = NULL;
    size_t n = 0;
    assert_int_equal(tc__shm_registry_status(reg, TC__SHM_CUDA, NULL, &s, &n, &err), TC_OK);
    assert_int_equal(n, 0);
    tc__shm_status_free(s, n);
    assert_int_equal(tc__shm_unregister(reg, TC__SHM_CUDA, NULL, &err), TC_OK);
    tc__shm_registry_free(reg);
}

static void fake_handle(uint8_t out[64], const char *key)
{
    memset(out, 0, 64);
    int n = snprintf((char *)out, 64, "TCFAKEIPC:%s", key);
    assert_true(n > 0 && n < 64);
}

/* CUDA regions through the stand-in runtime: one namespace with system
 * regions, device bounds, copies in and out. */
static void cuda_with_stand_in(void **state)
{
    (void)state;
    assert_int_equal(setenv("TC_CUDART_PATH", TC_FAKE_CUDART, 1), 0);
    char key[64];
    make_object(key, sizeof key, "e", 4096);
    tc__shm_registry *reg = tc__shm_registry_new();
    tc__error err;
    uint8_t h[64];
    fake_handle(h, key);
    assert_int_equal(tc__shm_register_system(reg, "sys", key, 0, 64, &err), TC_OK);
    assert_int_equal(tc__shm_register_cuda(reg, "sys", h, 64, 0, 64, &err), TC_E_ALREADY_EXISTS);
    assert_int_equal(tc__shm_register_cuda(reg, "g", h, 64, 0, 4097, &err), TC_E_INVALID_ARG);
    assert_string_equal(err.msg, "failed to register shared memory region 'g': invalid args");
    assert_int_equal(tc__shm_register_cuda(reg, "g", h, 64, 1, 64, &err), TC_E_INVALID_ARG);
    uint8_t junk[64] = {1};
    assert_int_equal(tc__shm_register_cuda(reg, "g", junk, 64, 0, 64, &err), TC_E_INVALID_ARG);
    assert_int_equal(tc__shm_register_cuda(reg, "g", h, 64, 0, 4096, &err), TC_OK);
    assert_int_equal(tc__shm_register_system(reg, "g", key, 0, 64, &err), TC_E_ALREADY_EXISTS);

    tc__shm_status *s = NULL;
    size_t n = 0;
    assert_int_equal(tc__shm_registry_status(reg, TC__SHM_CUDA, NULL, &s, &n, &err), TC_OK);
    assert_int_equal(n, 1);
    assert_string_equal(s[0].name, "g");
    assert_int_equal(s[0].device_id, 0);
    assert_int_equal(s[0].byte_size, 4096);
    assert_null(s[0].key);
    tc__shm_status_free(s, n);
    assert_int_equal(tc__shm_registry_status(reg, TC__SHM_SYSTEM, "g", &s, &n, &err),
                     TC_E_NOT_FOUND);
    assert_string_equal(err.msg, "The region named 'g' is registered as CUDA shared memory, not "
                                 "system shared memory");

    tc__shm_region *g = tc__shm_acquire(reg, "g", &err);
    assert_true(tc__shm_region_is_cuda(g));
    assert_null(tc__shm_region_host(g, 0));
    uint8_t v[3] = {0};
    assert_int_equal(tc__shm_region_read(g, 10, v, 3, &err), TC_OK);
    assert_int_equal(v[0], 10);
    assert_int_equal(v[2], 12);
    /* A CUDA window never aliases a system one (its data is staged). */
    tc__shm_region *sys = tc__shm_acquire(reg, "sys", &err);
    assert_false(tc__shm_windows_alias(g, 0, 64, sys, 0, 64));
    tc__shm_region_release(sys);
    assert_int_equal(tc__shm_unregister(reg, TC__SHM_CUDA, NULL, &err), TC_OK);
    assert_int_equal(tc__shm_region_read(g, 20, v, 1, &err), TC_OK); /* still open */
    assert_int_equal(v[0], 20);
    tc__shm_region_release(g);
    assert_int_equal(tc__shm_registry_status(reg, TC__SHM_SYSTEM, NULL, &s, &n, &err), TC_OK);
    assert_int_equal(n, 1); /* unregistering CUDA left the system region */
    tc__shm_status_free(s, n);
    tc__shm_registry_free(reg);
    assert_int_equal(shm_unlink(key), 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(register_status_unregister),
    cmocka_unit_test(duplicate_and_bad_args),
    cmocka_unit_test(windows_checked),
    cmocka_unit_test(held_region_outlives_unregister),
    cmocka_unit_test(cuda_without_gpu),
    cmocka_unit_test(cuda_with_stand_in),
};

TC_TEST_MAIN(tests)
