/* Hex encoding for logs, the console transport and tests. */
#include "util.h"

void wifiprov__hex_encode(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0xf];
    }
    out[2 * len] = '\0';
}

int wifiprov__hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int wifiprov__hex_decode(const char *in, uint8_t *out, size_t out_cap, size_t *out_len)
{
    size_t n = 0;
    int hi = -1;

    for (; *in; in++) {
        int v;

        if (*in == ' ' || *in == '\t' || *in == '\n' || *in == '\r')
            continue;
        v = wifiprov__hex_digit(*in);
        if (v < 0)
            return WIFIPROV_ERR_INVAL;
        if (hi < 0) {
            hi = v;
            continue;
        }
        if (n >= out_cap)
            return WIFIPROV_ERR_NOSPC;
        out[n++] = (uint8_t)(hi << 4 | v);
        hi = -1;
    }
    if (hi >= 0)
        return WIFIPROV_ERR_INVAL;
    *out_len = n;
    return 0;
}
