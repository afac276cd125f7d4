/*
 * test-seal.c: AES-256-GCM sealing and the keyring (host-sdk/src/seal.c).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sam/sam_plugin.h"
#include "sam_seal.h"
#include "sam_test.h"

static char tmpdir[256];

static void path_in_tmp(char *buf, size_t len, const char *name) {
  snprintf(buf, len, "%s/%s", tmpdir, name);
}

static void write_file(const char *path, const char *text, mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  EXPECT_TRUE(fd >= 0);
  EXPECT_EQ_INT((long long)strlen(text), write(fd, text, strlen(text)));
  EXPECT_EQ_INT(0, fchmod(fd, mode));
  EXPECT_EQ_INT(0, close(fd));
}

/* Seals `value` and opens it again with kr2, returning the status. */
static int
seal_open(const sam__keyring *kr1, const sam__keyring *kr2, const char *value) {
  unsigned char *blob = NULL;
  unsigned char *pt = NULL;
  size_t blob_len = 0;
  size_t pt_len = 0;
  int rc;

  EXPECT_EQ_INT(0, sam__seal(kr1, "p1", "client_secret", value, strlen(value),
                             &blob, &blob_len));
  rc = sam__unseal(kr2, "p1", "client_secret", blob, blob_len, &pt, &pt_len);
  if (rc == 0) {
    EXPECT_EQ_INT((long long)strlen(value), (long long)pt_len);
    EXPECT_EQ_STR(value, (const char *)pt);
  }
  free(pt);
  free(blob);
  return rc;
}

static void test_round_trip(void) {
  sam__keyring *kr = NULL;
  unsigned char *blob = NULL;
  unsigned char *pt = NULL;
  size_t blob_len = 0;
  size_t pt_len = 99;
  uint32_t id = 0;

  EXPECT_EQ_INT(0, sam__keyring_new_ephemeral(&kr));
  EXPECT_EQ_INT(0, seal_open(kr, kr, "s3cr3t-value-for-the-test"));
  /* layout: magic, key id, nonce, tag, ciphertext of the same length */
  EXPECT_EQ_INT(0, sam__seal(kr, "p1", "n", "abc", 3, &blob, &blob_len));
  EXPECT_EQ_INT(4 + 4 + 12 + 16 + 3, (long long)blob_len);
  EXPECT_TRUE(memcmp(blob, "SAM1", 4) == 0);
  EXPECT_EQ_INT(0, sam__seal_blob_key_id(blob, blob_len, &id));
  EXPECT_EQ_U64(sam__keyring_current_id(kr), id);
  free(blob);
  /* an empty value round-trips too */
  EXPECT_EQ_INT(0, sam__seal(kr, "p1", "n", NULL, 0, &blob, &blob_len));
  EXPECT_EQ_INT(0, sam__unseal(kr, "p1", "n", blob, blob_len, &pt, &pt_len));
  EXPECT_EQ_INT(0, (long long)pt_len);
  EXPECT_EQ_INT(0, pt[0]);
  free(pt);
  free(blob);
  /* two seals of one value differ (fresh nonce) */
  {
    unsigned char *b2 = NULL;
    size_t l2 = 0;
    EXPECT_EQ_INT(0, sam__seal(kr, "p1", "n", "same", 4, &blob, &blob_len));
    EXPECT_EQ_INT(0, sam__seal(kr, "p1", "n", "same", 4, &b2, &l2));
    EXPECT_TRUE(memcmp(blob, b2, blob_len) != 0);
    free(b2);
    free(blob);
  }
  sam__keyring_free(kr);
}

