/* Attribute lookups on a node's protobuf. */
#include <string.h>

#include "graph.h"

const Onnx__AttributeProto *tc__onnx_attr(const tc__onnx_node *n, const char *name)
{
    for (size_t i = 0; i < n->pb->n_attribute; i++) {
        const Onnx__AttributeProto *a = n->pb->attribute[i];
        if (a->name != NULL && strcmp(a->name, name) == 0)
            return a;
    }
    return NULL;
}

int64_t tc__onnx_attr_int(const tc__onnx_node *n, const char *name, int64_t def)
{
    const Onnx__AttributeProto *a = tc__onnx_attr(n, name);
    return (a != NULL && a->has_i) ? a->i : def;
}

float tc__onnx_attr_float(const tc__onnx_node *n, const char *name, float def)
{
    const Onnx__AttributeProto *a = tc__onnx_attr(n, name);
    return (a != NULL && a->has_f) ? a->f : def;
}

const int64_t *tc__onnx_attr_ints(const tc__onnx_node *n, const char *name, size_t *count)
{
    const Onnx__AttributeProto *a = tc__onnx_attr(n, name);
    if (a == NULL || a->n_ints == 0) {
        *count = 0;
        return NULL;
    }
    *count = a->n_ints;
    return a->ints;
}

void tc__onnx_attr_string(const tc__onnx_node *n, const char *name, char *buf, size_t size)
{
    const Onnx__AttributeProto *a = tc__onnx_attr(n, name);
    buf[0] = '\0';
    if (a == NULL || !a->has_s || size == 0)
        return;
    size_t len = a->s.len < size - 1 ? a->s.len : size - 1;
    memcpy(buf, a->s.data, len);
    buf[len] = '\0';
}
