/* Descriptor-driven helpers shared by the protobuf text-format reader
 * (pbtxt.c) and the model-config JSON reader and writer (model_config.c).
 *
 * Every message and value created here comes from tc__pb_allocator(), so
 * protobuf_c_message_free_unpacked(msg, tc__pb_allocator()) releases a whole
 * tree. Repeated arrays grow in powers of two; the slack is never read. */
#ifndef TC_SRC_PROTO_PBTXT_H
#define TC_SRC_PROTO_PBTXT_H

#include <stdbool.h>
#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include <tritonc/common.h>

#include "common/buf.h"
#include "common/error.h"

/* Deepest message nesting the readers accept. */
#define TC__PB_MAX_DEPTH 64

/* A new, initialised message of type `desc`, or NULL when out of memory. */
ProtobufCMessage *tc__pb_message_new(const ProtobufCMessageDescriptor *desc);

/* Bytes one value of `type` occupies in a message or a repeated array. */
size_t tc__pb_value_size(ProtobufCType type);

/* True for a map field: repeated `...Entry` messages with key = 1, value = 2. */
bool tc__pb_field_is_map(const ProtobufCFieldDescriptor *f);

/* Number of values a field holds: the array length of a repeated field, 1
 * for a set oneof member or sub-message, 1 for other singular fields, 0 for an
 * unset sub-message or another member of its oneof. */
size_t tc__pb_field_count(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f);

/* Address of value `i` of a non-message field (i = 0 for singular fields). */
const void *tc__pb_field_value(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
                               size_t i);

/* Storage for one new value of the non-message field `f`: a zeroed slot
 * appended to a repeated field, or the singular member itself with its old
 * string/bytes released, its oneof case or has-flag set. TC_E_NOMEM when out
 * of memory, TC_E_ALREADY_EXISTS when another member of its oneof is set. */
tc_code tc__pb_field_slot(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f, void **slot);

/* The sub-message to fill for message field `f`: a new element of a repeated
 * field, or the singular member (created when unset, so values merge). Same
 * codes as tc__pb_field_slot. */
tc_code tc__pb_field_message(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
                             ProtobufCMessage **sub);

/* After an entry was appended to map field `f`, drop any earlier entry with
 * the same key so that the last one wins. */
void tc__pb_map_dedupe(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f);

/* ---- JSON (pbtxt_json.c) ------------------------------------------------ */

/* How tc__pb_to_json prints. 64-bit integers print as JSON strings (proto3
 * JSON) unless their dotted field path from the root is listed in
 * `number_paths`; a map adds no path component for its values, so
 * "a.m.x" names field x of the values of map a.m. */
typedef struct tc__pb_json_opts {
    const char *const *number_paths;
    size_t number_path_count;
} tc__pb_json_opts;

/* Append `msg` as JSON: proto field names, every scalar printed even at its
 * default, repeated fields as arrays, maps as objects, unset sub-messages
 * and unset oneof members omitted, enums by name, bytes in base64, NaN and
 * infinities as "NaN"/"Infinity"/"-Infinity". TC_E_NOMEM on failure. */
tc_code tc__pb_to_json(const ProtobufCMessage *msg, const tc__pb_json_opts *opts, tc__buf *out);

/* Parse a JSON object into a new message of type `desc`: proto or
 * lowerCamelCase field names, null meaning "not set", integers as numbers
 * or decimal strings, enums by name (any case) or number, bytes in base64.
 * Unknown fields, wrong types and out-of-range values give TC_E_INVALID_ARG
 * naming the field. Empty (all-whitespace) input gives a default message. */
tc_code tc__pb_from_json(const ProtobufCMessageDescriptor *desc, const char *json, size_t len,
                         ProtobufCMessage **out, tc__error *err);

#endif /* TC_SRC_PROTO_PBTXT_H */
