/* Helpers shared by the NetworkManager and wpa_supplicant backends (no I/O). */
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "wifi/wifiutil.h"

uint32_t wifiprov__wifiutil_freq_to_channel(uint32_t mhz)
{
    if (mhz == 2484)
        return 14;
    if (mhz >= 2412 && mhz <= 2472)
        return (mhz - 2407) / 5;
    /* 6 GHz before 5 GHz: 5955.. overlaps the upper end of the 5 GHz formula. */
    if (mhz == 5935)
        return 2;
    if (mhz >= 5955 && mhz <= 7115)
        return (mhz - 5950) / 5;
    if (mhz >= 4910 && mhz <= 4980)
        return (mhz - 4000) / 5;
    if (mhz >= 5000 && mhz <= 5925)
        return (mhz - 5000) / 5;
    return 0;
}

/* The key-management part of an IE token ("[WPA2-PSK+SAE-CCMP]"), by substring: cipher
 * names (CCMP, TKIP, GCMP...) never contain PSK, SAE, EAP or OWE. */
struct akm {
    bool psk, sae, eap, owe;
};

static void akm_scan(const char *tok, size_t len, struct akm *a)
{
    for (size_t i = 0; i + 3 <= len; i++) {
        if (!memcmp(tok + i, "PSK", 3))
            a->psk = true;
        else if (!memcmp(tok + i, "SAE", 3))
            a->sae = true;
        else if (!memcmp(tok + i, "EAP", 3))
            a->eap = true;
        else if (!memcmp(tok + i, "OWE", 3))
            a->owe = true;
    }
}

static uint32_t auth_decide(const struct akm *wpa, const struct akm *rsn, bool wep)
{
    bool any_psk = wpa->psk || rsn->psk;

    if (rsn->sae && any_psk)
        return WIFIPROV_AUTH_MODE_WPA2_WPA3_PSK;
    if (rsn->sae)
        return WIFIPROV_AUTH_MODE_WPA3_PSK;
    if (rsn->psk && wpa->psk)
        return WIFIPROV_AUTH_MODE_WPA_WPA2_PSK;
    if (rsn->psk)
        return WIFIPROV_AUTH_MODE_WPA2_PSK;
    if (wpa->psk)
        return WIFIPROV_AUTH_MODE_WPA_PSK;
    if (rsn->eap || wpa->eap)
        return WIFIPROV_AUTH_MODE_WPA2_ENTERPRISE;
    if (rsn->owe)
        return WIFIPROV__AUTH_OWE;
    if (wep)
        return WIFIPROV_AUTH_MODE_WEP;
    return WIFIPROV_AUTH_MODE_OPEN;
}

uint32_t wifiprov__wifiutil_auth_from_wpa_flags(const char *flags)
{
    struct akm wpa = {0}, rsn = {0};
    bool wep = false;
    const char *p = flags;

    while ((p = strchr(p, '[')) != NULL) {
        const char *end = strchr(p, ']');
        size_t len;

        if (!end)
            break;
        p++;
        len = (size_t)(end - p);
        if (len >= 4 && !memcmp(p, "WPA-", 4))
            akm_scan(p + 4, len - 4, &wpa);
        else if (len >= 5 && !memcmp(p, "WPA2-", 5))
            akm_scan(p + 5, len - 5, &rsn);
        else if (len >= 4 && !memcmp(p, "RSN-", 4))
            akm_scan(p + 4, len - 4, &rsn);
        else if (len == 3 && !memcmp(p, "WEP", 3))
            wep = true;
        else if (len == 3 && !memcmp(p, "OWE", 3))
            rsn.owe = true;
        p = end + 1;
    }
    return auth_decide(&wpa, &rsn, wep);
}

/* NM's NM80211ApSecurityFlags and NM80211ApFlags bits. */
#define NM_AP_FLAGS_PRIVACY 0x1u
#define NM_SEC_KEY_MGMT_PSK 0x100u
#define NM_SEC_KEY_MGMT_8021X 0x200u
#define NM_SEC_KEY_MGMT_SAE 0x400u
#define NM_SEC_KEY_MGMT_OWE 0x800u
#define NM_SEC_KEY_MGMT_OWE_TM 0x1000u
#define NM_SEC_KEY_MGMT_SUITE_B_192 0x2000u

