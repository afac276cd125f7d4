/*
 * dsg_config.c: plugin-wide settings (config_json) and value checks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "sam/sam_plugin.h"

#include "dsg_config.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define DEFAULT_REQUEST_TIMEOUT_MS 60000
#define DEFAULT_MAX_RESPONSE (16 * 1024 * 1024)
#define DEFAULT_MAX_HOST_CONNS 6

/* Copies a JSON value's text into buf for an error message, shortened. */
static const char *value_text(json_object *v, char *buf, size_t len) {
  const char *s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);

  snprintf(buf, len, "%s", s != NULL ? s : "?");
  if (strlen(buf) == len - 1 && len > 4)
    memcpy(buf + len - 4, "...", 3);
  return buf;
}

static int only_space(const char *p, size_t n) {
  size_t i;

  for (i = 0; i < n; i++) {
    if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
      return 0;
  }
  return 1;
}

static int get_bool(
    json_object *v, const char *name, int *out, char *err, size_t err_len) {
  char vb[64];

  if (!json_object_is_type(v, json_type_boolean)) {
    snprintf(err, err_len, "config field [%s] must be true or false, got [%s]",
             name, value_text(v, vb, sizeof(vb)));
    return SAM_EINVAL;
  }
  *out = json_object_get_boolean(v) ? 1 : 0;
  return 0;
}

static int get_int(json_object *v,
                   const char *name,
                   int64_t min,
                   int64_t max,
                   int64_t *out,
                   char *err,
                   size_t err_len) {
  char vb[64];
  int64_t x;

  if (!json_object_is_type(v, json_type_int))
    goto bad;
  errno = 0;
  x = json_object_get_int64(v);
  if (errno != 0 || x < min || x > max)
    goto bad;
  *out = x;
  return 0;

bad:
  snprintf(err, err_len,
           "config field [%s] must be an integer in [%lld, %lld], got [%s]",
           name, (long long)min, (long long)max, value_text(v, vb, sizeof(vb)));
  return SAM_EINVAL;
}

int dsg_config_parse(
    const char *json, size_t len, dsg_config *cfg, char *err, size_t err_len) {
  json_tokener *tok = NULL;
  json_object *root = NULL;
  enum json_tokener_error jerr;
  int64_t x;
  int rc = SAM_EINVAL;

  memset(cfg, 0, sizeof(*cfg));
  cfg->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
  cfg->request_timeout_ms = DEFAULT_REQUEST_TIMEOUT_MS;
  cfg->max_response_bytes = DEFAULT_MAX_RESPONSE;
  cfg->max_host_connections = DEFAULT_MAX_HOST_CONNS;
  cfg->token_reload_ms = 60000;
  if (json == NULL || len == 0)
    return 0;
  if (len > 65536) {
    snprintf(err, err_len, "config is too large [%zu bytes]", len);
    return SAM_EINVAL;
  }
  tok = json_tokener_new();
  if (tok == NULL)
    return SAM_ENOMEM;
  root = json_tokener_parse_ex(tok, json, (int)len);
  jerr = json_tokener_get_error(tok);
  if (root == NULL || jerr != json_tokener_success ||
      !only_space(json + json_tokener_get_parse_end(tok),
                  len - json_tokener_get_parse_end(tok))) {
    snprintf(err, err_len, "config is not valid JSON [%s] at [offset=%zu]",
             root == NULL || jerr != json_tokener_success
                 ? json_tokener_error_desc(jerr == json_tokener_continue
                                               ? json_tokener_error_parse_eof
                                               : jerr)
                 : "trailing data",
             json_tokener_get_parse_end(tok));
    goto done;
  }
  if (!json_object_is_type(root, json_type_object)) {
    snprintf(err, err_len, "config must be a JSON object, got [%s]",
             json_type_to_name(json_object_get_type(root)));
    goto done;
  }
  {
    json_object_object_foreach(root, key, val) {
      if (strcmp(key, "ca_file") == 0) {
        char vb[64];
        if (!json_object_is_type(val, json_type_string) ||
            json_object_get_string_len(val) == 0 ||
            json_object_get_string_len(val) > 4096) {
          snprintf(err, err_len,
                   "config field [ca_file] must be a file path, got [%s]",
                   value_text(val, vb, sizeof(vb)));
          goto done;
        }
        free(cfg->ca_file);
        cfg->ca_file = strdup(json_object_get_string(val));
        if (cfg->ca_file == NULL) {
          rc = SAM_ENOMEM;
          goto done;
        }
      } else if (strcmp(key, "http_debug") == 0) {
        if (get_bool(val, key, &cfg->http_debug, err, err_len) != 0)
          goto done;
      } else if (strcmp(key, "test_mode") == 0) {
        if (get_bool(val, key, &cfg->test_mode, err, err_len) != 0)
          goto done;
      } else if (strcmp(key, "connect_timeout_ms") == 0) {
        if (get_int(val, key, 1, 600000, &x, err, err_len) != 0)
          goto done;
        cfg->connect_timeout_ms = (uint64_t)x;
      } else if (strcmp(key, "request_timeout_ms") == 0) {
        if (get_int(val, key, 1, 3600000, &x, err, err_len) != 0)
          goto done;
        cfg->request_timeout_ms = (uint64_t)x;
      } else if (strcmp(key, "max_response_bytes") == 0) {
        if (get_int(val, key, 1024, 268435456, &x, err, err_len) != 0)
          goto done;
        cfg->max_response_bytes = (uint64_t)x;
      } else if (strcmp(key, "max_host_connections") == 0) {
        if (get_int(val, key, 1, 64, &x, err, err_len) != 0)
          goto done;
        cfg->max_host_connections = (uint32_t)x;
      } else if (strcmp(key, "token_reload_ms") == 0) {
        if (get_int(val, key, 0, 86400000, &x, err, err_len) != 0)
          goto done;
        cfg->token_reload_ms = (uint64_t)x;
      } else {
        snprintf(err, err_len,
                 "unknown config field [%s]; known: ca_file, http_debug, "
                 "test_mode, connect_timeout_ms, request_timeout_ms, "
                 "max_response_bytes, max_host_connections, "
                 "token_reload_ms",
                 key);
        goto done;
      }
    }
  }
  rc = 0;

done:
  json_object_put(root);
  json_tokener_free(tok);
  return rc;
}

