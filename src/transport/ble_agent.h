/*
 * The pairing agent of the BLE transport, registered with --ble-require-encryption only.
 * With encrypt-read/encrypt-write values a phone must pair before its first exchange, and
 * bluetoothd asks an agent to confirm even a Just Works pairing; without one it refuses
 * ("No agent available") and the phone cannot provision. This agent
 * (org.bluez.Agent1, capability NoInputNoOutput, as an ESP32 without display or keys)
 * lets a device of our adapter pair Just Works and refuses everything else: requests for
 * other adapters, PIN codes and passkeys. It does not ask to be the default agent, so a
 * desktop's default agent keeps answering (bluetoothd makes it the default only when there
 * is none).
 *
 * A pairing it let in goes when that phone disconnects (Adapter1.RemoveDevice, answered on
 * the loop), so a provisioning phone leaves no pairing behind. The pairings are listed in
 * <state-dir>/ble-bonds until bluetoothd confirmed their removal; what is still listed when
 * BLE stops (a phone still connected, bluetoothd not answering) or after a kill -9 is
 * removed by the next start (wifiprov_ble_sweep).
 */
#ifndef WIFIPROV_TRANSPORT_BLE_AGENT_H
#define WIFIPROV_TRANSPORT_BLE_AGENT_H

#include <stdbool.h>

#include <systemd/sd-bus.h>

#define WIFIPROV_BLE_AGENT_PATH "/org/wifiprov/agent"
#define WIFIPROV_BLE_AGENT_BONDS 16

struct wifiprov__ble_agent;

/* A pairing this run let in. */
struct wifiprov__ble_bond {
    struct wifiprov__ble_agent *agent;
    char device[96]; /* "" = free slot */
    sd_bus_slot *remove_slot;
};

struct wifiprov__ble_agent {
    sd_bus *bus;              /* borrowed */
    const char *owner;        /* bluetoothd's unique name: the only caller answered (borrowed) */
    const char *adapter_path; /* "/org/bluez/hciN": its devices may pair (borrowed) */
    const char *state_dir;    /* where the bonds are listed (borrowed) */
    sd_bus_slot *slot;
    sd_bus_slot *reg_slot;
    bool registered;
    struct wifiprov__ble_bond bonds[WIFIPROV_BLE_AGENT_BONDS];
};

/* Exports the agent object. @return 0 or a negative errno. */
int wifiprov__ble_agent_export(struct wifiprov__ble_agent *a);
/* Asks bluetoothd to register it (asynchronous; again after bluetoothd came back). */
void wifiprov__ble_agent_register(struct wifiprov__ble_agent *a);
/* @p device disconnected: the pairing it made through us is removed (asynchronous). */
void wifiprov__ble_agent_device_gone(struct wifiprov__ble_agent *a, const char *device);
/* Unregisters it and asks bluetoothd to remove the pairings still listed, without waiting
 * for answers (the list stays for the next start). */
void wifiprov__ble_agent_free(struct wifiprov__ble_agent *a);
/* Start-up: removes the bonds a killed run listed in @p state_dir. */
void wifiprov__ble_agent_sweep(const char *state_dir);

#endif
