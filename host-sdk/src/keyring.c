/*
 * keyring.c: the host's master keys. Loaded from SAM_MASTER_KEY or from a
 * key file, rotated, saved; used by seal.c (AES-256-GCM) through
 * sam__keyring_key().
 *
 * Key file format (text, mode 0600, every key kept so that values sealed
 * before a rotation still open):
 *
 *   SAMKEYS1
 *   current <id>
 *   key <id> <base64 of 32 bytes>
 *   ...
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "sam/sam_plugin.h"
#include "sam_seal.h"

#define KEY_LEN 32
#define KEYFILE_MAX (256 * 1024)
#define KEYFILE_MAGIC "SAMKEYS1"

typedef struct ring_key {
  uint32_t id;
  unsigned char key[KEY_LEN];
} ring_key;

struct sam__keyring {
  ring_key *keys;
  size_t n;
  size_t cap;
  uint32_t current; /* id of the key new blobs are sealed with */
};

/* ---- small helpers ---- */

static void set_err(char *err, size_t err_len, const char *fmt, ...) {
  va_list ap;

  if (err == NULL || err_len == 0)
    return;
  va_start(ap, fmt);
  vsnprintf(err, err_len, fmt, ap);
  va_end(ap);
}

static uint32_t get_be32(const unsigned char *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
         ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(char c) {
  const char *p;

  if (c == '\0')
    return -1;
  p = strchr(b64_alphabet, c);
  return p == NULL ? -1 : (int)(p - b64_alphabet);
}

/* Strict standard base64 (with padding) of exactly KEY_LEN bytes. Returns 0,
 * or -1 when the text is not base64; *got is the decoded length. */
static int
b64_decode_key(const char *s, size_t len, unsigned char *out, size_t *got) {
  unsigned char buf[3];
  size_t o = 0;
  size_t i;

  *got = 0;
  if (len % 4 != 0)
    return -1;
  for (i = 0; i < len; i += 4) {
    int v[4];
    int pad = 0;
    int j;
    for (j = 0; j < 4; j++) {
      if (s[i + j] == '=' && i + 4 == len && j >= 2) {
        v[j] = 0;
        pad++;
        continue;
      }
      if (pad > 0)
        return -1; /* data after '=' */
      v[j] = b64_value(s[i + j]);
      if (v[j] < 0)
        return -1;
    }
    buf[0] = (unsigned char)((v[0] << 2) | (v[1] >> 4));
    buf[1] = (unsigned char)(((v[1] & 15) << 4) | (v[2] >> 2));
    buf[2] = (unsigned char)(((v[2] & 3) << 6) | v[3]);
    for (j = 0; j < 3 - pad; j++) {
      if (o < KEY_LEN)
        out[o] = buf[j];
      o++;
    }
    OPENSSL_cleanse(buf, sizeof(buf));
  }
  *got = o;
  return o == KEY_LEN ? 0 : -1;
}

/* Base64 of KEY_LEN bytes into out (at least 45 bytes), NUL-terminated. */
static void b64_encode_key(const unsigned char *in, char *out) {
  size_t i;
  size_t o = 0;

  for (i = 0; i + 3 <= KEY_LEN; i += 3) {
    uint32_t v =
        ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
    out[o++] = b64_alphabet[(v >> 18) & 63];
    out[o++] = b64_alphabet[(v >> 12) & 63];
    out[o++] = b64_alphabet[(v >> 6) & 63];
    out[o++] = b64_alphabet[v & 63];
  }
  /* KEY_LEN % 3 == 2 */
  {
    uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8);
    out[o++] = b64_alphabet[(v >> 18) & 63];
    out[o++] = b64_alphabet[(v >> 12) & 63];
    out[o++] = b64_alphabet[(v >> 6) & 63];
    out[o++] = '=';
  }
  out[o] = '\0';
}

/* ---- the keyring ---- */

static sam__keyring *ring_new(void) {
  return calloc(1, sizeof(sam__keyring));
}

static const ring_key *ring_find(const sam__keyring *kr, uint32_t id) {
  size_t i;

  for (i = 0; i < kr->n; i++)
    if (kr->keys[i].id == id)
      return &kr->keys[i];
  return NULL;
}

