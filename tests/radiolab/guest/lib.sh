# Helpers sourced by the guest scripts.
now() { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
log() { echo "[$(now)] $*"; }
# check_pass NAME [detail] / check_fail NAME detail: one line each in results.txt.
check_pass() { echo "PASS ${SCEN:-lab}/$1${2:+ ($2)}" >> "$WPLAB_OUT/results.txt"; log "PASS $1${2:+ ($2)}"; }
check_fail() { echo "FAIL ${SCEN:-lab}/$1: $2" >> "$WPLAB_OUT/results.txt"; log "FAIL $1: $2"; FAILED=1; }
check_note() { echo "NOTE ${SCEN:-lab}/$*" >> "$WPLAB_OUT/results.txt"; log "NOTE $*"; }
FAILED=0
# wait_for SECONDS CMD...: runs CMD every 0.2 s until it succeeds; 1 on timeout.
wait_for() {
    local end
    end=$(awk -v a="$(now)" -v t="$1" 'BEGIN { print a + t }'); shift
    while :; do
        "$@" && return 0
        awk -v a="$(now)" -v e="$end" 'BEGIN { exit !(a >= e) }' && return 1
        sleep 0.2
    done
}

# ---- the radio lab itself ------------------------------------------------------
L=/tmp/lab
G=$WPLAB_REPO/tests/radiolab/guest
. "$WPLAB_OUT/bins.env"
STA_CTRL=/run/wpa-sta
NS_STA="ip netns exec sta"
WPA_CLI="wpa_cli -p $STA_CTRL -i wlan2"

# Four hwsim radios: wlan0/wlan1 are the APs (netns ap), wlan2 the device for the
# wpa_supplicant scenarios (netns sta), wlan3 the device NetworkManager manages (initial netns).
lab_aps_up() {
    [ -f $L/aps-up ] && return 0
    mkdir -p $L
    modprobe mac80211_hwsim radios=4 || { check_fail aps "modprobe mac80211_hwsim"; return 1; }
    ip netns add ap
    ip netns add sta
    for i in 0 1; do iw phy "$(iw dev wlan$i info | awk '/wiphy/{print "phy"$2}')" set netns name ap; done
    iw phy "$(iw dev wlan2 info | awk '/wiphy/{print "phy"$2}')" set netns name sta
    ip netns exec ap ip link set lo up
    $NS_STA ip link set lo up
    cat > $L/ap0.conf <<'CONF'
interface=wlan0
driver=nl80211
ctrl_interface=/run/hostapd
hw_mode=g
channel=1
ssid=lab-wpa2
wpa=2
wpa_key_mgmt=WPA-PSK
rsn_pairwise=CCMP
wpa_passphrase=correct-horse-42
bss=wlan0_1
ssid=lab-open
CONF
    cat > $L/ap1.conf <<'CONF'
interface=wlan1
driver=nl80211
ctrl_interface=/run/hostapd
hw_mode=g
channel=11
ssid=lab-sae
wpa=2
wpa_key_mgmt=SAE
rsn_pairwise=CCMP
ieee80211w=2
sae_password=sae-secret-99
sae_pwe=2
CONF
    ip netns exec ap hostapd -B -P $L/ap0.pid -f $L/hostapd0.log -t $L/ap0.conf || check_fail aps "hostapd ap0"
    ip netns exec ap hostapd -B -P $L/ap1.pid -f $L/hostapd1.log -t $L/ap1.conf || check_fail aps "hostapd ap1"
    aps_enabled() {
        ip netns exec ap hostapd_cli -p /run/hostapd -i wlan0 status 2>/dev/null | grep -q state=ENABLED &&
        ip netns exec ap hostapd_cli -p /run/hostapd -i wlan1 status 2>/dev/null | grep -q state=ENABLED
    }
    wait_for 20 aps_enabled || { check_fail aps "hostapd not ENABLED"; return 1; }
    ip netns exec ap sh -c '
        ip addr add 10.77.1.1/24 dev wlan0; ip addr add 10.77.2.1/24 dev wlan0_1; ip addr add 10.77.3.1/24 dev wlan1
        for i in wlan0 wlan0_1 wlan1; do ip link set $i up; done'
    ip netns exec ap dnsmasq --port=0 --no-resolv --no-hosts --bind-interfaces --except-interface=lo \
        --interface=wlan0 --interface=wlan0_1 --interface=wlan1 \
        --dhcp-range=10.77.1.100,10.77.1.150,255.255.255.0,1h \
        --dhcp-range=10.77.2.100,10.77.2.150,255.255.255.0,1h \
        --dhcp-range=10.77.3.100,10.77.3.150,255.255.255.0,1h \
        --dhcp-leasefile=$L/dnsmasq.leases --pid-file=$L/dnsmasq.pid \
        --log-dhcp --log-facility=$L/dnsmasq.log || check_fail aps "dnsmasq"
    touch $L/aps-up
    log "APs up: lab-wpa2 + lab-open on ch 1, lab-sae on ch 11 (netns ap)"
}

# wpa_supplicant for wlan2 in netns sta with a fresh config: update_config=1 (SAVE_CONFIG),
# and one network configured before provisioning ("lab-open": the previous working network).
lab_sta_up() {
    lab_sta_down
    mkdir -p $L
    cat > $L/sta.conf <<CONF
ctrl_interface=$STA_CTRL
update_config=1
network={
	ssid="lab-open"
	key_mgmt=NONE
}
CONF
    rm -f $L/udhcpc.log
    $NS_STA wpa_supplicant -B -D nl80211 -i wlan2 -c $L/sta.conf -P $L/sta.pid -f $L/wpa_supplicant-$SCEN.log -t \
        || { check_fail sta "wpa_supplicant start"; return 1; }
    wait_for 10 test -S $STA_CTRL/wlan2 || { check_fail sta "no control socket"; return 1; }
    # Let it reach the old network first, as a device in service would be.
    wait_for 30 sh -c "$WPA_CLI status | grep -q wpa_state=COMPLETED" || check_note "sta did not reach lab-open first"
}

lab_sta_down() {
    if [ -f $L/sta.pid ]; then kill "$(cat $L/sta.pid)" 2>/dev/null; sleep 0.5; rm -f $L/sta.pid; fi
    $NS_STA ip -4 addr flush dev wlan2 2>/dev/null
    true
}

# drv ARGS...: the backend driver in netns sta against the wpa_supplicant there.
drv_wpa() {
    $NS_STA "$LAB_DRIVER" --backend wpa --ifname wlan2 --ctrl-dir $STA_CTRL --dhcp-hook "$G/dhcp-hook.sh" \
        --timeout 60 "$@"
}

# field NAME LINE: the value of NAME=... in LINE.
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }

# expect NAME REGEX TEXT [what]: PASS if a line of TEXT matches REGEX (grep -E), else FAIL.
expect() {
    local line
    if line=$(printf '%s\n' "$3" | grep -E -m1 -- "$2"); then
        check_pass "$1" "$(echo "$line" | cut -c1-150)"
    else
        check_fail "$1" "no line matching '$2'${4:+ ($4)}; got: $(printf '%s\n' "$3" | grep -E '^(RESULT|BACKEND)' | tr '\n' '|' | cut -c1-300)"
    fi
}
# timing NAME TEXT: records the time_ms of the RESULT line in TEXT.
timing() {
    local t
    t=$(printf '%s\n' "$2" | grep -m1 '^RESULT' | sed -n 's/.*time_ms=\([0-9]*\).*/\1/p')
    [ -n "$t" ] && check_note "time $1: ${t} ms"
}
# sta_networks: "id ssid flags" per configured network of the sta supplicant.
sta_networks() { $WPA_CLI list_networks | tail -n +2 | awk -F'\t' '{print $1, $2, $4}'; }
