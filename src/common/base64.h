/* Standard base64 (RFC 4648, with padding), used for CUDA IPC handles and
 * file overrides over HTTP. */
#ifndef TC_SRC_COMMON_BASE64_H
#define TC_SRC_COMMON_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

tc_code tc__base64_encode(const uint8_t *data, size_t len, tc__buf *out);
/* Strict decoding: rejects bad characters, bad padding and lengths not a
 * multiple of 4. TC_E_INVALID_ARG on bad input. */
tc_code tc__base64_decode(const char *text, size_t len, tc__buf *out);

#endif /* TC_SRC_COMMON_BASE64_H */
