#include "base64.h"

static const char k_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

tc_code tc__base64_encode(const uint8_t *data, size_t len, tc__buf *out)
{
    tc_code rc = tc__buf_reserve(out, (len + 2) / 3 * 4);
    if (rc != TC_OK)
        return rc;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < len)
            v |= data[i + 2];
        char quad[4] = {k_alphabet[(v >> 18) & 63], k_alphabet[(v >> 12) & 63],
                        i + 1 < len ? k_alphabet[(v >> 6) & 63] : '=',
                        i + 2 < len ? k_alphabet[v & 63] : '='};
        rc = tc__buf_append(out, quad, 4);
        if (rc != TC_OK)
            return rc;
    }
    return TC_OK;
}

static int decode_char(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

tc_code tc__base64_decode(const char *text, size_t len, tc__buf *out)
{
    if (len % 4 != 0)
        return TC_E_INVALID_ARG;
    for (size_t i = 0; i < len; i += 4) {
        bool last = i + 4 == len;
        int pad = 0;
        if (last && text[i + 3] == '=')
            pad = text[i + 2] == '=' ? 2 : 1;
        uint32_t v = 0;
        for (int j = 0; j < 4; j++) {
            int d = j >= 4 - pad ? 0 : decode_char(text[i + (size_t)j]);
            if (d < 0)
                return TC_E_INVALID_ARG;
            v = (v << 6) | (uint32_t)d;
        }
        uint8_t bytes[3] = {(uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
        tc_code rc = tc__buf_append(out, bytes, (size_t)(3 - pad));
        if (rc != TC_OK)
            return rc;
    }
    return TC_OK;
}
