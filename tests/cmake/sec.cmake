# Security schemes 0/1/2 and SRP-6a.
wifiprov_unit_test(test_sec_vectors
  SOURCES ${CMAKE_SOURCE_DIR}/tests/vectors/test_sec_vectors.c
  LABEL vectors
  CASES sec0_device sec0_client sec1_device sec1_client sec1_derived
        sec2_device sec2_client sec2_derived sec2_patch0_device sec2_patch0_client
        appendix_a2_device appendix_a2_client appendix_a3_device)

wifiprov_unit_test(test_srp
  SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_srp.c
  CASES rfc5054_sha1 u_pads_values protocol_k_x_v protocol_session_values key_strips_zeros
        public_zero_mod_n bad_groups gen_salt_verifier_kat gen_salt_verifier_pw69 gen_salt_verifier_args)

wifiprov_unit_test(test_sec
  SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_sec.c
  CASES loopback_sec0 loopback_sec1_pop loopback_sec1_no_pop loopback_sec2_patch1 loopback_sec2_patch0
        loopback_sec2_patch0_iv12 sec1_wrong_pop sec2_wrong_password sec2_wrong_username
        sec2_short_a sec2_short_m1 sec2_short_k
        sec1_client_rejects_verify sec2_client_rejects_m2 sec2_counter_wrap sec1_key_lengths sec2_lengths
        sec2_username_limit sec2_a_zero_and_n cmd1_before_cmd0 sec1_repeated_cmd0 sec2_repeated_cmd0
        sec2_tampered sec_ver_mismatch payload_mismatch error_resets_session crypt_before_established
        no_space bad_params gen_cred_handshake alloc_failures unpack_nomem)