/* Adds a key (copied); SAM_EINVAL on a duplicate id, SAM_ENOMEM. */
static int ring_add(sam__keyring *kr, uint32_t id, const unsigned char *key) {
  if (ring_find(kr, id) != NULL)
    return SAM_EINVAL;
  if (kr->n == kr->cap) {
    size_t cap = kr->cap ? kr->cap * 2 : 4;
    ring_key *keys = calloc(cap, sizeof(*keys));
    if (keys == NULL)
      return SAM_ENOMEM;
    if (kr->n > 0)
      memcpy(keys, kr->keys, kr->n * sizeof(*keys));
    /* realloc would leave a copy of the keys in freed memory: wipe first */
    if (kr->keys != NULL)
      OPENSSL_cleanse(kr->keys, kr->cap * sizeof(*keys));
    free(kr->keys);
    kr->keys = keys;
    kr->cap = cap;
  }
  kr->keys[kr->n].id = id;
  memcpy(kr->keys[kr->n].key, key, KEY_LEN);
  kr->n++;
  return 0;
}

static uint32_t ring_max_id(const sam__keyring *kr) {
  uint32_t max = 0;
  size_t i;

  for (i = 0; i < kr->n; i++)
    if (kr->keys[i].id > max)
      max = kr->keys[i].id;
  return max;
}

/*
 * Wipes every key and frees the keyring. NULL-safe.
 *
 * Thread: any, once nothing else uses the keyring.
 */
void sam__keyring_free(sam__keyring *kr) {
  if (kr == NULL)
    return;
  if (kr->keys != NULL)
    OPENSSL_cleanse(kr->keys, kr->cap * sizeof(*kr->keys));
  free(kr->keys);
  OPENSSL_cleanse(kr, sizeof(*kr));
  free(kr);
}

/*
 * Creates a keyring holding one random key with id 1 (test host, probe).
 *
 * Thread: any. Ownership: *out is freed with sam__keyring_free.
 * Returns: 0, SAM_ENOMEM, or SAM_EIO when the random generator fails.
 */
int sam__keyring_new_ephemeral(sam__keyring **out) {
  unsigned char key[KEY_LEN];
  sam__keyring *kr = NULL;
  int rc = SAM_ENOMEM;

  *out = NULL;
  kr = ring_new();
  if (kr == NULL)
    goto fail;
  if (RAND_bytes(key, KEY_LEN) != 1) {
    rc = SAM_EIO;
    goto fail;
  }
  rc = ring_add(kr, 1, key);
  if (rc != 0)
    goto fail;
  kr->current = 1;
  OPENSSL_cleanse(key, sizeof(key));
  *out = kr;
  return 0;

fail:
  OPENSSL_cleanse(key, sizeof(key));
  sam__keyring_free(kr);
  return rc;
}

/*
 * The id of an environment key: the first 4 bytes of SHA-256 over a label and
 * the key. Derived rather than fixed so that a changed SAM_MASTER_KEY fails
 * on the key id (clearly the wrong key) instead of only on the tag.
 */
static int env_key_id(const unsigned char *key, uint32_t *id) {
  static const char label[] = "samhost key id v1";
  unsigned char in[sizeof(label) + KEY_LEN];
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  int ok;

  memcpy(in, label, sizeof(label));
  memcpy(in + sizeof(label), key, KEY_LEN);
  ok = EVP_Digest(in, sizeof(in), md, &md_len, EVP_sha256(), NULL) == 1;
  OPENSSL_cleanse(in, sizeof(in));
  if (!ok || md_len < 4)
    return SAM_EIO;
  *id = get_be32(md);
  if (*id == 0)
    *id = 1;
  return 0;
}

