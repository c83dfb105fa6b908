/* libFuzzer target: ONNX model bytes through the tc_onnx loader, and when a
 * model loads, one planned run on small inputs (dynamic dims set to 1). */
#include <stdint.h>
#include <string.h>

#include "common/alloc.h"
#include "onnx/onnx_engine.h"

#define MAX_INPUTS 8
#define MAX_INPUT_BYTES (1u << 16)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void try_run(tc__onnx_model *m)
{
    size_t n = tc__onnx_model_input_count(m);
    if (n > MAX_INPUTS)
        return;
    tc__onnx_input in[MAX_INPUTS];
    int64_t shapes[MAX_INPUTS][TC__ONNX_MAX_RANK];
    void *bufs[MAX_INPUTS] = {NULL};
    bool ok = true;
    for (size_t k = 0; k < n && ok; k++) {
        tc__onnx_io_info info;
        ok = tc__onnx_model_input(m, k, &info) == TC_OK && tc_dtype_size(info.dtype) > 0;
        size_t count = 1;
        for (size_t d = 0; ok && d < info.rank; d++) {
            shapes[k][d] = info.shape[d] < 0 ? 1 : info.shape[d];
            ok = shapes[k][d] <= (int64_t)MAX_INPUT_BYTES;
            count *= ok ? (size_t)shapes[k][d] : 1;
            ok = ok && count <= MAX_INPUT_BYTES;
        }
        if (!ok)
            break;
        size_t bytes = count * tc_dtype_size(info.dtype);
        bufs[k] = tc__calloc(1, bytes + 1);
        ok = bufs[k] != NULL;
        in[k] = (tc__onnx_input){info.name, info.dtype, info.rank, shapes[k], bufs[k], bytes};
    }
    if (ok) {
        tc__onnx_output out;
        memset(&out, 0, sizeof out);
        tc__error err;
        (void)tc__onnx_model_run(m, in, n, &out, tc__onnx_model_output_count(m) > 0 ? 1 : 0,
                                 &err);
    }
    for (size_t k = 0; k < n; k++)
        tc__free(bufs[k]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tc__onnx_model *m = NULL;
    tc__error err;
    if (tc__onnx_model_new_from_bytes(&m, data, size, 1, &err) == TC_OK)
        try_run(m);
    tc__onnx_model_free(m);
    return 0;
}
