/*
 * cli_offline.c: the commands that work on the data directory itself, with
 * no server running (they take its lock and refuse while a server holds
 * it): `samhost key rotate` and `samhost token reset`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <uv.h>

#include "sam_admin_token.h"
#include "sam_backend_sqlite.h"
#include "sam_seal.h"
#include "samhost.h"

/* ---- key rotate ---- */

typedef struct reseal {
  int done;
  int status;
  int64_t count;
  char msg[512];
} reseal;

static void
on_resealed(int status, int64_t count, const char *errmsg, void *ud) {
  reseal *r = ud;

  r->done = 1;
  r->status = status;
  r->count = count;
  snprintf(r->msg, sizeof(r->msg), "%s", errmsg != NULL ? errmsg : "");
}

static void on_backend_closed(void *ud) {
  *(int *)ud = 1;
}

static int rotate(const sh_global *g, const char *key_file) {
  sam__keyring *kr = NULL;
  sam__backend be;
  uv_loop_t loop;
  reseal r;
  char err[512] = "";
  char *db = NULL, *key = NULL;
  uint32_t id = 0;
  int rc = SH_EXIT_REMOTE, loop_ok = 0, closed = 0;

  memset(&r, 0, sizeof(r));
  key =
      key_file != NULL ? strdup(key_file) : sh_path(g->data_dir, "master.key");
  db = sh_path(g->data_dir, "samhost.db");
  if (key == NULL || db == NULL)
    goto done;
  if (access(db, F_OK) != 0) {
    fprintf(stderr,
            "samhost key rotate: no database [%s]; run `samhost "
            "serve` once first\n",
            db);
    goto done;
  }
  if (sam__keyring_load(NULL, key, 0, &kr, err, sizeof(err)) != 0) {
    fprintf(stderr, "samhost key rotate: %s\n", err);
    goto done;
  }
  if (sam__keyring_rotate(kr, &id) != 0 ||
      sam__keyring_save(kr, key, err, sizeof(err)) != 0) {
    fprintf(stderr, "samhost key rotate: cannot save the new key [%s]\n",
            err[0] ? err : key);
    goto done;
  }
  if (uv_loop_init(&loop) != 0)
    goto done;
  loop_ok = 1;
  if (sam__backend_sqlite_open(&loop, db, NULL, &be, err, sizeof(err)) != 0) {
    fprintf(stderr, "samhost key rotate: %s\n", err);
    goto done;
  }
  if (sam__sqlite_reseal_all(&be, kr, on_resealed, &r) != 0) {
    fprintf(stderr, "samhost key rotate: cannot queue the re-seal\n");
    r.done = 1;
    r.status = SAM_EIO;
  }
  while (!r.done)
    (void)uv_run(&loop, UV_RUN_ONCE);
  be.vt->close(be.self, on_backend_closed, &closed);
  (void)uv_run(&loop, UV_RUN_DEFAULT);
  if (r.status != 0) {
    fprintf(stderr,
            "samhost key rotate: re-sealing failed [%s]: %s; the new key "
            "[id=%u] is saved and the old keys are kept, so run it again\n",
            sam_err_name(r.status), r.msg, (unsigned)id);
    goto done;
  }
  if (g->json)
    printf("{\"key_id\":%u,\"resealed\":%lld}\n", (unsigned)id,
           (long long)r.count);
  else
    printf("new master key [id=%u]; re-sealed %lld secret(s)\n", (unsigned)id,
           (long long)r.count);
  rc = SH_EXIT_OK;

done:
  if (loop_ok && uv_loop_close(&loop) != 0)
    fprintf(stderr, "samhost key rotate: the loop did not close\n");
  sam__keyring_free(kr);
  free(db);
  free(key);
  return rc;
}

/*
 * See samhost.h.
 */
int sh_cmd_key(int argc, char **argv, sh_global *g) {
  const char *key_file = NULL, *v;
  long holder;
  int i, t, fd, rc;

  if (g->help || argc < 2 || strcmp(argv[1], "rotate") != 0) {
    printf("Usage: samhost key rotate [--master-key-file F]\n\n"
           "Adds a new master key to the key file (default DATA_DIR/"
           "master.key)\nand re-seals every secret with it, in one "
           "transaction. Works on the\ndata directory: stop the server "
           "first. Not available when the key\ncomes from $SAM_MASTER_KEY.\n");
    sh_help_common();
    if (!g->help && argc >= 2)
      fprintf(stderr, "samhost key: unknown subcommand [%s]\n", argv[1]);
    return g->help ? SH_EXIT_OK : SH_EXIT_USAGE;
  }
  for (i = 2; i < argc; i++) {
    t = sh_opt_value("--master-key-file", &i, argc, argv, &v);
    if (t == 0)
      fprintf(stderr, "samhost key rotate: unexpected argument [%s]\n",
              argv[i]);
    if (t <= 0)
      return SH_EXIT_USAGE;
    key_file = v;
  }
  if (getenv("SAM_MASTER_KEY") != NULL && getenv("SAM_MASTER_KEY")[0]) {
    fprintf(stderr, "samhost key rotate: the master key comes from "
                    "SAM_MASTER_KEY; rotate it where it is kept, or unset "
                    "it to use a key file\n");
    return SH_EXIT_REMOTE;
  }
  fd = sh_lock_take(g->data_dir, "key rotate", &holder);
  if (fd < 0)
    return SH_EXIT_REMOTE;
  rc = rotate(g, key_file);
  close(fd);
  return rc;
}

/* ---- token reset ---- */

/*
 * See samhost.h.
 */
int sh_cmd_token(int argc, char **argv, sh_global *g) {
  char tok[SAM__ADMIN_TOKEN_LEN], err[512] = "";
  sam__admin_token t;
  char *path;
  long holder;
  int fd, rc;

  if (g->help || argc != 2 || strcmp(argv[1], "reset") != 0) {
    printf("Usage: samhost token reset\n\n"
           "Makes a new admin token, shows it once, and keeps only its salted\n"
           "hash in DATA_DIR/admin-token. The old token stops working. Works "
           "on\nthe data directory: stop the server first.\n");
    sh_help_common();
    return g->help ? SH_EXIT_OK : SH_EXIT_USAGE;
  }
  if (sh_data_dir_ensure(g->data_dir) != 0)
    return SH_EXIT_REMOTE;
  fd = sh_lock_take(g->data_dir, "token reset", &holder);
  if (fd < 0)
    return SH_EXIT_REMOTE;
  path = sh_path(g->data_dir, SAM__ADMIN_TOKEN_FILE);
  rc = path != NULL ? sam__admin_token_create(path, tok, sizeof(tok), &t, err,
                                              sizeof(err))
                    : SAM_ENOMEM;
  free(path);
  close(fd);
  if (rc != 0) {
    fprintf(stderr, "samhost token reset: %s\n", err);
    return SH_EXIT_REMOTE;
  }
  printf("admin token (shown once): %s\n", tok);
  OPENSSL_cleanse(tok, sizeof(tok));
  return SH_EXIT_OK;
}
