/*
 * sim_child.c: see sim_child.h.
 */
#include "sim_child.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

const char *sim_jstr(json_object *o, const char *k) {
  json_object *v;

  if (o == NULL || !json_object_object_get_ex(o, k, &v) ||
      !json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_string(v);
}

int sim_child_start(sim_child *c, const char *exe, const char *const *args) {
  int fds[2];
  const char *argv[64];
  int n = 0, i;
  char line[4096];
  size_t len = 0;
  json_object *o;

  memset(c, 0, sizeof(*c));
  if (getenv("SAM_SIM_EXE") != NULL && *getenv("SAM_SIM_EXE"))
    exe = getenv("SAM_SIM_EXE"); /* e.g. a sanitizer build of the sim */
  argv[n++] = exe;
  argv[n++] = "--port";
  argv[n++] = "0";
  for (i = 0; args != NULL && args[i] != NULL && n < 62; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  if (pipe(fds) != 0)
    return -1;
  c->pid = fork();
  if (c->pid < 0)
    return -1;
  if (c->pid == 0) {
    /* A test that aborts must not leave its simulator holding ctest's pipe
     * until the timeout: the child dies with its parent. */
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execv(exe, (char *const *)argv);
    _exit(127);
  }
  close(fds[1]);
  while (len + 1 < sizeof(line)) {
    ssize_t r = read(fds[0], line + len, 1);
    if (r <= 0)
      break;
    if (line[len] == '\n')
      break;
    len++;
  }
  line[len] = '\0';
  close(fds[0]);
  o = json_tokener_parse(line);
  if (o == NULL || sim_jstr(o, "http") == NULL) {
    fprintf(stderr, "sim_child: no JSON line from [%s] [line=%s]\n", exe, line);
    json_object_put(o);
    (void)sim_child_stop(c);
    return -1;
  }
  snprintf(c->http, sizeof(c->http), "%s", sim_jstr(o, "http"));
  snprintf(c->https, sizeof(c->https), "%s",
           sim_jstr(o, "https") ? sim_jstr(o, "https") : "");
  snprintf(c->account_id, sizeof(c->account_id), "%s",
           sim_jstr(o, "account_id"));
  snprintf(c->external_id, sizeof(c->external_id), "%s",
           sim_jstr(o, "external_account_id"));
  snprintf(c->integ, sizeof(c->integ), "%s", sim_jstr(o, "integration_user"));
  snprintf(c->rest, sizeof(c->rest), "%s/restapi/v2.1/accounts/%s", c->http,
           c->account_id);
  {
    json_object *v;
    if (json_object_object_get_ex(o, "load_ms", &v))
      c->load_ms = json_object_get_double(v);
    if (json_object_object_get_ex(o, "rss_kb", &v))
      c->rss_kb = (long)json_object_get_int64(v);
    if (json_object_object_get_ex(o, "users", &v))
      c->users = (long)json_object_get_int64(v);
  }
  json_object_put(o);
  return 0;
}

int sim_child_stop(sim_child *c) {
  int st = 0;

  if (c->pid <= 0)
    return -1;
  kill(c->pid, SIGTERM);
  if (waitpid(c->pid, &st, 0) != c->pid)
    return -1;
  c->pid = 0;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

typedef struct growbuf {
  char *p;
  size_t len;
} growbuf;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud) {
  growbuf *g = ud;
  size_t n = size * nmemb;
  char *p = realloc(g->p, g->len + n + 1);

  if (p == NULL)
    return 0;
  memcpy(p + g->len, ptr, n);
  g->len += n;
  p[g->len] = '\0';
  g->p = p;
  return n;
}

int sim_http(const char *method,
             const char *url,
             const char *auth,
             const char *body,
             const char *ctype,
             const char *cainfo,
             sim_resp *out) {
  CURL *e = curl_easy_init();
  struct curl_slist *h = NULL;
  growbuf b = {0}, hd = {0};
  char line[4096];
  CURLcode rc;

  memset(out, 0, sizeof(*out));
  if (e == NULL)
    return CURLE_OUT_OF_MEMORY;
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_data);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &hd);
  curl_easy_setopt(e, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  if (cainfo != NULL)
    curl_easy_setopt(e, CURLOPT_CAINFO, cainfo);
  if (auth != NULL) {
    snprintf(line, sizeof(line), "Authorization: %s", auth);
    h = curl_slist_append(h, line);
  }
  if (body != NULL) {
    snprintf(line, sizeof(line), "Content-Type: %s",
             ctype ? ctype : "application/json");
    h = curl_slist_append(h, line);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
  }
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
  rc = curl_easy_perform(e);
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &out->status);
  out->curl_rc = (int)rc;
  out->body = b.p ? b.p : calloc(1, 1);
  out->len = b.len;
  out->headers = hd.p ? hd.p : calloc(1, 1);
  curl_slist_free_all(h);
  curl_easy_cleanup(e);
  return (int)rc;
}

