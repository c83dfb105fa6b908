/* libFuzzer target: metadata, repository index and error body decoders.
 * Input: one selector byte (0 server metadata, 1 model metadata, 2 repository
 * index, 3 error body), then the body. Decoded values are re-encoded. */
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "proto/v2_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *body = data + 1;
    size_t len = size - 1;
    tc__buf json = TC__BUF_INIT;
    tc__error err;
    switch (data[0] % 4) {
    case 0: {
        tc__server_metadata m;
        if (tc__v2_server_metadata_decode(body, len, &m, &err) == TC_OK) {
            (void)tc__v2_server_metadata_encode(&m, &json);
            tc__server_metadata_cleanup(&m);
        }
        break;
    }
    case 1: {
        tc__model_metadata m;
        if (tc__v2_model_metadata_decode(body, len, &m, &err) == TC_OK) {
            (void)tc__v2_model_metadata_encode(&m, &json);
            tc__model_metadata_cleanup(&m);
        }
        break;
    }
    case 2: {
        tc__repo_index idx;
        if (tc__v2_repo_index_decode(body, len, &idx, &err) == TC_OK) {
            (void)tc__v2_repo_index_encode(&idx, &json);
            tc__repo_index_cleanup(&idx);
        }
        break;
    }
    default:
        tc__v2_error_decode(body, len, TC_E_SERVER, &err);
        (void)tc__v2_error_encode(err.msg, &json);
        break;
    }
    tc__buf_cleanup(&json);
    return 0;
}
