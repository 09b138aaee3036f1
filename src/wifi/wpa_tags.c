/*
 * Crash safety of the wpa_supplicant backend. A network an attempt adds carries
 * id_str "wifiprovd" from the request after ADD_NETWORK until it is committed (the tag is
 * cleared then) or removed. SELECT_NETWORK disables every other network, so the ones enabled
 * before are written to <state-dir>/wpa-reenable (id and SSID in hex, one per line) before
 * it is sent, and the file is removed once they are enabled again. At start, what a killed
 * run left behind is swept: its tagged networks are removed and the listed networks enabled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "wifi/wifiutil.h"
#include "wifi/wpa.h"

#define PREV_FILE "wpa-reenable"
#define PREV_FILE_MAX (WPA_MAX_PREV * (12 + 2 * WIFIPROV_SSID_MAX + 2) + 1)

int wifiprov__wpa_tag(struct wpa *w, int id, bool ours)
{
    return wifiprov__wpa_requestf_ok(w, "SET_NETWORK %d id_str \"%s\"", id, ours ? WPA_TAG : "");
}

/* The SSID of network @p id in hex (GET_NETWORK answers "text" or hex). @return 0 or an error. */
static int ssid_hex(struct wpa *w, int id, char hex[2 * WIFIPROV_SSID_MAX + 1])
{
    char val[2 * WIFIPROV_SSID_MAX + 8];
    size_t len;
    int r = wifiprov__wpa_get_network(w, id, "ssid", val, sizeof(val));

    if (r)
        return r;
    len = strlen(val);
    if (len >= 2 && val[0] == '"' && val[len - 1] == '"') {
        if (len - 2 > WIFIPROV_SSID_MAX)
            return WIFIPROV_ERR_WIFI;
        wifiprov__hex_encode((const uint8_t *)val + 1, len - 2, hex);
        return 0;
    }
    if (len > 2 * WIFIPROV_SSID_MAX)
        return WIFIPROV_ERR_WIFI;
    memcpy(hex, val, len + 1);
    return 0;
}

int wifiprov__wpa_prev_save(struct wpa *w)
{
    char *buf;
    size_t k = 0;
    int r;

    if (!w->state_dir)
        return 0;
    if (w->n_prev == 0)
        return wifiprov__wifiutil_remove_file(w->state_dir, PREV_FILE);
    buf = wifiprov__malloc(PREV_FILE_MAX);
    if (!buf)
        return WIFIPROV_ERR_NOMEM;
    for (size_t i = 0; i < w->n_prev; i++) {
        char hex[2 * WIFIPROV_SSID_MAX + 1];

        if (w->prev[i] < 0 || ssid_hex(w, w->prev[i], hex))
            hex[0] = '\0';
        k += (size_t)snprintf(buf + k, PREV_FILE_MAX - k, "%d %s\n", w->prev[i], hex);
    }
    r = wifiprov__wifiutil_write_atomic(w->state_dir, PREV_FILE, buf, k);
    wifiprov__free(buf);
    if (r)
        wifiprov__err("wpa_supplicant: cannot keep the list of networks to enable again in %s", w->state_dir);
    return r;
}

static void remove_tagged(struct wpa *w, int id, const char *flags, void *ud)
{
    char val[64];

    (void)flags;
    (void)ud;
    if (wifiprov__wpa_get_network(w, id, "id_str", val, sizeof(val)) || strcmp(val, "\"" WPA_TAG "\""))
        return;
    if (wifiprov__wpa_requestf_ok(w, "REMOVE_NETWORK %d", id) == 0)
        wifiprov__info("wpa_supplicant: removed network %d left over by an earlier run", id);
    else
        wifiprov__warn("wpa_supplicant: could not remove network %d left over by an earlier run", id);
}

void wifiprov__wpa_sweep(struct wpa *w)
{
    char *buf;
    const char *p;
    int r;

    (void)wifiprov__wpa_each_network(w, remove_tagged, NULL);
    if (!w->state_dir)
        return;
    buf = wifiprov__malloc(PREV_FILE_MAX);
    if (!buf)
        return;
    r = wifiprov__wifiutil_read_file(w->state_dir, PREV_FILE, buf, PREV_FILE_MAX);
    if (r == WIFIPROV_ERR_NOT_FOUND)
        goto out;
    if (r)
        wifiprov__warn("wpa_supplicant: %s/%s is unreadable or too large; enabling what it lists", w->state_dir,
                       PREV_FILE);
    /* "<id> <ssid hex>": enabled again only while that id still holds that network. */
    for (p = buf; *p; p += strcspn(p, "\n"), p += *p == '\n') {
        char want[2 * WIFIPROV_SSID_MAX + 1], have[2 * WIFIPROV_SSID_MAX + 1];
        char *end;
        long id = strtol(p, &end, 10);
        size_t len;

        if (end == p || *end != ' ' || id < 0 || id > 1000000)
            continue;
        len = strcspn(end + 1, "\n");
        if (len > 2 * WIFIPROV_SSID_MAX)
            continue;
        memcpy(want, end + 1, len);
        want[len] = '\0';
        if (ssid_hex(w, (int)id, have) || strcasecmp(want, have)) {
            wifiprov__info("wpa_supplicant: network %ld changed since an earlier run disabled it; left alone", id);
            continue;
        }
        if (wifiprov__wpa_requestf_ok(w, "ENABLE_NETWORK %ld", id) == 0)
            wifiprov__info("wpa_supplicant: enabled network %ld again (disabled by an earlier run)", id);
    }
    (void)wifiprov__wifiutil_remove_file(w->state_dir, PREV_FILE);
out:
    wifiprov__free(buf);
}

struct find_ssid {
    char hex[2 * WIFIPROV_SSID_MAX + 1];
    int skip;
    int found;
};

static void match_ssid(struct wpa *w, int id, const char *flags, void *ud)
{
    struct find_ssid *f = ud;
    char have[2 * WIFIPROV_SSID_MAX + 1];

    (void)flags;
    if (f->found < 0 && id != f->skip && ssid_hex(w, id, have) == 0 && !strcasecmp(have, f->hex))
        f->found = id;
}

int wifiprov__wpa_find_ssid(struct wpa *w, const uint8_t *ssid, size_t len, int skip_id)
{
    struct find_ssid f;

    if (!len || len > WIFIPROV_SSID_MAX)
        return -1;
    wifiprov__hex_encode(ssid, len, f.hex);
    f.skip = skip_id;
    f.found = -1;
    (void)wifiprov__wpa_each_network(w, match_ssid, &f);
    return f.found;
}
