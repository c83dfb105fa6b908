/* image_client preprocessing; see preprocess.h.
 *
 * The resize reproduces Pillow's Resample.c for 8-bit images with the
 * BILINEAR filter, which is what upstream's image_client calls
 * (img.resize((w, h), Image.BILINEAR)). Pillow does not interpolate between
 * the two nearest source pixels: each output pixel is a weighted sum under a
 * triangle filter centred on the output pixel's centre mapped into the
 * source, with a support of 1 source pixel when upscaling and of
 * `scale` = in/out source pixels when downscaling (so every source pixel
 * contributes, like an area filter). The weights are normalised to sum 1,
 * turned into 22-bit fixed point, and the sum is rounded and clamped to
 * 0..255 after each pass. Pillow runs the horizontal pass first into an
 * 8-bit intermediate image, then the vertical pass; so do we. */
#include "preprocess.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>

#define PRECISION_BITS 22 /* Pillow: 32 - 8 - 2 */

int ic_scaling_parse(const char *text, ic_scaling *out)
{
    if (strcmp(text, "NONE") == 0)
        *out = IC_SCALING_NONE;
    else if (strcmp(text, "INCEPTION") == 0)
        *out = IC_SCALING_INCEPTION;
    else if (strcmp(text, "VGG") == 0)
        *out = IC_SCALING_VGG;
    else
        return -1;
    return 0;
}

bool ic_is_image_file(const char *path)
{
    int w;
    int h;
    int comp;
    return stbi_info(path, &w, &h, &comp) == 1;
}

void ic_image_cleanup(ic_image *img)
{
    if (img == NULL)
        return;
    free(img->pixels);
    memset(img, 0, sizeof *img);
}

/* PIL's rgb2l: L = (R*19595 + G*38470 + B*7471 + 0x8000) >> 16. */
static uint8_t luma(const uint8_t *rgb)
{
    uint32_t l = (uint32_t)rgb[0] * 19595u + (uint32_t)rgb[1] * 38470u + (uint32_t)rgb[2] * 7471u;
    return (uint8_t)((l + 0x8000u) >> 16);
}

int ic_image_convert(const ic_image *src, size_t channels, ic_image *out)
{
    size_t n = src->width * src->height;
    size_t sc = src->channels;
    if ((channels != 1 && channels != 3) || sc < 1 || sc > 4)
        return -1;
    uint8_t *px = malloc(n * channels > 0 ? n * channels : 1);
    if (px == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *s = src->pixels + i * sc;
        /* 1 = gray, 2 = gray + alpha, 3 = RGB, 4 = RGBA; alpha is dropped. */
        bool gray = sc < 3;
        if (channels == 1) {
            px[i] = gray ? s[0] : luma(s);
        } else {
            px[i * 3] = s[0];
            px[i * 3 + 1] = gray ? s[0] : s[1];
            px[i * 3 + 2] = gray ? s[0] : s[2];
        }
    }
    out->width = src->width;
    out->height = src->height;
    out->channels = channels;
    out->pixels = px;
    return 0;
}

int ic_image_load(const char *path, size_t channels, ic_image *out, char *err, size_t err_size)
{
    int w = 0;
    int h = 0;
    int comp = 0;
    stbi_uc *data = stbi_load(path, &w, &h, &comp, 0);
    if (data == NULL) {
        snprintf(err, err_size, "cannot decode image '%s': %s", path, stbi_failure_reason());
        return -1;
    }
    ic_image raw = {(size_t)w, (size_t)h, (size_t)comp, data};
    int rc = ic_image_convert(&raw, channels, out);
    stbi_image_free(data);
    if (rc != 0)
        snprintf(err, err_size, "cannot convert image '%s' to %zu channel(s)", path, channels);
    return rc;
}

/* ---- resize ------------------------------------------------------------ */

/* Per output pixel: first source index, number of taps, then `ksize` weights. */
typedef struct coeffs {
    size_t ksize;
    size_t *first;
    size_t *count;
    int32_t *weights;
} coeffs;

static void coeffs_cleanup(coeffs *c)
{
    free(c->first);
    free(c->count);
    free(c->weights);
}

