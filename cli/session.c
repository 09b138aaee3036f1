/*
 * Session setup shared by the commands: transport, proto-ver, choice of the security
 * scheme (prov.sec_ver when the device says it, else esp_prov's no_sec rule, never weaker
 * than the secrets given imply, security 0 only when asked for), the secrets the scheme
 * needs, and the handshake.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "transport.h"

int cli_session_fail(struct cli_ctx *ctx, struct cli_session *s, int err, const char *what)
{
    int code = cli_exit_for_err(err);

    if ((code == CLI_EXIT_TRANSPORT || code == CLI_EXIT_TIMEOUT || err == WIFIPROV_ERR_NOSPC ||
         err == WIFIPROV_ERR_INVAL) &&
        s && s->tp && s->tp->errmsg[0])
        return cli_fail(ctx, code, NULL, "%s: %s", what, s->tp->errmsg);
    return cli_fail_err(ctx, err, what);
}

static const char *refused_name(enum cli_refused what)
{
    switch (what) {
    case CLI_REFUSED_APPLY:
        return "the credentials";
    case CLI_REFUSED_RESET:
        return "Reset";
    case CLI_REFUSED_REPROV:
        return "Reprov";
    }
    return "the request";
}

int cli_session_refused(struct cli_ctx *ctx, struct cli_session *s, enum cli_refused what, int status)
{
    const char *name = refused_name(what);
    struct wifiprov_wifi_status st;
    char ssid[4 * WIFIPROV_SSID_MAX + 1];

    memset(&st, 0, sizeof(st));
    if (wifiprov_client_get_status(s->client, &st) < 0)
        return cli_fail(ctx, CLI_EXIT_DEVICE, "InternalError",
                        "the device refused %s (status %d) and its state could not be read: see 'wifiprov status'",
                        name, status);
    cJSON_AddStringToObject(ctx->result, "device_state", cli_state_key(st.state));
    switch (st.state) {
    case WIFIPROV_STA_STATE_CONNECTING:
    case WIFIPROV_STA_STATE_DISCONNECTED:
        if (what == CLI_REFUSED_APPLY)
            return cli_fail(ctx, CLI_EXIT_DEVICE, "Busy",
                            "the device refused the credentials: it is busy connecting with credentials applied "
                            "before (by another client, or by a run that was interrupted). Wait for that outcome: "
                            "see 'wifiprov status'");
        return cli_fail(ctx, CLI_EXIT_DEVICE, "Busy",
                        "the device refused %s: it is still provisioning (waiting for credentials, or connecting "
                        "with credentials just applied), so there is %s: see 'wifiprov status'",
                        name, what == CLI_REFUSED_RESET ? "no failed attempt to forget" : "nothing to start over");
    case WIFIPROV_STA_STATE_CONNECTED:
        cli_format_ssid(st.ssid, st.ssid_len, ssid, sizeof(ssid));
        if (what == CLI_REFUSED_REPROV)
            return cli_fail(ctx, CLI_EXIT_DEVICE, "InternalError",
                            "the device refused Reprov: it is connected to '%s' and allows starting over only when "
                            "its provisioning service does not stop by itself after success (auto-stop disabled; "
                            "wifiprovd --auto-stop 0)",
                            ssid);
        return cli_fail(ctx, CLI_EXIT_DEVICE, "AlreadyConnected",
                        "the device refused %s: it is already provisioned and connected to '%s'. 'wifiprov reprov' "
                        "starts over where the device allows it",
                        name, ssid);
    case WIFIPROV_STA_STATE_FAILED:
        if (what == CLI_REFUSED_RESET)
            return cli_fail(ctx, CLI_EXIT_DEVICE, "InternalError",
                            "the device refused Reset after its failed attempt (%s): it is probably waiting for new "
                            "credentials already: run 'wifiprov provision' again",
                            wifiprov_fail_reason_to_string(st.fail_reason));
        return cli_fail(ctx, CLI_EXIT_DEVICE, "InternalError",
                        "the device refused %s after a failed attempt (%s): it wants a Reset first: run "
                        "'wifiprov reset', then provision again",
                        name, wifiprov_fail_reason_to_string(st.fail_reason));
    }
    return cli_fail(ctx, CLI_EXIT_DEVICE, "InternalError", "the device refused %s (status %d)", name, status);
}

/* Asks for a missing secret on the terminal, or explains how to give it. @return 0 or an exit code. */
static int need_secret(struct cli_ctx *ctx, struct cli_secret *sec, const char *prompt, const char *how)
{
    char *v;

    if (sec->value)
        return 0;
    /* Prompts go to the terminal, so they do not disturb --json output on stdout. */
    if (!ctx->opts->interactive)
        return cli_fail(ctx, CLI_EXIT_USAGE, NULL, "%s", how);
    v = cli_prompt(prompt, true);
    if (!v)
        return cli_fail(ctx, CLI_EXIT_USAGE, NULL, "%s", how);
    sec->value = v;
    sec->source = "prompt";
    return 0;
}

