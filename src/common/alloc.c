#include "alloc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <tritonc/common.h>

static tc_allocator g_alloc = {malloc, calloc, realloc, free};
static atomic_ulong g_fail_countdown;

tc_code tc_set_allocator(const tc_allocator *alloc)
{
    if (alloc == NULL)
        return TC_E_INVALID_ARG;
    g_alloc.malloc_fn = alloc->malloc_fn ? alloc->malloc_fn : malloc;
    g_alloc.calloc_fn = alloc->calloc_fn ? alloc->calloc_fn : calloc;
    g_alloc.realloc_fn = alloc->realloc_fn ? alloc->realloc_fn : realloc;
    g_alloc.free_fn = alloc->free_fn ? alloc->free_fn : free;
    return TC_OK;
}

void tc__alloc_fail_after(unsigned long n)
{
    atomic_store(&g_fail_countdown, n);
}

/* True when the failing-allocator test mode says this allocation fails. */
static int should_fail(void)
{
    unsigned long left = atomic_load(&g_fail_countdown);
    while (left > 0) {
        if (atomic_compare_exchange_weak(&g_fail_countdown, &left, left - 1))
            return left == 1;
    }
    return 0;
}

void *tc__malloc(size_t size)
{
    if (should_fail())
        return NULL;
    return g_alloc.malloc_fn(size == 0 ? 1 : size);
}

void *tc__calloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    if (should_fail())
        return NULL;
    if (count == 0 || size == 0)
        return g_alloc.calloc_fn(1, 1);
    return g_alloc.calloc_fn(count, size);
}

void *tc__realloc(void *ptr, size_t size)
{
    if (should_fail())
        return NULL;
    return g_alloc.realloc_fn(ptr, size == 0 ? 1 : size);
}

void *tc__reallocarray(void *ptr, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    return tc__realloc(ptr, count * size);
}

void tc__free(void *ptr)
{
    if (ptr != NULL)
        g_alloc.free_fn(ptr);
}

char *tc__strndup(const char *s, size_t len)
{
    if (s == NULL || len == SIZE_MAX)
        return NULL;
    char *copy = tc__malloc(len + 1);
    if (copy == NULL)
        return NULL;
    memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

char *tc__strdup(const char *s)
{
    if (s == NULL)
        return NULL;
    return tc__strndup(s, strlen(s));
}

void *tc__memdup(const void *p, size_t size)
{
    void *copy = tc__malloc(size);
    if (copy != NULL && size > 0)
        memcpy(copy, p, size);
    return copy;
}
