# Fixed-base exponentiation (also inside SRP-6a) and the kept X25519 key, against the backend selected by WIFIPROV_CRYPTO.
wifiprov_unit_test(test_crypto_fixed
  SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_crypto_fixed.c
  CASES
    fixed_g_secret fixed_v_public fixed_base_unreduced fixed_odd_shapes fixed_small_modulus fixed_bad_args
    fixed_two_contexts srp_precomp_same_results srp_precomp_bad_args x25519_kept_rfc7748 x25519_kept_vs_oneshot x25519_kept_low_order)
if(WIFIPROV_CRYPTO STREQUAL "openssl")
  target_compile_definitions(test_crypto_fixed PRIVATE TEST_CRYPTO_OPENSSL=1)
else()
  target_compile_definitions(test_crypto_fixed PRIVATE TEST_CRYPTO_OPENSSL=0)
endif()
