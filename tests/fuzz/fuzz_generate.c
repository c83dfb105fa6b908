/* libFuzzer target: the generate extension's request decoder (HTTP.md 15)
 * against a fixed set of model inputs (a batching BYTES text input, an
 * INT32 [-1, 2] input, a FP32 scalar and a BOOL [3]); decoded requests are
 * turned into a response (inputs as outputs) and encoded back. */
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "proto/v2_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int64_t text[2] = {-1, 1};
    static int64_t pairs[2] = {-1, 2};
    static int64_t scalar[1] = {1};
    static int64_t flags[1] = {3};
    static char n_text[] = "text_input", n_pairs[] = "pairs", n_temp[] = "temperature",
                n_flags[] = "flags";
    static const tc__tensor_meta inputs[] = {
        {n_text, TC_DTYPE_BYTES, text, 2},
        {n_pairs, TC_DTYPE_INT32, pairs, 2},
        {n_temp, TC_DTYPE_FP32, scalar, 1},
        {n_flags, TC_DTYPE_BOOL, flags, 1},
    };
    tc__infer_request req;
    tc__error err;
    if (tc__v2_generate_request_decode(data, size, inputs, 4, 1u << 20, &req, &err) != TC_OK)
        return 0;
    tc__infer_response resp = {0};
    resp.model_name = (char *)"m";
    resp.model_version = (char *)"1";
    resp.id = req.id;
    resp.outputs = req.inputs;
    resp.output_count = req.input_count;
    resp.params = req.params;
    tc__buf json = TC__BUF_INIT;
    (void)tc__v2_generate_response_encode(&resp, &json, &err);
    tc__buf_cleanup(&json);
    tc__infer_request_cleanup(&req);
    return 0;
}
