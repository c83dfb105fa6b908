/* TensorProto decoding: initializers, Constant attributes and test data. */
#include <string.h>

#include "common/alloc.h"
#include "graph.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "raw_data is little-endian; tc_onnx supports little-endian hosts only"
#endif

size_t tc__onnx_elem_size(int elem)
{
    switch (elem) {
    case 1: /* FLOAT */
    case 6: /* INT32 */
    case 12: /* UINT32 */
        return 4;
    case 2: /* UINT8 */
    case 3: /* INT8 */
    case 9: /* BOOL */
        return 1;
    case 4: /* UINT16 */
    case 5: /* INT16 */
    case 10: /* FLOAT16 */
    case 16: /* BFLOAT16 */
        return 2;
    case 7: /* INT64 */
    case 11: /* DOUBLE */
    case 13: /* UINT64 */
        return 8;
    default:
        return 0; /* STRING, complex and unknown types are unsupported */
    }
}

tc_dtype tc__onnx_elem_dtype(int elem)
{
    static const tc_dtype map[] = {
        TC_DTYPE_INVALID, TC_DTYPE_FP32,   TC_DTYPE_UINT8,  TC_DTYPE_INT8,   TC_DTYPE_UINT16,
        TC_DTYPE_INT16,   TC_DTYPE_INT32,  TC_DTYPE_INT64,  TC_DTYPE_BYTES,  TC_DTYPE_BOOL,
        TC_DTYPE_FP16,    TC_DTYPE_FP64,   TC_DTYPE_UINT32, TC_DTYPE_UINT64, TC_DTYPE_INVALID,
        TC_DTYPE_INVALID, TC_DTYPE_BF16,
    };
    if (elem < 0 || (size_t)elem >= sizeof map / sizeof map[0])
        return TC_DTYPE_INVALID;
    return map[elem];
}

int tc__onnx_elem_from_dtype(tc_dtype dtype)
{
    for (int e = 1; e <= 16; e++) {
        if (e != 8 && tc__onnx_elem_dtype(e) == dtype)
            return e;
    }
    return 0;
}

/* Copy `count` typed values of `elem` from the matching repeated field. */
static tc_code copy_typed(void *dst, const Onnx__TensorProto *t, int elem, size_t count,
                          tc__error *err)
{
    size_t have;
    switch (elem) {
    case 1:
        have = t->n_float_data;
        if (have == count)
            memcpy(dst, t->float_data, count * sizeof(float));
        break;
    case 7:
        have = t->n_int64_data;
        if (have == count)
            memcpy(dst, t->int64_data, count * sizeof(int64_t));
        break;
    case 11:
        have = t->n_double_data;
        if (have == count)
            memcpy(dst, t->double_data, count * sizeof(double));
        break;
    case 12:
    case 13:
        have = t->n_uint64_data;
        for (size_t i = 0; have == count && i < count; i++) {
            if (elem == 12) {
                uint32_t v = (uint32_t)t->uint64_data[i];
                memcpy((char *)dst + 4 * i, &v, 4);
            } else {
                memcpy((char *)dst + 8 * i, &t->uint64_data[i], 8);
            }
        }
        break;
    default: {
        /* int32_data carries every type narrower than 32 bits, one per entry. */
        size_t es = tc__onnx_elem_size(elem);
        have = t->n_int32_data;
        for (size_t i = 0; have == count && i < count; i++) {
            uint32_t v = (uint32_t)t->int32_data[i];
            if (es == 4) {
                memcpy((char *)dst + 4 * i, &v, 4);
            } else if (es == 2) {
                uint16_t h = (uint16_t)v;
                memcpy((char *)dst + 2 * i, &h, 2);
            } else {
                ((uint8_t *)dst)[i] = (uint8_t)v;
            }
        }
        break;
    }
    }
    if (have != count)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "tensor '%s' holds %zu values where its dims need %zu",
                             t->name ? t->name : "", have, count);
    return TC_OK;
}