static double triangle(double x)
{
    if (x < 0.0)
        x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

/* Pillow's precompute_coeffs() + normalize_coeffs_8bpc() for BILINEAR. */
static int coeffs_compute(size_t in_size, size_t out_size, coeffs *c)
{
    double scale = (double)in_size / (double)out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = filterscale; /* the triangle's support is 1 */
    c->ksize = (size_t)ceil(support) * 2 + 1;
    c->first = calloc(out_size, sizeof *c->first);
    c->count = calloc(out_size, sizeof *c->count);
    c->weights = calloc(out_size * c->ksize, sizeof *c->weights);
    double *k = calloc(c->ksize, sizeof *k);
    if (c->first == NULL || c->count == NULL || c->weights == NULL || k == NULL) {
        free(k);
        coeffs_cleanup(c);
        return -1;
    }
    for (size_t xx = 0; xx < out_size; xx++) {
        double center = ((double)xx + 0.5) * scale;
        /* Pillow truncates toward zero after adding 0.5, then clamps. */
        int xmin = (int)(center - support + 0.5);
        int xmax = (int)(center + support + 0.5);
        if (xmin < 0)
            xmin = 0;
        if (xmax > (int)in_size)
            xmax = (int)in_size;
        size_t taps = (size_t)(xmax - xmin);
        double ww = 0.0;
        double ss = 1.0 / filterscale;
        for (size_t x = 0; x < taps; x++) {
            k[x] = triangle(((double)x + (double)xmin - center + 0.5) * ss);
            ww += k[x];
        }
        for (size_t x = 0; x < taps; x++) {
            double v = ww != 0.0 ? k[x] / ww : k[x];
            /* Weights are never negative for the triangle filter. */
            c->weights[xx * c->ksize + x] = (int32_t)(0.5 + v * (1 << PRECISION_BITS));
        }
        c->first[xx] = (size_t)xmin;
        c->count[xx] = taps;
    }
    free(k);
    return 0;
}

static uint8_t clip8(int64_t sum)
{
    int64_t v = sum >> PRECISION_BITS; /* sum >= 0: weights and pixels are non-negative */
    return (uint8_t)(v > 255 ? 255 : v);
}

/* One pass along x (`horizontal`) or y. `src` is sw x sh, `dst` dw x dh. */
static void resample_pass(const uint8_t *src, size_t sw, uint8_t *dst, size_t dw, size_t dh,
                          size_t ch, const coeffs *c, bool horizontal)
{
    for (size_t y = 0; y < dh; y++) {
        for (size_t x = 0; x < dw; x++) {
            size_t o = horizontal ? x : y;
            const int32_t *k = c->weights + o * c->ksize;
            for (size_t b = 0; b < ch; b++) {
                int64_t sum = 1 << (PRECISION_BITS - 1);
                for (size_t t = 0; t < c->count[o]; t++) {
                    size_t sx = horizontal ? c->first[o] + t : x;
                    size_t sy = horizontal ? y : c->first[o] + t;
                    sum += (int64_t)src[(sy * sw + sx) * ch + b] * k[t];
                }
                dst[(y * dw + x) * ch + b] = clip8(sum);
            }
        }
    }
}

int ic_image_resize(const ic_image *src, size_t width, size_t height, ic_image *out)
{
    size_t ch = src->channels;
    if (width == 0 || height == 0 || src->width == 0 || src->height == 0 || ch == 0)
        return -1;
    coeffs hc = {0};
    coeffs vc = {0};
    uint8_t *tmp = malloc(width * src->height * ch);
    uint8_t *dst = malloc(width * height * ch);
    int rc = -1;
    if (tmp == NULL || dst == NULL)
        goto out;
    /* Pillow skips a pass whose size does not change (a plain copy). */
    if (width != src->width) {
        if (coeffs_compute(src->width, width, &hc) != 0)
            goto out;
        resample_pass(src->pixels, src->width, tmp, width, src->height, ch, &hc, true);
    } else {
        memcpy(tmp, src->pixels, width * src->height * ch);
    }
    if (height != src->height) {
        if (coeffs_compute(src->height, height, &vc) != 0)
            goto out;
        resample_pass(tmp, width, dst, width, height, ch, &vc, false);
    } else {
        memcpy(dst, tmp, width * height * ch);
    }
    out->width = width;
    out->height = height;
    out->channels = ch;
    out->pixels = dst;
    dst = NULL;
    rc = 0;
out:
    coeffs_cleanup(&vc);
    coeffs_cleanup(&hc);
    free(dst);
    free(tmp);
    return rc;
}

/* ---- scaling and layout ------------------------------------------------ */

size_t ic_tensor_byte_size(const ic_image *img, tc_dtype dtype)
{
    switch (dtype) {
    case TC_DTYPE_BOOL:
    case TC_DTYPE_BYTES:
    case TC_DTYPE_BF16:
    case TC_DTYPE_INVALID:
        return 0;
    default:
        break;
    }
    return img->width * img->height * img->channels * tc_dtype_size(dtype);
}

uint16_t ic_half_from_float(float value)
{
    uint32_t f;
    memcpy(&f, &value, sizeof f);
    uint16_t sign = (uint16_t)((f >> 16) & 0x8000u);
    uint32_t exp = (f >> 23) & 0xffu;
    uint32_t mant = f & 0x7fffffu;
    if (exp == 0xffu) /* inf or NaN (kept quiet) */
        return (uint16_t)(sign | 0x7c00u | (mant != 0 ? 0x200u : 0u));
    int e = (int)exp - 127 + 15;
    if (e >= 31)
        return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) { /* subnormal half, or zero */
        if (e < -10)
            return sign;
        mant |= 0x800000u;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t half = mant >> shift;
        uint32_t rest = mant & ((1u << shift) - 1u);
        uint32_t mid = 1u << (shift - 1u);
        if (rest > mid || (rest == mid && (half & 1u) != 0))
            half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = ((uint32_t)e << 10) | (mant >> 13);
    uint32_t rest = mant & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1u) != 0))
        half++; /* may carry into the exponent, up to infinity: still correct */
    return (uint16_t)(sign | half);
}