void dsg_config_free(dsg_config *cfg) {
  if (cfg == NULL)
    return;
  free(cfg->ca_file);
  cfg->ca_file = NULL;
}

/* Host part of a URL [host, end) is loopback? */
static int is_loopback(const char *host, size_t n) {
  return (n == 9 && memcmp(host, "127.0.0.1", 9) == 0) ||
         (n == 9 && memcmp(host, "localhost", 9) == 0) ||
         (n == 5 && memcmp(host, "[::1]", 5) == 0);
}

int dsg_check_instance_url(const char *url,
                           int test_mode,
                           char *err,
                           size_t err_len) {
  const char *host;
  const char *end;
  const char *p;
  size_t n;
  int https;

  if (url == NULL || *url == '\0') {
    snprintf(err, err_len, "instance_url is required");
    return SAM_EINVAL;
  }
  if (strncmp(url, "https://", 8) == 0) {
    https = 1;
    host = url + 8;
  } else if (strncmp(url, "http://", 7) == 0) {
    https = 0;
    host = url + 7;
  } else {
    snprintf(err, err_len, "instance_url must start with https:// [%.200s]",
             url);
    return SAM_EINVAL;
  }
  end = host + strcspn(host, "/?#");
  if (strpbrk(end, "?#") != NULL || (*end == '/' && end[1] != '\0') ||
      memchr(host, '@', (size_t)(end - host)) != NULL || end == host) {
    snprintf(err, err_len,
             "instance_url must be a scheme and host only, e.g. "
             "https://account.docusign.com [%.200s]",
             url);
    return SAM_EINVAL;
  }
  /* Strip the port for the loopback test. */
  p = end;
  if (host[0] != '[') {
    const char *colon = memchr(host, ':', (size_t)(end - host));
    if (colon != NULL)
      p = colon;
  } else {
    const char *rb = memchr(host, ']', (size_t)(end - host));
    if (rb != NULL)
      p = rb + 1;
  }
  n = (size_t)(p - host);
  if (is_loopback(host, n)) {
    if (!test_mode) {
      snprintf(err, err_len,
               "instance_url may point to a loopback host only in test mode "
               "[%.200s]",
               url);
      return SAM_EINVAL;
    }
    return 0;
  }
  if (!https) {
    snprintf(err, err_len, "instance_url must use https [%.200s]", url);
    return SAM_EINVAL;
  }
  return 0;
}
