/*
 * sam_seal.h: sealing of secrets with AES-256-GCM under the host's master
 * key (OpenSSL EVP). Pure functions on the calling thread; no I/O except
 * sam__keyring_load.
 *
 * A sealed blob is: magic "SAM1" | key id (4 bytes, big endian) | nonce (12)
 * | tag (16) | ciphertext. The associated data binds the blob to
 * (profile_id, name), so a blob copied to another record fails to open.
 */
#ifndef SAM_SEAL_H
#define SAM_SEAL_H

#include <stddef.h>
#include <stdint.h>

typedef struct sam__keyring sam__keyring;

/*
 * Loads the master key: from `env_b64` (base64 of 32 bytes, e.g. the value of
 * SAM_MASTER_KEY) when non-NULL, else from `key_file`, creating it with mode
 * 0600 when `create` is set and it does not exist. Refuses a key file that is
 * readable by group or others. Ownership: *out is freed with
 * sam__keyring_free. Returns 0 or SAM_EINVAL/SAM_EIO with a message in err.
 */
int sam__keyring_load(const char *env_b64, const char *key_file, int create,
                      sam__keyring **out, char *err, size_t err_len);
/* A random in-memory key (test host, probe). */
int sam__keyring_new_ephemeral(sam__keyring **out);
/* Wipes and frees; NULL-safe. */
void sam__keyring_free(sam__keyring *kr);

/* Seals; *blob is malloc'd (caller frees). 0, SAM_ENOMEM or SAM_EIO. */
int sam__seal(const sam__keyring *kr, const char *profile_id, const char *name,
              const void *pt, size_t pt_len, unsigned char **blob,
              size_t *blob_len);
/* Opens; *pt is malloc'd with a NUL after pt_len bytes (caller wipes and
 * frees). SAM_EAUTH when the tag, the key id or the binding is wrong. */
int sam__unseal(const sam__keyring *kr, const char *profile_id,
                const char *name, const unsigned char *blob, size_t blob_len,
                unsigned char **pt, size_t *pt_len);

#endif /* SAM_SEAL_H */
