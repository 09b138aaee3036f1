/*
 * Wi-Fi types shared by the device, the client and the Wi-Fi backends.
 * Numbers match the wire enums (wifi_constants.proto). No OS headers.
 */
#ifndef WIFIPROV_WIFI_H
#define WIFIPROV_WIFI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WIFIPROV_SSID_MAX 32
#define WIFIPROV_PASSPHRASE_MAX 63
#define WIFIPROV_BSSID_LEN 6
#define WIFIPROV_IP4_MAX 16 /* "255.255.255.255" + NUL */

/* Auth modes as on the wire. Devices may send numbers beyond these; keep them as numbers. */
enum wifiprov_auth_mode {
    WIFIPROV_AUTH_MODE_OPEN = 0,
    WIFIPROV_AUTH_MODE_WEP = 1,
    WIFIPROV_AUTH_MODE_WPA_PSK = 2,
    WIFIPROV_AUTH_MODE_WPA2_PSK = 3,
    WIFIPROV_AUTH_MODE_WPA_WPA2_PSK = 4,
    WIFIPROV_AUTH_MODE_WPA2_ENTERPRISE = 5,
    WIFIPROV_AUTH_MODE_WPA3_PSK = 6,
    WIFIPROV_AUTH_MODE_WPA2_WPA3_PSK = 7,
};
/* "Open", "WEP", ..., "WPA2_WPA3_PSK"; "Unknown(<n>)"-style names are the caller's job: returns NULL past 7. */
const char *wifiprov_auth_mode_to_string(uint32_t mode);
/* Parses "open", "wep", "wpa_psk", "wpa2_psk", "wpa_wpa2_psk", "wpa2_enterprise", "wpa3_psk", "wpa2_wpa3_psk"
 * (case-insensitive). @return 0 or WIFIPROV_ERR_INVAL. */
int wifiprov_auth_mode_from_string(const char *s, uint32_t *mode);

enum wifiprov_sta_state {
    WIFIPROV_STA_STATE_CONNECTED = 0,
    WIFIPROV_STA_STATE_CONNECTING = 1,
    WIFIPROV_STA_STATE_DISCONNECTED = 2,
    WIFIPROV_STA_STATE_FAILED = 3,
};
const char *wifiprov_sta_state_to_string(enum wifiprov_sta_state s);

enum wifiprov_fail_reason {
    WIFIPROV_FAIL_REASON_AUTH_ERROR = 0,
    WIFIPROV_FAIL_REASON_NETWORK_NOT_FOUND = 1,
    /* Not on the wire: a backend failure that is neither of the above (the manager retries). */
    WIFIPROV_FAIL_REASON_OTHER = 2,
};
const char *wifiprov_fail_reason_to_string(enum wifiprov_fail_reason r);

/* One access point seen by a scan. */
struct wifiprov_ap {
    uint8_t ssid[WIFIPROV_SSID_MAX];
    uint8_t ssid_len;
    uint8_t bssid[WIFIPROV_BSSID_LEN];
    uint32_t channel;
    int32_t rssi;
    uint32_t auth; /* enum wifiprov_auth_mode or a raw larger number */
};

/* Credentials sent by a client (SetConfig). */
struct wifiprov_wifi_creds {
    uint8_t ssid[WIFIPROV_SSID_MAX];
    uint8_t ssid_len;
    char passphrase[WIFIPROV_PASSPHRASE_MAX + 1]; /* NUL-terminated; may contain no NUL inside */
    uint8_t passphrase_len;
    uint8_t bssid[WIFIPROV_BSSID_LEN];
    bool has_bssid;
    int32_t channel;
};

/* What GetStatus reports. */
struct wifiprov_wifi_status {
    enum wifiprov_sta_state state;
    /* FAILED: */
    enum wifiprov_fail_reason fail_reason;
    /* CONNECTING: an attempt failed and this many remain */
    bool has_attempts_remaining;
    uint32_t attempts_remaining;
    /* CONNECTED: */
    char ip4[WIFIPROV_IP4_MAX];
    uint8_t ssid[WIFIPROV_SSID_MAX];
    uint8_t ssid_len;
    uint8_t bssid[WIFIPROV_BSSID_LEN];
    int32_t channel;
    uint32_t auth;
};

/* Scan parameters of ScanStart. */
struct wifiprov_scan_opts {
    bool blocking;
    bool passive;
    uint32_t group_channels;
    uint32_t period_ms;
};

#ifdef __cplusplus
}
#endif
#endif