tc_code tc__onnx_value_from_tensor(tc__onnx_value *v, const Onnx__TensorProto *t, tc__error *err)
{
    const char *name = t->name ? t->name : "";
    if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return tc__error_set(err, TC_E_NOT_SUPPORTED,
                             "tensor '%s' keeps its data in an external file; tc_onnx needs "
                             "every tensor inside the model file",
                             name);
    if (t->segment != NULL)
        return tc__error_set(err, TC_E_NOT_SUPPORTED, "tensor '%s' is segmented", name);
    int elem = t->has_data_type ? t->data_type : 0;
    size_t es = tc__onnx_elem_size(elem);
    if (es == 0)
        return tc__error_set(err, TC_E_NOT_SUPPORTED, "tensor '%s' has unsupported data type %d",
                             name, elem);
    if (t->n_dims > TC__ONNX_MAX_RANK)
        return tc__error_set(err, TC_E_NOT_SUPPORTED, "tensor '%s' has rank %zu (max %d)", name,
                             t->n_dims, TC__ONNX_MAX_RANK);
    size_t count = 1;
    for (size_t i = 0; i < t->n_dims; i++) {
        int64_t d = t->dims[i];
        if (d < 0 || (d > 0 && count > (SIZE_MAX / 16) / (size_t)d))
            return tc__error_set(err, TC_E_INVALID_ARG, "tensor '%s' has invalid dims", name);
        count *= (size_t)d;
        v->dims[i] = d;
    }
    v->rank = t->n_dims;
    v->elem = elem;
    v->has_shape = true;
    size_t bytes = count * es;
    if (t->has_raw_data && t->raw_data.len != bytes)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "tensor '%s' has %zu bytes of raw_data where its dims need %zu",
                             name, t->raw_data.len, bytes);
    void *data = tc__malloc(bytes);
    if (data == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory for tensor '%s'", name);
    tc_code rc = TC_OK;
    if (t->has_raw_data && bytes > 0)
        memcpy(data, t->raw_data.data, bytes);
    else if (!t->has_raw_data)
        rc = copy_typed(data, t, elem, count, err);
    if (rc != TC_OK) {
        tc__free(data);
        return rc;
    }
    tc__free(v->data);
    v->data = data;
    v->byte_size = bytes;
    v->is_const = true;
    return TC_OK;
}

static void *pb_alloc(void *data, size_t size)
{
    (void)data;
    return tc__malloc(size);
}

static void pb_free(void *data, void *ptr)
{
    (void)data;
    tc__free(ptr);
}

static ProtobufCAllocator g_pb_alloc = {pb_alloc, pb_free, NULL};

ProtobufCAllocator *tc__onnx_pb_allocator(void)
{
    return &g_pb_alloc;
}

tc_code tc__onnx_tensor_decode(tc__onnx_tensor *out, const void *bytes, size_t size,
                               tc__error *err)
{
    memset(out, 0, sizeof *out);
    Onnx__TensorProto *t = onnx__tensor_proto__unpack(&g_pb_alloc, size, bytes);
    if (t == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "not a valid ONNX TensorProto");
    tc__onnx_value v;
    memset(&v, 0, sizeof v);
    tc_code rc = tc__onnx_value_from_tensor(&v, t, err);
    if (rc != TC_OK)
        goto out;
    out->name = tc__strdup(t->name ? t->name : "");
    if (out->name == NULL) {
        tc__free(v.data);
        rc = tc__error_set(err, TC_E_NOMEM, "out of memory");
        goto out;
    }
    out->dtype = tc__onnx_elem_dtype(v.elem);
    out->rank = v.rank;
    memcpy(out->shape, v.dims, sizeof out->shape);
    out->data = v.data;
    out->byte_size = v.byte_size;
out:
    onnx__tensor_proto__free_unpacked(t, &g_pb_alloc);
    return rc;
}

void tc__onnx_tensor_cleanup(tc__onnx_tensor *t)
{
    if (t == NULL)
        return;
    tc__free(t->name);
    tc__free(t->data);
    memset(t, 0, sizeof *t);
}
