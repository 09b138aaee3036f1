# BLE transport: the GATT server without BlueZ (UUIDs, descriptors, advertisement, long
# writes/reads, per-connection sessions) against a real device core.
if(TARGET wifiprov_linux)
  wifiprov_unit_test(test_ble_gatt
    SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_ble_gatt.c
    LIBS wifiprov_linux
    CASES uuid_builtin_ids uuid_app_endpoints uuid_parse_format adv_contents
          chars_and_descriptors long_write_in_order long_write_gap long_write_overflow
          empty_write read_without_write protocol_error sessions_per_connection session_needs_handshake
          pending_resume reply_too_big sec1_bad_handshake sec1_client_over_gatt
          sec2_client_over_gatt)
endif()

# libFuzzer target for the BLE write path (clang, -DWIFIPROV_FUZZ=ON; scripts/fuzz.sh runs it).
# The ctest entry replays the seed corpus only.
if(WIFIPROV_FUZZ AND TARGET wifiprov_linux)
  wifiprov_fuzz_target(fuzz_ble SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_ble.c ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_util.c
                       LIBS wifiprov_linux wifiprov_internal)
endif()

# wifiprovd's BLE transport against a scripted bluetoothd (tests/daemon/fake_bluez_peripheral.py
# on a private bus): the registered flags, and recovery when bluetoothd restarts or the adapter
# is powered off, removed and back. Debian's python3 (python3-dbus, python3-gi); skipped (77)
# without them. The real bluetoothd: the radio lab.
if(TARGET wifiprovd)
  find_program(WIFIPROV_SYSTEM_PYTHON3 python3 PATHS /usr/bin NO_DEFAULT_PATH)
  if(NOT WIFIPROV_SYSTEM_PYTHON3)
    set(WIFIPROV_SYSTEM_PYTHON3 python3)
  endif()
  foreach(c ble_encryption_flags ble_bluetoothd_restart ble_adapter_power_and_removal ble_gap_name
          ble_pairing_agent)
    add_test(NAME daemon_ble.${c} COMMAND ${WIFIPROV_SYSTEM_PYTHON3} ${CMAKE_SOURCE_DIR}/tests/daemon/ble_device_test.py
             --wifiprovd $<TARGET_FILE:wifiprovd> ${c})
    set_tests_properties(daemon_ble.${c} PROPERTIES LABELS integration TIMEOUT 60 SKIP_RETURN_CODE 77)
  endforeach()
endif()
