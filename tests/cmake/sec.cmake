# Security schemes 0/1/2 and SRP-6a.
wifiprov_unit_test(test_sec_vectors
  SOURCES ${CMAKE_SOURCE_DIR}/tests/vectors/test_sec_vectors.c
  LABEL vectors
  CASES sec0_device sec0_client sec1_device sec1_client sec1_derived
        sec2_device sec2_client sec2_derived sec2_patch0_device sec2_patch0_client)

wifiprov_unit_test(test_srp
  SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_srp.c
  CASES rfc5054_sha1 u_pads_values protocol_k_x_v protocol_session_values key_strips_zeros
        public_zero_mod_n bad_groups gen_salt_verifier_kat gen_salt_verifier_pw69 gen_salt_verifier_args)
