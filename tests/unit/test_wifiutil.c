/* Parsing and mapping helpers of the NetworkManager and wpa_supplicant backends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wifi/wifiutil.h"

static void freq_to_channel(void **state)
{
    assert_int_equal(wifiprov__wifiutil_freq_to_channel(2412), 1);
    assert_int_equal(wifiprov__wifiutil_freq_to_channel(2437), 6);
    assert_int_equal(wifiprov__wifiutil_freq_to_channel(2462), 11);
    assert_int_equal(wifiprov__wifiutil_freq_to_channel(2472), 13);
    assert_int_equal(wifiprov__wifiutil_freq_to_channel(2484), 14);
    assert_int_equal(wifiprov__wifiutil_freq_to_channel(5180), 36);
    assert_int_equal(wifiprov__wifiutil_freq_to_channel(5825), 165);
    assert_int_equal(wifiprov__wifiutil_freq_to_channel(5955), 1);
    assert_int_equal(wifiprov__wifiutil_freq_to_channel(6115), 33);
    assert_int_equal(wifiprov__wifiutil_freq_to_channel(5935), 2);
    assert_int_equal(wifiprov__wifiutil_freq_to_channel(0), 0);
    assert_int_equal(wifiprov__wifiutil_freq_to_channel(2400), 0);
    assert_int_equal(wifiprov__wifiutil_freq_to_channel(60480), 0);
}

static void auth_from_wpa_flags(void **state)
{
    static const struct {
        const char *flags;
        uint32_t auth;
    } cases[] = {
        {"[WPA2-PSK-CCMP][ESS]", WIFIPROV_AUTH_MODE_WPA2_PSK},
        {"[WPA2-SAE-CCMP][SAE-H2E][ESS]", WIFIPROV_AUTH_MODE_WPA3_PSK},
        {"[WPA2-PSK+SAE-CCMP][ESS]", WIFIPROV_AUTH_MODE_WPA2_WPA3_PSK},
        {"[WPA2-PSK-SHA256+SAE-CCMP][ESS]", WIFIPROV_AUTH_MODE_WPA2_WPA3_PSK},
        {"[WPA-PSK-TKIP][ESS]", WIFIPROV_AUTH_MODE_WPA_PSK},
        {"[WPA-PSK-CCMP+TKIP][WPA2-PSK-CCMP+TKIP][ESS]", WIFIPROV_AUTH_MODE_WPA_WPA2_PSK},
        {"[WEP][ESS]", WIFIPROV_AUTH_MODE_WEP},
        {"[WPA2-EAP-CCMP][ESS]", WIFIPROV_AUTH_MODE_WPA2_ENTERPRISE},
        {"[WPA2-EAP-SUITE-B-192-GCMP-256][ESS]", WIFIPROV_AUTH_MODE_WPA2_ENTERPRISE},
        {"[RSN-SAE-CCMP][MESH]", WIFIPROV_AUTH_MODE_WPA3_PSK},
        {"[WPA2-OWE-CCMP][ESS]", WIFIPROV__AUTH_OWE},
        {"[ESS]", WIFIPROV_AUTH_MODE_OPEN},
        {"[ESS][WPS]", WIFIPROV_AUTH_MODE_OPEN},
        {"", WIFIPROV_AUTH_MODE_OPEN},
        {"[WPA2-PSK-CCMP", WIFIPROV_AUTH_MODE_OPEN}, /* cut short: no complete element */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t got = wifiprov__wifiutil_auth_from_wpa_flags(cases[i].flags);

        if (got != cases[i].auth)
            fail_msg("%s: got %u, want %u", cases[i].flags, got, cases[i].auth);
    }
}