void sim_resp_free(sim_resp *r) {
  if (r == NULL)
    return;
  free(r->body);
  free(r->headers);
  memset(r, 0, sizeof(*r));
}

int sim_resp_header(const sim_resp *r, const char *name, char *out, size_t n) {
  size_t nl = strlen(name);
  const char *p = r->headers;

  while (p != NULL && *p) {
    const char *eol = strstr(p, "\r\n");
    if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
      const char *v = p + nl + 1;
      size_t len;
      while (*v == ' ')
        v++;
      len = eol ? (size_t)(eol - v) : strlen(v);
      if (len >= n)
        len = n - 1;
      memcpy(out, v, len);
      out[len] = '\0';
      return 1;
    }
    p = eol ? eol + 2 : NULL;
  }
  out[0] = '\0';
  return 0;
}

json_object *sim_resp_json(const sim_resp *r) {
  return r->body ? json_tokener_parse(r->body) : NULL;
}

static void b64url(const unsigned char *in, size_t n, char *out) {
  int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n), i;

  while (len > 0 && out[len - 1] == '=')
    len--;
  out[len] = '\0';
  for (i = 0; i < len; i++)
    out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
}

int sim_child_login(const char *base,
                    const char *client_id,
                    const char *secret,
                    const char *redirect,
                    const char *cainfo,
                    char *access,
                    size_t an,
                    char *refresh,
                    size_t rn) {
  unsigned char raw[32], md[32];
  unsigned int mdlen = 0;
  char verifier[64], challenge[64], url[2048], form[1024], basic[512];
  char pair[256], *code, *esc;
  sim_resp r;
  json_object *o;
  CURL *e = curl_easy_init();
  int rc = -1;

  if (e == NULL || RAND_bytes(raw, sizeof(raw)) != 1)
    goto done;
  b64url(raw, sizeof(raw), verifier);
  if (EVP_Digest(verifier, strlen(verifier), md, &mdlen, EVP_sha256(), NULL) !=
      1)
    goto done;
  b64url(md, mdlen, challenge);
  esc = curl_easy_escape(e, redirect, 0);
  snprintf(url, sizeof(url),
           "%s/oauth/auth?response_type=code&scope=signature%%20extended"
           "&client_id=%s&redirect_uri=%s&state=st1&code_challenge=%s"
           "&code_challenge_method=S256",
           base, client_id, esc, challenge);
  curl_free(esc);
  sim_http("GET", url, NULL, NULL, NULL, cainfo, &r);
  {
    char loc[1024];
    if (r.status != 302 || !sim_resp_header(&r, "location", loc, sizeof(loc))) {
      sim_resp_free(&r);
      goto done;
    }
    sim_resp_free(&r);
    code = strstr(loc, "code=");
    if (code == NULL)
      goto done;
    code += 5;
    code[strcspn(code, "&")] = '\0';
    snprintf(form, sizeof(form),
             "grant_type=authorization_code&code=%s&code_verifier=%s", code,
             verifier);
  }
  snprintf(pair, sizeof(pair), "%s:%s", client_id, secret);
  strcpy(basic, "Basic ");
  EVP_EncodeBlock((unsigned char *)basic + 6, (const unsigned char *)pair,
                  (int)strlen(pair));
  snprintf(url, sizeof(url), "%s/oauth/token", base);
  sim_http("POST", url, basic, form, "application/x-www-form-urlencoded",
           cainfo, &r);
  o = sim_resp_json(&r);
  if (r.status == 200 && sim_jstr(o, "access_token") &&
      sim_jstr(o, "refresh_token")) {
    snprintf(access, an, "%s", sim_jstr(o, "access_token"));
    snprintf(refresh, rn, "%s", sim_jstr(o, "refresh_token"));
    rc = 0;
  }
  json_object_put(o);
  sim_resp_free(&r);

done:
  curl_easy_cleanup(e);
  return rc;
}

long sim_control(const sim_child *c, const char *path, const char *json) {
  char url[512];
  sim_resp r;
  long st;

  snprintf(url, sizeof(url), "%s/_sim/%s", c->http, path);
  sim_http("POST", url, NULL, json ? json : "{}", "application/json", NULL, &r);
  st = r.status;
  sim_resp_free(&r);
  return st;
}
