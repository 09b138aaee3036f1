/*
 * A device and a client of libwifiprov in one process: the device role (security 2, the
 * provisioning manager, a toy radio that "joins" one network) and the client role (handshake,
 * scan, credentials, status) talk through an in-process transport instead of HTTP or BLE.
 *
 *   loopback [PASSPHRASE]
 *
 * Exits 0 when the client sees Connected, 1 when the device reports a failure (e.g. a
 * passphrase other than "correct-horse"), 2 on any library error. Only the public API is used:
 * build it with `pkg-config --cflags --libs wifiprov` or find_package(wifiprov).
 */
#include <stdio.h>
#include <string.h>

#include <wifiprov/wifiprov.h>

#define DEMO_SSID "HomeNetwork"
#define DEMO_PASSPHRASE "correct-horse"
#define DEMO_USER "wifiprov"
#define DEMO_PASSWORD "abcd1234"

/* The toy radio: requests are queued by the manager and carried out between exchanges. */
struct radio {
    struct wifiprov_prov *prov;
    int scan_queued;
    int connect_queued;
    struct wifiprov_wifi_creds creds;
};

static int radio_scan_start(void *ctx, const struct wifiprov_scan_opts *opts)
{
    struct radio *r = ctx;

    (void)opts;
    r->scan_queued = 1;
    return 0;
}

static int radio_connect(void *ctx, const struct wifiprov_wifi_creds *creds)
{
    struct radio *r = ctx;

    r->creds = *creds;
    r->connect_queued = 1;
    return 0;
}

static int radio_nothing(void *ctx)
{
    (void)ctx;
    return 0;
}

static int radio_commit(void *ctx, const struct wifiprov_wifi_creds *creds)
{
    (void)ctx;
    printf("device: saved the network \"%.*s\"\n", (int)creds->ssid_len, (const char *)creds->ssid);
    return 0;
}

static const struct wifiprov_wifi_ops radio_ops = {
    .scan_start = radio_scan_start,
    .connect = radio_connect,
    .disconnect = radio_nothing,
    .commit = radio_commit,
    .forget = radio_nothing,
};

static void ap_fill(struct wifiprov_ap *ap, const char *ssid, int32_t rssi, uint32_t auth)
{
    memset(ap, 0, sizeof(*ap));
    ap->ssid_len = (uint8_t)strlen(ssid);
    memcpy(ap->ssid, ssid, ap->ssid_len);
    ap->channel = 6;
    ap->rssi = rssi;
    ap->auth = auth;
}

/* Carries out what the manager asked for. @return 1 when something happened. */
static int radio_run(struct radio *r)
{
    struct wifiprov_ap aps[2];
    struct wifiprov_wifi_event ev;
    int did = 0;

    if (r->scan_queued) {
        r->scan_queued = 0;
        ap_fill(&aps[0], DEMO_SSID, -48, WIFIPROV_AUTH_MODE_WPA2_PSK);
        ap_fill(&aps[1], "CoffeeShop", -71, WIFIPROV_AUTH_MODE_OPEN);
        wifiprov_prov_scan_done(r->prov, 0, aps, 2);
        did = 1;
    }
    if (r->connect_queued) {
        r->connect_queued = 0;
        memset(&ev, 0, sizeof(ev));
        ev.type = WIFIPROV_WIFI_EVENT_CONNECTING;
        wifiprov_prov_wifi_event(r->prov, &ev);
        if (r->creds.ssid_len == strlen(DEMO_SSID) && memcmp(r->creds.ssid, DEMO_SSID, r->creds.ssid_len) == 0 &&
            strcmp(r->creds.passphrase, DEMO_PASSPHRASE) == 0) {
            ev.type = WIFIPROV_WIFI_EVENT_CONNECTED;
            ev.ip4 = "192.0.2.10";
            ev.ssid = r->creds.ssid;
            ev.ssid_len = r->creds.ssid_len;
            ev.channel = 6;
            ev.auth = WIFIPROV_AUTH_MODE_WPA2_PSK;
        } else {
            ev.type = WIFIPROV_WIFI_EVENT_ATTEMPT_FAILED;
            ev.reason = WIFIPROV_FAIL_REASON_AUTH_ERROR;
        }
        wifiprov_prov_wifi_event(r->prov, &ev);
        wifiprov_memzero(&r->creds, sizeof(r->creds));
        did = 1;
    }
    return did;
}

/* The in-process transport: one session (id 1) of the device. */
struct link {
    struct wifiprov_device *dev;
    struct radio *radio;
};

static int link_xfer(void *ctx, const char *endpoint, const uint8_t *req, size_t req_len, uint8_t *resp,
                     size_t resp_cap, size_t *resp_len)
{
    struct link *l = ctx;
    int rc;

    radio_run(l->radio);
    rc = wifiprov_device_handle(l->dev, 1, endpoint, req, req_len, resp, resp_cap, resp_len);
    /* A blocking scan answers once the radio has done its part. */
    while (rc == WIFIPROV_ERR_PENDING && radio_run(l->radio))
        rc = wifiprov_device_resume(l->dev, 1, resp, resp_cap, resp_len);
    /* As over HTTP, any device error is a dropped exchange. */
    return rc ? WIFIPROV_ERR_TRANSPORT : 0;
}

static uint64_t clock_ms(void *ctx)
{
    (void)ctx;
    return 0; /* no timers run in this short example */
}