static int need_username(struct cli_ctx *ctx)
{
    struct cli_opts *o = ctx->opts;
    char *v = NULL;

    if (o->username)
        return 0;
    if (o->interactive)
        v = cli_prompt("Security Scheme 2 - SRP6a Username required: ", false);
    if (!v || !v[0]) {
        free(v);
        return cli_fail(ctx, CLI_EXIT_USAGE, NULL, "security 2 needs a username: pass --username");
    }
    o->username = v;
    return 0;
}

static int check_proto_ver(struct cli_ctx *ctx, struct cli_session *s)
{
    const char *want = ctx->opts->proto_ver;

    cli_verbose(ctx, "\n==== Verifying protocol version ====\n");
    if (!strcasecmp(s->ver_raw, want) || (s->ver.is_json && !strcasecmp(s->ver.ver, want))) {
        cli_verbose(ctx, "==== Verified protocol version successfully ====\n");
        return 0;
    }
    return cli_fail(ctx, CLI_EXIT_ERROR, "ProtoVerMismatch",
                    "Error in protocol version matching: the device reports '%s', not '%s'",
                    s->ver.is_json ? s->ver.ver : s->ver_raw, want);
}

/* proto-ver without a session; the reply is kept raw (NUL-terminated) and parsed. */
static int read_version(struct cli_ctx *ctx, struct cli_session *s)
{
    const char *probe = ctx->opts->proto_ver ? ctx->opts->proto_ver : "---";
    uint8_t *buf = malloc(WIFIPROV_REPLY_CAP);
    size_t len = 0;
    int err, ret;

    if (!buf)
        return cli_fail(ctx, CLI_EXIT_ERROR, NULL, "out of memory");
    err = s->tp->ops->xfer(s->tp, WIFIPROV_EP_VERSION, (const uint8_t *)probe, strlen(probe), buf,
                           WIFIPROV_REPLY_CAP, &len);
    if (err < 0 && err == WIFIPROV_ERR_TRANSPORT && ctx->opts->transport == CLI_TRANSPORT_KIND_HTTP &&
        strstr(s->tp->errmsg, "cannot reach")) {
        /* The first request: the usual cause is being on the wrong network or the device not serving. */
        ret = cli_fail(ctx, CLI_EXIT_TRANSPORT, NULL,
                       "Cannot read the device's protocol version: %s. Is this computer on the device's network "
                       "(a device in SoftAP mode opens one named PROV_XXXXXX: join it first), and is the device, "
                       "or wifiprovd, serving at %s:%u?",
                       s->tp->errmsg, ctx->opts->host, ctx->opts->port);
        goto out;
    }
    if (err < 0) {
        ret = cli_session_fail(ctx, s, err, "Cannot read the device's protocol version");
        goto out;
    }
    memcpy(s->ver_raw, buf, WIFIPROV_MIN(len, sizeof(s->ver_raw) - 1));
    s->ver_raw[WIFIPROV_MIN(len, sizeof(s->ver_raw) - 1)] = '\0';
    err = wifiprov_version_parse(buf, len, &s->ver);
    if (err < 0) {
        ret = cli_session_fail(ctx, s, err, "Cannot parse the device's protocol version");
        goto out;
    }
    cli_verbose(ctx, "++++ proto-ver: %s ++++\n", s->ver_raw);
    ret = 0;
out:
    free(buf);
    return ret;
}

/* A secret the user gave (option, file, environment or QR code), not one asked for at a prompt. */
static bool given(const struct cli_secret *sec)
{
    return sec->value && !(sec->source && !strcmp(sec->source, "prompt"));
}

/*
 * The weakest scheme the secrets the user gave allow: a username or an SRP password means
 * security 2, a proof of possession at least security 1. The QR code puts its secret in both
 * the PoP and the password, so there only a username counts for security 2. @p what names them.
 */
static int implied_security(const struct cli_opts *o, const char **what)
{
    bool password = given(&o->password) && strcmp(o->password.source, "QR code") != 0;

    if (o->username || password) {
        *what = o->username ? "a security-2 username" : "a security-2 password";
        return 2;
    }
    if (given(&o->pop)) {
        *what = "a proof of possession";
        return 1;
    }
    *what = "no secret";
    return 0;
}