static void auth_from_nm(void **state)
{
    /* Bits of NetworkManager's NM80211ApFlags / NM80211ApSecurityFlags. */
    const uint32_t privacy = 0x1, pair_ccmp = 0x8, group_ccmp = 0x80, psk = 0x100, x8021 = 0x200, sae = 0x400,
                   owe = 0x800, wep40 = 0x1 | 0x10;

    assert_int_equal(wifiprov__wifiutil_auth_from_nm(0, 0, 0), WIFIPROV_AUTH_MODE_OPEN);
    assert_int_equal(wifiprov__wifiutil_auth_from_nm(privacy, 0, 0), WIFIPROV_AUTH_MODE_WEP);
    assert_int_equal(wifiprov__wifiutil_auth_from_nm(privacy, psk | pair_ccmp, 0), WIFIPROV_AUTH_MODE_WPA_PSK);
    assert_int_equal(wifiprov__wifiutil_auth_from_nm(privacy, 0, psk | pair_ccmp | group_ccmp),
                     WIFIPROV_AUTH_MODE_WPA2_PSK);
    assert_int_equal(wifiprov__wifiutil_auth_from_nm(privacy, psk, psk), WIFIPROV_AUTH_MODE_WPA_WPA2_PSK);
    assert_int_equal(wifiprov__wifiutil_auth_from_nm(privacy, 0, sae | pair_ccmp), WIFIPROV_AUTH_MODE_WPA3_PSK);
    assert_int_equal(wifiprov__wifiutil_auth_from_nm(privacy, 0, sae | psk), WIFIPROV_AUTH_MODE_WPA2_WPA3_PSK);
    assert_int_equal(wifiprov__wifiutil_auth_from_nm(privacy, 0, x8021), WIFIPROV_AUTH_MODE_WPA2_ENTERPRISE);
    assert_int_equal(wifiprov__wifiutil_auth_from_nm(privacy, x8021, 0), WIFIPROV_AUTH_MODE_WPA2_ENTERPRISE);
    assert_int_equal(wifiprov__wifiutil_auth_from_nm(0, 0, owe), WIFIPROV__AUTH_OWE);
    /* WEP pairwise bits in the WPA flags of an AP with privacy still mean WEP... */
    assert_int_equal(wifiprov__wifiutil_auth_from_nm(privacy, 0, 0), WIFIPROV_AUTH_MODE_WEP);
    /* ...but privacy with a WPA element that only lists ciphers is not WEP. */
    assert_int_not_equal(wifiprov__wifiutil_auth_from_nm(privacy, wep40, 0), WIFIPROV_AUTH_MODE_WEP);
}

static void auth_from_key_mgmt(void **state)
{
    assert_int_equal(wifiprov__wifiutil_auth_from_key_mgmt("WPA2-PSK"), WIFIPROV_AUTH_MODE_WPA2_PSK);
    assert_int_equal(wifiprov__wifiutil_auth_from_key_mgmt("WPA-PSK"), WIFIPROV_AUTH_MODE_WPA_PSK);
    assert_int_equal(wifiprov__wifiutil_auth_from_key_mgmt("SAE"), WIFIPROV_AUTH_MODE_WPA3_PSK);
    assert_int_equal(wifiprov__wifiutil_auth_from_key_mgmt("NONE"), WIFIPROV_AUTH_MODE_OPEN);
    assert_int_equal(wifiprov__wifiutil_auth_from_key_mgmt("WPA2/IEEE 802.1X/EAP"), WIFIPROV_AUTH_MODE_WPA2_ENTERPRISE);
    assert_int_equal(wifiprov__wifiutil_auth_from_key_mgmt("something-new"), UINT32_MAX);
}

static void nm_strength(void **state)
{
    /* NM: quality = 100 - (|clamp(dBm, -100, -40) + 40| * 100 / 60); the inverse is linear. */
    assert_int_equal(wifiprov__wifiutil_nm_strength_to_rssi(100), -40);
    assert_int_equal(wifiprov__wifiutil_nm_strength_to_rssi(0), -100);
    assert_int_equal(wifiprov__wifiutil_nm_strength_to_rssi(50), -70);
    assert_int_equal(wifiprov__wifiutil_nm_strength_to_rssi(255), -40);
    for (int s = 1; s <= 100; s++)
        assert_true(wifiprov__wifiutil_nm_strength_to_rssi((uint8_t)s) >
                    wifiprov__wifiutil_nm_strength_to_rssi((uint8_t)(s - 1)) - 1);
}

