/* libFuzzer target: BYTES length-prefix parsing. Counting and iterating
 * must agree, and re-appending the elements must rebuild the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "proto/bytes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t count = 0;
    tc_code counted = tc__bytes_count(data, size, &count);
    size_t pos = 0;
    size_t seen = 0;
    tc__buf rebuilt = TC__BUF_INIT;
    tc_code rc;
    for (;;) {
        const uint8_t *elem;
        size_t len;
        rc = tc__bytes_next(data, size, &pos, &elem, &len);
        if (rc != TC_OK)
            break;
        if (elem < data || len > size || elem + len > data + size)
            abort();
        if (tc__bytes_append(&rebuilt, elem, len) != TC_OK)
            abort();
        seen++;
    }
    if ((counted == TC_OK) != (rc == TC_E_NOT_FOUND))
        abort();
    if (counted == TC_OK && (seen != count || rebuilt.len != size ||
                             (size > 0 && memcmp(rebuilt.data, data, size) != 0)))
        abort();
    tc__buf_cleanup(&rebuilt);
    return 0;
}
