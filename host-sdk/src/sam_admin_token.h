/*
 * sam_admin_token.h: the reference host's admin token. 32 random bytes,
 * base64url (43 characters), shown once when it is made; only a salted
 * SHA-256 of it is kept, in a 0600 file of the data directory:
 *
 *   sam-admin-token v1 sha256 <salt: 32 hex digits> <hash: 64 hex digits>
 *
 * where hash = SHA-256(salt || token). Checks compare in constant time.
 * Thread: any; the file functions block on the disk (call them before the
 * loop runs, or from the CLI).
 */
#ifndef SAM_ADMIN_TOKEN_H
#define SAM_ADMIN_TOKEN_H

#include <stddef.h>

#define SAM__ADMIN_TOKEN_FILE "admin-token"
/* 43 base64url characters and the NUL. */
#define SAM__ADMIN_TOKEN_LEN 44

typedef struct sam__admin_token {
  unsigned char salt[16];
  unsigned char hash[32];
} sam__admin_token;

/*
 * Reads the hash file at `path`. Returns 0, SAM_ENOENT (no file), SAM_EIO
 * (unreadable, malformed, or readable by group or others) with a message
 * in err.
 */
int sam__admin_token_load(const char *path,
                          sam__admin_token *t,
                          char *err,
                          size_t err_len);

/*
 * Makes a new token, writes its salted hash to `path` atomically
 * (temporary 0600 file, fsync, rename) and fills `t`. The clear token goes
 * to token_out (at least SAM__ADMIN_TOKEN_LEN bytes) and nowhere else: the
 * caller shows it once and wipes it. Returns 0, SAM_EIO or SAM_ENOMEM with
 * a message in err.
 */
int sam__admin_token_create(const char *path,
                            char *token_out,
                            size_t token_len,
                            sam__admin_token *t,
                            char *err,
                            size_t err_len);

/*
 * 1 when the `len` bytes at `presented` are the token whose hash `t` holds,
 * else 0. Constant time in the token's content (CRYPTO_memcmp of hashes).
 */
int sam__admin_token_check(const sam__admin_token *t,
                           const char *presented,
                           size_t len);

#endif /* SAM_ADMIN_TOKEN_H */
