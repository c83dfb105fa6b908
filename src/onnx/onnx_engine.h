/* tc_onnx: a CPU inference engine for ONNX models (float32 CNNs and MLPs),
 * built on oneDNN for convolution, matrix products, pooling and softmax.
 * It is the engine of tritonc-server's ONNX backend; the interface is
 * internal (not installed) and uses plain C types plus tc_dtype.
 *
 * Lifetime and threads:
 * - tc__onnx_model_new_*() parses, checks and optimises the graph once. A
 *   model that uses any operator the engine lacks fails here, with a message naming
 *   the operator and the node.
 * - The first tc__onnx_model_run() for a given set of input shapes plans the
 *   execution (shapes, oneDNN primitives, memory); later runs with the same
 *   shapes reuse the plan, and new shapes (another batch size) re-plan.
 * - One thread at a time per model: run() mutates the plan and its buffers.
 *   Different models (even of the same file) are independent, so a server
 *   runs several instances for concurrency. Accessors are safe to call from
 *   any thread while no run() is in progress on the model.
 * - Intra-op threads: oneDNN in Debian is built with OpenMP (libgomp). run()
 *   sets the OpenMP thread count of the calling thread to the model's
 *   `intra_op_threads` (0 = leave the OpenMP default, i.e. OMP_NUM_THREADS or
 *   the number of cores). Hand-written elementwise kernels are single-threaded.
 */
#ifndef TC_SRC_ONNX_ONNX_ENGINE_H
#define TC_SRC_ONNX_ONNX_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include <tritonc/tensor.h>

#include "common/error.h"

#define TC__ONNX_MAX_RANK 8

typedef struct tc__onnx_model tc__onnx_model;

/* Description of a graph input or output; pointers are owned by the model
 * and stay valid until tc__onnx_model_free(). Dynamic dimensions (such as
 * the batch) are -1. */
typedef struct tc__onnx_io_info {
    const char *name;
    tc_dtype dtype;
    size_t rank;
    const int64_t *shape;
} tc__onnx_io_info;

/* One input tensor of a run: data is borrowed for the call, dense, row-major,
 * little-endian. */
typedef struct tc__onnx_input {
    const char *name;
    tc_dtype dtype;
    size_t rank;
    const int64_t *shape;
    const void *data;
    size_t byte_size;
} tc__onnx_input;

/* One requested output. Set `name` (NULL: the graph's output number `index`
 * in the array order) and optionally `buffer`/`buffer_size`: the engine then
 * writes the result there (TC_E_INVALID_ARG when too small). With `buffer`
 * NULL, `data` points into engine memory valid until the next run or free.
 * The other fields are filled in by run(). */
typedef struct tc__onnx_output {
    const char *name;
    void *buffer;
    size_t buffer_size;
    /* results */
    tc_dtype dtype;
    size_t rank;
    int64_t shape[TC__ONNX_MAX_RANK];
    const void *data;
    size_t byte_size;
} tc__onnx_output;

/* Load a model from `size` bytes (copied as needed; `bytes` may be freed
 * after the call). `intra_op_threads` 0 keeps the OpenMP default.
 * Returns TC_OK, TC_E_INVALID_ARG (corrupt or inconsistent model),
 * TC_E_NOT_SUPPORTED (operator, attribute, type or external data the engine
 * lacks) or TC_E_NOMEM; `err` gets the message. */
tc_code tc__onnx_model_new_from_bytes(tc__onnx_model **out, const void *bytes, size_t size,
                                      int intra_op_threads, tc__error *err);
/* Same, reading the file at `path` (TC_E_NOT_FOUND when it cannot be read). */
tc_code tc__onnx_model_new_from_file(tc__onnx_model **out, const char *path,
                                     int intra_op_threads, tc__error *err);
/* Release the model and everything it owns; NULL does nothing. */
void tc__onnx_model_free(tc__onnx_model *model);

/* Change the OpenMP thread count used by later runs (0 = default). */
void tc__onnx_model_set_threads(tc__onnx_model *model, int intra_op_threads);

size_t tc__onnx_model_input_count(const tc__onnx_model *model);
size_t tc__onnx_model_output_count(const tc__onnx_model *model);
/* Fill `info` for input/output number `index`; TC_E_INVALID_ARG when out of range. */
tc_code tc__onnx_model_input(const tc__onnx_model *model, size_t index, tc__onnx_io_info *info);
tc_code tc__onnx_model_output(const tc__onnx_model *model, size_t index, tc__onnx_io_info *info);
/* The model's opset version of the default ONNX domain. */
int64_t tc__onnx_model_opset(const tc__onnx_model *model);

/* Run the model on `inputs` (every graph input exactly once, matched by name)
 * and produce `outputs`. Returns TC_OK; TC_E_INVALID_ARG for a missing,
 * unknown or duplicated input, a dtype or shape that contradicts the model,
 * a byte size that does not match the shape, or an output buffer too small;
 * TC_E_NOT_FOUND for an unknown output name; TC_E_NOT_SUPPORTED when these
 * shapes need something the engine lacks; TC_E_NOMEM; TC_E_INTERNAL when
 * oneDNN fails. Not thread-safe: one run at a time per model. */
tc_code tc__onnx_model_run(tc__onnx_model *model, const tc__onnx_input *inputs, size_t n_inputs,
                           tc__onnx_output *outputs, size_t n_outputs, tc__error *err);

/* A decoded ONNX TensorProto (the format of ONNX test data files). */
typedef struct tc__onnx_tensor {
    char *name;
    tc_dtype dtype;
    size_t rank;
    int64_t shape[TC__ONNX_MAX_RANK];
    void *data; /* dense, row-major; owned */
    size_t byte_size;
} tc__onnx_tensor;

/* Decode a serialized TensorProto into `out` (release with
 * tc__onnx_tensor_cleanup). Errors as for model loading. */
tc_code tc__onnx_tensor_decode(tc__onnx_tensor *out, const void *bytes, size_t size,
                               tc__error *err);
void tc__onnx_tensor_cleanup(tc__onnx_tensor *t);

#endif /* TC_SRC_ONNX_ONNX_ENGINE_H */