static int
load_env(const char *env_b64, sam__keyring **out, char *err, size_t err_len) {
  unsigned char key[KEY_LEN];
  size_t len = strlen(env_b64);
  size_t got = 0;
  uint32_t id = 0;
  sam__keyring *kr = NULL;
  int rc;

  /* tolerate the newline of `export SAM_MASTER_KEY=$(openssl rand ...)` */
  while (len > 0 && (env_b64[len - 1] == '\n' || env_b64[len - 1] == '\r' ||
                     env_b64[len - 1] == ' '))
    len--;
  if (b64_decode_key(env_b64, len, key, &got) != 0) {
    /* never echo the value: it may be a real key with a typo */
    set_err(err, err_len,
            "SAM_MASTER_KEY is not base64 of 32 bytes [length=%zu] "
            "[decoded=%zu]; generate one with: openssl rand -base64 32",
            len, got);
    rc = SAM_EINVAL;
    goto fail;
  }
  rc = env_key_id(key, &id);
  if (rc != 0) {
    set_err(err, err_len, "SHA-256 failed while deriving the key id");
    goto fail;
  }
  rc = SAM_ENOMEM;
  kr = ring_new();
  if (kr == NULL)
    goto fail;
  rc = ring_add(kr, id, key);
  if (rc != 0)
    goto fail;
  kr->current = id;
  OPENSSL_cleanse(key, sizeof(key));
  *out = kr;
  return 0;

fail:
  if (rc == SAM_ENOMEM)
    set_err(err, err_len, "out of memory loading SAM_MASTER_KEY");
  OPENSSL_cleanse(key, sizeof(key));
  sam__keyring_free(kr);
  return rc;
}

/* ---- key file ---- */

/* Parses the key file text into a new keyring. */
static int parse_key_file(const char *path,
                          char *text,
                          sam__keyring **out,
                          char *err,
                          size_t err_len) {
  sam__keyring *kr = NULL;
  unsigned char key[KEY_LEN];
  char *line;
  char *next;
  int lineno = 0;
  int have_current = 0;
  uint32_t current = 0;
  int rc = SAM_ENOMEM;

  kr = ring_new();
  if (kr == NULL)
    goto fail;
  rc = SAM_EINVAL;
  for (line = text; line != NULL; line = next) {
    char *eol = strchr(line, '\n');
    unsigned long id;
    char *end;
    size_t got = 0;

    next = eol ? eol + 1 : NULL;
    if (eol != NULL)
      *eol = '\0';
    lineno++;
    if (lineno == 1) {
      if (strcmp(line, KEYFILE_MAGIC) != 0) {
        set_err(err, err_len,
                "key file [%s] does not start with [%s]; is it a samhost "
                "key file?",
                path, KEYFILE_MAGIC);
        goto fail;
      }
      continue;
    }
    if (line[0] == '\0' || line[0] == '#')
      continue;
    if (strncmp(line, "current ", 8) == 0) {
      errno = 0;
      id = strtoul(line + 8, &end, 10);
      if (errno != 0 || *end != '\0' || id == 0 || id > UINT32_MAX ||
          have_current) {
        set_err(err, err_len,
                "key file [%s] line [%d]: bad or repeated current key id", path,
                lineno);
        goto fail;
      }
      current = (uint32_t)id;
      have_current = 1;
      continue;
    }
    if (strncmp(line, "key ", 4) == 0) {
      errno = 0;
      id = strtoul(line + 4, &end, 10);
      if (errno != 0 || *end != ' ' || id == 0 || id > UINT32_MAX) {
        set_err(err, err_len, "key file [%s] line [%d]: bad key id", path,
                lineno);
        goto fail;
      }
      if (b64_decode_key(end + 1, strlen(end + 1), key, &got) != 0) {
        set_err(err, err_len,
                "key file [%s] line [%d]: key is not base64 of 32 bytes "
                "[decoded=%zu]",
                path, lineno, got);
        goto fail;
      }
      rc = ring_add(kr, (uint32_t)id, key);
      if (rc != 0) {
        if (rc == SAM_EINVAL)
          set_err(err, err_len,
                  "key file [%s] line [%d]: duplicate key id [%lu]", path,
                  lineno, id);
        goto fail;
      }
      rc = SAM_EINVAL;
      continue;
    }
    set_err(err, err_len, "key file [%s] line [%d]: unknown line", path,
            lineno);
    goto fail;
  }
  if (!have_current || ring_find(kr, current) == NULL) {
    set_err(err, err_len,
            "key file [%s]: no current key, or the current key id [%u] has "
            "no key line",
            path, current);
    goto fail;
  }
  kr->current = current;
  OPENSSL_cleanse(key, sizeof(key));
  *out = kr;
  return 0;

fail:
  if (rc == SAM_ENOMEM)
    set_err(err, err_len, "out of memory reading key file [%s]", path);
  OPENSSL_cleanse(key, sizeof(key));
  sam__keyring_free(kr);
  return rc;
}

