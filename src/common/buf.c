#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"

tc_code tc__buf_reserve(tc__buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        return TC_E_NOMEM;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return TC_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *p = tc__realloc(b->data, cap);
    if (p == NULL)
        return TC_E_NOMEM;
    b->data = p;
    b->cap = cap;
    return TC_OK;
}

tc_code tc__buf_append(tc__buf *b, const void *data, size_t len)
{
    tc_code rc = tc__buf_reserve(b, len);
    if (rc != TC_OK)
        return rc;
    if (len > 0)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return TC_OK;
}

tc_code tc__buf_append_str(tc__buf *b, const char *s)
{
    return tc__buf_append(b, s, strlen(s));
}

tc_code tc__buf_printf(tc__buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return TC_E_INVALID_ARG;
    tc_code rc = tc__buf_reserve(b, (size_t)n);
    if (rc != TC_OK)
        return rc;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return TC_OK;
}

tc_code tc__buf_append_u32le(tc__buf *b, uint32_t v)
{
    uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return tc__buf_append(b, le, sizeof le);
}

uint8_t *tc__buf_steal(tc__buf *b, size_t *len)
{
    uint8_t *p = b->data;
    if (len != NULL)
        *len = b->len;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

void tc__buf_reset(tc__buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

void tc__buf_cleanup(tc__buf *b)
{
    tc__free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}
