# Secret sealing (AES-256-GCM) and the keyring: host-sdk/src/seal.c.
sam_add_test(test-seal
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test-seal.c
  LIBS samhost_static
  LABELS unit)