/* Formats the keyring as key file text; *out is malloc'd (wipe and free). */
static int format_key_file(const sam__keyring *kr, char **out, size_t *len) {
  size_t cap = 128 + kr->n * 80;
  char *buf = malloc(cap);
  size_t o;
  size_t i;
  int w;

  if (buf == NULL)
    return SAM_ENOMEM;
  w = snprintf(buf, cap,
               "%s\n# samhost master keys: keep secret, mode 0600, back it "
               "up\ncurrent %u\n",
               KEYFILE_MAGIC, kr->current);
  o = (size_t)w;
  for (i = 0; i < kr->n; i++) {
    char b64[48];
    b64_encode_key(kr->keys[i].key, b64);
    w = snprintf(buf + o, cap - o, "key %u %s\n", kr->keys[i].id, b64);
    OPENSSL_cleanse(b64, sizeof(b64));
    o += (size_t)w;
  }
  *out = buf;
  *len = o;
  return 0;
}

static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t w = write(fd, buf, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    buf += w;
    len -= (size_t)w;
  }
  return 0;
}

/* fsync of the directory holding `path`, so a create or rename is durable. */
static int fsync_dir_of(const char *path) {
  char dir[4096];
  const char *slash = strrchr(path, '/');
  int fd;
  int rc;

  if (slash == NULL) {
    strcpy(dir, ".");
  } else if (slash == path) {
    strcpy(dir, "/");
  } else {
    size_t n = (size_t)(slash - path);
    if (n >= sizeof(dir))
      return -1;
    memcpy(dir, path, n);
    dir[n] = '\0';
  }
  fd = open(dir, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  rc = fsync(fd);
  close(fd);
  return rc;
}

/* Writes the keyring to `path`, which must not exist (O_EXCL, mode 0600). */
static int write_new_key_file(const sam__keyring *kr,
                              const char *path,
                              char *err,
                              size_t err_len) {
  char *text = NULL;
  size_t len = 0;
  int fd = -1;
  int rc;

  rc = format_key_file(kr, &text, &len);
  if (rc != 0) {
    set_err(err, err_len, "out of memory writing key file [%s]", path);
    goto done;
  }
  fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    rc = errno == EEXIST ? SAM_EEXIST : SAM_EIO;
    set_err(err, err_len, "cannot create key file [%s] [errno=%s]", path,
            strerror(errno));
    goto done;
  }
  /* the umask can only remove bits, but be explicit about 0600 */
  if (fchmod(fd, 0600) != 0 || write_all(fd, text, len) != 0 ||
      fsync(fd) != 0) {
    set_err(err, err_len, "cannot write key file [%s] [errno=%s]", path,
            strerror(errno));
    rc = SAM_EIO;
    close(fd);
    fd = -1;
    unlink(path);
    goto done;
  }
  if (close(fd) != 0) {
    fd = -1;
    set_err(err, err_len, "cannot write key file [%s] [errno=%s]", path,
            strerror(errno));
    rc = SAM_EIO;
    unlink(path);
    goto done;
  }
  fd = -1;
  if (fsync_dir_of(path) != 0) {
    set_err(err, err_len,
            "cannot sync the directory of key file [%s] "
            "[errno=%s]",
            path, strerror(errno));
    rc = SAM_EIO;
    goto done;
  }
  rc = 0;

done:
  if (text != NULL) {
    OPENSSL_cleanse(text, len);
    free(text);
  }
  return rc;
}