static void ssid_unescape(void **state)
{
    uint8_t out[WIFIPROV_SSID_MAX];
    uint8_t len = 0;
    const char *in;

    in = "lab-wpa2";
    assert_int_equal(wifiprov__wifiutil_ssid_unescape(in, strlen(in), out, &len), 0);
    assert_int_equal(len, 8);
    assert_memory_equal(out, "lab-wpa2", 8);

    in = "a\\\\b\\\"c\\x00d\\xffe\\t\\n\\r\\e";
    assert_int_equal(wifiprov__wifiutil_ssid_unescape(in, strlen(in), out, &len), 0);
    assert_int_equal(len, 13);
    assert_memory_equal(out,
                        "a\\b\"c\0d\xff"
                        "e\t\n\r\x1b",
                        13);

    in = "bad\\q";
    assert_int_equal(wifiprov__wifiutil_ssid_unescape(in, strlen(in), out, &len), WIFIPROV_ERR_INVAL);
    in = "cut\\";
    assert_int_equal(wifiprov__wifiutil_ssid_unescape(in, strlen(in), out, &len), WIFIPROV_ERR_INVAL);
    in = "cut\\x4";
    assert_int_equal(wifiprov__wifiutil_ssid_unescape(in, strlen(in), out, &len), WIFIPROV_ERR_INVAL);
    in = "hex\\xg0";
    assert_int_equal(wifiprov__wifiutil_ssid_unescape(in, strlen(in), out, &len), WIFIPROV_ERR_INVAL);
    in = "0123456789012345678901234567890123"; /* 34 bytes */
    assert_int_equal(wifiprov__wifiutil_ssid_unescape(in, strlen(in), out, &len), WIFIPROV_ERR_NOSPC);
    in = "01234567890123456789012345678901"; /* exactly 32 */
    assert_int_equal(wifiprov__wifiutil_ssid_unescape(in, strlen(in), out, &len), 0);
    assert_int_equal(len, 32);
}

static void parse_mac(void **state)
{
    uint8_t mac[6];
    static const uint8_t want[6] = {0x02, 0x00, 0xab, 0xCD, 0x01, 0xff};

    assert_int_equal(wifiprov__wifiutil_parse_mac("02:00:ab:CD:01:ff", mac), 0);
    assert_memory_equal(mac, want, 6);
    assert_int_equal(wifiprov__wifiutil_parse_mac("02:00:ab:CD:01", mac), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov__wifiutil_parse_mac("02-00-ab-CD-01-ff", mac), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov__wifiutil_parse_mac("0g:00:ab:CD:01:ff", mac), WIFIPROV_ERR_INVAL);
    assert_int_equal(wifiprov__wifiutil_parse_mac("", mac), WIFIPROV_ERR_INVAL);
}

static void scan_line(void **state)
{
    struct wifiprov_ap ap;
    const char *line = "02:00:00:00:01:00\t2462\t-30\t[WPA2-SAE-CCMP][SAE-H2E][ESS]\tlab-sae";
    static const uint8_t bssid[6] = {2, 0, 0, 0, 1, 0};

    assert_int_equal(wifiprov__wifiutil_parse_scan_line(line, strlen(line), &ap), 0);
    assert_memory_equal(ap.bssid, bssid, 6);
    assert_int_equal(ap.channel, 11);
    assert_int_equal(ap.rssi, -30);
    assert_int_equal(ap.auth, WIFIPROV_AUTH_MODE_WPA3_PSK);
    assert_int_equal(ap.ssid_len, 7);
    assert_memory_equal(ap.ssid, "lab-sae", 7);

    /* A tab inside an SSID is escaped, so the last field is taken whole. */
    line = "02:00:00:00:00:01\t2412\t-45\t[ESS]\twith\\ttab and space";
    assert_int_equal(wifiprov__wifiutil_parse_scan_line(line, strlen(line), &ap), 0);
    assert_int_equal(ap.ssid_len, 18);
    assert_memory_equal(ap.ssid, "with\ttab and space", 18);
    assert_int_equal(ap.auth, WIFIPROV_AUTH_MODE_OPEN);

    line = "bssid / frequency / signal level / flags / ssid";
    assert_int_equal(wifiprov__wifiutil_parse_scan_line(line, strlen(line), &ap), WIFIPROV_ERR_INVAL);
    line = "02:00:00:00:00:01\tx2412\t-45\t[ESS]\tname";
    assert_int_equal(wifiprov__wifiutil_parse_scan_line(line, strlen(line), &ap), WIFIPROV_ERR_INVAL);
    line = "02:00:00:00:00:01\t2412\t-45\t[ESS]";
    assert_int_equal(wifiprov__wifiutil_parse_scan_line(line, strlen(line), &ap), WIFIPROV_ERR_INVAL);
}

