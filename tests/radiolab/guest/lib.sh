# Helpers sourced by the guest scripts.
now() { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
log() { echo "[$(now)] $*"; }
# check_pass NAME [detail] / check_fail NAME detail: one line each in results.txt.
check_pass() { echo "PASS ${SCEN:-lab}/$1${2:+ ($2)}" >> "$WPLAB_OUT/results.txt"; log "PASS $1${2:+ ($2)}"; }
check_fail() { echo "FAIL ${SCEN:-lab}/$1: $2" >> "$WPLAB_OUT/results.txt"; log "FAIL $1: $2"; FAILED=1; }
check_note() { echo "NOTE ${SCEN:-lab}/$*" >> "$WPLAB_OUT/results.txt"; log "NOTE $*"; }
FAILED=0
# record_checks PREFIX LOG RC CHECKER: the "CHECK name ok|fail detail" lines of a python
# checker's LOG as checks (names prefixed with PREFIX); CHECKER fails when it exited with RC != 0.
record_checks() {
    local name verdict detail
    while read -r _ name verdict detail; do
        [ "$verdict" = ok ] && check_pass "$1$name" "$detail" || check_fail "$1$name" "$detail"
    done < <(grep '^CHECK ' "$2")
    [ "$3" = 0 ] || check_fail "$4" "exited $3: $(grep -v '^CHECK' "$2" | tail -3 | tr '\n' ' ')"
}
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
STA_CTRL=${STA_CTRL:-/run/wpa-sta}
NS_STA="ip netns exec sta"
wpa_cli_sta() { wpa_cli -p $STA_CTRL -i wlan2 "$@"; }

# Five hwsim radios with hwsim's own small world regdomain (regtest=5: 2.4 GHz and a few 5 GHz
# channels; without it, every scan also walks the 6 GHz band and takes 8-20 s under TCG): wlan0/wlan1 are the APs (netns ap), wlan2 the device for the
# wpa_supplicant scenarios (netns sta), wlan3 the device NetworkManager manages (initial netns),
# wlan4 the phone of the SoftAP scenarios (netns phone).
lab_aps_up() {
    [ -f $L/aps-up ] && return 0
    mkdir -p $L
    modprobe mac80211_hwsim radios=5 regtest=5 || { check_fail aps "modprobe mac80211_hwsim"; return 1; }
    ip netns add ap
    ip netns add sta
    for i in 0 1; do iw phy "$(iw dev wlan$i info | awk '/wiphy/{print "phy"$2}')" set netns name ap; done
    iw phy "$(iw dev wlan2 info | awk '/wiphy/{print "phy"$2}')" set netns name sta
    ip netns add phone
    iw phy "$(iw dev wlan4 info | awk '/wiphy/{print "phy"$2}')" set netns name phone
    ip netns exec phone ip link set lo up
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
    $NS_STA wpa_supplicant -B -D nl80211 -i wlan2 -c $L/sta.conf -P $L/sta.pid -f $L/wpa_supplicant-$SCEN.log -t -d \
        || { check_fail sta "wpa_supplicant start"; return 1; }
    wait_for 10 test -S $STA_CTRL/wlan2 || { check_fail sta "no control socket"; return 1; }
    # Let it reach the old network first, as a device in service would be.
    wait_for 30 sta_completed || check_note "sta did not reach lab-open first"
}

# lab_sta_restart: the supplicant again with the configuration it saved (a reboot).
lab_sta_restart() {
    lab_sta_down
    $NS_STA wpa_supplicant -B -D nl80211 -i wlan2 -c $L/sta.conf -P $L/sta.pid -f $L/wpa_supplicant-$SCEN-2.log -t -d \
        || { check_fail sta "wpa_supplicant restart"; return 1; }
    wait_for 10 test -S $STA_CTRL/wlan2 || { check_fail sta "no control socket"; return 1; }
}

sta_completed() { wpa_cli_sta status | grep -q wpa_state=COMPLETED; }

lab_sta_down() {
    if [ -f $L/sta.pid ]; then kill "$(cat $L/sta.pid)" 2>/dev/null; sleep 0.5; rm -f $L/sta.pid; fi
    $NS_STA ip -4 addr flush dev wlan2 2>/dev/null
    true
}

# drv ARGS...: the backend driver in netns sta against the wpa_supplicant there.
# The driver exits 0 when every command ran; anything else (crash, sanitizer report, timeout)
# is a failure of its own, even when the printed results look right.
drv_wpa() {
    $NS_STA "$LAB_DRIVER" --backend wpa --ifname wlan2 --ctrl-dir $STA_CTRL --dhcp-hook "$G/dhcp-hook.sh" \
        --timeout 60 "$@"
    drv_rc $? "$@"
}
drv_rc() {
    local rc=$1; shift
    [ "$rc" = 0 ] || check_fail driver-exit "wifiprov_lab_driver $* exited with $rc"
    return 0
}

# Keeps the lab's own logs (hostapd, supplicant, dnsmasq, NM...) with the results.
save_artifacts() {
    mkdir -p "$WPLAB_OUT/artifacts-${SCEN:-lab}"
    [ -f $L/hci.btsnoop ] && btmon -r $L/hci.btsnoop > $L/btmon.log 2>&1
    cp $L/*.log $L/*.conf "$WPLAB_OUT/artifacts-${SCEN:-lab}/" 2>/dev/null
    true
}
trap save_artifacts EXIT

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
sta_networks() { wpa_cli_sta list_networks | tail -n +2 | awk -F'\t' '{print $1, $2, $4}'; }

# ---- the real daemon and CLI -------------------------------------------------------
# need_bins: the daemon and the CLI are built, or the check "binaries" fails (status 1).
need_bins() {
    local b
    for b in LAB_DAEMON LAB_CLI; do
        [ -x "${!b}" ] || { check_fail binaries "$b is not built"; return 1; }
    done
}
POP=abcd1234
# daemon_start NS LOGNAME ARGS...: wifiprovd in netns NS ("" = initial) on 127.0.0.1:8080;
# waits until it answers unless DAEMON_NOWAIT=1 (an already provisioned daemon stays idle).
daemon_start() {
    local ns=$1 name=$2; shift 2
    if [ -n "$ns" ]; then
        ip netns exec "$ns" "$LAB_DAEMON" --transport http --listen 127.0.0.1:8080 --security 1 --pop $POP \
            --auto-stop 0 --no-qr -v "$@" > $L/$name.log 2>&1 &
    else
        "$LAB_DAEMON" --transport http --listen 127.0.0.1:8080 --security 1 --pop $POP \
            --auto-stop 0 --no-qr -v "$@" > $L/$name.log 2>&1 &
    fi
    DAEMON_PID=$!
    DAEMON_NS=$ns
    [ "${DAEMON_NOWAIT:-0}" = 1 ] && return 0
    wait_for 20 cli_up || { check_fail daemon-start "$name: not answering on 127.0.0.1:8080: $(tail -5 $L/$name.log | tr '\n' ' ')"; return 1; }
}
cli_up() { kill -0 $DAEMON_PID 2>/dev/null && cli_raw version > /dev/null 2>&1; }
daemon_stop() {
    [ -n "${DAEMON_PID:-}" ] || return 0
    kill $DAEMON_PID 2>/dev/null
    local i
    for i in $(seq 100); do kill -0 $DAEMON_PID 2>/dev/null || break; sleep 0.1; done
    kill -9 $DAEMON_PID 2>/dev/null
    wait $DAEMON_PID 2>/dev/null
    DAEMON_PID=
}
cli_raw() {
    if [ -n "${DAEMON_NS:-}" ]; then
        ip netns exec "$DAEMON_NS" timeout 150 "$LAB_CLI" "$@" --address 127.0.0.1:8080
    else
        timeout 150 "$LAB_CLI" "$@" --address 127.0.0.1:8080
    fi
}
# cli CMD ARGS...: the CLI with security 1 and --json --progress; sets CLI_RC and CLI_OUT
# (the summary line of cli_json.py).
cli() {
    local raw
    raw=$(cli_raw "$@" --sec 1 --pop $POP --timeout 120 --json --progress 2>>$L/cli.stderr)
    CLI_RC=$?
    echo "$raw" >> $L/cli.json
    CLI_OUT=$(echo "$raw" | /usr/bin/python3 "$G/cli_json.py" "$1")
    log "wifiprov $1 -> exit $CLI_RC: $(echo "$CLI_OUT" | tr '\n' ';')"
}
# expect_cli NAME RC REGEX [what]
expect_cli() {
    if [ "$CLI_RC" = "$2" ] && printf '%s\n' "$CLI_OUT" | grep -Eq -- "$3"; then
        check_pass "$1" "exit $CLI_RC; $(printf '%s\n' "$CLI_OUT" | grep -E -m1 -- "$3" | cut -c1-140)"
    else
        check_fail "$1" "want exit $2 and /$3/${4:+ ($4)}; got exit $CLI_RC: $(echo "$CLI_OUT" | tr '\n' ';' | cut -c1-300)"
    fi
}
cli_timing() {
    local t
    t=$(printf '%s\n' "$CLI_OUT" | sed -n 's/.*apply_to_result_ms=\([0-9]*\).*/\1/p' | head -1)
    [ -n "$t" ] && check_note "time $1: ${t} ms from ApplyConfig to the CLI seeing the result"
}

# The system bus, shared by NetworkManager and bluetoothd (one per boot).
lab_dbus_up() {
    [ -f $L/dbus.pid ] && kill -0 "$(cat $L/dbus.pid)" 2>/dev/null && return 0
    mkdir -p $L
    dbus-daemon --system --fork --print-pid > $L/dbus.pid
}

# ---- NetworkManager (initial netns, with udev and a D-Bus wpa_supplicant) -------------
# NM only manages links udev has initialised, and udevd only sees its own netns, so NM and
# its device wlan3 stay in the initial netns.
lab_nm_up() {
    [ -f $L/nm-up ] && return 0
    lab_aps_up || return 1
    lab_dbus_up || { check_fail nm-up "dbus-daemon"; return 1; }
    /lib/systemd/systemd-udevd --daemon 2> $L/udevd.log
    udevadm trigger --action=add
    udevadm settle -t 15
    wpa_supplicant -u -s > $L/wpas-nm.log 2>&1 &
    echo $! > $L/wpas-nm.pid
    mkdir -p /etc/NetworkManager/conf.d
    cat > /etc/NetworkManager/conf.d/99-lab.conf <<'CONF'
[main]
dhcp=internal
no-auto-default=*
[keyfile]
unmanaged-devices=interface-name:hwsim0
[logging]
level=DEBUG
domains=PLATFORM,DEVICE,WIFI,SUPPLICANT,CORE,SETTINGS,SHARING
[device]
wifi.scan-rand-mac-address=no
CONF
    dbus-monitor --system "type='method_call',interface='org.freedesktop.NetworkManager.Settings.Connection'" \
        "type='method_call',member='AddAndActivateConnection2'" > $L/dbus-monitor.log 2>&1 &
    nm_start || return 1
    touch $L/nm-up
}
nm_start() {
    local t0; t0=$(now)
    NetworkManager --debug >> $L/nm.log 2>&1 &
    echo $! > $L/nm.pid
    wait_for 60 nm_wlan3_ready || { check_fail nm-up "wlan3 not managed: $(nmcli -t dev 2>&1 | tr '\n' ' ')"; return 1; }
    log "NetworkManager up in $(since "$t0") s: $(nmcli -t -f DEVICE,STATE dev | tr '\n' ' ')"
}
nm_wlan3_ready() { nmcli -t -f DEVICE,STATE dev 2>/dev/null | grep -Eq '^wlan3:(disconnected|connected|connecting)'; }
nm_stop() {
    [ -f $L/nm.pid ] || return 0
    kill "$(cat $L/nm.pid)" 2>/dev/null
    local i
    for i in $(seq 50); do kill -0 "$(cat $L/nm.pid)" 2>/dev/null || break; sleep 0.1; done
    rm -f $L/nm.pid
}
drv_nm() { "$LAB_DRIVER" --backend nm --ifname wlan3 --timeout 90 "$@"; drv_rc $? "$@"; }
nm_profiles() { nmcli -t -f NAME con show 2>/dev/null | sort | tr '\n' ' '; }

# ---- Bluetooth: emulated LE controllers and the real bluetoothd -----------------------
# btvirt gives BlueZ btdev controllers linked in software. One bluetoothd on the system bus
# manages them all, so a client on one adapter connecting to another adapter's address
# crosses the emulated link. BLE_DEV is the device's adapter (the daemon's), BLE_PHONE and
# BLE_PHONE2 are two "phones". Bluetooth sockets exist only in the initial netns: bluetoothd
# runs there, and a daemon in another netns reaches it through the system bus socket in /run.
# Under TCG the first controller btvirt creates regularly misses its HCI Reset (it stays at
# 00:00:00:00:00:00, "Opcode 0x0c03 failed: -110", and bluetoothd never sees it), so btvirt
# makes four and the first three that come up are used; lab_ble_up writes their names to
# $L/ble.env for the later scenarios of the same boot.
PY=/usr/bin/python3
[ -f $L/ble.env ] && . $L/ble.env
ble_addr() { hciconfig "$1" 2>/dev/null | awk '/BD Address/{print $3}'; }
ble_good() { hciconfig 2>/dev/null | awk '/^hci/{h=$1; sub(":","",h)} /BD Address/ && $3 != "00:00:00:00:00:00" {print h}' | sort -V; }
ble_three_good() { [ "$(ble_good | wc -l)" -ge 3 ]; }
bluez_adapter_ok() {
    dbus-send --system --print-reply --dest=org.bluez /org/bluez/$1 org.freedesktop.DBus.Properties.Get \
        string:org.bluez.Adapter1 string:Address > /dev/null 2>&1
}
bluez_power() {
    dbus-send --system --print-reply --dest=org.bluez /org/bluez/$1 org.freedesktop.DBus.Properties.Set \
        string:org.bluez.Adapter1 string:Powered variant:boolean:$2 > /dev/null
}
bluez_powered() {
    dbus-send --system --print-reply --dest=org.bluez /org/bluez/$1 org.freedesktop.DBus.Properties.Get \
        string:org.bluez.Adapter1 string:Powered 2>/dev/null | grep -q 'boolean true'
}
bluez_discovering() {
    dbus-send --system --print-reply --dest=org.bluez /org/bluez/$1 org.freedesktop.DBus.Properties.Get \
        string:org.bluez.Adapter1 string:Discovering 2>/dev/null | grep -q 'boolean true'
}
lab_ble_up() {
    [ -f $L/ble-up ] && return 0
    local t0 a good; t0=$(now)
    mkdir -p $L
    modprobe hci_vhci || { check_fail ble-up "modprobe hci_vhci"; return 1; }
    btvirt -l4 > $L/btvirt.log 2>&1 &
    echo $! > $L/btvirt.pid
    wait_for 15 ble_three_good || { check_fail ble-up "btvirt: fewer than 3 controllers up: $(hciconfig | tr '\n' ' ')"; return 1; }
    good=($(ble_good))
    BLE_DEV=${good[0]} BLE_PHONE=${good[1]} BLE_PHONE2=${good[2]}
    echo "BLE_DEV=$BLE_DEV BLE_PHONE=$BLE_PHONE BLE_PHONE2=$BLE_PHONE2" > $L/ble.env
    btmon -w $L/hci.btsnoop > /dev/null 2>&1 &
    echo $! > $L/btmon.pid
    lab_dbus_up || { check_fail ble-up "dbus-daemon"; return 1; }
    /usr/libexec/bluetooth/bluetoothd -n -d > $L/bluetoothd.log 2>&1 &
    echo $! > $L/bluetoothd.pid
    for a in $BLE_DEV $BLE_PHONE $BLE_PHONE2; do
        wait_for 20 bluez_adapter_ok $a || { check_fail ble-up "bluetoothd does not show $a"; return 1; }
        bluez_power $a true
        wait_for 10 bluez_powered $a || { check_fail ble-up "$a does not power on"; return 1; }
    done
    touch $L/ble-up
    log "BLE up in $(since "$t0") s: $BLE_DEV $(ble_addr $BLE_DEV) (device), $BLE_PHONE $(ble_addr $BLE_PHONE), $BLE_PHONE2 $(ble_addr $BLE_PHONE2) (phones)"
}
# bc ADAPTER ARGS...: wifiprov --transport ble to the device named $BLE_NAME; sets RC and OUT (its JSON result line).
bc() {
    local a=$1; shift
    OUT=$(timeout 150 "$LAB_CLI" --transport ble --service-name $BLE_NAME --adapter $a --timeout 90 --json "$@" \
          2>>$L/cli-ble.stderr)
    RC=$?
    OUT=$(echo "$OUT" | tail -1)
    echo "$*: $OUT" >> $L/cli-ble.json
}
# jf KEY: a top-level field of OUT.
jf() { echo "$OUT" | $PY -c "import json,sys; v=json.load(sys.stdin).get('$1'); print('' if v is None else v)" 2>/dev/null; }
# expect_bc NAME RC [KEY=VALUE...]: PASS if wifiprov exited RC and OUT has these fields.
expect_bc() {
    local name=$1 want=$2 got ok=1; shift 2
    [ "$RC" = "$want" ] || ok=0
    # One python for all fields (each start costs most of a second under TCG).
    got=$(echo "$OUT" | $PY -c "import json,sys
try: o = json.load(sys.stdin)
except ValueError: o = {}
print(' '.join('%s=%s' % (k, '' if o.get(k) is None else o.get(k)) for k in sys.argv[1:]))" "${@%%=*}" 2>/dev/null)
    [ "$got" = "$*" ] || ok=0
    if [ $ok = 1 ]; then check_pass "$name" "exit $RC $(echo "$OUT" | cut -c1-160)"
    else check_fail "$name" "want exit $want $*; got exit $RC: $(echo "$OUT" | cut -c1-300)"; fi
}
note_ms() { local t; t=$(jf elapsed_ms); [ -n "$t" ] && check_note "time $1: $t ms"; }
# adv_instances: how many advertising instances the device's controller ($BLE_DEV) has.
adv_instances() { btmgmt --index "$BLE_DEV" advinfo 2>/dev/null | sed -n 's/.*Instances list with \([0-9]*\) item.*/\1/p'; }
adv_count_is() { [ "$(adv_instances)" = "$1" ]; }
# lab_ble_down: stops bluetoothd, btmon and btvirt and keeps the HCI trace as text.
lab_ble_down() {
    local p
    for p in bluetoothd btvirt btmon; do
        [ -f $L/$p.pid ] && kill "$(cat $L/$p.pid)" 2>/dev/null
    done
    for p in bluetoothd btvirt btmon; do
        [ -f $L/$p.pid ] && wait_for 5 sh -c "! kill -0 $(cat $L/$p.pid) 2>/dev/null"
        rm -f $L/$p.pid
    done
    [ -f $L/hci.btsnoop ] && btmon -r $L/hci.btsnoop > $L/btmon.log 2>&1
    rm -f $L/ble-up $L/ble.env
    true
}

# ---- the phone of the SoftAP scenarios (wlan4, netns phone, its own wpa_supplicant) ----------
PHONE_CTRL=/run/wpa-phone
NS_PHONE="ip netns exec phone"
wpa_cli_phone() { $NS_PHONE wpa_cli -p $PHONE_CTRL -i wlan4 "$@"; }
phone_up() {
    phone_down
    printf 'ctrl_interface=%s\n' "$PHONE_CTRL" > $L/phone.conf
    $NS_PHONE wpa_supplicant -B -D nl80211 -i wlan4 -c $L/phone.conf -P $L/phone.pid -f $L/wpa_phone-$SCEN.log -t \
        || { check_fail phone "wpa_supplicant start"; return 1; }
    wait_for 10 test -S $PHONE_CTRL/wlan4 || { check_fail phone "no control socket"; return 1; }
}
phone_down() {
    if [ -f $L/phone.pid ]; then kill "$(cat $L/phone.pid)" 2>/dev/null; sleep 0.3; rm -f $L/phone.pid; fi
    $NS_PHONE ip -4 addr flush dev wlan4 2>/dev/null
    true
}
phone_completed() { wpa_cli_phone status 2>/dev/null | grep -q wpa_state=COMPLETED; }
phone_ssid() { wpa_cli_phone status 2>/dev/null | sed -n 's/^ssid=//p'; }
phone_ip() { $NS_PHONE ip -4 -o addr show dev wlan4 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | head -1; }
# phone_join SSID [PSK]: joins and takes a DHCP lease; 1 when either fails (in 40 s).
phone_join() {
    local id
    wpa_cli_phone remove_network all > /dev/null
    id=$(wpa_cli_phone add_network | tail -1)
    wpa_cli_phone set_network "$id" ssid "\"$1\"" > /dev/null
    if [ -n "${2:-}" ]; then wpa_cli_phone set_network "$id" psk "\"$2\"" > /dev/null
    else wpa_cli_phone set_network "$id" key_mgmt NONE > /dev/null; fi
    wpa_cli_phone set_network "$id" scan_ssid 1 > /dev/null
    wpa_cli_phone select_network "$id" > /dev/null
    wait_for 40 phone_completed || return 1
    phone_dhcp
}
phone_dhcp() {
    $NS_PHONE ip -4 addr flush dev wlan4
    $NS_PHONE busybox udhcpc -i wlan4 -s "$G/udhcpc.script" -n -q -t 10 -T 1 >> $L/udhcpc-phone.log 2>&1 || return 1
    [ -n "$(phone_ip)" ]
}
phone_leave() { wpa_cli_phone disconnect > /dev/null; wpa_cli_phone remove_network all > /dev/null; $NS_PHONE ip -4 addr flush dev wlan4; }
# phone_cli CMD ARGS...: the CLI on the phone against the device's AP (192.168.4.1:80); sets CLI_RC, CLI_OUT.
phone_cli() {
    local raw
    raw=$($NS_PHONE timeout 150 "$LAB_CLI" "$@" --address 192.168.4.1:80 --sec 1 --pop $POP --timeout ${PHONE_CLI_TIMEOUT:-120} \
        --json --progress 2>>$L/cli.stderr)
    CLI_RC=$?
    echo "$raw" >> $L/cli.json
    CLI_OUT=$(echo "$raw" | /usr/bin/python3 "$G/cli_json.py" "$1")
    log "phone: wifiprov $1 -> exit $CLI_RC: $(echo "$CLI_OUT" | tr '\n' ';')"
}
# softap_leftovers NS: what a SoftAP run may leave (interfaces, helpers, address, files); empty = clean.
softap_leftovers() {
    local x="" run="ip netns exec $1"
    [ -z "$1" ] && run=""
    x="$x$($run ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | grep '^wpap' | tr '\n' ' ')"
    x="$x$($run ip -4 -o addr show 2>/dev/null | grep -F '192.168.4.1/' | awk '{print "addr@"$2}' | tr '\n' ' ')"
    x="$x$(pgrep -a hostapd | grep -F /run/wifiprovd | awk '{print "hostapd:"$1}' | tr '\n' ' ')"
    x="$x$(pgrep -a dnsmasq | grep -F /run/wifiprovd | awk '{print "dnsmasq:"$1}' | tr '\n' ' ')"
    x="$x$(ls /run/wifiprovd 2>/dev/null | sed 's/^/file:/' | tr '\n' ' ')"
    echo "$x"
}
expect_clean() {
    local l; l=$(softap_leftovers "$2")
    [ -z "$l" ] && check_pass "$1" "no wpap*, 192.168.4.1, hostapd, dnsmasq or runtime files" || check_fail "$1" "left: $l"
}

# softap_start LOGNAME ARGS...: wifiprovd with the scenario's BASE options in netns $SOFTAP_NS
# ("" = initial); softap_up tells when it logged "SoftAP ... is up".
softap_start() {
    local name=$1; shift
    SOFTAP_LOG=$L/$name.log
    T_START=$(now)
    if [ -n "${SOFTAP_NS:-}" ]; then
        ip netns exec "$SOFTAP_NS" "$LAB_DAEMON" "${BASE[@]}" --qr-stdout "$@" > "$SOFTAP_LOG" 2>&1 &
    else
        "$LAB_DAEMON" "${BASE[@]}" --qr-stdout "$@" > "$SOFTAP_LOG" 2>&1 &
    fi
    DAEMON_PID=$!
}
softap_up() { grep -q "SoftAP: '.*' is up" "$SOFTAP_LOG"; }
service_name() { sed -n 's/.*Provisioning started with service name : \(.*\)$/\1/p' "$SOFTAP_LOG" | head -1; }

# softap_wait_up SECONDS: the AP is up (ap-up); sets T_UP, SSID; checks the QR payload (qr-payload).
softap_wait_up() {
    if wait_for "$1" softap_up; then
        check_pass ap-up "$(grep -m1 "SoftAP: '.*' is up" "$SOFTAP_LOG" | sed 's/^.*SoftAP/SoftAP/')"
    else
        check_fail ap-up "$(tail -8 "$SOFTAP_LOG" | tr '\n' ' ')"; return 1
    fi
    T_UP=$(since "$T_START")
    SSID=$(service_name)
    check_note "$(grep -m1 'AP+STA' "$SOFTAP_LOG" | sed 's/^.*SoftAP/SoftAP/')"
    grep -qF '{"ver":"v1","name":"'"$SSID"'","pop":"'$POP'","transport":"softap","password":"'$APPASS'"}' "$SOFTAP_LOG" \
        && check_pass qr-payload "transport softap with the AP passphrase as password" \
        || check_fail qr-payload "$(grep -F '{"ver"' "$SOFTAP_LOG")"
}
# softap_phone_provision LABEL NS: the phone joins $SSID with $APPASS, checks lease, DNS and the
# HTTP address (the daemon in netns NS, "" = initial), scans, fails with a wrong passphrase
# while staying on the AP, then sends the right one without Reset and reads Connected there.
softap_phone_provision() {
    local t0 dns run="ip netns exec $2"
    [ -z "$2" ] && run=""
    log "== the phone joins $SSID"
    t0=$(now)
    if phone_join "$SSID" "$APPASS"; then
        check_pass phone-joined "$(phone_ssid) lease $(phone_ip), $(since "$t0") s to join and lease"
        check_note "time $1 softap: daemon start -> AP up ${T_UP} s; then the phone's join + lease $(since "$t0") s"
    else
        check_fail phone-joined "state: $(wpa_cli_phone status | tr '\n' ' ')"; return 1
    fi
    case "$(phone_ip)" in 192.168.4.*) check_pass lease "$(phone_ip)";; *) check_fail lease "$(phone_ip)";; esac
    for name in connectivitycheck.gstatic.com no-such-name.example; do
        dns=$($NS_PHONE busybox nslookup $name 192.168.4.1 2>&1)
        echo "$dns" | sed -n '/^Name/,$p' | grep -q '192\.168\.4\.1' && check_pass "dns-${name%%.*}" "$name -> 192.168.4.1" \
            || check_fail "dns-${name%%.*}" "$(echo "$dns" | tr '\n' ' ')"
    done
    # The HTTP transport listens on the AP address only.
    $run ss -ltn 2>/dev/null | grep -q '192\.168\.4\.1:80 ' && check_pass http-on-ap "$($run ss -ltn | grep ':80 ' | awk '{print $4}' | tr '\n' ' ')" \
        || check_fail http-on-ap "$($run ss -ltn | tr '\n' ' ')"

    log "== scan through the device"
    phone_cli scan
    expect_cli scan 0 'ssid=lab-wpa2 auth=WPA2_PSK channel=1 '

    log "== wrong passphrase (the AP stays up: AP+STA, both on channel 1)"
    phone_cli provision --ssid lab-wpa2 --passphrase wrong-passphrase
    expect_cli wrong-psk 5 'reason=AuthError'
    phone_completed && [ "$(phone_ssid)" = "$SSID" ] && check_pass phone-stayed "still on $SSID" || check_fail phone-stayed "$(phone_ssid)"
    log "== new credentials without Reset (the phone-app flow)"
    phone_cli provision --ssid lab-wpa2 --passphrase correct-horse-42
    expect_cli connected 0 'state=connected ip=10\.77\.1\.[0-9]+ ssid=lab-wpa2 channel=1'
    cli_timing "$1 softap lab-wpa2 -> Connected (phone on the device's AP)"
    # The phone's only network is the device's AP (netns phone holds lo and wlan4), so an answer
    # from 192.168.4.1 was read over it; auto-stop takes the AP down a second later.
    local links; links=$($NS_PHONE ip -o link show | awk -F': ' '{print $2}' | sort | tr '\n' ' ')
    [ "$CLI_RC" = 0 ] && [ "$links" = "lo wlan4 " ] \
        && check_pass phone-on-ap-at-connected "Connected read from 192.168.4.1 over $SSID, the phone's only network" \
        || check_fail phone-on-ap-at-connected "exit $CLI_RC, phone links: $links"
}
# softap_exits: the daemon stops by itself (auto-stop) with status 0.
softap_exits() {
    local rc
    if wait_for "${1:-20}" sh -c "! kill -0 $DAEMON_PID 2>/dev/null"; then
        wait $DAEMON_PID; rc=$?; DAEMON_PID=
        [ "$rc" = 0 ] && check_pass daemon-exit "exit 0: $(tail -1 "$SOFTAP_LOG" | sed 's/^.*wifiprovd: //')" \
            || check_fail daemon-exit "exit $rc"
    else
        check_fail daemon-exit "still running"; daemon_stop
    fi
}
# softap_kill9 LOGNAME OPEN_SSID LEFTOVERS_CMD: a --reprovision daemon with an open AP named
# OPEN_SSID, the phone joins it and reads the status, then kill -9: LEFTOVERS_CMD must see what
# the killed daemon left (the next start sweeps it).
softap_kill9() {
    local left
    phone_leave
    softap_start "$1" --reprovision --auto-stop 5 --softap-ssid "$2"
    wait_for 60 softap_up || check_fail ap-up-open "$(tail -5 "$SOFTAP_LOG" | tr '\n' ' ')"
    grep -qF '"transport":"softap"}' "$SOFTAP_LOG" && check_pass qr-open "no password in the QR code of an open AP" \
        || check_fail qr-open "$(grep -F '{"ver"' "$SOFTAP_LOG")"
    phone_join "$2" && check_pass phone-joined-open "$(phone_ip)" || check_fail phone-joined-open "$(wpa_cli_phone status | tr '\n' ' ')"
    phone_cli status
    expect_cli status-open 8 'state=connecting'
    kill -9 $DAEMON_PID; wait $DAEMON_PID 2>/dev/null; DAEMON_PID=
    sleep 0.5
    left=$($3)
    [ -n "$left" ] && check_pass kill9-leaves "before the next start: $left" || check_fail kill9-leaves "nothing left: the check cannot see leftovers"
}

# nm_daemon_scenario_up: for the scenarios of the real daemon with NetworkManager: binaries
# there, NM up, a clean start (no wifiprov profiles from earlier scenarios, one working
# profile of the user's, prev-open, up). Sets before (the profiles), SD (a state dir) and
# NMARGS (the daemon's NM options); stops the daemon on exit.
nm_daemon_scenario_up() {
    local c
    need_bins || return 1
    lab_nm_up || return 1
    for c in $(nmcli -t -f NAME con show | grep '^wifiprov-'); do nmcli con delete "$c" > /dev/null 2>&1; done
    nmcli -t -f NAME con show | grep -qx prev-open || nmcli con add type wifi ifname wlan3 con-name prev-open ssid lab-open > /dev/null
    nmcli --wait 60 con up prev-open > /dev/null 2>&1 || check_note "prev-open did not come up"
    before=$(nm_profiles)
    SD=$(mktemp -d /tmp/lab/state.XXXXXX)
    trap 'daemon_stop; save_artifacts' EXIT
    NMARGS=(--wifi networkmanager --interface wlan3 --state-dir "$SD" --connect-attempts 1)
}
