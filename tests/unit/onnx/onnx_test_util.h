/* Helpers shared by the tc_onnx tests: file reading, TensorProto files and
 * tolerant comparison. Header-only so each test stays one executable. */
#ifndef TC_TESTS_UNIT_ONNX_ONNX_TEST_UTIL_H
#define TC_TESTS_UNIT_ONNX_ONNX_TEST_UTIL_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "onnx/onnx_engine.h"

/* Whole file into a tc__malloc buffer; NULL when unreadable. */
static inline void *tc_test_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = NULL;
    long len = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        len = ftell(f);
    if (len >= 0 && fseek(f, 0, SEEK_SET) == 0)
        buf = tc__malloc((size_t)len + 1);
    if (buf != NULL && fread(buf, 1, (size_t)len, f) != (size_t)len) {
        tc__free(buf);
        buf = NULL;
    }
    (void)fclose(f);
    if (buf != NULL)
        *size = (size_t)len;
    return buf;
}

/* Largest |a - b| over float32 arrays, and whether all are within
 * atol + rtol * |b|. */
static inline bool tc_test_close(const float *a, const float *b, size_t n, float rtol, float atol,
                                 double *max_abs)
{
    bool ok = true;
    *max_abs = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (isnan(a[i]) != isnan(b[i]))
            ok = false;
        if (d > *max_abs)
            *max_abs = d;
        if (d > (double)atol + (double)rtol * fabs((double)b[i]))
            ok = false;
    }
    return ok;
}

#endif /* TC_TESTS_UNIT_ONNX_ONNX_TEST_UTIL_H */