static void scan_results(void **state)
{
    /* As wpa_supplicant 2.10 printed it in the lab, plus a hidden network, a duplicate
     * BSSID and a last line cut short by the reply size. */
    const char *text = "bssid / frequency / signal level / flags / ssid\n"
                       "02:00:00:00:00:00\t2412\t-50\t[WPA2-PSK-CCMP][ESS]\tlab-wpa2\n"
                       "02:00:00:00:01:00\t2462\t-30\t[WPA2-SAE-CCMP][SAE-H2E][ESS]\tlab-sae\n"
                       "02:00:00:00:00:01\t2412\t-40\t[ESS]\tlab-open\n"
                       "02:00:00:00:00:02\t2412\t-20\t[WPA2-PSK-CCMP][ESS]\t\n"
                       "02:00:00:00:00:00\t2412\t-50\t[WPA2-PSK-CCMP][ESS]\tlab-wpa2\n"
                       "02:00:00:00:00:09\t2412\t-10\t[WPA2-PSK-CCMP][ESS]\tcut-sh";
    struct wifiprov_ap aps[8];
    size_t n = wifiprov__wifiutil_parse_scan_results(text, aps, 8);

    assert_int_equal(n, 3);
    assert_memory_equal(aps[0].ssid, "lab-sae", 7); /* strongest first */
    assert_int_equal(aps[0].auth, WIFIPROV_AUTH_MODE_WPA3_PSK);
    assert_memory_equal(aps[1].ssid, "lab-open", 8);
    assert_int_equal(aps[1].auth, WIFIPROV_AUTH_MODE_OPEN);
    assert_memory_equal(aps[2].ssid, "lab-wpa2", 8);
    assert_int_equal(aps[2].auth, WIFIPROV_AUTH_MODE_WPA2_PSK);
    assert_int_equal(aps[2].channel, 1);

    /* With room for two, the two strongest are kept. */
    n = wifiprov__wifiutil_parse_scan_results(text, aps, 2);
    assert_int_equal(n, 2);
    assert_int_equal(aps[0].rssi, -30);
    assert_int_equal(aps[1].rssi, -40);
    assert_int_equal(wifiprov__wifiutil_parse_scan_results("", aps, 8), 0);
}

static void bss(void **state)
{
    /* BSS <id> MASK=0x1887 as wpa_supplicant 2.10 prints it. */
    const char *text = "id=7\nbssid=02:00:00:00:01:00\nfreq=2462\nlevel=-40\n"
                       "flags=[WPA2-SAE-CCMP][SAE-H2E][ESS]\nssid=lab\\x00\\\"sae\n";
    struct wifiprov_ap ap;
    long id;

    assert_int_equal(wifiprov__wifiutil_parse_bss(text, &ap, &id), 0);
    assert_int_equal(id, 7);
    assert_int_equal(ap.channel, 11);
    assert_int_equal(ap.rssi, -40);
    assert_int_equal(ap.auth, WIFIPROV_AUTH_MODE_WPA3_PSK);
    assert_int_equal(ap.ssid_len, 8);
    assert_memory_equal(ap.ssid, "lab\0\"sae", 8);

    /* No flags line: an open network. */
    text = "id=8\nbssid=02:00:00:00:00:01\nfreq=2412\nlevel=-50\nssid=open\n";
    assert_int_equal(wifiprov__wifiutil_parse_bss(text, &ap, &id), 0);
    assert_int_equal(ap.auth, WIFIPROV_AUTH_MODE_OPEN);

    /* A malformed entry still gives its id, so the walk goes on past it. */
    text = "id=9\nbssid=02:00:00:00:00:zz\nfreq=2412\nlevel=-50\nssid=x\n";
    assert_int_equal(wifiprov__wifiutil_parse_bss(text, &ap, &id), WIFIPROV_ERR_INVAL);
    assert_int_equal(id, 9);
    text = "id=10\nbssid=02:00:00:00:00:01\nfreq=99999999999999\nlevel=-50\nssid=x\n";
    assert_int_equal(wifiprov__wifiutil_parse_bss(text, &ap, &id), WIFIPROV_ERR_INVAL);
    /* The end of the table (an empty reply) or garbage: no id. */
    assert_int_equal(wifiprov__wifiutil_parse_bss("", &ap, &id), WIFIPROV_ERR_INVAL);
    assert_int_equal(id, -1);
    assert_int_equal(wifiprov__wifiutil_parse_bss("id=-3\n", &ap, &id), WIFIPROV_ERR_INVAL);
    assert_int_equal(id, -1);
}

