/* Descriptor-driven message building blocks (see pbtxt.h). */
#include "pbtxt.h"

#include <stdint.h>
#include <string.h>

#include "common/alloc.h"
#include "proto/model_config.h"

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

static ProtobufCAllocator k_pb_allocator = {pb_alloc, pb_free, NULL};

ProtobufCAllocator *tc__pb_allocator(void)
{
    return &k_pb_allocator;
}

ProtobufCMessage *tc__pb_message_new(const ProtobufCMessageDescriptor *desc)
{
    ProtobufCMessage *m = tc__malloc(desc->sizeof_message);
    if (m != NULL)
        desc->message_init(m);
    return m;
}

size_t tc__pb_value_size(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    default:
        return 4; /* 32-bit integers, float, enum (int-sized) */
    }
}

bool tc__pb_field_is_map(const ProtobufCFieldDescriptor *f)
{
    if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE)
        return false;
    const ProtobufCMessageDescriptor *d = f->descriptor;
    size_t n = strlen(d->short_name);
    return n > 5 && strcmp(d->short_name + n - 5, "Entry") == 0 && d->n_fields == 2 &&
           d->fields[0].id == 1 && strcmp(d->fields[0].name, "key") == 0 && d->fields[1].id == 2 &&
           strcmp(d->fields[1].name, "value") == 0;
}

#define MEMBER_PTR(msg, off) ((void *)((char *)(msg) + (off)))

static uint32_t *oneof_case(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    return (uint32_t *)MEMBER_PTR(msg, f->quantifier_offset);
}

static bool is_oneof(const ProtobufCFieldDescriptor *f)
{
    return (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0;
}

size_t tc__pb_field_count(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return *(const size_t *)MEMBER_PTR(msg, f->quantifier_offset);
    if (is_oneof(f) && *oneof_case(msg, f) != f->id)
        return 0;
    if (f->type == PROTOBUF_C_TYPE_MESSAGE)
        return *(ProtobufCMessage **)MEMBER_PTR(msg, f->offset) != NULL ? 1 : 0;
    return 1;
}

const void *tc__pb_field_value(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
                               size_t i)
{
    if (f->label != PROTOBUF_C_LABEL_REPEATED)
        return MEMBER_PTR(msg, f->offset);
    const char *arr = *(char **)MEMBER_PTR(msg, f->offset);
    return arr + i * tc__pb_value_size(f->type);
}

/* Capacity kept for a repeated array of n elements: 0, or a power of two >= 4. */
static size_t array_capacity(size_t n)
{
    size_t cap = 4;
    if (n == 0)
        return 0;
    while (cap < n && cap <= SIZE_MAX / 2)
        cap *= 2;
    return cap < n ? n : cap;
}

/* Append one zeroed element to repeated field `f` and return its address.
 * Arrays from elsewhere (exact size) are handled too: realloc to the same
 * capacity is cheap, so no capacity needs to be stored. */
static tc_code repeated_append(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
                               void **slot)
{
    size_t *n = (size_t *)MEMBER_PTR(msg, f->quantifier_offset);
    char **arr = (char **)MEMBER_PTR(msg, f->offset);
    size_t size = tc__pb_value_size(f->type);
    if (*n == SIZE_MAX)
        return TC_E_NOMEM;
    char *grown = tc__reallocarray(*arr, array_capacity(*n + 1), size);
    if (grown == NULL)
        return TC_E_NOMEM;
    *arr = grown;
    memset(grown + *n * size, 0, size);
    *slot = grown + *n * size;
    (*n)++;
    return TC_OK;
}

/* Release the string or bytes held by a singular member and reset it. */
static void clear_singular(const ProtobufCFieldDescriptor *f, void *member)
{
    if (f->type == PROTOBUF_C_TYPE_STRING) {
        char **s = member;
        if (*s != NULL && *s != (const char *)f->default_value)
            tc__free(*s);
        *s = (char *)f->default_value;
    } else if (f->type == PROTOBUF_C_TYPE_BYTES) {
        ProtobufCBinaryData *b = member;
        const ProtobufCBinaryData *def = f->default_value;
        if (b->data != NULL && (def == NULL || b->data != def->data))
            tc__free(b->data);
        b->data = NULL;
        b->len = 0;
    }
}

tc_code tc__pb_field_slot(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f, void **slot)
{
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return repeated_append(msg, f, slot);
    void *member = MEMBER_PTR(msg, f->offset);
    if (is_oneof(f)) {
        uint32_t *c = oneof_case(msg, f);
        if (*c != 0 && *c != f->id)
            return TC_E_ALREADY_EXISTS;
        if (*c == f->id)
            clear_singular(f, member);
        else
            memset(member, 0, tc__pb_value_size(f->type));
        *c = f->id;
    } else {
        clear_singular(f, member);
        if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset != 0)
            *(protobuf_c_boolean *)MEMBER_PTR(msg, f->quantifier_offset) = 1;
    }
    *slot = member;
    return TC_OK;
}

tc_code tc__pb_field_message(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
                             ProtobufCMessage **sub)
{
    ProtobufCMessage **member = MEMBER_PTR(msg, f->offset);
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        ProtobufCMessage *m = tc__pb_message_new(f->descriptor);
        void *slot = NULL;
        if (m == NULL)
            return TC_E_NOMEM;
        if (repeated_append(msg, f, &slot) != TC_OK) {
            tc__free(m);
            return TC_E_NOMEM;
        }
        *(ProtobufCMessage **)slot = m;
        *sub = m;
        return TC_OK;
    }
    if (is_oneof(f)) {
        uint32_t *c = oneof_case(msg, f);
        if (*c != 0 && *c != f->id)
            return TC_E_ALREADY_EXISTS;
        if (*c != f->id)
            *member = NULL;
    }
    if (*member == NULL) {
        *member = tc__pb_message_new(f->descriptor);
        if (*member == NULL)
            return TC_E_NOMEM;
    }
    if (is_oneof(f))
        *oneof_case(msg, f) = f->id;
    *sub = *member;
    return TC_OK;
}

static bool map_keys_equal(const ProtobufCFieldDescriptor *kf, const ProtobufCMessage *a,
                           const ProtobufCMessage *b)
{
    const void *ka = MEMBER_PTR(a, kf->offset);
    const void *kb = MEMBER_PTR(b, kf->offset);
    if (kf->type == PROTOBUF_C_TYPE_STRING)
        return strcmp(*(char *const *)ka, *(char *const *)kb) == 0;
    return memcmp(ka, kb, tc__pb_value_size(kf->type)) == 0;
}

void tc__pb_map_dedupe(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    size_t *n = (size_t *)MEMBER_PTR(msg, f->quantifier_offset);
    ProtobufCMessage **arr = *(ProtobufCMessage ***)MEMBER_PTR(msg, f->offset);
    const ProtobufCFieldDescriptor *kf =
        &((const ProtobufCMessageDescriptor *)f->descriptor)->fields[0];
    if (*n < 2)
        return;
    ProtobufCMessage *last = arr[*n - 1];
    for (size_t i = 0; i + 1 < *n; i++) {
        if (map_keys_equal(kf, arr[i], last)) {
            protobuf_c_message_free_unpacked(arr[i], tc__pb_allocator());
            arr[i] = last;
            (*n)--;
            return;
        }
    }
}
