/* Names of the Wi-Fi enums, for logs, the CLI and JSON output. */
#include <ctype.h>
#include <string.h>

#include "wifiprov/wifi.h"
#include "wifiprov/error.h"

static const char *const auth_names[] = {
    "Open", "WEP", "WPA_PSK", "WPA2_PSK", "WPA_WPA2_PSK", "WPA2_ENTERPRISE", "WPA3_PSK", "WPA2_WPA3_PSK",
};

const char *wifiprov_auth_mode_to_string(uint32_t mode)
{
    return mode < sizeof(auth_names) / sizeof(auth_names[0]) ? auth_names[mode] : NULL;
}

int wifiprov_auth_mode_from_string(const char *s, uint32_t *mode)
{
    uint32_t i;

    for (i = 0; i < sizeof(auth_names) / sizeof(auth_names[0]); i++) {
        const char *a = auth_names[i], *b = s;

        while (*a && *b && tolower((unsigned char)*a) == tolower((unsigned char)*b)) {
            a++;
            b++;
        }
        if (!*a && !*b) {
            *mode = i;
            return 0;
        }
    }
    return WIFIPROV_ERR_INVAL;
}

const char *wifiprov_sta_state_to_string(enum wifiprov_sta_state s)
{
    switch (s) {
    case WIFIPROV_STA_STATE_CONNECTED:
        return "Connected";
    case WIFIPROV_STA_STATE_CONNECTING:
        return "Connecting";
    case WIFIPROV_STA_STATE_DISCONNECTED:
        return "Disconnected";
    case WIFIPROV_STA_STATE_FAILED:
        return "ConnectionFailed";
    }
    return "Unknown";
}

const char *wifiprov_fail_reason_to_string(enum wifiprov_fail_reason r)
{
    switch (r) {
    case WIFIPROV_FAIL_REASON_AUTH_ERROR:
        return "AuthError";
    case WIFIPROV_FAIL_REASON_NETWORK_NOT_FOUND:
        return "NetworkNotFound";
    case WIFIPROV_FAIL_REASON_OTHER:
        return "Other";
    }
    return "Unknown";
}
