# Security schemes 0/1/2 and SRP-6a.
wifiprov_unit_test(test_sec_vectors
  SOURCES ${CMAKE_SOURCE_DIR}/tests/vectors/test_sec_vectors.c
  LABEL vectors
  CASES sec0_device sec0_client sec1_device sec1_client sec1_derived
        sec2_device sec2_client sec2_derived sec2_patch0_device sec2_patch0_client)
