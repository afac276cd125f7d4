/*
 * cli_http.c: the admin CLI's client of the server's REST API: libcurl's
 * easy interface (the CLI has no event loop to block), the admin token,
 * and the mapping of outcomes to exit codes.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "samhost.h"

#define MAX_REPLY (64u * 1024 * 1024)

typedef struct buf {
  char *p;
  size_t len;
  size_t cap;
  int overflow;
} buf;

static size_t on_write(char *data, size_t size, size_t n, void *ud) {
  buf *b = ud;
  size_t add = size * n;

  if (b->len + add + 1 > MAX_REPLY) {
    b->overflow = 1;
    return 0; /* curl fails the transfer: a reply this big is not ours */
  }
  if (b->len + add + 1 > b->cap) {
    size_t cap = (b->len + add + 1) * 2;
    char *p = realloc(b->p, cap);
    if (p == NULL)
      return 0;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, data, add);
  b->len += add;
  b->p[b->len] = '\0';
  return add;
}

/* The token from --token / $SAM_ADMIN_TOKEN, or the first line of
 * --token-file, malloc'd; NULL when none is given. */
static char *load_token(const sh_global *g) {
  char line[512];
  FILE *f;
  size_t n;

  if (g->token != NULL && g->token[0] != '\0')
    return strdup(g->token);
  if (g->token_file == NULL)
    return NULL;
  f = fopen(g->token_file, "r");
  if (f == NULL) {
    fprintf(stderr, "samhost: cannot read the token file [%s]\n",
            g->token_file);
    return NULL;
  }
  if (fgets(line, sizeof(line), f) == NULL)
    line[0] = '\0';
  fclose(f);
  n = strlen(line);
  while (n > 0 && isspace((unsigned char)line[n - 1]))
    line[--n] = '\0';
  return strdup(line);
}

/* The server's base URL without a trailing '/', malloc'd. */
static char *server_url(const sh_global *g) {
  char *u = NULL;
  size_t n;

  if (g->server != NULL)
    u = strdup(g->server);
  else if (getenv("SAM_SERVER") != NULL && getenv("SAM_SERVER")[0] != '\0')
    u = strdup(getenv("SAM_SERVER"));
  else
    u = sh_lock_read_url(g->data_dir);
  if (u == NULL)
    u = strdup("http://" SH_DEFAULT_LISTEN);
  if (u == NULL)
    return NULL;
  n = strlen(u);
  while (n > 0 && u[n - 1] == '/')
    u[--n] = '\0';
  return u;
}

/*
 * See samhost.h.
 */
char *sh_escape(const char *s) {
  static const char hx[] = "0123456789ABCDEF";
  size_t i, o = 0, n = strlen(s);
  char *out = malloc(n * 3 + 1);

  if (out == NULL)
    return NULL;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out[o++] = (char)c;
    } else {
      out[o++] = '%';
      out[o++] = hx[c >> 4];
      out[o++] = hx[c & 15];
    }
  }
  out[o] = '\0';
  return out;
}

/*
 * See samhost.h.
 */
void sh_reply_free(sh_reply *r) {
  if (r == NULL)
    return;
  free(r->body);
  json_object_put(r->json);
  memset(r, 0, sizeof(*r));
}

static void print_remote_error(const sh_reply *r) {
  json_object *errs;
  const char *msg = sh_jstr(r->json, "message");
  size_t i, n;

  if (msg == NULL)
    msg = r->body != NULL && r->len > 0 ? r->body : "(no message)";
  fprintf(stderr, "samhost: error [http=%ld]%s%s%s: %s\n", r->status,
          sh_jstr(r->json, "status") != NULL ? " [" : "",
          sh_jstr(r->json, "status") != NULL ? sh_jstr(r->json, "status") : "",
          sh_jstr(r->json, "status") != NULL ? "]" : "", msg);
  if (r->json != NULL && json_object_object_get_ex(r->json, "errors", &errs) &&
      json_object_is_type(errs, json_type_array)) {
    n = json_object_array_length(errs);
    for (i = 0; i < n; i++) {
      json_object *e = json_object_array_get_idx(errs, i);
      const char *p = sh_jstr(e, "pointer");
      fprintf(stderr, "  %s: %s\n", p != NULL && p[0] ? p : "(body)",
              sh_jstr(e, "message") ? sh_jstr(e, "message") : "");
    }
  }
}

