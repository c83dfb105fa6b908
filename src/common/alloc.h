/* Overflow-checked allocation through the tc_set_allocator() hook.
 * Bare malloc/free are banned outside alloc.c (STYLE.md 2.5). */
#ifndef TC_SRC_COMMON_ALLOC_H
#define TC_SRC_COMMON_ALLOC_H

#include <stddef.h>

void *tc__malloc(size_t size);
/* calloc with an overflow check on count * size. */
void *tc__calloc(size_t count, size_t size);
void *tc__realloc(void *ptr, size_t size);
/* realloc of count * size bytes with an overflow check. */
void *tc__reallocarray(void *ptr, size_t count, size_t size);
void tc__free(void *ptr);
/* NUL-terminated copy of `s` (NULL gives NULL). */
char *tc__strdup(const char *s);
/* Copy of `len` bytes of `s` plus a NUL. */
char *tc__strndup(const char *s, size_t len);
/* Copy of `size` bytes (size 0 gives a valid 1-byte allocation). */
void *tc__memdup(const void *p, size_t size);

/* Test hook: make the Nth allocation from now fail (0 = never). Not thread-safe. */
void tc__alloc_fail_after(unsigned long n);

#endif /* TC_SRC_COMMON_ALLOC_H */