/* The scaled value of channel `b` of a pixel, computed in double. Upstream
 * computes in the input's numpy type; for FP32 the float path below gives
 * the same bits. */
static double scaled(uint8_t v, size_t b, size_t channels, ic_scaling s)
{
    static const double vgg_mean[3] = {123.0, 117.0, 104.0};
    switch (s) {
    case IC_SCALING_INCEPTION:
        return (double)v / 127.5 - 1.0;
    case IC_SCALING_VGG:
        return (double)v - (channels == 1 ? 128.0 : vgg_mean[b]);
    case IC_SCALING_NONE:
    default:
        return (double)v;
    }
}

static float scaled_f32(uint8_t v, size_t b, size_t channels, ic_scaling s)
{
    static const float vgg_mean[3] = {123.0f, 117.0f, 104.0f};
    switch (s) {
    case IC_SCALING_INCEPTION:
        return (float)v / 127.5f - 1.0f;
    case IC_SCALING_VGG:
        return (float)v - (channels == 1 ? 128.0f : vgg_mean[b]);
    case IC_SCALING_NONE:
    default:
        return (float)v;
    }
}

static int64_t saturate(double v, int64_t lo, int64_t hi)
{
    double r = nearbyint(v);
    if (r < (double)lo)
        return lo;
    if (r > (double)hi)
        return hi;
    return (int64_t)r;
}

/* Store one element of `dtype` little-endian at `dst`. */
static void store(uint8_t *dst, tc_dtype dtype, uint8_t v, size_t b, size_t ch, ic_scaling s)
{
    uint8_t bytes[8] = {0};
    size_t size = tc_dtype_size(dtype);
    uint64_t bits = 0;
    if (dtype == TC_DTYPE_FP32) {
        float f = scaled_f32(v, b, ch, s);
        uint32_t u;
        memcpy(&u, &f, sizeof u);
        bits = u;
    } else if (dtype == TC_DTYPE_FP16) {
        bits = ic_half_from_float(scaled_f32(v, b, ch, s));
    } else if (dtype == TC_DTYPE_FP64) {
        double d = scaled(v, b, ch, s);
        memcpy(&bits, &d, sizeof bits);
    } else {
        bool is_signed = dtype >= TC_DTYPE_INT8 && dtype <= TC_DTYPE_INT64;
        unsigned width = (unsigned)size * 8u;
        int64_t hi =
            width >= 64 ? INT64_MAX : (int64_t)((1ull << (width - (is_signed ? 1 : 0))) - 1);
        int64_t lo = is_signed ? -hi - 1 : 0;
        bits = (uint64_t)saturate(scaled(v, b, ch, s), lo, hi);
    }
    for (size_t i = 0; i < size; i++)
        bytes[i] = (uint8_t)(bits >> (8 * i));
    memcpy(dst, bytes, size);
}

int ic_image_to_tensor(const ic_image *img, ic_format format, ic_scaling scaling, tc_dtype dtype,
                       uint8_t *out, size_t out_size)
{
    size_t need = ic_tensor_byte_size(img, dtype);
    if (need == 0 || need != out_size)
        return -1;
    size_t es = tc_dtype_size(dtype);
    size_t ch = img->channels;
    size_t plane = img->width * img->height;
    for (size_t p = 0; p < plane; p++) {
        for (size_t b = 0; b < ch; b++) {
            size_t index = format == IC_FORMAT_NCHW ? b * plane + p : p * ch + b;
            store(out + index * es, dtype, img->pixels[p * ch + b], b, ch, scaling);
        }
    }
    return 0;
}

int ic_preprocess_file(const char *path, size_t channels, size_t height, size_t width,
                       ic_format format, ic_scaling scaling, tc_dtype dtype, uint8_t **out,
                       size_t *out_size, char *err, size_t err_size)
{
    ic_image img = {0};
    ic_image resized = {0};
    uint8_t *data = NULL;
    int rc = -1;
    if (ic_image_load(path, channels, &img, err, err_size) != 0)
        return -1;
    const ic_image *use = &img;
    if (img.width != width || img.height != height) {
        if (ic_image_resize(&img, width, height, &resized) != 0) {
            snprintf(err, err_size, "cannot resize image '%s' to %zux%zu", path, width, height);
            goto out;
        }
        use = &resized;
    }
    size_t size = ic_tensor_byte_size(use, dtype);
    data = size > 0 ? malloc(size) : NULL;
    if (data == NULL || ic_image_to_tensor(use, format, scaling, dtype, data, size) != 0) {
        snprintf(err, err_size, "cannot convert image '%s' to %s", path,
                 tc_dtype_name(dtype) != NULL ? tc_dtype_name(dtype) : "this datatype");
        goto out;
    }
    *out = data;
    *out_size = size;
    data = NULL;
    rc = 0;
out:
    free(data);
    ic_image_cleanup(&resized);
    ic_image_cleanup(&img);
    return rc;
}
