/* Growable byte buffer. Appends keep a NUL after the data so text can be
 * used as a C string; `len` never counts it. */
#ifndef TC_SRC_COMMON_BUF_H
#define TC_SRC_COMMON_BUF_H

#include <stddef.h>
#include <stdint.h>

#include <tritonc/common.h>

typedef struct tc__buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} tc__buf;

#define TC__BUF_INIT                                                                               \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Make room for `extra` more bytes (plus the NUL). TC_E_NOMEM on failure. */
tc_code tc__buf_reserve(tc__buf *b, size_t extra);
tc_code tc__buf_append(tc__buf *b, const void *data, size_t len);
tc_code tc__buf_append_str(tc__buf *b, const char *s);
tc_code tc__buf_printf(tc__buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append a 32-bit little-endian integer (BYTES element length prefix). */
tc_code tc__buf_append_u32le(tc__buf *b, uint32_t v);
/* Hand the storage to the caller (who frees it with tc__free) and reset. */
uint8_t *tc__buf_steal(tc__buf *b, size_t *len);
void tc__buf_reset(tc__buf *b);
void tc__buf_cleanup(tc__buf *b);

#endif /* TC_SRC_COMMON_BUF_H */
