/*
 * datadir.c: the data directory of samhost (database, key file, admin
 * token hash, lock file) and its lock: one process at a time owns it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "samhost.h"

#define LOCK_FILE "samhost.lock"

/*
 * See samhost.h.
 */
const char *sh_default_data_dir(void) {
  static char buf[4096];
  const char *v = getenv("SAM_DATA_DIR");

  if (v != NULL && v[0] != '\0')
    return v;
  v = getenv("XDG_DATA_HOME");
  if (v != NULL && v[0] != '\0') {
    snprintf(buf, sizeof(buf), "%s/samhost", v);
    return buf;
  }
  v = getenv("HOME");
  snprintf(buf, sizeof(buf), "%s/.local/share/samhost",
           v != NULL && v[0] != '\0' ? v : ".");
  return buf;
}

/*
 * See samhost.h.
 */
char *sh_path(const char *dir, const char *name) {
  size_t n = strlen(dir) + 1 + strlen(name) + 1;
  char *p = malloc(n);

  if (p != NULL)
    snprintf(p, n, "%s/%s", dir, name);
  return p;
}

/*
 * See samhost.h. Parents are created with 0700 too: a data directory is
 * private all the way down from the first directory we make.
 */
int sh_data_dir_ensure(const char *dir) {
  char *p = strdup(dir);
  size_t i, n;
  struct stat st;
  int rc = -1;

  if (p == NULL)
    return -1;
  n = strlen(p);
  for (i = 1; i <= n; i++) {
    if (p[i] != '/' && p[i] != '\0')
      continue;
    p[i] = '\0';
    if (mkdir(p, 0700) != 0 && errno != EEXIST) {
      fprintf(stderr, "samhost: cannot create the data directory [%s] [%s]\n",
              p, strerror(errno));
      goto done;
    }
    if (i < n)
      p[i] = '/';
  }
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    fprintf(stderr, "samhost: not a directory [data-dir=%s]\n", dir);
    goto done;
  }
  if ((st.st_mode & 077) != 0)
    fprintf(stderr,
            "samhost: warning: the data directory is open to other users "
            "[data-dir=%s]; chmod 700 it\n",
            dir);
  rc = 0;

done:
  free(p);
  return rc;
}

/*
 * See samhost.h.
 */
int sh_lock_take(const char *dir, const char *what, long *holder) {
  char *path = sh_path(dir, LOCK_FILE);
  struct flock fl;
  char buf[64];
  ssize_t n;
  int fd = -1;

  *holder = 0;
  if (path == NULL)
    return -1;
  fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    fprintf(stderr, "samhost: cannot open the lock file [%s] [%s]\n", path,
            strerror(errno));
    goto fail;
  }
  memset(&fl, 0, sizeof(fl));
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  if (fcntl(fd, F_SETLK, &fl) != 0) {
    n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (n > 0) {
      buf[n] = '\0';
      *holder = strtol(buf, NULL, 10);
    }
    fprintf(stderr,
            "samhost: %s: the data directory is in use by a running samhost "
            "[data-dir=%s] [pid=%ld]; stop it first\n",
            what, dir, *holder);
    goto fail;
  }
  free(path);
  sh_lock_write(fd, NULL);
  return fd;

fail:
  if (fd >= 0)
    close(fd);
  free(path);
  return -1;
}

/*
 * See samhost.h.
 */
void sh_lock_write(int fd, const char *url) {
  char buf[512];
  int n = snprintf(buf, sizeof(buf), "%ld\n%s\n", (long)getpid(),
                   url != NULL ? url : "");

  if (n < 0 || (size_t)n >= sizeof(buf))
    return;
  /* Advisory content only (a failure leaves the lock itself intact), and
   * no fsync: serve calls this from the loop, which must not wait on the
   * disk; the page cache is enough for a CLI on the same machine. */
  if (ftruncate(fd, 0) == 0)
    (void)!pwrite(fd, buf, (size_t)n, 0);
}

/*
 * See samhost.h. The URL is only trusted while the lock is held, i.e.
 * while a server runs.
 */
char *sh_lock_read_url(const char *dir) {
  char *path = sh_path(dir, LOCK_FILE);
  char buf[512], *nl, *url = NULL;
  struct flock fl;
  ssize_t n;
  int fd;

  if (path == NULL)
    return NULL;
  fd = open(path, O_RDONLY | O_CLOEXEC);
  free(path);
  if (fd < 0)
    return NULL;
  memset(&fl, 0, sizeof(fl));
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) {
    n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (n > 0) {
      buf[n] = '\0';
      nl = strchr(buf, '\n');
      if (nl != NULL && nl[1] != '\0') {
        char *end = strchr(nl + 1, '\n');
        if (end != NULL)
          *end = '\0';
        if (nl[1] != '\0')
          url = strdup(nl + 1);
      }
    }
  }
  close(fd);
  return url;
}
