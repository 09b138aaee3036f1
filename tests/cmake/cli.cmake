# Integration tests of the wifiprov CLI (tests/cli): the real binary as a process, against
# a scripted security-0 device (fake_*) or the real wifiprovd with simulated Wi-Fi (daemon_*).
# One ctest entry per case, label integration.
if(TARGET wifiprov_cli)
  find_package(Python3 COMPONENTS Interpreter)
  if(NOT Python3_Interpreter_FOUND)
    message(WARNING "python3 not found: the wifiprov CLI tests are not registered")
    return()
  endif()
  set(WIFIPROV_CLI_CASES
    usage_no_args usage_help_lists_exit_codes usage_errors usage_errors_json docs_options_in_sync transport_refused
    gencred_format gencred_salt_len_and_aliases gencred_incompatible gencred_out_file qr_render
    fake_http_cookie_keepalive fake_sec_autodetect_nonjson fake_sec_autodetect_legacy fake_no_downgrade fake_wrong_sec_names_scheme fake_transport_dropped fake_transport_http_status
    fake_provision_json_progress fake_poll_latency fake_provision_wifi_failures fake_connection_lost_while_polling fake_provision_timeout
    fake_debug_hides_secrets fake_secret_sources fake_esp_prov_invocation fake_custom_and_version
    fake_scan_table_and_json fake_interactive_select fake_interactive_open_network fake_console_transport)
  set(WIFIPROV_CLI_DAEMON_CASES
    daemon_provision_sec0 daemon_provision_sec1 daemon_provision_sec2
    daemon_wrong_pop daemon_wrong_password daemon_wrong_passphrase daemon_no_reset_on_failure daemon_unknown_ssid
    daemon_scan daemon_status daemon_busy_device daemon_passphrase_checks daemon_reset_after_failure daemon_reprov daemon_custom daemon_version
    daemon_esp_prov_aliases daemon_qr_option daemon_debug_hides_secrets daemon_interactive daemon_console_relay daemon_gencred_verifier_file
    daemon_timeout)
  # A console-transport device on stdin/stdout, for device variants wifiprovd does not offer.
  add_executable(cli_console_device ${CMAKE_SOURCE_DIR}/tests/cli/console_device.c)
  target_link_libraries(cli_console_device PRIVATE wifiprov_internal)
  list(APPEND WIFIPROV_CLI_CASES console_device_sec2_patches console_device_sec1)
  set(_cli_args --wifiprov $<TARGET_FILE:wifiprov_cli> --console-device $<TARGET_FILE:cli_console_device>)
  if(TARGET wifiprovd)
    list(APPEND _cli_args --wifiprovd $<TARGET_FILE:wifiprovd>)
    list(APPEND WIFIPROV_CLI_CASES ${WIFIPROV_CLI_DAEMON_CASES})
  endif()
  foreach(c ${WIFIPROV_CLI_CASES})
    add_test(NAME cli.${c} COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/cli/cli_test.py ${_cli_args} ${c})
    set_tests_properties(cli.${c} PROPERTIES LABELS integration TIMEOUT 60)
  endforeach()
endif()

# The BLE client against a scripted bluetoothd (tests/cli/fake_bluez.py on a private bus)
# whose characteristics relay to the real wifiprovd: no Bluetooth needed. Debian's python3
# (python3-dbus, python3-gi); skipped (77) without them. The real bluetoothd: the radio lab.
if(TARGET wifiprov_cli AND TARGET wifiprovd)
  set(WIFIPROV_CLI_BLE_CASES
    ble_provision_sec1 ble_provision_sec2_and_sec0 ble_scan_pages_of_four ble_wrong_pop
    ble_fixed_ids_without_descriptors ble_adapter_errors ble_device_not_found_lists_names
    ble_connect_and_resolve_errors ble_link_lost_mid_exchange ble_ctrl_c_disconnects ble_discover ble_known_device)
  find_program(WIFIPROV_SYSTEM_PYTHON3 python3 PATHS /usr/bin NO_DEFAULT_PATH)
  if(NOT WIFIPROV_SYSTEM_PYTHON3)
    set(WIFIPROV_SYSTEM_PYTHON3 python3)
  endif()
  foreach(c ${WIFIPROV_CLI_BLE_CASES})
    add_test(NAME cli.${c} COMMAND ${WIFIPROV_SYSTEM_PYTHON3} ${CMAKE_SOURCE_DIR}/tests/cli/ble_test.py
             --wifiprov $<TARGET_FILE:wifiprov_cli> --wifiprovd $<TARGET_FILE:wifiprovd> ${c})
    set_tests_properties(cli.${c} PROPERTIES LABELS integration TIMEOUT 60 SKIP_RETURN_CODE 77)
  endforeach()
endif()