uint32_t wifiprov__wifiutil_auth_from_nm(uint32_t flags, uint32_t wpa_flags, uint32_t rsn_flags)
{
    struct akm wpa = {0}, rsn = {0};

    wpa.psk = (wpa_flags & NM_SEC_KEY_MGMT_PSK) != 0;
    wpa.eap = (wpa_flags & NM_SEC_KEY_MGMT_8021X) != 0;
    rsn.psk = (rsn_flags & NM_SEC_KEY_MGMT_PSK) != 0;
    rsn.sae = (rsn_flags & NM_SEC_KEY_MGMT_SAE) != 0;
    rsn.eap = (rsn_flags & (NM_SEC_KEY_MGMT_8021X | NM_SEC_KEY_MGMT_SUITE_B_192)) != 0;
    rsn.owe = (rsn_flags & (NM_SEC_KEY_MGMT_OWE | NM_SEC_KEY_MGMT_OWE_TM)) != 0;
    /* Privacy without any WPA/RSN element means static WEP. */
    return auth_decide(&wpa, &rsn, (flags & NM_AP_FLAGS_PRIVACY) && !wpa_flags && !rsn_flags);
}

uint32_t wifiprov__wifiutil_auth_from_key_mgmt(const char *k)
{
    if (!strcmp(k, "NONE"))
        return WIFIPROV_AUTH_MODE_OPEN;
    if (!strcmp(k, "WPA2-PSK") || !strcmp(k, "WPA2-PSK-SHA256") || !strcmp(k, "FT-PSK"))
        return WIFIPROV_AUTH_MODE_WPA2_PSK;
    if (!strcmp(k, "WPA-PSK"))
        return WIFIPROV_AUTH_MODE_WPA_PSK;
    if (!strcmp(k, "SAE") || !strcmp(k, "FT-SAE") || !strcmp(k, "SAE-EXT-KEY"))
        return WIFIPROV_AUTH_MODE_WPA3_PSK;
    if (!strcmp(k, "WEP"))
        return WIFIPROV_AUTH_MODE_WEP;
    if (!strncmp(k, "WPA2/IEEE 802.1X", 16) || !strncmp(k, "WPA/IEEE 802.1X", 15))
        return WIFIPROV_AUTH_MODE_WPA2_ENTERPRISE;
    if (!strcmp(k, "OWE"))
        return WIFIPROV__AUTH_OWE;
    return UINT32_MAX;
}

int32_t wifiprov__wifiutil_nm_strength_to_rssi(uint8_t strength)
{
    if (strength > 100)
        strength = 100;
    /* NM: quality = 100 - (|clamp(dBm, -100, -40) + 40| * 100 / 60). */
    return -40 - (int32_t)((100u - strength) * 60u + 50u) / 100;
}

int wifiprov__wifiutil_ssid_unescape(const char *in, size_t in_len, uint8_t out[WIFIPROV_SSID_MAX], uint8_t *out_len)
{
    size_t n = 0;

    for (size_t i = 0; i < in_len; i++) {
        uint8_t c = (uint8_t)in[i];

        if (c == '\\') {
            if (++i >= in_len)
                return WIFIPROV_ERR_INVAL;
            switch (in[i]) {
            case '\\':
                c = '\\';
                break;
            case '"':
                c = '"';
                break;
            case 'e':
                c = 0x1b;
                break;
            case 'n':
                c = '\n';
                break;
            case 'r':
                c = '\r';
                break;
            case 't':
                c = '\t';
                break;
            case 'x': {
                int hi, lo;

                if (i + 2 >= in_len)
                    return WIFIPROV_ERR_INVAL;
                hi = wifiprov__hex_digit(in[i + 1]);
                lo = wifiprov__hex_digit(in[i + 2]);
                if (hi < 0 || lo < 0)
                    return WIFIPROV_ERR_INVAL;
                c = (uint8_t)(hi << 4 | lo);
                i += 2;
                break;
            }
            default:
                return WIFIPROV_ERR_INVAL;
            }
        }
        if (n >= WIFIPROV_SSID_MAX)
            return WIFIPROV_ERR_NOSPC;
        out[n++] = c;
    }
    *out_len = (uint8_t)n;
    return 0;
}

