/* What image_client needs to know about a model, checked the way upstream's
 * image_client checks it (parse_model): one input, one FP32 vector output,
 * an image input of 3 dimensions (plus the batch one) in NCHW or NHWC. */
#ifndef TC_TOOLS_IMAGE_CLIENT_MODEL_H
#define TC_TOOLS_IMAGE_CLIENT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <tritonc/tritonc.h>

#include "preprocess.h"

/* One tensor of the model metadata (pointers borrowed). */
typedef struct ic_tensor_desc {
    const char *name;
    tc_dtype dtype;
    const int64_t *shape;
    size_t ndim;
} ic_tensor_desc;

typedef struct ic_model {
    int64_t max_batch_size; /* 0 = the model does not batch */
    char input_name[256];
    char output_name[256];
    tc_dtype input_dtype;
    ic_format format;
    size_t channels;
    size_t height;
    size_t width;
} ic_model;

/* Fill `out` from the model metadata (`inputs`, `outputs`) and the model
 * configuration JSON. Returns 0, or -1 with upstream's message in `err`
 * (e.g. "expecting 1 input, got 2"). */
int ic_model_parse(const char *model_name, const char *config_json, const ic_tensor_desc *inputs,
                   size_t input_count, const ic_tensor_desc *outputs, size_t output_count,
                   ic_model *out, char *err, size_t err_size);

#endif /* TC_TOOLS_IMAGE_CLIENT_MODEL_H */
