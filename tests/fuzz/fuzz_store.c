/*
 * libFuzzer targets for the files wifiprovd reads at start (daemon/store.c): built twice,
 * as fuzz_state (state.json) and, with FUZZ_SEC2_FILE, fuzz_sec2file (the security-2
 * verifier file). Both inputs come from disk, which a device owner may not fully control.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "wifiprovd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The daemon's logging lives in main.c; the parsers' messages go nowhere here. */
void wifiprovd_log(char level, const char *fmt, ...)
{
    (void)level;
    (void)fmt;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0'; /* the loaders read a NUL-terminated file */
#ifdef FUZZ_SEC2_FILE
    {
        char *user = NULL;
        uint8_t salt[64], verifier[WIFIPROV_SEC2_VERIFIER_LEN];
        size_t salt_len = 0, verifier_len = 0;

        if (wifiprovd_sec2_file_parse(text, "fuzz", &user, salt, sizeof(salt), &salt_len, verifier, &verifier_len) ==
            0) {
            if (!user || !*user || salt_len == 0 || salt_len > sizeof(salt) || verifier_len == 0 ||
                verifier_len > sizeof(verifier))
                abort();
            free(user);
        }
    }
#else
    {
        struct wifiprovd_state st;
        const char *why = NULL;

        if (wifiprovd_store_parse(text, &st, &why) == 0) {
            if (st.creds.ssid_len == 0 || st.creds.ssid_len > WIFIPROV_SSID_MAX ||
                st.creds.passphrase_len > WIFIPROV_PASSPHRASE_MAX || st.timestamp < 0)
                abort();
        } else if (!why) {
            abort();
        }
    }
#endif
    free(text);
    return 0;
}
