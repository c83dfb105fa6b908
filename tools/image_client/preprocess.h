/* Image preprocessing for image_client: decode (stb_image), convert to the
 * model's channel count, resize with PIL-compatible bilinear resampling,
 * scale (NONE / INCEPTION / VGG) and lay out (NCHW / NHWC) in the model's
 * input datatype. No I/O besides reading the image file, no printing. */
#ifndef TC_TOOLS_IMAGE_CLIENT_PREPROCESS_H
#define TC_TOOLS_IMAGE_CLIENT_PREPROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tritonc/tritonc.h>

/* Pixel scaling applied before layout, as upstream's -s flag. */
typedef enum ic_scaling {
    IC_SCALING_NONE = 0,      /* raw 0..255 */
    IC_SCALING_INCEPTION = 1, /* x / 127.5 - 1 */
    IC_SCALING_VGG = 2        /* x - (123, 117, 104) per RGB channel, x - 128 for grayscale */
} ic_scaling;

/* Input tensor layout (the model config's `format`). */
typedef enum ic_format { IC_FORMAT_NONE = 0, IC_FORMAT_NCHW = 1, IC_FORMAT_NHWC = 2 } ic_format;

/* An 8-bit image, pixels interleaved row by row (HWC). */
typedef struct ic_image {
    size_t width;
    size_t height;
    size_t channels; /* 1 (grayscale) or 3 (RGB) */
    uint8_t *pixels; /* width * height * channels bytes, malloc'ed */
} ic_image;

/* Parse "NONE", "INCEPTION" or "VGG" (case-sensitive, as upstream). Returns 0 or -1. */
int ic_scaling_parse(const char *text, ic_scaling *out);

/* True when stb_image recognises the file as an image it can decode. */
bool ic_is_image_file(const char *path);

/* Decode `path` (JPEG, PNG, BMP and the other formats stb_image reads) and
 * convert it to `channels` (1 or 3) the way PIL's convert('L') / ('RGB')
 * does: ITU-R 601-2 luma in PIL's fixed point, gray replicated to RGB,
 * alpha dropped. Returns 0, or -1 with a message in `err`. */
int ic_image_load(const char *path, size_t channels, ic_image *out, char *err, size_t err_size);

/* Convert pixels to `channels` as ic_image_load() does. `src` keeps its pixels. */
int ic_image_convert(const ic_image *src, size_t channels, ic_image *out);

/* Resize to width x height as PIL's Image.resize(size, Image.BILINEAR):
 * a triangle filter whose support grows with the downscale factor,
 * horizontal pass then vertical pass, 22-bit fixed-point coefficients and
 * an 8-bit intermediate image. Returns 0, or -1 (zero size, no memory). */
int ic_image_resize(const ic_image *src, size_t width, size_t height, ic_image *out);

/* Free the pixels and zero the image. NULL does nothing. */
void ic_image_cleanup(ic_image *img);

/* Bytes of one image tensor of `img` in `dtype`; 0 for unsupported types
 * (BYTES, BOOL, BF16 and invalid). */
size_t ic_tensor_byte_size(const ic_image *img, tc_dtype dtype);

/* Scale `img` and write it in `format` (NCHW or NHWC; NONE is NHWC's HWC
 * order) as `dtype` elements, little-endian, into `out` (`out_size` must be
 * ic_tensor_byte_size()). Floating types take the scaled value (FP16 rounded
 * to nearest even); integer types take it rounded and saturated.
 * Returns 0 or -1 (unsupported dtype, wrong size). */
int ic_image_to_tensor(const ic_image *img, ic_format format, ic_scaling scaling, tc_dtype dtype,
                       uint8_t *out, size_t out_size);

/* IEEE 754 binary16 of `value`, rounded to nearest even. */
uint16_t ic_half_from_float(float value);

/* The whole pipeline for one file: load as `channels`, resize to
 * width x height unless already that size, scale and lay out. `*out` is
 * malloc'ed (caller frees). Returns 0, or -1 with a message in `err`. */
int ic_preprocess_file(const char *path, size_t channels, size_t height, size_t width,
                       ic_format format, ic_scaling scaling, tc_dtype dtype, uint8_t **out,
                       size_t *out_size, char *err, size_t err_size);

#endif /* TC_TOOLS_IMAGE_CLIENT_PREPROCESS_H */
