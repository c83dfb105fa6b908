/* Input tensors for tritonc-perf: generated (random or zero) or read from
 * perf_analyzer's JSON input-data format:
 *
 *   {"data": [ {"INPUT0": [1, 2, 3], "INPUT1": {"content": [...], "shape": [3]}},
 *              {"INPUT0": {"b64": "AQAAAA..."}, ...}, ... ]}
 *
 * Each entry of "data" is one step (requests cycle through the steps); an
 * entry may also be a list of steps (a stream), which is flattened. BYTES
 * content is a list of JSON strings; "b64" is the raw tensor (or, for BYTES,
 * one element). Shapes exclude the batch dimension. No I/O besides reading
 * the file in perf_dataset_from_file(). */
#ifndef TC_TOOLS_PERF_INPUT_DATA_H
#define TC_TOOLS_PERF_INPUT_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tritonc/tritonc.h>

#define PERF_MAX_DIMS 16

/* A model input: dims exclude the batch dimension; -1 = variable. */
typedef struct perf_input_info {
    char *name;
    tc_dtype dtype;
    int64_t dims[PERF_MAX_DIMS];
    size_t ndim;
} perf_input_info;

/* A --shape NAME:d1,d2,... option. */
typedef struct perf_shape_opt {
    char *name;
    int64_t dims[PERF_MAX_DIMS];
    size_t ndim;
} perf_shape_opt;

/* One input of one step: shape without the batch dimension and the data of
 * one batch element (for BYTES, 4-byte length-prefixed elements). */
typedef struct perf_tensor {
    int64_t shape[PERF_MAX_DIMS];
    size_t ndim;
    uint8_t *data;
    size_t byte_size;
} perf_tensor;

/* nsteps x ninputs tensors, step-major, inputs in the model's order. */
typedef struct perf_dataset {
    size_t ninputs;
    size_t nsteps;
    perf_tensor *tensors;
} perf_dataset;

typedef enum perf_fill { PERF_FILL_RANDOM, PERF_FILL_ZERO } perf_fill;

/* Parse "NAME:d1,d2,..." into `out` (name allocated; free with
 * perf_shape_opt_cleanup). Returns false with a message in `err`. */
bool perf_shape_opt_parse(const char *text, perf_shape_opt *out, char *err, size_t errlen);
void perf_shape_opt_cleanup(perf_shape_opt *opt);

/* One step of generated data. BYTES elements are `string_length` bytes. */
bool perf_dataset_generate(const perf_input_info *inputs, size_t ninputs,
                           const perf_shape_opt *shapes, size_t nshapes, perf_fill fill,
                           size_t string_length, perf_dataset *out, char *err, size_t errlen);

/* Steps from perf_analyzer's JSON input-data text. */
bool perf_dataset_from_json(const char *text, const perf_input_info *inputs, size_t ninputs,
                            const perf_shape_opt *shapes, size_t nshapes, perf_dataset *out,
                            char *err, size_t errlen);

/* As perf_dataset_from_json(), reading the file at `path`. */
bool perf_dataset_from_file(const char *path, const perf_input_info *inputs, size_t ninputs,
                            const perf_shape_opt *shapes, size_t nshapes, perf_dataset *out,
                            char *err, size_t errlen);

/* Tensor of input `input` at step `step`. */
const perf_tensor *perf_dataset_tensor(const perf_dataset *ds, size_t step, size_t input);

void perf_dataset_cleanup(perf_dataset *ds);

/* Decode standard base64 (padding optional, whitespace skipped) into a new
 * buffer; false on bad characters or out of memory. */
bool perf_base64_decode(const char *text, size_t len, uint8_t **out, size_t *out_len);

#endif /* TC_TOOLS_PERF_INPUT_DATA_H */
