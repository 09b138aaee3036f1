#!/bin/bash
# SoftAP with the NetworkManager backend: wifiprovd --softap in the initial netns has NM run an
# in-memory AP connection with shared IPv4 on a virtual interface of wlan3's radio (NM's dnsmasq
# for DHCP and DNS, the daemon's drop-in for the captive DNS); the phone (wlan4, netns phone)
# joins it and provisions lab-wpa2. Then, with --softap-no-apsta, the AP goes down for an
# attempt through NetworkManager and comes back after the failure, whose reason a phone that
# rejoins reads.
. "$WPLAB_REPO/tests/radiolab/guest/lib.sh"
nm_daemon_scenario_up || exit 1
phone_up || exit 1
APPASS=prov-pass-456
SOFTAP_NS=
trap 'daemon_stop; phone_down; save_artifacts' EXIT
BASE=("${NMARGS[@]}" --security 1 --pop $POP -v --softap)
DROPIN=/etc/NetworkManager/dnsmasq-shared.d/wifiprovd-softap.conf
FWD0=$(cat /proc/sys/net/ipv4/ip_forward)
nm_ap_conns() { nmcli -t -f NAME con show 2>/dev/null | grep '^wifiprovd-softap' | tr '\n' ' '; }
nm_dnsmasq() { pgrep -a dnsmasq | grep -F -- '-wpap' | awk '{print "nm-dnsmasq:"$1}' | tr '\n' ' '; }
leftovers_nm() {
    echo "$(softap_leftovers "")$(nm_ap_conns)$(nm_dnsmasq)$([ -e $DROPIN ] && echo "drop-in ")"
}
expect_clean_nm() {
    local l; l=$(leftovers_nm)
    [ -z "$l" ] && check_pass "$1" "no wpap*, 192.168.4.1, dnsmasq, drop-in, runtime files or wifiprovd-softap connection" \
        || check_fail "$1" "left: $l"
    [ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$FWD0" ] && check_pass "$1-forwarding" "ip_forward $FWD0 as before" \
        || check_fail "$1-forwarding" "ip_forward $(cat /proc/sys/net/ipv4/ip_forward), was $FWD0"
}

log "== start: WPA2 access point through NetworkManager"
softap_start wifiprovd-nm-softap-1 --auto-stop 5 --softap-passphrase $APPASS
softap_wait_up 60 || exit 1
c=$(nmcli -t -f NAME,DEVICE con show --active | grep '^wifiprovd-softap')
[ -n "$c" ] && check_pass nm-ap-active "$c" || check_fail nm-ap-active "$(nmcli -t -f NAME,DEVICE con show --active | tr '\n' ' ')"
# The tags as NetworkManager keeps them (nmcli does not show the "user" setting).
path=$(nmcli -g GENERAL.CON-PATH con show wifiprovd-softap 2>/dev/null)
ud=$(busctl --system call org.freedesktop.NetworkManager "$path" org.freedesktop.NetworkManager.Settings.Connection \
    GetSettings 2>&1 | grep -o '"wifiprov\.[a-z]*" "[a-z]*"' | tr '\n' ' ')
echo "$ud" | grep -q '"wifiprov.owner" "wifiprovd"' && echo "$ud" | grep -q '"wifiprov.role" "softap"' \
    && check_pass nm-ap-tagged "user data $ud" || check_fail nm-ap-tagged "settings of $path: $ud"
m=$(nmcli -g ipv4.method,ipv4.addresses con show wifiprovd-softap 2>/dev/null | tr '\n' ' ')
echo "$m" | grep -q '^shared 192.168.4.1/24' && check_pass nm-ap-shared "$m" || check_fail nm-ap-shared "ipv4: $m"
head -1 $DROPIN 2>/dev/null | grep -q '^# wifiprovd softap' && grep -qx 'address=/#/192.168.4.1' $DROPIN \
    && check_pass nm-dropin "$DROPIN" || check_fail nm-dropin "$(cat $DROPIN 2>&1 | tr '\n' ' ')"
d=$(pgrep -a dnsmasq | grep -F -- '-wpap')
[ -n "$d" ] && check_pass nm-dnsmasq "NM's dnsmasq: $(echo "$d" | cut -c1-300)" || check_fail nm-dnsmasq "$(pgrep -a dnsmasq | tr '\n' ' ')"
check_note "ip_forward while the AP is up: $(cat /proc/sys/net/ipv4/ip_forward) (before: $FWD0)"
ls /etc/NetworkManager/system-connections/ 2>/dev/null | grep -q softap && check_fail nm-ap-not-on-disk "$(ls /etc/NetworkManager/system-connections/)" \
    || check_pass nm-ap-not-on-disk

softap_phone_provision nm ""

log "== auto-stop: the AP and everything it brought up are gone"
softap_exits
sleep 1
expect_clean_nm clean-after-success
nmcli -t -f NAME,DEVICE con show --active | grep -q '^wifiprov-lab-wpa2:wlan3' && check_pass sta-kept "$(nmcli -t -f NAME,DEVICE con show --active | tr '\n' ' ')" \
    || check_fail sta-kept "$(nmcli -t -f NAME,DEVICE con show --active | tr '\n' ' ')"

log "== restart: already provisioned, no access point"
softap_start wifiprovd-nm-softap-2
wait_for 20 grep -q 'Already provisioned' "$SOFTAP_LOG" && check_pass restart-provisioned || check_fail restart-provisioned "$(head -5 "$SOFTAP_LOG" | tr '\n' ' ')"
sleep 1
expect_clean_nm restart-no-ap
daemon_stop

log "== kill -9 during provisioning (open AP), then a clean start"
softap_kill9 wifiprovd-nm-softap-3 lab-nm-softap-open leftovers_nm
softap_start wifiprovd-nm-softap-4 --reprovision --auto-stop 5 --softap-passphrase $APPASS
wait_for 60 softap_up && check_pass clean-start "$(grep -c 'left by an earlier run' "$SOFTAP_LOG") leftovers swept" \
    || check_fail clean-start "$(tail -5 "$SOFTAP_LOG" | tr '\n' ' ')"
n=$(nmcli -t -f NAME con show | grep -c '^wifiprovd-softap')
[ "$n" = 1 ] && check_pass one-ap-connection || check_fail one-ap-connection "$n wifiprovd-softap connections"
daemon_stop
sleep 1
expect_clean_nm clean-after-sigterm

log "== without AP+STA (--softap-no-apsta): the AP goes down for the attempt and comes back on failure"
softap_start wifiprovd-nm-softap-5 --reprovision --auto-stop 5 --softap-no-apsta --softap-passphrase $APPASS
wait_for 60 softap_up || check_fail ap-up-noapsta "$(tail -5 "$SOFTAP_LOG" | tr '\n' ' ')"
SSID=$(service_name)
phone_join "$SSID" "$APPASS" || check_fail phone-joined-noapsta "$(wpa_cli_phone status | tr '\n' ' ')"
PHONE_CLI_TIMEOUT=12 phone_cli provision --ssid lab-wpa2 --passphrase wrong-passphrase
check_note "no-apsta: provision while the AP went away -> exit $CLI_RC"
grep -q 'taking the access point down' "$SOFTAP_LOG" && check_pass ap-down-for-attempt "$(grep -m1 'taking the access point down' "$SOFTAP_LOG" | sed 's/^.*SoftAP/SoftAP/')" \
    || check_fail ap-down-for-attempt "no such log line"
wait_for 40 grep -q 'bringing the access point back' "$SOFTAP_LOG" && check_pass ap-back-after-failure \
    || check_fail ap-back-after-failure "$(tail -3 "$SOFTAP_LOG" | tr '\n' ' ')"
t0=$(now)
wait_for 60 sh -c "[ \$(grep -c \"SoftAP: '.*' is up\" '$SOFTAP_LOG') -ge 2 ]"
c=$(nmcli -t -f NAME,DEVICE con show --active | grep '^wifiprovd-softap')
[ -n "$c" ] && check_pass nm-ap-back "$c" || check_fail nm-ap-back "$(nmcli -t -f NAME,DEVICE con show --active | tr '\n' ' ')"
phone_join "$SSID" "$APPASS" && check_pass phone-rejoined "$(since "$t0") s, lease $(phone_ip)" \
    || check_fail phone-rejoined "$(wpa_cli_phone status | tr '\n' ' ')"
phone_cli status
expect_cli status-after-rejoin 5 'reason=AuthError'
phone_cli reset
PHONE_CLI_TIMEOUT=12 phone_cli provision --ssid lab-wpa2 --passphrase correct-horse-42
check_note "no-apsta: provision lab-wpa2 while the AP went away -> exit $CLI_RC"
wait_for 40 grep -q 'Connected with IP Address:10\.77\.1\.' "$SOFTAP_LOG" \
    && check_pass noapsta-connected "$(grep -m1 'Connected with IP' "$SOFTAP_LOG" | sed 's/^.*Connected/Connected/')" \
    || check_fail noapsta-connected "$(tail -3 "$SOFTAP_LOG" | tr '\n' ' ')"
softap_exits 30
sleep 1
expect_clean_nm clean-after-noapsta
nmcli -t -f NAME,DEVICE con show --active | grep -q '^wifiprov-lab-wpa2:wlan3' \
    && check_pass sta-kept-noapsta "$(nmcli -t -f NAME,DEVICE con show --active | tr '\n' ' ')" \
    || check_fail sta-kept-noapsta "$(nmcli -t -f NAME,DEVICE con show --active | tr '\n' ' ')"
exit $FAILED
