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
int sam__keyring_load(const char *env_b64,
                      const char *key_file,
                      int create,
                      sam__keyring **out,
                      char *err,
                      size_t err_len);
/* A random in-memory key (test host, probe). */
int sam__keyring_new_ephemeral(sam__keyring **out);
/* Wipes and frees; NULL-safe. */
void sam__keyring_free(sam__keyring *kr);

/* Seals; *blob is malloc'd (caller frees). 0, SAM_ENOMEM or SAM_EIO. */
int sam__seal(const sam__keyring *kr,
              const char *profile_id,
              const char *name,
              const void *pt,
              size_t pt_len,
              unsigned char **blob,
              size_t *blob_len);
/* Opens; *pt is malloc'd with a NUL after pt_len bytes (caller wipes and
 * frees). SAM_EAUTH when the tag, the key id or the binding is wrong. */
int sam__unseal(const sam__keyring *kr,
                const char *profile_id,
                const char *name,
                const unsigned char *blob,
                size_t blob_len,
                unsigned char **pt,
                size_t *pt_len);

/* ---- key rotation (added by the seal module; additive) ---- */

/*
 * Adds a fresh random key with id (highest id + 1) and makes it current;
 * older keys stay so that blobs sealed with them still open. Persist with
 * sam__keyring_save before sealing anything with the new key. Not
 * concurrently with other use of the keyring. 0, SAM_EIO, SAM_ENOMEM.
 */
int sam__keyring_rotate(sam__keyring *kr, uint32_t *new_id);
/*
 * Writes all keys with their ids and the current id to key_file atomically
 * (temporary 0600 file, fsync, rename, fsync of the directory). Blocks on
 * file I/O. 0, SAM_EIO or SAM_ENOMEM with a message in err.
 */
int sam__keyring_save(const sam__keyring *kr,
                      const char *key_file,
                      char *err,
                      size_t err_len);
/* Drops an old key once nothing is sealed with it. 0, SAM_ENOENT, or
 * SAM_EBUSY for the current key. */
int sam__keyring_retire(sam__keyring *kr, uint32_t id);
/* The id new blobs are sealed with (0 for NULL). */
uint32_t sam__keyring_current_id(const sam__keyring *kr);
/* The number of keys held. */
size_t sam__keyring_count(const sam__keyring *kr);
/* The 32-byte key with this id, or NULL: borrowed until the keyring is
 * rotated, retired from or freed. For seal.c; never log or copy it. */
const unsigned char *sam__keyring_key(const sam__keyring *kr, uint32_t id);
/* The key id in a blob's header (not authenticated): lets a rotation find
 * the blobs still sealed with an old key. 0 or SAM_EINVAL. */
int sam__seal_blob_key_id(const unsigned char *blob,
                          size_t blob_len,
                          uint32_t *id);

#endif /* SAM_SEAL_H */