/* Reads and checks an existing key file. SAM_ENOENT when it does not exist. */
static int
read_key_file(const char *path, sam__keyring **out, char *err, size_t err_len) {
  struct stat st;
  char *text = NULL;
  size_t len = 0;
  int fd;
  int rc = SAM_EIO;

  fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      set_err(err, err_len,
              "key file [%s] does not exist; set SAM_MASTER_KEY or let "
              "samhost create the key file on first run",
              path);
      return SAM_ENOENT;
    }
    set_err(err, err_len, "cannot open key file [%s] [errno=%s]", path,
            strerror(errno));
    return SAM_EIO;
  }
  if (fstat(fd, &st) != 0) {
    set_err(err, err_len, "cannot stat key file [%s] [errno=%s]", path,
            strerror(errno));
    goto done;
  }
  if (!S_ISREG(st.st_mode)) {
    set_err(err, err_len, "key file [%s] is not a regular file", path);
    rc = SAM_EINVAL;
    goto done;
  }
  if ((st.st_mode & 077) != 0) {
    set_err(err, err_len,
            "key file [%s] is accessible by group or others [mode=%03o]; "
            "run: chmod 600 %s",
            path, (unsigned)(st.st_mode & 0777), path);
    rc = SAM_EINVAL;
    goto done;
  }
  if (st.st_size <= 0 || st.st_size > KEYFILE_MAX) {
    set_err(err, err_len, "key file [%s] has a bad size [%lld]", path,
            (long long)st.st_size);
    rc = SAM_EINVAL;
    goto done;
  }
  text = malloc((size_t)st.st_size + 1);
  if (text == NULL) {
    set_err(err, err_len, "out of memory reading key file [%s]", path);
    rc = SAM_ENOMEM;
    goto done;
  }
  while (len < (size_t)st.st_size) {
    ssize_t r = read(fd, text + len, (size_t)st.st_size - len);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      set_err(err, err_len, "cannot read key file [%s] [errno=%s]", path,
              r < 0 ? strerror(errno) : "short read");
      goto done;
    }
    len += (size_t)r;
  }
  text[len] = '\0';
  rc = parse_key_file(path, text, out, err, err_len);

done:
  if (text != NULL) {
    OPENSSL_cleanse(text, len);
    free(text);
  }
  close(fd);
  return rc;
}

/*
 * Loads the master keys (see sam_seal.h). With `create`, a missing key file
 * is created holding one fresh key with id 1; a concurrent creator wins the
 * O_EXCL race and this call then reads its file.
 *
 * Thread: any; blocks on file I/O (call it at start, before the loop runs).
 * Ownership: *out is freed with sam__keyring_free.
 * Returns: 0, SAM_EINVAL (malformed key, permissive key file), SAM_ENOENT
 * (no key file and no create), SAM_EIO or SAM_ENOMEM, with a message in err.
 */
int sam__keyring_load(const char *env_b64,
                      const char *key_file,
                      int create,
                      sam__keyring **out,
                      char *err,
                      size_t err_len) {
  sam__keyring *kr = NULL;
  int rc;

  *out = NULL;
  if (env_b64 != NULL)
    return load_env(env_b64, out, err, err_len);
  if (key_file == NULL || key_file[0] == '\0') {
    set_err(err, err_len,
            "no master key: set SAM_MASTER_KEY or configure a "
            "key file path");
    return SAM_EINVAL;
  }
  rc = read_key_file(key_file, out, err, err_len);
  if (rc != SAM_ENOENT || !create)
    return rc;
  rc = sam__keyring_new_ephemeral(&kr);
  if (rc != 0) {
    set_err(err, err_len, "cannot generate a master key [%s]",
            sam_err_name(rc));
    return rc;
  }
  rc = write_new_key_file(kr, key_file, err, err_len);
  sam__keyring_free(kr);
  if (rc != 0 && rc != SAM_EEXIST)
    return rc;
  /* read back what is on disk (ours, or a concurrent creator's) */
  return read_key_file(key_file, out, err, err_len);
}

