/*
 * http_static.c: static files of the admin pages (host-sdk/web), read with
 * uv_fs so the loop never blocks on the disk. Only plain relative paths are
 * served: any "." or ".." segment, percent escape, backslash or NUL is
 * refused, so nothing outside the web directory can be named.
 */
#include "sam_http.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "sam/sam_plugin.h"

#define STATIC_MAX_BYTES (8u * 1024 * 1024)

typedef struct sfile_ref sfile_ref;

/* One file being read for one request. */
typedef struct sfile {
  uv_fs_t fs;
  h2o_req_t *req; /* NULL once h2o disposed the request */
  sfile_ref *ref;
  uv_loop_t *loop;
  uv_file fd;
  char *buf;
  size_t size;
  size_t got;
  int status; /* the HTTP status to send */
  const char *mime;
  char path[]; /* web_dir + "/" + rel */
} sfile;

struct sfile_ref {
  sfile *f;
};

/*
 * See sam_http.h.
 */
const char *sam__http_mime_type(const char *name) {
  static const struct {
    const char *ext;
    const char *mime;
  } map[] = {
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
      {".woff2", "font/woff2"},
      {".woff", "font/woff"},
      {".map", "application/json"},
  };
  const char *dot = strrchr(name, '.');
  size_t i;

  if (dot != NULL && strchr(dot, '/') == NULL)
    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
      if (strcasecmp(dot, map[i].ext) == 0)
        return map[i].mime;
  return "application/octet-stream";
}

/* 1 when rel is a plain relative path: segments of visible characters, no
 * "." or ".." segment, no empty segment, no '%', '\\' or NUL. */
static int safe_rel(const char *rel, size_t n) {
  size_t i, seg = 0;

  if (n == 0)
    return 1;
  if (rel[0] == '/')
    return 0;
  for (i = 0; i <= n; i++) {
    if (i == n || rel[i] == '/') {
      size_t len = i - seg;
      if (len == 0 || (len == 1 && rel[seg] == '.') ||
          (len == 2 && rel[seg] == '.' && rel[seg + 1] == '.'))
        return 0;
      seg = i + 1;
      continue;
    }
    if (rel[i] == '%' || rel[i] == '\\' || (unsigned char)rel[i] <= 0x20 ||
        rel[i] == 0x7f)
      return 0;
  }
  return 1;
}

static void ref_disposed(void *x) {
  sfile_ref *r = x;

  if (r->f != NULL)
    r->f->req = NULL;
}

static void finish(sfile *f) {
  h2o_req_t *req = f->req;

  if (req != NULL) {
    f->ref->f = NULL;
    if (f->status == 200) {
      sam__httpd_add_header(req, "Cache-Control", "no-cache");
      sam__httpd_send(req, 200, f->mime, f->buf, f->size);
    } else if (f->status == 404) {
      sam__http_send_error(req, 404, "SAM_ENOENT", "no such file");
    } else {
      sam__http_send_error(req, 500, "SAM_EIO", "cannot read the file");
    }
  }
  free(f->buf);
  free(f);
}

static void on_closed(uv_fs_t *r) {
  sfile *f = r->data;

  uv_fs_req_cleanup(r);
  finish(f);
}

/* Closes the fd (if open) and then finishes with f->status. */
static void close_and_finish(sfile *f) {
  if (f->fd >= 0 && uv_fs_close(f->loop, &f->fs, f->fd, on_closed) == 0)
    return;
  finish(f);
}

static void on_read(uv_fs_t *r) {
  sfile *f = r->data;
  ssize_t n = r->result;

  uv_fs_req_cleanup(r);
  if (n < 0) {
    f->status = 500;
  } else if (n == 0 || f->got + (size_t)n >= f->size) {
    f->got += (size_t)n;
    f->size = f->got; /* a file that shrank meanwhile: send what is there */
  } else {
    uv_buf_t b;
    f->got += (size_t)n;
    b = uv_buf_init(f->buf + f->got, (unsigned)(f->size - f->got));
    if (uv_fs_read(f->loop, &f->fs, f->fd, &b, 1, (int64_t)f->got, on_read) ==
        0)
      return;
    f->status = 500;
  }
  close_and_finish(f);
}

static void on_stat(uv_fs_t *r) {
  sfile *f = r->data;
  uv_buf_t b;

  if (r->result < 0 || !S_ISREG(r->statbuf.st_mode)) {
    f->status = 404; /* directories and devices are not files to serve */
    uv_fs_req_cleanup(r);
    close_and_finish(f);
    return;
  }
  f->size = (size_t)r->statbuf.st_size;
  uv_fs_req_cleanup(r);
  if (f->size > STATIC_MAX_BYTES) {
    f->status = 500;
    close_and_finish(f);
    return;
  }
  f->buf = malloc(f->size + 1);
  if (f->buf == NULL) {
    f->status = 500;
    close_and_finish(f);
    return;
  }
  if (f->size == 0) {
    close_and_finish(f);
    return;
  }
  b = uv_buf_init(f->buf, (unsigned)f->size);
  if (uv_fs_read(f->loop, &f->fs, f->fd, &b, 1, 0, on_read) != 0) {
    f->status = 500;
    close_and_finish(f);
  }
}

static void on_open(uv_fs_t *r) {
  sfile *f = r->data;

  if (r->result < 0) {
    uv_fs_req_cleanup(r);
    f->status = 404;
    finish(f);
    return;
  }
  f->fd = (uv_file)r->result;
  uv_fs_req_cleanup(r);
  if (uv_fs_fstat(f->loop, &f->fs, f->fd, on_stat) != 0) {
    f->status = 500;
    close_and_finish(f);
  }
}

/*
 * See sam_http.h.
 */
int sam__http_static_serve(h2o_req_t *req,
                           const char *web_dir,
                           const char *rel,
                           size_t rel_len) {
  size_t dl = strlen(web_dir);
  sfile *f;

  if (rel_len == 0) {
    rel = "index.html";
    rel_len = strlen(rel);
  }
  if (!safe_rel(rel, rel_len)) {
    sam__http_send_error(req, 404, "SAM_ENOENT", "no such file");
    return 0;
  }
  f = calloc(1, sizeof(*f) + dl + 1 + rel_len + 1);
  if (f == NULL) {
    sam__http_send_error(req, 500, "SAM_ENOMEM", "out of memory");
    return 0;
  }
  memcpy(f->path, web_dir, dl);
  f->path[dl] = '/';
  memcpy(f->path + dl + 1, rel, rel_len);
  f->path[dl + 1 + rel_len] = '\0';
  f->mime = sam__http_mime_type(f->path);
  f->req = req;
  f->fd = -1;
  f->status = 200;
  f->loop = req->conn->ctx->loop;
  f->fs.data = f;
  f->ref = h2o_mem_alloc_shared(&req->pool, sizeof(*f->ref), ref_disposed);
  f->ref->f = f;
  if (uv_fs_open(f->loop, &f->fs, f->path, O_RDONLY | O_CLOEXEC, 0, on_open) !=
      0) {
    f->status = 404;
    finish(f);
  }
  return 0;
}
