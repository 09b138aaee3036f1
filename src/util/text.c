/* Text helpers shared by the library, the daemon and the CLI: bytes made safe for a log
 * line, and secrets taken off the command line. */
#include <stdlib.h>
#include <string.h>

#include "util.h"

const char *wifiprov__escape(const uint8_t *in, size_t len, char *out, size_t cap)
{
    static const char digits[] = "0123456789abcdef";
    size_t o = 0;

    if (cap == 0)
        return out;
    for (size_t i = 0; i < len; i++) {
        if (in[i] >= 0x20 && in[i] < 0x7f && in[i] != '\\' && in[i] != '"') {
            if (o + 1 >= cap)
                break;
            out[o++] = (char)in[i];
        } else {
            if (o + 4 >= cap)
                break;
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = digits[in[i] >> 4];
            out[o++] = digits[in[i] & 0xf];
        }
    }
    out[o] = '\0';
    return out;
}

char *wifiprov__argv_secret(char *arg)
{
    size_t n = strlen(arg);
    char *copy = malloc(n + 1);

    if (copy)
        memcpy(copy, arg, n + 1);
    /* Wiped even when the copy failed: the caller stops anyway, the secret must not stay. */
    wifiprov_memzero(arg, n);
    return copy;
}
