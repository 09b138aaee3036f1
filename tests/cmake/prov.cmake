# Provisioning manager (prov-config / prov-scan / prov-ctrl through a real security-0 device).
wifiprov_unit_test(test_prov
  SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_prov.c
  CASES
    config_appendix_a1 config_status_before_apply config_set_invalid config_set_replaces
    config_staged_per_session config_staged_session_lifetime config_apply_rules config_bad_requests
    fail_auth_legacy fail_not_found_legacy fail_attempt_counting fail_attempts_then_success
    fail_connect_call fail_reset_retry_success fail_reset_on_failure fail_reset_on_failure_ctrl reset_api ctrl_reset_wrong_states stale_events_ignored
    autostop_timeout autostop_after_status autostop_timer_first no_auto_stop_reprov
    autostop_refuses_reprov reprovision_api lifecycle no_passphrase_in_logs alloc_failures
    scan_appendix_a1 scan_paging_rules scan_sorted_and_capped scan_nonblocking
    scan_blocking_cache scan_background_fresh scan_background_adopted
    scan_background_not_while_connecting scan_no_cache_by_default scan_errors scan_after_apply)

# Simulated Wi-Fi backend (Linux: sd-event), and the manager running on top of it.
if(TARGET wifiprov_linux)
  wifiprov_unit_test(test_sim
    SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_sim.c
    LIBS wifiprov_linux
    CASES
      file_errors file_scan hidden_network connect_right_passphrase connect_wrong_passphrase connect_unknown_ssid
      connect_open_and_enterprise disconnect_cancels connect_saved demo_set example_file with_manager)
endif()

# libFuzzer target for the prov-config / prov-scan / prov-ctrl payloads and the state machine
# (clang, -DWIFIPROV_FUZZ=ON). The ctest entry replays the seed corpus only.
if(WIFIPROV_FUZZ)
  wifiprov_fuzz_target(fuzz_prov SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_prov.c LIBS wifiprov_internal)
endif()