static void test_tamper(void) {
  const char *value = "a refresh token that must not be changed";
  sam__keyring *kr = NULL;
  unsigned char *blob = NULL;
  size_t blob_len = 0;
  size_t i;

  EXPECT_EQ_INT(0, sam__keyring_new_ephemeral(&kr));
  EXPECT_EQ_INT(0, sam__seal(kr, "p1", "refresh_token", value, strlen(value),
                             &blob, &blob_len));
  for (i = 0; i < blob_len; i++) {
    int bit;
    for (bit = 0; bit < 8; bit += 7) {
      unsigned char *pt = NULL;
      size_t pt_len = 0;
      blob[i] ^= (unsigned char)(1u << bit);
      EXPECT_EQ_INT(SAM_EAUTH, sam__unseal(kr, "p1", "refresh_token", blob,
                                           blob_len, &pt, &pt_len));
      EXPECT_TRUE(pt == NULL);
      blob[i] ^= (unsigned char)(1u << bit);
    }
  }
  /* truncated blobs, and garbage */
  for (i = 0; i < blob_len; i++) {
    unsigned char *pt = NULL;
    size_t pt_len = 0;
    EXPECT_EQ_INT(SAM_EAUTH, sam__unseal(kr, "p1", "refresh_token", blob, i,
                                         &pt, &pt_len));
  }
  {
    unsigned char *pt = NULL;
    size_t pt_len = 0;
    EXPECT_EQ_INT(0, sam__unseal(kr, "p1", "refresh_token", blob, blob_len, &pt,
                                 &pt_len));
    EXPECT_EQ_STR(value, (const char *)pt);
    free(pt);
  }
  free(blob);
  sam__keyring_free(kr);
}

static void test_binding(void) {
  sam__keyring *kr = NULL;
  unsigned char *blob = NULL;
  unsigned char *pt = NULL;
  size_t blob_len = 0;
  size_t pt_len = 0;

  EXPECT_EQ_INT(0, sam__keyring_new_ephemeral(&kr));
  EXPECT_EQ_INT(0, sam__seal(kr, "p1", "access_token", "tok-123456", 10, &blob,
                             &blob_len));
  EXPECT_EQ_INT(SAM_EAUTH, sam__unseal(kr, "p2", "access_token", blob, blob_len,
                                       &pt, &pt_len));
  EXPECT_EQ_INT(SAM_EAUTH, sam__unseal(kr, "p1", "refresh_token", blob,
                                       blob_len, &pt, &pt_len));
  /* the NUL separator: ("p1a","x") is not ("p1","ax") */
  free(blob);
  EXPECT_EQ_INT(0, sam__seal(kr, "p1a", "x", "v", 1, &blob, &blob_len));
  EXPECT_EQ_INT(SAM_EAUTH,
                sam__unseal(kr, "p1", "ax", blob, blob_len, &pt, &pt_len));
  EXPECT_TRUE(pt == NULL);
  free(blob);
  sam__keyring_free(kr);
}

static void test_wrong_key(void) {
  sam__keyring *a = NULL;
  sam__keyring *b = NULL;

  EXPECT_EQ_INT(0, sam__keyring_new_ephemeral(&a));
  EXPECT_EQ_INT(0, sam__keyring_new_ephemeral(&b));
  /* same key id (1), different key: the tag fails */
  EXPECT_EQ_INT(SAM_EAUTH, seal_open(a, b, "value-of-some-length"));
  sam__keyring_free(a);
  sam__keyring_free(b);
}

static void test_env_key(void) {
  /* 32 bytes 0x00..0x1f */
  const char *good = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
  const char *other = "HwECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
  const char *bad[] = {"",
                       "not base64 at all!!",
                       "AAECAwQFBgcICQoL",
                       "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8fHw==",
                       "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
                       "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdH=8="};
  sam__keyring *a = NULL;
  sam__keyring *b = NULL;
  char err[256];
  size_t i;

  EXPECT_EQ_INT(0, sam__keyring_load(good, NULL, 0, &a, err, sizeof(err)));
  /* the trailing newline of $(openssl rand -base64 32) is accepted */
  EXPECT_EQ_INT(0, sam__keyring_load("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGx"
                                     "wdHh8=\n",
                                     NULL, 0, &b, err, sizeof(err)));
  EXPECT_EQ_INT(0, seal_open(a, b, "opened by the same env key"));
  sam__keyring_free(b);
  b = NULL;
  EXPECT_EQ_INT(0, sam__keyring_load(other, NULL, 0, &b, err, sizeof(err)));
  EXPECT_EQ_INT(SAM_EAUTH, seal_open(a, b, "wrong env key"));
  sam__keyring_free(b);
  b = NULL;
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    err[0] = '\0';
    EXPECT_EQ_INT(SAM_EINVAL,
                  sam__keyring_load(bad[i], NULL, 0, &b, err, sizeof(err)));
    EXPECT_TRUE(b == NULL);
    EXPECT_CONTAINS(err, "SAM_MASTER_KEY");
    if (bad[i][0] != '\0')
      EXPECT_NOT_CONTAINS(err, bad[i]);
  }
  sam__keyring_free(a);
}