static int check(int rc, const char *what)
{
    if (rc)
        fprintf(stderr, "loopback: %s: %s (%s)\n", what, wifiprov_strerror(rc), wifiprov_err_name(rc));
    return rc;
}

static int run_client(struct link *l, const char *passphrase)
{
    struct wifiprov_client_config cc;
    struct wifiprov_client *c = NULL;
    struct wifiprov_version_info info;
    struct wifiprov_scan_opts so;
    struct wifiprov_ap aps[4];
    struct wifiprov_wifi_creds creds;
    struct wifiprov_wifi_status st;
    bool finished = false;
    uint32_t count = 0;
    size_t n = 0, i;
    int rc, polls, ret = 2;

    memset(&cc, 0, sizeof(cc));
    cc.xfer = link_xfer;
    cc.xfer_ctx = l;
    cc.security = WIFIPROV_SECURITY_2;
    cc.username = DEMO_USER;
    cc.password = DEMO_PASSWORD;
    if (check(wifiprov_client_new(&cc, &c), "client") ||
        check(wifiprov_client_get_version(c, "---", &info, NULL, 0), "proto-ver"))
        goto out;
    printf("client: device speaks %s, security %d, patch %d\n", info.ver, info.sec_ver, info.sec_patch_ver);
    wifiprov_client_free(c);
    c = NULL;
    cc.sec_patch_ver = info.sec_patch_ver;
    if (check(wifiprov_client_new(&cc, &c), "client") || check(wifiprov_client_handshake(c), "handshake"))
        goto out;
    printf("client: security 2 session established\n");

    memset(&so, 0, sizeof(so));
    so.blocking = true;
    if (check(wifiprov_client_scan_start(c, &so, NULL), "scan start") ||
        check(wifiprov_client_scan_status(c, &finished, &count, NULL), "scan status") ||
        check(wifiprov_client_scan_result(c, 0, count < 4 ? count : 4, aps, &n, NULL), "scan result"))
        goto out;
    for (i = 0; i < n; i++)
        printf("client: sees \"%.*s\" (%d dBm, %s)\n", (int)aps[i].ssid_len, (const char *)aps[i].ssid,
               (int)aps[i].rssi, wifiprov_auth_mode_to_string(aps[i].auth));

    memset(&creds, 0, sizeof(creds));
    creds.ssid_len = (uint8_t)strlen(DEMO_SSID);
    memcpy(creds.ssid, DEMO_SSID, creds.ssid_len);
    creds.passphrase_len = (uint8_t)strlen(passphrase);
    memcpy(creds.passphrase, passphrase, creds.passphrase_len);
    rc = wifiprov_client_set_config(c, &creds, NULL);
    wifiprov_memzero(&creds, sizeof(creds));
    if (check(rc, "set config") || check(wifiprov_client_apply_config(c, NULL), "apply config"))
        goto out;

    for (polls = 0; polls < 10; polls++) {
        if (check(wifiprov_client_get_status(c, &st), "status"))
            goto out;
        if (st.state == WIFIPROV_STA_STATE_CONNECTED) {
            printf("client: device connected to \"%.*s\" with address %s\n", (int)st.ssid_len,
                   (const char *)st.ssid, st.ip4);
            ret = 0;
            goto out;
        }
        if (st.state == WIFIPROV_STA_STATE_FAILED) {
            printf("client: device failed to connect: %s\n", wifiprov_fail_reason_to_string(st.fail_reason));
            ret = 1;
            goto out;
        }
    }
    fprintf(stderr, "loopback: the device never finished connecting\n");
out:
    wifiprov_client_free(c);
    return ret;
}

int main(int argc, char **argv)
{
    static uint8_t salt[16], verifier[WIFIPROV_SEC2_VERIFIER_LEN];
    struct wifiprov_device_config dc;
    struct wifiprov_prov_config pc;
    struct wifiprov_device *dev = NULL;
    struct radio radio;
    struct link link;
    int ret = 2;

    memset(&radio, 0, sizeof(radio));
    if (check(wifiprov_sec2_gen_salt_verifier(DEMO_USER, DEMO_PASSWORD, sizeof(salt), NULL, NULL, salt, verifier),
              "verifier"))
        return 2;
    memset(&dc, 0, sizeof(dc));
    dc.security = WIFIPROV_SECURITY_2;
    dc.sec2_salt = salt;
    dc.sec2_salt_len = sizeof(salt);
    dc.sec2_verifier = verifier;
    dc.sec2_verifier_len = sizeof(verifier);
    if (check(wifiprov_device_new(&dc, &dev), "device"))
        goto out;
    memset(&pc, 0, sizeof(pc));
    pc.device = dev;
    pc.wifi = &radio_ops;
    pc.wifi_ctx = &radio;
    pc.connect_attempts = 1;
    pc.clock_fn = clock_ms;
    if (check(wifiprov_prov_new(&pc, &radio.prov), "manager") || check(wifiprov_prov_start(radio.prov), "start") ||
        check(wifiprov_device_session_open(dev, 1), "session"))
        goto out;
    printf("device: waiting for credentials (%s)\n",
           wifiprov_prov_state_to_string(wifiprov_prov_get_state(radio.prov)));
    link.dev = dev;
    link.radio = &radio;
    ret = run_client(&link, argc > 1 ? argv[1] : DEMO_PASSPHRASE);
    printf("device: state %s\n", wifiprov_prov_state_to_string(wifiprov_prov_get_state(radio.prov)));
out:
    wifiprov_prov_free(radio.prov);
    wifiprov_device_free(dev);
    return ret;
}