/*
 * The scheme to use. The device's proto-ver reply is not authenticated, so a rogue access point could
 * claim a weaker scheme than the real device's to be sent the Wi-Fi passphrase in clear: never go below
 * what the user's secrets imply, and use security 0 only when the user asked for it (--sec 0, or a QR
 * code that says so).
 */
static int pick_security(struct cli_ctx *ctx, struct cli_session *s)
{
    struct cli_opts *o = ctx->opts;
    const char *what;
    int min = implied_security(o, &what), dev;

    if (o->sec >= 0) {
        if (o->sec < min)
            return cli_fail(ctx, CLI_EXIT_USAGE, "WeakerThanSecrets",
                            "%s %d is weaker than the secrets given: %s needs security %d or higher. Drop the "
                            "secret or choose the scheme it belongs to",
                            o->sec_from_qr ? "the QR code's security" : "--sec", o->sec, what, min);
        s->sec = (enum wifiprov_security)o->sec;
        if (s->ver.is_json && s->ver.has_sec_ver && s->ver.sec_ver != o->sec)
            cli_note(ctx, "wifiprov: warning: the device announces security %d, using %s %d\n", s->ver.sec_ver,
                     o->sec_from_qr ? "the QR code's security" : "--sec", o->sec);
        return 0;
    }
    if (!s->ver.is_json)
        return cli_fail(ctx, CLI_EXIT_USAGE, "NoCapabilities",
                        "Security capabilities could not be determined (the device's proto-ver reply '%s' is "
                        "not JSON): pass --sec 0, 1 or 2",
                        s->ver_raw);
    if (s->ver.has_sec_ver && s->ver.sec_ver >= 0 && s->ver.sec_ver <= 2)
        dev = s->ver.sec_ver;
    else if (wifiprov_version_has_cap(&s->ver, "no_sec"))
        dev = 0;
    else
        dev = 1; /* esp_prov's rule for firmware older than v5.0 */
    if (dev == 0 && min == 0)
        return cli_fail(ctx, CLI_EXIT_AUTH, "Downgrade",
                        "the device claims security 0: no encryption, so the Wi-Fi passphrase would travel in "
                        "clear to whoever answers at this address. If this is your device and it really has no "
                        "security, pass --sec 0");
    if (dev < min)
        return cli_fail(ctx, CLI_EXIT_AUTH, "Downgrade",
                        "the device claims security %d, but %s was given, which needs security %d or higher: "
                        "refusing, as an impostor would claim a weaker scheme to be sent the Wi-Fi passphrase. "
                        "Check that this is your device; if it really uses security %d, pass --sec %d and the "
                        "secrets it needs",
                        dev, what, min, dev, dev);
    s->sec = (enum wifiprov_security)dev;
    return 0;
}

/* After a failed handshake: when the device announced another scheme than the one used, say so. */
static int handshake_fail(struct cli_ctx *ctx, struct cli_session *s, int err)
{
    if (s->ver.is_json && s->ver.has_sec_ver && s->ver.sec_ver != (int)s->sec && s->ver.sec_ver >= 0 &&
        s->ver.sec_ver <= 2)
        return cli_fail(ctx, CLI_EXIT_USAGE, "WrongSecurity",
                        "Failed to establish session with security %d: the device uses security %d. Pass --sec %d "
                        "(or leave --sec out) with the secrets that scheme needs",
                        (int)s->sec, s->ver.sec_ver, s->ver.sec_ver);
    if (err == WIFIPROV_ERR_AUTH)
        return cli_fail(ctx, CLI_EXIT_AUTH, "AuthFailed", "Failed to establish session: the device rejected the %s",
                        s->sec == WIFIPROV_SECURITY_2 ? "username or password" : "proof of possession");
    return cli_session_fail(ctx, s, err, "Failed to establish session");
}