int wifiprov__wifiutil_parse_mac(const char *s, uint8_t mac[6])
{
    for (int i = 0; i < 6; i++) {
        int hi = wifiprov__hex_digit(s[0]), lo = hi < 0 ? -1 : wifiprov__hex_digit(s[1]);

        if (hi < 0 || lo < 0)
            return WIFIPROV_ERR_INVAL;
        mac[i] = (uint8_t)(hi << 4 | lo);
        s += 2;
        if (i < 5) {
            if (*s != ':')
                return WIFIPROV_ERR_INVAL;
            s++;
        }
    }
    return 0;
}

/* Splits the next tab-separated field of [*p, end); false when there is none. */
static bool field(const char **p, const char *end, const char **f, size_t *flen, bool last)
{
    const char *s = *p, *t;

    if (s > end)
        return false;
    t = last ? end : memchr(s, '\t', (size_t)(end - s));
    if (!t)
        return false;
    *f = s;
    *flen = (size_t)(t - s);
    *p = t + 1;
    return true;
}

static bool parse_num(const char *s, size_t len, long *v)
{
    char buf[16];
    char *e;

    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    *v = strtol(buf, &e, 10);
    return *e == '\0';
}

int wifiprov__wifiutil_parse_scan_line(const char *line, size_t len, struct wifiprov_ap *ap)
{
    const char *p = line, *end = line + len, *f;
    size_t flen;
    long freq, sig;
    char mac[18], flags[256];

    if (len && line[len - 1] == '\r')
        end--;
    memset(ap, 0, sizeof(*ap));
    if (!field(&p, end, &f, &flen, false) || flen != 17)
        return WIFIPROV_ERR_INVAL;
    memcpy(mac, f, 17);
    mac[17] = '\0';
    if (wifiprov__wifiutil_parse_mac(mac, ap->bssid))
        return WIFIPROV_ERR_INVAL;
    if (!field(&p, end, &f, &flen, false) || !parse_num(f, flen, &freq) || freq <= 0)
        return WIFIPROV_ERR_INVAL;
    if (!field(&p, end, &f, &flen, false) || !parse_num(f, flen, &sig))
        return WIFIPROV_ERR_INVAL;
    if (!field(&p, end, &f, &flen, false))
        return WIFIPROV_ERR_INVAL;
    if (flen >= sizeof(flags))
        flen = sizeof(flags) - 1;
    memcpy(flags, f, flen);
    flags[flen] = '\0';
    if (!field(&p, end, &f, &flen, true))
        return WIFIPROV_ERR_INVAL;
    if (wifiprov__wifiutil_ssid_unescape(f, flen, ap->ssid, &ap->ssid_len))
        return WIFIPROV_ERR_INVAL;
    ap->channel = wifiprov__wifiutil_freq_to_channel((uint32_t)freq);
    ap->rssi = (int32_t)sig;
    ap->auth = wifiprov__wifiutil_auth_from_wpa_flags(flags);
    return 0;
}

void wifiprov__wifiutil_sort_aps(struct wifiprov_ap *aps, size_t n)
{
    /* Insertion sort: lists are short and it keeps equal RSSIs in order. */
    for (size_t i = 1; i < n; i++) {
        struct wifiprov_ap t = aps[i];
        size_t j = i;

        while (j > 0 && aps[j - 1].rssi < t.rssi) {
            aps[j] = aps[j - 1];
            j--;
        }
        aps[j] = t;
    }
}

