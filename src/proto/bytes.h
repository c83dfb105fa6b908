/* BYTES tensor encoding: per element a uint32 little-endian length, then the
 * bytes; no terminator, no padding (HTTP.md section 6.4). */
#ifndef TC_SRC_PROTO_BYTES_H
#define TC_SRC_PROTO_BYTES_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"

/* Count the elements of a serialized BYTES buffer, checking every length
 * prefix against the end. TC_E_INVALID_ARG when truncated. */
tc_code tc__bytes_count(const uint8_t *data, size_t size, size_t *count);

/* Iterate: on entry *pos is the offset of the next element (start at 0).
 * Returns TC_OK and the element, TC_E_NOT_FOUND at the end, TC_E_INVALID_ARG
 * when truncated. */
tc_code tc__bytes_next(const uint8_t *data, size_t size, size_t *pos, const uint8_t **elem,
                       size_t *elem_len);

/* Append one element (length prefix + bytes). */
tc_code tc__bytes_append(tc__buf *out, const void *elem, size_t elem_len);

#endif /* TC_SRC_PROTO_BYTES_H */