int cli_session_open(struct cli_ctx *ctx, struct cli_session *s, bool handshake)
{
    struct cli_opts *o = ctx->opts;
    struct wifiprov_client_config cfg;
    const char *pop = NULL;
    int err, ret;

    memset(s, 0, sizeof(*s));
    s->tp = calloc(1, sizeof(*s->tp));
    if (!s->tp)
        return cli_fail(ctx, CLI_EXIT_ERROR, NULL, "out of memory");
    switch (o->transport) {
    case CLI_TRANSPORT_KIND_HTTP:
        s->tp->ops = &cli_transport_http;
        break;
    case CLI_TRANSPORT_KIND_CONSOLE:
        s->tp->ops = &cli_transport_console;
        break;
    case CLI_TRANSPORT_KIND_BLE:
        s->tp->ops = &cli_transport_ble;
        break;
    }
    s->tp->deadline_ms = ctx->deadline_ms;
    s->tp->connect_timeout_ms = 10000;
    s->tp->debug = o->debug;
    s->tp->verbose = o->verbose > 0;
    err = s->tp->ops->open(s->tp, o);
    if (err < 0) {
        ret = cli_session_fail(ctx, s, err, "Cannot open the transport");
        goto out;
    }
    if (o->transport == CLI_TRANSPORT_KIND_HTTP)
        cli_verbose(ctx, "++++ Connecting to %s:%u ++++\n", o->host, o->port);

    ret = read_version(ctx, s);
    if (ret)
        goto out;
    if (o->proto_ver && (ret = check_proto_ver(ctx, s)))
        goto out;
    if (!handshake) {
        ret = 0;
        goto out;
    }
    if ((ret = pick_security(ctx, s)))
        goto out;
    cJSON_AddNumberToObject(ctx->result, "security", s->sec);
    cli_verbose(ctx, "==== Security Scheme: %d ====\n", (int)s->sec);
    s->tp->plaintext_session = s->sec == WIFIPROV_SECURITY_0;

    memset(&cfg, 0, sizeof(cfg));
    cfg.xfer = s->tp->ops->xfer;
    cfg.xfer_ctx = s->tp;
    cfg.security = s->sec;
    switch (s->sec) {
    case WIFIPROV_SECURITY_0:
        break;
    case WIFIPROV_SECURITY_1:
        if (s->ver.is_json && wifiprov_version_has_cap(&s->ver, "no_pop")) {
            /* Ignoring a PoP the user gave (as esp_prov does) would let an impostor skip the proof. */
            if (given(&o->pop)) {
                ret = cli_fail(ctx, CLI_EXIT_AUTH, "Downgrade",
                               "the device claims it needs no proof of possession (no_pop), but one was given: a "
                               "device without your PoP cannot prove it is yours, so nothing is sent. If this "
                               "device really has none, run without --pop");
                goto out;
            }
            cli_warn(ctx, "the device uses no proof of possession: any device nearby could pose as it\n");
            break;
        }
        ret = need_secret(ctx, &o->pop, "Proof of Possession required: ",
                          "the device needs a proof of possession: pass --pop, --pop-file or WIFIPROV_POP");
        if (ret)
            goto out;
        pop = o->pop.value;
        break;
    case WIFIPROV_SECURITY_2:
        if ((ret = need_username(ctx)))
            goto out;
        ret = need_secret(ctx, &o->password, "Security Scheme 2 - SRP6a Password required: ",
                          "security 2 needs a password: pass --password, --password-file or WIFIPROV_PASSWORD");
        if (ret)
            goto out;
        cfg.username = o->username;
        cfg.password = o->password.value;
        cfg.sec_patch_ver = s->ver.is_json ? s->ver.sec_patch_ver : 0;
        if (cfg.sec_patch_ver == 0)
            cli_warn(ctx, "the device uses security 2 with sec_patch_ver 0 (older ESP-IDF): every message is "
                          "encrypted with the same nonce, which weakens the encryption. Update its firmware\n");
        break;
    }
    cfg.pop = pop;
    err = wifiprov_client_new(&cfg, &s->client);
    if (err < 0) {
        ret = cli_fail_err(ctx, err, "Cannot set up the session");
        goto out;
    }
    cli_verbose(ctx, "\n==== Starting Session ====\n");
    err = wifiprov_client_handshake(s->client);
    if (err < 0) {
        ret = handshake_fail(ctx, s, err);
        goto out;
    }
    cli_verbose(ctx, "==== Session Established ====\n");
    {
        cJSON *f = cJSON_CreateObject();

        cJSON_AddNumberToObject(f, "security", s->sec);
        cli_progress_event(ctx, "session", f);
    }
    ret = 0;
out:
    return ret;
}

void cli_session_close(struct cli_session *s)
{
    wifiprov_client_free(s->client);
    s->client = NULL;
    if (s->tp) {
        if (s->tp->ops && s->tp->priv)
            s->tp->ops->close(s->tp);
        free(s->tp);
        s->tp = NULL;
    }
}

int cli_session_request(struct cli_ctx *ctx, struct cli_session *s, const char *endpoint, const uint8_t *data,
                        size_t len, uint8_t **reply, size_t *reply_len)
{
    uint8_t *buf = malloc(WIFIPROV_REPLY_CAP);
    int err;

    (void)ctx;
    *reply = NULL;
    if (!buf)
        return WIFIPROV_ERR_NOMEM;
    err = wifiprov_client_request(s->client, endpoint, data, len, buf, WIFIPROV_REPLY_CAP, reply_len);
    if (err < 0) {
        free(buf);
        return err;
    }
    *reply = buf;
    return 0;
}