/*
 * See samhost.h.
 */
int sh_request(const sh_global *g,
               const char *method,
               const char *path,
               const char *body,
               sh_reply *out) {
  CURL *easy = NULL;
  struct curl_slist *hdrs = NULL;
  char *base = NULL, *url = NULL, *tok = NULL, *auth = NULL;
  char errbuf[CURL_ERROR_SIZE] = "";
  buf b = {0};
  CURLcode cc;
  int rc = SH_EXIT_UNREACHABLE;
  size_t n;

  memset(out, 0, sizeof(*out));
  base = server_url(g);
  tok = load_token(g);
  if (base == NULL)
    goto done;
  if (tok == NULL || tok[0] == '\0') {
    fprintf(stderr, "samhost: no admin token; pass --token, --token-file or "
                    "set SAM_ADMIN_TOKEN\n");
    rc = SH_EXIT_AUTH;
    goto done;
  }
  n = strlen(base) + strlen(path) + 1;
  url = malloc(n);
  auth = malloc(strlen(tok) + 32);
  easy = curl_easy_init();
  if (url == NULL || auth == NULL || easy == NULL)
    goto done;
  snprintf(url, n, "%s%s", base, path);
  sprintf(auth, "Authorization: Bearer %s", tok);
  hdrs = curl_slist_append(hdrs, auth);
  if (hdrs == NULL)
    goto done;
  {
    /* the server wants it on state-changing calls (CSRF defence) */
    struct curl_slist *h1 = curl_slist_append(hdrs, "X-SAM-CSRF: 1");
    if (h1 == NULL)
      goto done;
    hdrs = h1;
  }
  if (body != NULL) {
    struct curl_slist *h2 = curl_slist_append(hdrs, "Content-Type: "
                                                    "application/json");
    if (h2 == NULL)
      goto done;
    hdrs = h2;
  }
  if (curl_easy_setopt(easy, CURLOPT_URL, url) != CURLE_OK ||
      curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK ||
      curl_easy_setopt(easy, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK ||
      curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_write) != CURLE_OK ||
      curl_easy_setopt(easy, CURLOPT_WRITEDATA, &b) != CURLE_OK ||
      curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
      curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
      curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, 5000L) != CURLE_OK ||
      curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 120000L) != CURLE_OK ||
      curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK)
    goto done;
  if (body != NULL &&
      (curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
       curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)strlen(body)) !=
           CURLE_OK))
    goto done;
  cc = curl_easy_perform(easy);
  if (cc != CURLE_OK) {
    fprintf(stderr,
            "samhost: cannot reach the server [url=%s] [%s]; is "
            "`samhost serve` running? (--server, --data-dir)\n",
            base, errbuf[0] ? errbuf : curl_easy_strerror(cc));
    goto done;
  }
  if (curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &out->status) != CURLE_OK)
    goto done;
  out->body = b.p != NULL ? b.p : strdup("");
  out->len = b.len;
  b.p = NULL;
  if (out->body != NULL && out->len > 0)
    out->json = json_tokener_parse(out->body);
  if (out->status >= 200 && out->status < 300) {
    rc = SH_EXIT_OK;
  } else {
    print_remote_error(out);
    rc = out->status == 401 ? SH_EXIT_AUTH : SH_EXIT_REMOTE;
  }

done:
  if (tok != NULL) {
    memset(tok, 0, strlen(tok));
    free(tok);
  }
  if (auth != NULL) {
    memset(auth, 0, strlen(auth));
    free(auth);
  }
  curl_slist_free_all(hdrs);
  if (easy != NULL)
    curl_easy_cleanup(easy);
  free(b.p);
  free(url);
  free(base);
  return rc;
}
