/*
 * cli_body.c: request bodies from command-line options: --field pairs,
 * --json-body FILE|- and --secret-stdin (secrets never appear in the
 * process list).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "samhost.h"

#define MAX_BODY_FILE (1024 * 1024)

/*
 * See samhost.h.
 */
int sh_opt_value(
    const char *name, int *i, int argc, char **argv, const char **v) {
  const char *a = argv[*i];
  size_t n = strlen(name);

  if (strncmp(a, name, n) != 0)
    return 0;
  if (a[n] == '=') {
    *v = a + n + 1;
    return 1;
  }
  if (a[n] != '\0')
    return 0;
  if (*i + 1 >= argc) {
    fprintf(stderr, "samhost: option needs a value [%s]\n", name);
    return -1;
  }
  *v = argv[++*i];
  return 1;
}

static char *read_all(FILE *f) {
  size_t len = 0, cap = 4096;
  char *p = malloc(cap);

  if (p == NULL)
    return NULL;
  for (;;) {
    size_t n;
    if (len + 1 >= cap) {
      char *q;
      if (cap >= MAX_BODY_FILE) {
        free(p);
        return NULL;
      }
      cap *= 2;
      q = realloc(p, cap);
      if (q == NULL) {
        free(p);
        return NULL;
      }
      p = q;
    }
    n = fread(p + len, 1, cap - len - 1, f);
    len += n;
    if (n == 0)
      break;
  }
  p[len] = '\0';
  return p;
}

static int take_json_body(sh_body *b, const char *src) {
  FILE *f = strcmp(src, "-") == 0 ? stdin : fopen(src, "r");
  char *text;

  if (f == NULL) {
    fprintf(stderr, "samhost: cannot read --json-body [%s]\n", src);
    return -1;
  }
  text = read_all(f);
  if (f != stdin)
    fclose(f);
  if (text == NULL) {
    fprintf(stderr, "samhost: cannot read --json-body [%s] (over 1 MiB?)\n",
            src);
    return -1;
  }
  json_object_put(b->base);
  b->base = json_tokener_parse(text);
  free(text);
  if (b->base == NULL || !json_object_is_type(b->base, json_type_object)) {
    fprintf(stderr, "samhost: --json-body is not a JSON object [%s]\n", src);
    return -1;
  }
  return 1;
}

static int take_field(sh_body *b, const char *kv) {
  const char *eq = strchr(kv, '=');
  json_object *val;
  char name[256];
  int raw;

  if (eq == NULL || eq == kv) {
    fprintf(stderr, "samhost: --field wants NAME=VALUE or NAME:=JSON [%s]\n",
            kv);
    return -1;
  }
  raw = eq[-1] == ':';
  snprintf(name, sizeof(name), "%.*s", (int)(eq - kv - raw), kv);
  if (raw) {
    val = json_tokener_parse(eq + 1);
    if (val == NULL && strcmp(eq + 1, "null") != 0) {
      fprintf(stderr, "samhost: --field %s:= wants JSON [%s]\n", name, eq + 1);
      return -1;
    }
  } else {
    val = json_object_new_string(eq + 1);
  }
  if (b->fields == NULL)
    b->fields = json_object_new_object();
  if (b->fields == NULL || json_object_object_add(b->fields, name, val) != 0) {
    json_object_put(val);
    return -1;
  }
  return 1;
}

/*
 * See samhost.h.
 */
int sh_body_opt(sh_body *b, int *i, int argc, char **argv) {
  const char *v;
  int r;

  if ((r = sh_opt_value("--field", i, argc, argv, &v)) != 0)
    return r < 0 ? -1 : take_field(b, v);
  if ((r = sh_opt_value("--json-body", i, argc, argv, &v)) != 0)
    return r < 0 ? -1 : take_json_body(b, v);
  if ((r = sh_opt_value("--secret-stdin", i, argc, argv, &v)) != 0) {
    if (r < 0)
      return -1;
    if (b->n_secrets == sizeof(b->secrets) / sizeof(b->secrets[0])) {
      fprintf(stderr, "samhost: too many --secret-stdin\n");
      return -1;
    }
    b->secrets[b->n_secrets++] = v;
    return 1;
  }
  return 0;
}

/* One line of stdin without its newline, malloc'd; NULL at EOF. */
static char *stdin_line(void) {
  size_t cap = 0;
  char *line = NULL;
  ssize_t n = getline(&line, &cap, stdin);

  if (n < 0) {
    free(line);
    return NULL;
  }
  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
    line[--n] = '\0';
  return line;
}

/*
 * See samhost.h.
 */
int sh_body_text(sh_body *b, const char *nest, char **out) {
  json_object *root, *target;
  size_t i;

  *out = NULL;
  if (b->base == NULL && b->fields == NULL && b->n_secrets == 0)
    return 0;
  root = b->base != NULL ? json_object_get(b->base) : json_object_new_object();
  if (root == NULL)
    return SH_EXIT_USAGE;
  target = root;
  if (nest != NULL && (b->fields != NULL || b->n_secrets > 0)) {
    if (!json_object_object_get_ex(root, nest, &target) ||
        !json_object_is_type(target, json_type_object)) {
      target = json_object_new_object();
      json_object_object_add(root, nest, target);
    }
  }
  if (b->fields != NULL) {
    json_object_object_foreach(b->fields, k, v) {
      json_object_object_add(target, k, json_object_get(v));
    }
  }
  for (i = 0; i < b->n_secrets; i++) {
    char *line = stdin_line();
    if (line == NULL) {
      fprintf(stderr, "samhost: stdin ended before the secret [%s]\n",
              b->secrets[i]);
      json_object_put(root);
      return SH_EXIT_USAGE;
    }
    json_object_object_add(target, b->secrets[i], json_object_new_string(line));
    memset(line, 0, strlen(line));
    free(line);
  }
  *out = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
  json_object_put(root);
  return *out != NULL ? 0 : SH_EXIT_USAGE;
}

/*
 * See samhost.h.
 */
void sh_body_free(sh_body *b) {
  json_object_put(b->base);
  json_object_put(b->fields);
  memset(b, 0, sizeof(*b));
}
