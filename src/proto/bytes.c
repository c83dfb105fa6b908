/* BYTES tensor encoding: uint32 LE length + bytes per element (HTTP.md 6.4). */
#include "proto/bytes.h"

static uint32_t load_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

tc_code tc__bytes_next(const uint8_t *data, size_t size, size_t *pos, const uint8_t **elem,
                       size_t *elem_len)
{
    if (pos == NULL || elem == NULL || elem_len == NULL || *pos > size)
        return TC_E_INVALID_ARG;
    size_t left = size - *pos;
    if (left == 0)
        return TC_E_NOT_FOUND;
    if (data == NULL || left < 4)
        return TC_E_INVALID_ARG;
    size_t len = load_u32le(data + *pos);
    if (len > left - 4)
        return TC_E_INVALID_ARG;
    *elem = data + *pos + 4;
    *elem_len = len;
    *pos += 4 + len;
    return TC_OK;
}

tc_code tc__bytes_count(const uint8_t *data, size_t size, size_t *count)
{
    if (count == NULL)
        return TC_E_INVALID_ARG;
    size_t n = 0;
    size_t pos = 0;
    for (;;) {
        const uint8_t *elem;
        size_t len;
        tc_code rc = tc__bytes_next(data, size, &pos, &elem, &len);
        if (rc == TC_E_NOT_FOUND)
            break;
        if (rc != TC_OK)
            return rc;
        n++;
    }
    *count = n;
    return TC_OK;
}

tc_code tc__bytes_append(tc__buf *out, const void *elem, size_t elem_len)
{
    if (out == NULL || (elem == NULL && elem_len > 0) || elem_len > UINT32_MAX)
        return TC_E_INVALID_ARG;
    tc_code rc = tc__buf_reserve(out, 4 + elem_len);
    if (rc != TC_OK)
        return rc;
    rc = tc__buf_append_u32le(out, (uint32_t)elem_len);
    if (rc != TC_OK)
        return rc;
    return tc__buf_append(out, elem, elem_len);
}
