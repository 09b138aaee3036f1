# Crypto backend tests: the same cases run against the backend selected by WIFIPROV_CRYPTO.
wifiprov_unit_test(test_crypto
  SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_crypto.c
  CASES
    x25519_rfc7748_vectors x25519_rfc7748_iterated x25519_rfc7748_dh x25519_sec1_vector
    x25519_non_canonical x25519_low_order
    sha1_known_answers sha256_known_answers sha512_known_answers
    ctr_nist_f55 ctr_counter_carry ctr_stream_split ctr_sec1_stream
    gcm_mv_tc15_16 gcm_long_ivs gcm_iv_lengths gcm_sec2_vector gcm_tamper
    bn_bytes bn_compare bn_mod_arith bn_mod_exp_small bn_mod_exp_vs_mul bn_srp_verifier bn_srp_sec2_vector
    ct_equal random_bytes backend_name)
target_compile_definitions(test_crypto PRIVATE TEST_CRYPTO_BACKEND="${WIFIPROV_CRYPTO}")
