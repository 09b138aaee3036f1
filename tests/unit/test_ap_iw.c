/* wifiprovd's SoftAP: reading the interface combinations and the channel that `iw` prints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ap.h"
#include "testutil.h"

/* mac80211_hwsim (Debian's 6.1 kernel), as in the radio lab. */
static const char hwsim[] =
    "Wiphy phy2\n"
    "\tmax # scan SSIDs: 255\n"
    "\tSupported interface modes:\n"
    "\t\t * IBSS\n\t\t * managed\n\t\t * AP\n\t\t * AP/VLAN\n\t\t * monitor\n"
    "\tvalid interface combinations:\n"
    "\t\t * #{ IBSS } <= 1, #{ managed, AP, mesh point, P2P-client, P2P-GO } <= 2048, #{ P2P-device } <= 1,\n"
    "\t\t   total <= 2048, #channels <= 1, STA/AP BI must match, radar detect widths: { 20 MHz (no HT), 20 "
    "MHz, 40 MHz, 80 MHz, 80+80 MHz, 160 MHz }\n"
    "\n"
    "\tHT Capability overrides:\n"
    "\t\t * MCS: ff ff ff ff ff ff ff ff ff ff\n";

/* A radio with an AP + station pair on one channel, and a P2P one on two (brcmfmac style). */
static const char two_combos[] =
    "\tvalid interface combinations:\n"
    "\t\t * #{ managed } <= 1, #{ P2P-device } <= 1, #{ P2P-client, P2P-GO } <= 1,\n"
    "\t\t   total <= 3, #channels <= 2\n"
    "\t\t * #{ managed } <= 1, #{ AP } <= 1, #{ P2P-client } <= 1, #{ P2P-device } <= 1,\n"
    "\t\t   total <= 4, #channels <= 1\n"
    "\tDevice supports scan flush.\n";

/* AP and P2P share a slot beside the station, two channels (iwlwifi style). */
static const char shared_slot[] =
    "\tvalid interface combinations:\n"
    "\t\t * #{ managed } <= 1, #{ AP, P2P-client, P2P-GO } <= 1, #{ P2P-device } <= 1,\n"
    "\t\t   total <= 3, #channels <= 2\n";

/* One interface at a time: no AP beside a station. */
static const char one_at_a_time[] =
    "\tvalid interface combinations:\n"
    "\t\t * #{ managed, AP } <= 1,\n"
    "\t\t   total <= 1, #channels <= 1\n";

static const char no_combos[] = "Wiphy phy0\n\tSupported interface modes:\n\t\t * managed\n\t\t * AP\n";

static void combinations(void **state)
{
    unsigned ch = 99;

    assert_true(wifiprovd_ap_parse_combinations(hwsim, &ch));
    assert_int_equal(ch, 1);
    assert_true(wifiprovd_ap_parse_combinations(two_combos, &ch));
    assert_int_equal(ch, 1); /* the combination with an AP allows one channel */
    assert_true(wifiprovd_ap_parse_combinations(shared_slot, &ch));
    assert_int_equal(ch, 2);
    assert_false(wifiprovd_ap_parse_combinations(one_at_a_time, &ch));
    assert_int_equal(ch, 1);
    assert_false(wifiprovd_ap_parse_combinations(no_combos, &ch));
    assert_false(wifiprovd_ap_parse_combinations("", &ch));
    /* Cut short in the middle of a group. */
    assert_false(wifiprovd_ap_parse_combinations("\tvalid interface combinations:\n\t\t * #{ managed", &ch));
}

static void iw_channel(void **state)
{
    assert_int_equal(wifiprovd_ap_parse_iw_channel("Interface wlan2\n\tifindex 5\n\ttype managed\n\twiphy 2\n"
                                                   "\tchannel 1 (2412 MHz), width: 20 MHz (no HT), center1: 2412 MHz\n"
                                                   "\ttxpower 20.00 dBm\n"),
                     1);
    assert_int_equal(wifiprovd_ap_parse_iw_channel("\tchannel 36 (5180 MHz), width: 20 MHz\n"), 36);
    /* Not associated: no channel line. */
    assert_int_equal(wifiprovd_ap_parse_iw_channel("Interface wlan2\n\ttype managed\n\twiphy 2\n"), 0);
    assert_int_equal(wifiprovd_ap_parse_iw_channel("\tmultichannel 3\n"), 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(combinations),
        cmocka_unit_test(iw_channel),
    };

    return TEST_RUN("ap_iw", tests, argc, argv);
}
