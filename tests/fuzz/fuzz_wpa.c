/*
 * libFuzzer target for the wpa_supplicant reply parsers (src/wifi/wifiutil.c): BSS entries,
 * SCAN_RESULTS, "key=value" replies (STATUS) and printf-escaped SSIDs. The first byte picks
 * the parser; the rest is the reply, as the control socket would deliver it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wifi/wifiutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wifiprov_ap aps[8], ap;
    char *text;
    char val[64];
    uint8_t ssid[WIFIPROV_SSID_MAX], ssid_len = 0;
    long id;
    size_t n;

    if (size < 1)
        return 0;
    text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    switch (data[0] % 4) {
    case 0:
        /* An empty SSID is a hidden network: valid, left out later by add_ap. */
        if (wifiprov__wifiutil_parse_bss(text, &ap, &id) == 0 && ap.ssid_len > WIFIPROV_SSID_MAX)
            abort();
        break;
    case 1:
        n = wifiprov__wifiutil_parse_scan_results(text, aps, 8);
        if (n > 8)
            abort();
        for (size_t i = 1; i < n; i++)
            if (aps[i - 1].rssi < aps[i].rssi)
                abort(); /* strongest first */
        break;
    case 2:
        if (wifiprov__wifiutil_kv(text, "wpa_state", val, sizeof(val)) && strlen(val) >= sizeof(val))
            abort();
        break;
    case 3:
        if (wifiprov__wifiutil_ssid_unescape(text, size - 1, ssid, &ssid_len) == 0 && ssid_len > WIFIPROV_SSID_MAX)
            abort();
        break;
    }
    free(text);
    return 0;
}