static void test_key_file(void) {
  char path[512];
  char err[512];
  struct stat st;
  sam__keyring *a = NULL;
  sam__keyring *b = NULL;

  path_in_tmp(path, sizeof(path), "master.key");
  /* missing without create */
  EXPECT_EQ_INT(SAM_ENOENT,
                sam__keyring_load(NULL, path, 0, &a, err, sizeof(err)));
  EXPECT_CONTAINS(err, path);
  /* created 0600 on first run */
  umask(022);
  EXPECT_EQ_INT(0, sam__keyring_load(NULL, path, 1, &a, err, sizeof(err)));
  EXPECT_EQ_INT(0, stat(path, &st));
  EXPECT_EQ_INT(0600, st.st_mode & 0777);
  /* the second run reads the same key */
  EXPECT_EQ_INT(0, sam__keyring_load(NULL, path, 1, &b, err, sizeof(err)));
  EXPECT_EQ_INT(0, seal_open(a, b, "persisted across restarts"));
  sam__keyring_free(b);
  b = NULL;
  /* group/other permissions are refused with what to do */
  EXPECT_EQ_INT(0, chmod(path, 0640));
  EXPECT_EQ_INT(SAM_EINVAL,
                sam__keyring_load(NULL, path, 1, &b, err, sizeof(err)));
  EXPECT_CONTAINS(err, "chmod 600");
  EXPECT_CONTAINS(err, path);
  EXPECT_EQ_INT(0, chmod(path, 0604));
  EXPECT_EQ_INT(SAM_EINVAL,
                sam__keyring_load(NULL, path, 0, &b, err, sizeof(err)));
  EXPECT_CONTAINS(err, "chmod 600");
  EXPECT_TRUE(b == NULL);
  EXPECT_EQ_INT(0, chmod(path, 0600));
  EXPECT_EQ_INT(0, sam__keyring_load(NULL, path, 0, &b, err, sizeof(err)));
  sam__keyring_free(b);
  sam__keyring_free(a);
  EXPECT_EQ_INT(0, unlink(path));
}

static void test_key_file_garbage(void) {
  const char *texts[] = {
      "",
      "garbage\n",
      "SAMKEYS1\n",
      "SAMKEYS1\ncurrent 2\nkey 1 "
      "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
      "SAMKEYS1\ncurrent 1\nkey 1 AAEC\n",
      "SAMKEYS1\ncurrent 1\nkey 1 "
      "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\nkey 1 "
      "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
      "SAMKEYS1\ncurrent 1\nkey 1 "
      "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\nsurprise\n"};
  char path[512];
  char err[512];
  sam__keyring *kr = NULL;
  size_t i;

  path_in_tmp(path, sizeof(path), "garbage.key");
  for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
    write_file(path, texts[i], 0600);
    err[0] = '\0';
    EXPECT_EQ_INT(SAM_EINVAL,
                  sam__keyring_load(NULL, path, 1, &kr, err, sizeof(err)));
    EXPECT_TRUE(kr == NULL);
    EXPECT_CONTAINS(err, path);
  }
  /* a valid hand-written file with comments and blank lines */
  write_file(path,
             "SAMKEYS1\n# comment\n\ncurrent 7\nkey 7 "
             "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
             0600);
  EXPECT_EQ_INT(0, sam__keyring_load(NULL, path, 0, &kr, err, sizeof(err)));
  EXPECT_EQ_U64(7, sam__keyring_current_id(kr));
  sam__keyring_free(kr);
  /* a directory is not a key file */
  EXPECT_EQ_INT(SAM_EINVAL,
                sam__keyring_load(NULL, tmpdir, 0, &kr, err, sizeof(err)));
  EXPECT_EQ_INT(0, unlink(path));
}