size_t wifiprov__wifiutil_add_ap(struct wifiprov_ap *aps, size_t n, size_t cap, const struct wifiprov_ap *ap)
{
    size_t w = 0;

    /* Hidden networks (empty SSID) are not offered; one entry per BSSID. */
    if (ap->ssid_len == 0 || ap->ssid[0] == '\0')
        return n;
    for (size_t i = 0; i < n; i++)
        if (!memcmp(aps[i].bssid, ap->bssid, 6))
            return n;
    if (n < cap) {
        aps[n] = *ap;
        return n + 1;
    }
    /* Full: keep the strongest, replacing the weakest if this one is stronger. */
    for (size_t i = 1; i < n; i++)
        if (aps[i].rssi < aps[w].rssi)
            w = i;
    if (n && ap->rssi > aps[w].rssi)
        aps[w] = *ap;
    return n;
}

size_t wifiprov__wifiutil_parse_scan_results(const char *text, struct wifiprov_ap *aps, size_t cap)
{
    size_t n = 0;
    const char *p = text;

    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        struct wifiprov_ap ap;

        /* A line without its newline may be cut short by the reply size: skip it. */
        if (nl && wifiprov__wifiutil_parse_scan_line(p, len, &ap) == 0)
            n = wifiprov__wifiutil_add_ap(aps, n, cap, &ap);
        if (!nl)
            break;
        p = nl + 1;
    }
    wifiprov__wifiutil_sort_aps(aps, n);
    return n;
}

/* The value of "key=" on its own line of @p text: pointer and length (up to the newline). */
static const char *kv_find(const char *text, const char *key, size_t *len)
{
    size_t klen = strlen(key);
    const char *p = text;

    while (p && *p) {
        if (!strncmp(p, key, klen) && p[klen] == '=') {
            const char *v = p + klen + 1;

            *len = strcspn(v, "\n");
            return v;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return NULL;
}

int wifiprov__wifiutil_parse_bss(const char *text, struct wifiprov_ap *ap, long *id)
{
    const char *v;
    size_t len;
    long freq, level;
    char mac[18], flags[256];

    memset(ap, 0, sizeof(*ap));
    *id = -1;
    if (!(v = kv_find(text, "id", &len)) || !parse_num(v, len, id) || *id < 0) {
        *id = -1;
        return WIFIPROV_ERR_INVAL;
    }
    if (!(v = kv_find(text, "bssid", &len)) || len != 17)
        return WIFIPROV_ERR_INVAL;
    memcpy(mac, v, 17);
    mac[17] = '\0';
    if (wifiprov__wifiutil_parse_mac(mac, ap->bssid))
        return WIFIPROV_ERR_INVAL;
    if (!(v = kv_find(text, "freq", &len)) || !parse_num(v, len, &freq) || freq <= 0 || freq > 100000)
        return WIFIPROV_ERR_INVAL;
    if (!(v = kv_find(text, "level", &len)) || !parse_num(v, len, &level) || level < -1000 || level > 1000)
        return WIFIPROV_ERR_INVAL;
    flags[0] = '\0';
    if ((v = kv_find(text, "flags", &len)) != NULL) {
        if (len >= sizeof(flags))
            len = sizeof(flags) - 1;
        memcpy(flags, v, len);
        flags[len] = '\0';
    }
    if (!(v = kv_find(text, "ssid", &len)) || wifiprov__wifiutil_ssid_unescape(v, len, ap->ssid, &ap->ssid_len))
        return WIFIPROV_ERR_INVAL;
    ap->channel = wifiprov__wifiutil_freq_to_channel((uint32_t)freq);
    ap->rssi = (int32_t)level;
    ap->auth = wifiprov__wifiutil_auth_from_wpa_flags(flags);
    return 0;
}

bool wifiprov__wifiutil_kv(const char *text, const char *key, char *out, size_t cap)
{
    size_t len;
    const char *v = kv_find(text, key, &len);

    if (!v)
        return false;
    if (cap == 0)
        return true;
    if (len >= cap)
        len = cap - 1;
    memcpy(out, v, len);
    out[len] = '\0';
    return true;
}
