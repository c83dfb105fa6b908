/**
 * @file tensor.h
 * Tensor datatypes and their wire names.
 */
#ifndef TC_TRITONC_TENSOR_H
#define TC_TRITONC_TENSOR_H

#include <tritonc/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Tensor element types. The numbers equal the `DataType` enum of the model
 * configuration (TYPE_BOOL = 1 ... TYPE_BF16 = 14); TC_DTYPE_BYTES is TYPE_STRING.
 */
typedef enum tc_dtype {
    TC_DTYPE_INVALID = 0,
    TC_DTYPE_BOOL = 1,
    TC_DTYPE_UINT8 = 2,
    TC_DTYPE_UINT16 = 3,
    TC_DTYPE_UINT32 = 4,
    TC_DTYPE_UINT64 = 5,
    TC_DTYPE_INT8 = 6,
    TC_DTYPE_INT16 = 7,
    TC_DTYPE_INT32 = 8,
    TC_DTYPE_INT64 = 9,
    TC_DTYPE_FP16 = 10,
    TC_DTYPE_FP32 = 11,
    TC_DTYPE_FP64 = 12,
    TC_DTYPE_BYTES = 13,
    TC_DTYPE_BF16 = 14
} tc_dtype;

/** Protocol name of a datatype ("FP32", "BYTES"), or NULL for an invalid one. Thread-safe. @since
 * 0.1.0 */
TC_API const char *tc_dtype_name(tc_dtype dtype);
/** Datatype of a protocol name (case-sensitive); TC_DTYPE_INVALID when unknown. Thread-safe. @since
 * 0.1.0 */
TC_API tc_dtype tc_dtype_from_name(const char *name);
/** Element size in bytes; 0 for BYTES (variable) and for invalid types. Thread-safe. @since 0.1.0
 */
TC_API size_t tc_dtype_size(tc_dtype dtype);

#ifdef __cplusplus
}
#endif
#endif /* TC_TRITONC_TENSOR_H */