static void add_ap(void **state)
{
    struct wifiprov_ap aps[2], ap;
    size_t n = 0;

    memset(&ap, 0, sizeof(ap));
    memcpy(ap.ssid, "a", 1);
    ap.ssid_len = 1;
    ap.rssi = -60;
    n = wifiprov__wifiutil_add_ap(aps, n, 2, &ap);
    assert_int_equal(n, 1);
    n = wifiprov__wifiutil_add_ap(aps, n, 2, &ap); /* same BSSID */
    assert_int_equal(n, 1);
    ap.bssid[5] = 1;
    ap.rssi = -70;
    n = wifiprov__wifiutil_add_ap(aps, n, 2, &ap);
    assert_int_equal(n, 2);
    ap.bssid[5] = 2;
    ap.rssi = -50; /* full: replaces the weakest */
    n = wifiprov__wifiutil_add_ap(aps, n, 2, &ap);
    assert_int_equal(n, 2);
    assert_int_equal(aps[1].rssi, -50);
    ap.bssid[5] = 3;
    ap.ssid_len = 0; /* hidden */
    ap.rssi = 0;
    assert_int_equal(wifiprov__wifiutil_add_ap(aps, n, 2, &ap), 2);
    assert_int_equal(aps[0].rssi, -60);
}

static void kv(void **state)
{
    const char *status = "bssid=02:00:00:00:00:00\nfreq=2412\nssid=lab-wpa2\nid=0\nmode=station\n"
                         "key_mgmt=WPA2-PSK\nwpa_state=COMPLETED\naddress=02:00:00:00:02:00\n";
    char v[32];

    assert_true(wifiprov__wifiutil_kv(status, "freq", v, sizeof(v)));
    assert_string_equal(v, "2412");
    assert_true(wifiprov__wifiutil_kv(status, "wpa_state", v, sizeof(v)));
    assert_string_equal(v, "COMPLETED");
    assert_true(wifiprov__wifiutil_kv(status, "id", v, sizeof(v)));
    assert_string_equal(v, "0");
    assert_true(wifiprov__wifiutil_kv(status, "address", v, sizeof(v)));
    assert_string_equal(v, "02:00:00:00:02:00");
    assert_false(wifiprov__wifiutil_kv(status, "ip_address", v, sizeof(v)));
    assert_false(wifiprov__wifiutil_kv(status, "ssi", v, sizeof(v)));
    assert_true(wifiprov__wifiutil_kv(status, "bssid", v, 5));
    assert_string_equal(v, "02:0");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(freq_to_channel), cmocka_unit_test(auth_from_wpa_flags),
        cmocka_unit_test(auth_from_nm),    cmocka_unit_test(auth_from_key_mgmt),
        cmocka_unit_test(nm_strength),     cmocka_unit_test(ssid_unescape),
        cmocka_unit_test(parse_mac),       cmocka_unit_test(scan_line),
        cmocka_unit_test(scan_results),    cmocka_unit_test(bss),
        cmocka_unit_test(add_ap),          cmocka_unit_test(kv),
    };

    return TEST_RUN("wifiutil", tests, argc, argv);
}
