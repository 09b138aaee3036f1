# Device core, client role and their known-answer transcripts.
wifiprov_unit_test(test_dispatch_vectors
  SOURCES ${CMAKE_SOURCE_DIR}/tests/vectors/test_dispatch_vectors.c
  LABEL vectors
  CASES sec0_device sec1_device sec2_device sec2_patch0_device
        sec0_client sec1_client sec2_client sec2_patch0_client)

wifiprov_unit_test(test_device
  SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_device.c
  CASES version_sec2 version_sec1 version_sec0 version_app_info new_invalid endpoints_table
        sessions_table event_names neg_wrong_pop neg_wrong_password neg_wrong_username neg_bad_lengths
        neg_cmd1_before_cmd0 neg_repeated_cmd0 neg_tampered neg_short_ciphertext neg_before_established
        neg_unknown_endpoint_session neg_oversized neg_too_many_sessions neg_handler_error
        neg_handler_misbehaves pending_resume pending_cancel pending_close_and_remove alloc_failures
        alloc_failures_setup)

wifiprov_unit_test(test_client
  SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_client.c
  CASES version_parse get_version appendix_a1 decode_replies decoders_direct handshake_errors
        handshake_bad_replies client_new_invalid transport_misbehaves loopback_sec0 loopback_sec1_pop loopback_sec1_nopop
        loopback_sec2_patch0 loopback_sec2_patch1)

# libFuzzer target (clang, -DWIFIPROV_FUZZ=ON; scripts/fuzz.sh runs it). The ctest entry
# replays the seed corpus only, as a quick regression check.
if(WIFIPROV_FUZZ)
  wifiprov_fuzz_target(fuzz_device SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_device.c LIBS wifiprov_internal)
endif()
