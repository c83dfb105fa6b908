/* Datatype names and sizes (MODEL_CONFIG.md section 1.1). */
#include <string.h>

#include <tritonc/tensor.h>

static const struct {
    const char *name;
    size_t size;
} k_dtypes[] = {
    [TC_DTYPE_INVALID] = {NULL, 0},    [TC_DTYPE_BOOL] = {"BOOL", 1},
    [TC_DTYPE_UINT8] = {"UINT8", 1},   [TC_DTYPE_UINT16] = {"UINT16", 2},
    [TC_DTYPE_UINT32] = {"UINT32", 4}, [TC_DTYPE_UINT64] = {"UINT64", 8},
    [TC_DTYPE_INT8] = {"INT8", 1},     [TC_DTYPE_INT16] = {"INT16", 2},
    [TC_DTYPE_INT32] = {"INT32", 4},   [TC_DTYPE_INT64] = {"INT64", 8},
    [TC_DTYPE_FP16] = {"FP16", 2},     [TC_DTYPE_FP32] = {"FP32", 4},
    [TC_DTYPE_FP64] = {"FP64", 8},     [TC_DTYPE_BYTES] = {"BYTES", 0},
    [TC_DTYPE_BF16] = {"BF16", 2},
};

#define K_DTYPE_COUNT (sizeof k_dtypes / sizeof k_dtypes[0])

const char *tc_dtype_name(tc_dtype dtype)
{
    if ((unsigned)dtype >= K_DTYPE_COUNT)
        return NULL;
    return k_dtypes[dtype].name;
}

tc_dtype tc_dtype_from_name(const char *name)
{
    if (name == NULL)
        return TC_DTYPE_INVALID;
    for (size_t i = 1; i < K_DTYPE_COUNT; i++) {
        if (strcmp(k_dtypes[i].name, name) == 0)
            return (tc_dtype)i;
    }
    return TC_DTYPE_INVALID;
}

size_t tc_dtype_size(tc_dtype dtype)
{
    if ((unsigned)dtype >= K_DTYPE_COUNT)
        return 0;
    return k_dtypes[dtype].size;
}
