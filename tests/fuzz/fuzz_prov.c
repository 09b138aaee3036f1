/*
 * libFuzzer target for the provisioning manager: the prov-config, prov-scan and
 * prov-ctrl payload parsers and the state machine behind them, driven through
 * a security-0 device with a fake Wi-Fi backend and a fake clock.
 *
 * Input: byte 0 configures the manager (bits 0-1 connect_attempts, bit 2
 * no_auto_stop, bit 3 scan cache, bits 4-7 max_scan_entries). Then records
 * [op][len][len bytes]:
 *   op % 9 = 0 / 1 / 2: a prov-config / prov-scan / prov-ctrl request (the bytes),
 *   3: a Wi-Fi event (byte 0 type, byte 1 reason), 4: scan done with the bytes
 *   cut into access points, 5: the clock moves on (byte 0 * 1000 ms) and timers
 *   run, 6: resume the pending request, 7: reprovision / reset / stop / start,
 *   8: the backend's next calls fail (byte 0) or succeed.
 * Invariants checked: a failed call writes no reply, a reply fits its buffer,
 * the state is one of the enum's values.
 */
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "wifiprov/wifiprov.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                                     \
    do {                                                                                                             \
        if (!(c))                                                                                                    \
            abort();                                                                                                 \
    } while (0)

struct fz {
    uint64_t now;
    int fail;
};

static int f_scan(void *ctx, const struct wifiprov_scan_opts *o)
{
    return ((struct fz *)ctx)->fail ? WIFIPROV_ERR_WIFI : 0;
}

static int f_connect(void *ctx, const struct wifiprov_wifi_creds *c)
{
    CHECK(c->ssid_len <= WIFIPROV_SSID_MAX && c->passphrase_len <= WIFIPROV_PASSPHRASE_MAX);
    CHECK(strlen(c->passphrase) == c->passphrase_len);
    return ((struct fz *)ctx)->fail ? WIFIPROV_ERR_WIFI : 0;
}

static int f_plain(void *ctx)
{
    return 0;
}

static int f_commit(void *ctx, const struct wifiprov_wifi_creds *c)
{
    return 0;
}

static const struct wifiprov_wifi_ops ops = {f_scan, f_connect, f_plain, f_commit, f_plain};

static uint64_t f_clock(void *ctx)
{
    return ((struct fz *)ctx)->now;
}

static void check_reply(int r, size_t out_len, size_t cap)
{
    if (r)
        CHECK(out_len == 0);
    else
        CHECK(out_len <= cap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const eps[] = {WIFIPROV_EP_CONFIG, WIFIPROV_EP_SCAN, WIFIPROV_EP_CTRL};
    struct wifiprov_device_config dc;
    struct wifiprov_prov_config pc;
    struct wifiprov_device *dev = NULL;
    struct wifiprov_prov *p = NULL;
    struct fz fz = {1000, 0};
    static uint8_t out[WIFIPROV_REPLY_CAP];
    size_t pos = 1, out_len;
    int r;

    if (size < 1)
        return 0;
    memset(&dc, 0, sizeof(dc));
    dc.security = WIFIPROV_SECURITY_0;
    if (wifiprov_device_new(&dc, &dev) || wifiprov_device_session_open(dev, 1))
        goto out;
    memset(&pc, 0, sizeof(pc));
    pc.device = dev;
    pc.wifi = &ops;
    pc.wifi_ctx = &fz;
    pc.clock_fn = f_clock;
    pc.clock_ctx = &fz;
    pc.connect_attempts = data[0] & 3;
    pc.no_auto_stop = data[0] & 4;
    pc.scan_cache_ms = data[0] & 8 ? 1000 : 0;
    pc.max_scan_entries = data[0] >> 4;
    if (wifiprov_prov_new(&pc, &p) || wifiprov_prov_start(p))
        goto out;
    while (pos + 2 <= size) {
        uint8_t op = data[pos] % 9;
        size_t len = data[pos + 1];
        const uint8_t *arg = data + pos + 2;

        if (len > size - pos - 2)
            len = size - pos - 2;
        pos += 2 + len;
        switch (op) {
        case 0:
        case 1:
        case 2:
            r = wifiprov_device_handle(dev, 1, eps[op], arg, len, out, sizeof(out), &out_len);
            if (r == WIFIPROV_ERR_STATE)
                wifiprov_device_cancel_pending(dev, 1); /* perhaps a request was pending */
            check_reply(r, out_len, sizeof(out));
            break;
        case 3: {
            struct wifiprov_wifi_event ev;
            static const uint8_t bssid[6] = {2, 0, 0, 0, 0, 1};

            memset(&ev, 0, sizeof(ev));
            ev.type = (enum wifiprov_wifi_event_type)(len > 0 ? arg[0] % 4 : 0);
            ev.reason = (enum wifiprov_fail_reason)(len > 1 ? arg[1] % 3 : 0);
            ev.ip4 = "10.0.0.2";
            ev.ssid = arg;
            ev.ssid_len = len;
            ev.bssid = len > 2 ? bssid : NULL;
            ev.channel = len > 3 ? arg[3] : 0;
            ev.auth = len > 4 ? arg[4] : 0;
            wifiprov_prov_wifi_event(p, &ev);
            break;
        }
        case 4: {
            struct wifiprov_ap aps[40];
            size_t n = 0, k;

            memset(aps, 0, sizeof(aps));
            for (k = 0; k + 4 <= len && n < 40; k += 4, n++) {
                aps[n].ssid_len = (uint8_t)(arg[k] % (WIFIPROV_SSID_MAX + 1));
                memset(aps[n].ssid, 'a' + (int)(n % 26), aps[n].ssid_len);
                aps[n].rssi = -(int32_t)arg[k + 1];
                aps[n].channel = arg[k + 2];
                aps[n].auth = arg[k + 3];
            }
            wifiprov_prov_scan_done(p, len && arg[0] == 0xff ? WIFIPROV_ERR_WIFI : 0, aps, n);
            break;
        }
        case 5:
            fz.now += (uint64_t)(len ? arg[0] : 1) * 1000u;
            (void)wifiprov_prov_next_timeout(p);
            wifiprov_prov_process_timers(p);
            break;
        case 6:
            r = wifiprov_device_resume(dev, 1, out, sizeof(out), &out_len);
            check_reply(r, out_len, sizeof(out));
            break;
        case 7:
            switch (len ? arg[0] % 4 : 0) {
            case 0:
                (void)wifiprov_prov_reprovision(p);
                break;
            case 1:
                (void)wifiprov_prov_reset(p);
                break;
            case 2:
                (void)wifiprov_prov_stop(p);
                break;
            default:
                (void)wifiprov_prov_start(p);
                break;
            }
            break;
        default:
            fz.fail = len ? arg[0] & 1 : 0;
            break;
        }
        CHECK(wifiprov_prov_state_to_string(wifiprov_prov_get_state(p))[0] != 'u');
    }
out:
    wifiprov_prov_free(p);
    wifiprov_device_free(dev);
    return 0;
}