static void test_rotation(void) {
  const char *value = "sealed before the rotation";
  char path[512];
  char err[512];
  struct stat st;
  sam__keyring *kr = NULL;
  sam__keyring *re = NULL;
  unsigned char *old_blob = NULL;
  unsigned char *new_blob = NULL;
  unsigned char *pt = NULL;
  size_t old_len = 0;
  size_t new_len = 0;
  size_t pt_len = 0;
  uint32_t old_id;
  uint32_t new_id = 0;
  uint32_t id = 0;

  path_in_tmp(path, sizeof(path), "rotate.key");
  EXPECT_EQ_INT(0, sam__keyring_load(NULL, path, 1, &kr, err, sizeof(err)));
  old_id = sam__keyring_current_id(kr);
  EXPECT_EQ_INT(0, sam__seal(kr, "p1", "client_secret", value, strlen(value),
                             &old_blob, &old_len));
  EXPECT_EQ_INT(0, sam__keyring_rotate(kr, &new_id));
  EXPECT_TRUE(new_id != old_id);
  EXPECT_EQ_U64(new_id, sam__keyring_current_id(kr));
  EXPECT_EQ_INT(2, (long long)sam__keyring_count(kr));
  EXPECT_EQ_INT(0, sam__keyring_save(kr, path, err, sizeof(err)));
  EXPECT_EQ_INT(0, stat(path, &st));
  EXPECT_EQ_INT(0600, st.st_mode & 0777);

  /* a restart reads both keys back */
  EXPECT_EQ_INT(0, sam__keyring_load(NULL, path, 0, &re, err, sizeof(err)));
  EXPECT_EQ_U64(new_id, sam__keyring_current_id(re));
  EXPECT_EQ_INT(2, (long long)sam__keyring_count(re));
  /* old blobs still open */
  EXPECT_EQ_INT(0, sam__unseal(re, "p1", "client_secret", old_blob, old_len,
                               &pt, &pt_len));
  EXPECT_EQ_STR(value, (const char *)pt);
  /* re-sealing gives the new key id */
  EXPECT_EQ_INT(
      0, sam__seal(re, "p1", "client_secret", pt, pt_len, &new_blob, &new_len));
  free(pt);
  pt = NULL;
  EXPECT_EQ_INT(0, sam__seal_blob_key_id(new_blob, new_len, &id));
  EXPECT_EQ_U64(new_id, id);
  EXPECT_EQ_INT(0, sam__seal_blob_key_id(old_blob, old_len, &id));
  EXPECT_EQ_U64(old_id, id);
  /* once retired, the old key no longer opens old blobs; new ones still do */
  EXPECT_EQ_INT(SAM_EBUSY, sam__keyring_retire(re, new_id));
  EXPECT_EQ_INT(0, sam__keyring_retire(re, old_id));
  EXPECT_EQ_INT(SAM_ENOENT, sam__keyring_retire(re, old_id));
  EXPECT_EQ_INT(SAM_EAUTH, sam__unseal(re, "p1", "client_secret", old_blob,
                                       old_len, &pt, &pt_len));
  EXPECT_EQ_INT(0, sam__unseal(re, "p1", "client_secret", new_blob, new_len,
                               &pt, &pt_len));
  free(pt);
  free(old_blob);
  free(new_blob);
  sam__keyring_free(re);
  sam__keyring_free(kr);
  EXPECT_EQ_INT(0, unlink(path));
}

int main(void) {
  const char *base = getenv("TMPDIR");
  snprintf(tmpdir, sizeof(tmpdir), "%s/test-seal-XXXXXX",
           base != NULL && base[0] != '\0' ? base : "/tmp");
  EXPECT_TRUE(mkdtemp(tmpdir) != NULL);

  SAM_T_RUN(test_round_trip);
  SAM_T_RUN(test_tamper);
  SAM_T_RUN(test_binding);
  SAM_T_RUN(test_wrong_key);
  SAM_T_RUN(test_env_key);
  SAM_T_RUN(test_key_file);
  SAM_T_RUN(test_key_file_garbage);
  SAM_T_RUN(test_rotation);

  EXPECT_EQ_INT(0, rmdir(tmpdir));
  return 0;
}