/*
 * Writes every key with its id, and the current id, to `key_file`: a
 * temporary file beside it (O_EXCL, 0600, fsync), then rename and a fsync
 * of the directory, so the file is always either the old or the new set.
 *
 * Thread: any; blocks on file I/O.
 * Returns: 0, SAM_EIO or SAM_ENOMEM, with a message in err.
 */
int sam__keyring_save(const sam__keyring *kr,
                      const char *key_file,
                      char *err,
                      size_t err_len) {
  char tmp[4096];
  int rc;

  if (kr == NULL || key_file == NULL)
    return SAM_EINVAL;
  if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", key_file, (long)getpid()) >=
      (int)sizeof(tmp)) {
    set_err(err, err_len, "key file path too long [%s]", key_file);
    return SAM_EINVAL;
  }
  (void)unlink(tmp); /* a leftover of a crashed save by this pid; may fail */
  rc = write_new_key_file(kr, tmp, err, err_len);
  if (rc != 0)
    return rc == SAM_EEXIST ? SAM_EIO : rc;
  if (rename(tmp, key_file) != 0) {
    set_err(err, err_len, "cannot replace key file [%s] [errno=%s]", key_file,
            strerror(errno));
    unlink(tmp);
    return SAM_EIO;
  }
  if (fsync_dir_of(key_file) != 0) {
    set_err(err, err_len,
            "cannot sync the directory of key file [%s] "
            "[errno=%s]",
            key_file, strerror(errno));
    return SAM_EIO;
  }
  return 0;
}

/*
 * Adds a fresh random key with id (highest id + 1) and makes it current.
 * Older keys stay in the keyring so blobs sealed with them still open.
 * Persist the result with sam__keyring_save before sealing with it.
 *
 * Thread: any, but not concurrently with other use of the keyring.
 * Returns: 0, SAM_EIO (random generator), SAM_ENOMEM, SAM_EINVAL (ids
 * exhausted).
 */
int sam__keyring_rotate(sam__keyring *kr, uint32_t *new_id) {
  unsigned char key[KEY_LEN];
  uint32_t id;
  int rc;

  if (kr == NULL)
    return SAM_EINVAL;
  id = ring_max_id(kr) + 1;
  if (id == 0)
    return SAM_EINVAL;
  if (RAND_bytes(key, KEY_LEN) != 1)
    return SAM_EIO;
  rc = ring_add(kr, id, key);
  OPENSSL_cleanse(key, sizeof(key));
  if (rc != 0)
    return rc;
  kr->current = id;
  if (new_id != NULL)
    *new_id = id;
  return 0;
}

/*
 * Removes an old key once nothing is sealed with it any more.
 *
 * Thread: any, but not concurrently with other use of the keyring.
 * Returns: 0, SAM_ENOENT (unknown id), SAM_EBUSY (the current key).
 */
int sam__keyring_retire(sam__keyring *kr, uint32_t id) {
  size_t i;

  if (kr == NULL)
    return SAM_EINVAL;
  if (id == kr->current)
    return SAM_EBUSY;
  for (i = 0; i < kr->n; i++) {
    if (kr->keys[i].id != id)
      continue;
    kr->keys[i] = kr->keys[kr->n - 1];
    OPENSSL_cleanse(&kr->keys[kr->n - 1], sizeof(ring_key));
    kr->n--;
    return 0;
  }
  return SAM_ENOENT;
}

/* The id new blobs are sealed with. Thread: any. */
uint32_t sam__keyring_current_id(const sam__keyring *kr) {
  return kr == NULL ? 0 : kr->current;
}

/* How many keys the keyring holds. Thread: any. */
size_t sam__keyring_count(const sam__keyring *kr) {
  return kr == NULL ? 0 : kr->n;
}

/*
 * The 32-byte key with this id, or NULL. Borrowed from the keyring: valid
 * until it is rotated, retired from or freed. For seal.c only.
 *
 * Thread: any, but not concurrently with a change of the keyring.
 */
const unsigned char *sam__keyring_key(const sam__keyring *kr, uint32_t id) {
  const ring_key *k = kr != NULL ? ring_find(kr, id) : NULL;

  return k != NULL ? k->key : NULL;
}
