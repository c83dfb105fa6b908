/* Model configuration: config.pbtxt (protobuf text format) in, normalised
 * Inference__ModelConfig (protobuf-c, generated from proto/model_config.proto)
 * out, and the JSON form Triton serves (MODEL_CONFIG.md sections 3-5).
 *
 * Every Inference__ModelConfig handed out here is allocated through
 * tc__pb_allocator() and freed with tc__model_config_free(). */
#ifndef TC_SRC_PROTO_MODEL_CONFIG_H
#define TC_SRC_PROTO_MODEL_CONFIG_H

#include <protobuf-c/protobuf-c.h>

#include "common/buf.h"
#include "common/error.h"
#include "model_config.pb-c.h"
#include "proto/v2_types.h"

/* The protobuf-c allocator that routes through tc__malloc/tc__free. */
ProtobufCAllocator *tc__pb_allocator(void);

/* Parse protobuf text format into a new message of type `desc` (any message:
 * the reader is driven by the descriptors). Errors name the line and column. */
tc_code tc__pbtxt_parse(const ProtobufCMessageDescriptor *desc, const char *text, size_t len,
                        ProtobufCMessage **out, tc__error *err);

/* Parse a config.pbtxt. Not normalised. */
tc_code tc__model_config_from_pbtxt(const char *text, size_t len, Inference__ModelConfig **out,
                                    tc__error *err);

/* Parse the JSON form (load `config` parameter): snake_case or lowerCamelCase
 * names, 64-bit ints as numbers or strings, enum names case-insensitive,
 * unknown fields rejected with TC_E_INVALID_ARG. */
tc_code tc__model_config_from_json(const char *json, size_t len, Inference__ModelConfig **out,
                                   tc__error *err);

/* Apply Triton's normalisation (MODEL_CONFIG.md section 3): name from
 * `model_name` when empty, default version policy, preferred batch sizes,
 * sequence idle default, pinned-memory flags, instance group names, counts
 * and KIND_CPU for KIND_AUTO (no GPUs). Validates what the server relies on:
 * datatypes valid, dims >= -1, non-empty unique tensor names, max_batch_size
 * >= 0. TC_E_INVALID_ARG with a message otherwise. */
tc_code tc__model_config_normalize(Inference__ModelConfig *cfg, const char *model_name,
                                   tc__error *err);

/* Append the JSON form Triton serves (MODEL_CONFIG.md section 4): proto field
 * names, all scalars printed, enums as names, listed int64 fields as numbers.
 * An all-default config appends nothing (empty body). */
tc_code tc__model_config_to_json(const Inference__ModelConfig *cfg, tc__buf *out);

/* Model metadata derived from a config (MODEL_CONFIG.md section 5). `versions`
 * are copied. */
tc_code tc__model_config_metadata(const Inference__ModelConfig *cfg, const char *const *versions,
                                  size_t version_count, tc__model_metadata *out);

void tc__model_config_free(Inference__ModelConfig *cfg);

#endif /* TC_SRC_PROTO_MODEL_CONFIG_H */
