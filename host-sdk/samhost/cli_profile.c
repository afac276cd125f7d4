/*
 * cli_profile.c: `samhost profile create|show|list|update|delete`, through
 * the server's REST API (/api/v1/profiles).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "samhost.h"

static void help(void) {
  printf(
      "Usage:\n"
      "  samhost profile create --type TYPE [--name NAME] [FIELDS]\n"
      "  samhost profile show PROFILE_ID\n"
      "  samhost profile list [--type TYPE] [--limit N] [--cursor C]\n"
      "  samhost profile update PROFILE_ID [--name NAME] [FIELDS]\n"
      "  samhost profile delete PROFILE_ID\n"
      "  samhost profile publish PROFILE_ID  (after Validate Connection;\n"
      "                                      creates the daily jobs)\n\n"
      "FIELDS (the profile form; see `samhost plugins --json` for the "
      "schema):\n"
      "  --field NAME=VALUE     a string field\n"
      "  --field NAME:=JSON     any JSON value (true, 42, [\"a\"])\n"
      "  --secret-stdin NAME    read the field from one line of stdin, so a\n"
      "                         secret never shows in the process list\n"
      "  --json-body FILE|-     the whole request body as JSON\n"
      "                         ({\"type_id\", \"display_name\", \"form\"})\n");
  sh_help_common();
}

static const char *const list_cols[] = {"profile_id",        "type_id",
                                        "display_name",      "state",
                                        "connection_status", NULL};

/* Prints one profile: the main fields, then the form. */
static void print_profile(json_object *p) {
  json_object *form;
  static const char *const keys[] = {
      "profile_id", "type_id",           "plugin",     "display_name",
      "state",      "connection_status", "last_error", "created_at",
      "updated_at", "secrets_set",       NULL};
  size_t i;

  for (i = 0; keys[i] != NULL; i++) {
    const char *v = sh_jstr(p, keys[i]);
    if (v != NULL)
      printf("%-18s %s\n", keys[i], v);
  }
  if (json_object_object_get_ex(p, "form", &form)) {
    int w = 16; /* the widest field name sets the column */

    json_object_object_foreach(form, k0, v0) {
      (void)v0;
      if ((int)strlen(k0) > w)
        w = (int)strlen(k0);
    }
    printf("form:\n");
    json_object_object_foreach(form, k, v) {
      printf("  %-*s %s\n", w, k,
             v == NULL ? "null"
             : json_object_is_type(v, json_type_string)
                 ? json_object_get_string(v)
                 : json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
    }
  }
}

static int finish(const sh_global *g, int rc, sh_reply *r, int kind) {
  if (rc == SH_EXIT_OK) {
    if (g->json)
      sh_print_json(r);
    else if (kind == 0)
      print_profile(r->json);
    else if (kind == 1) {
      json_object *items = NULL;
      const char *next = sh_jstr(r->json, "next_cursor");
      json_object_object_get_ex(r->json, "items", &items);
      sh_print_table(items, list_cols);
      if (next != NULL && strcmp(next, "null") != 0)
        printf("more: --cursor %s\n", next);
    } else {
      printf("deleted\n");
    }
  }
  sh_reply_free(r);
  return rc;
}

static int create_or_update(int argc, char **argv, sh_global *g, int create) {
  sh_body b;
  sh_reply r;
  const char *type = NULL, *name = NULL, *id = NULL, *v;
  char *body = NULL, *path = NULL, *esc = NULL;
  int i, t, rc = SH_EXIT_USAGE;
  json_object *o = NULL;

  memset(&b, 0, sizeof(b));
  for (i = 1; i < argc; i++) {
    if ((t = sh_body_opt(&b, &i, argc, argv)) != 0) {
      if (t < 0)
        goto done;
      continue;
    }
    if ((t = sh_opt_value("--type", &i, argc, argv, &v)) != 0) {
      if (t < 0)
        goto done;
      type = v;
      continue;
    }
    if ((t = sh_opt_value("--name", &i, argc, argv, &v)) != 0) {
      if (t < 0)
        goto done;
      name = v;
      continue;
    }
    if (argv[i][0] == '-' || id != NULL || create) {
      fprintf(stderr, "samhost profile: unexpected argument [%s]\n", argv[i]);
      goto done;
    }
    id = argv[i];
  }
  if (!create && id == NULL) {
    fprintf(stderr, "samhost profile update: which profile? give its id\n");
    goto done;
  }
  if (sh_body_text(&b, "form", &body) != 0)
    goto done;
  o = body != NULL ? json_tokener_parse(body) : json_object_new_object();
  if (o == NULL)
    goto done;
  if (type != NULL)
    json_object_object_add(o, "type_id", json_object_new_string(type));
  if (name != NULL)
    json_object_object_add(o, "display_name", json_object_new_string(name));
  if (create && !json_object_object_get_ex(o, "type_id", NULL)) {
    fprintf(stderr, "samhost profile create: give --type (see `samhost "
                    "plugins`)\n");
    goto done;
  }
  free(body);
  body = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
  if (!create) {
    esc = sh_escape(id);
    path = esc != NULL ? malloc(strlen(esc) + 32) : NULL;
    if (path == NULL)
      goto done;
    sprintf(path, "/api/v1/profiles/%s", esc);
  }
  rc = sh_request(g, create ? "POST" : "PATCH",
                  create ? "/api/v1/profiles" : path, body, &r);
  rc = finish(g, rc, &r, 0);

done:
  json_object_put(o);
  if (body != NULL) {
    memset(body, 0, strlen(body)); /* may hold a secret */
    free(body);
  }
  free(path);
  free(esc);
  sh_body_free(&b);
  return rc;
}

static int by_id(int argc,
                 char **argv,
                 sh_global *g,
                 const char *method,
                 const char *suffix) {
  sh_reply r;
  char *esc, path[1024];
  int rc;

  if (argc != 2 || argv[1][0] == '-') {
    fprintf(stderr, "samhost profile %s: give exactly one profile id\n",
            argv[0]);
    return SH_EXIT_USAGE;
  }
  esc = sh_escape(argv[1]);
  if (esc == NULL)
    return SH_EXIT_REMOTE;
  snprintf(path, sizeof(path), "/api/v1/profiles/%s%s", esc, suffix);
  free(esc);
  rc = sh_request(g, method, path, NULL, &r);
  return finish(g, rc, &r, strcmp(method, "DELETE") == 0 ? 2 : 0);
}

static int list(int argc, char **argv, sh_global *g) {
  const char *type = NULL, *limit = NULL, *cursor = NULL, *v;
  char path[2048];
  size_t n;
  sh_reply r;
  int i, t, rc;

  for (i = 1; i < argc; i++) {
    if ((t = sh_opt_value("--type", &i, argc, argv, &v)) != 0)
      type = v;
    else if ((t = sh_opt_value("--limit", &i, argc, argv, &v)) != 0)
      limit = v;
    else if ((t = sh_opt_value("--cursor", &i, argc, argv, &v)) != 0)
      cursor = v;
    else
      t = -2;
    if (t == -2)
      fprintf(stderr, "samhost profile list: unexpected argument [%s]\n",
              argv[i]);
    if (t < 0)
      return SH_EXIT_USAGE;
  }
  n = (size_t)snprintf(path, sizeof(path), "/api/v1/profiles?");
  if (type != NULL) {
    char *e = sh_escape(type);
    n += (size_t)snprintf(path + n, sizeof(path) - n, "type=%s&", e ? e : "");
    free(e);
  }
  if (limit != NULL) {
    char *e = sh_escape(limit);
    n += (size_t)snprintf(path + n, sizeof(path) - n, "limit=%s&", e ? e : "");
    free(e);
  }
  if (cursor != NULL && n < sizeof(path)) {
    char *e = sh_escape(cursor);
    n += (size_t)snprintf(path + n, sizeof(path) - n, "cursor=%s&", e ? e : "");
    free(e);
  }
  if (n >= sizeof(path)) {
    fprintf(stderr, "samhost profile list: arguments too long\n");
    return SH_EXIT_USAGE;
  }
  path[n - 1] = '\0'; /* the last '&' or the '?' */
  rc = sh_request(g, "GET", path, NULL, &r);
  return finish(g, rc, &r, 1);
}

/*
 * See samhost.h.
 */
int sh_cmd_profile(int argc, char **argv, sh_global *g) {
  if (g->help || argc < 2) {
    help();
    return g->help ? SH_EXIT_OK : SH_EXIT_USAGE;
  }
  argc--;
  argv++;
  if (strcmp(argv[0], "create") == 0)
    return create_or_update(argc, argv, g, 1);
  if (strcmp(argv[0], "update") == 0)
    return create_or_update(argc, argv, g, 0);
  if (strcmp(argv[0], "show") == 0)
    return by_id(argc, argv, g, "GET", "");
  if (strcmp(argv[0], "delete") == 0)
    return by_id(argc, argv, g, "DELETE", "");
  if (strcmp(argv[0], "publish") == 0)
    return by_id(argc, argv, g, "POST", "/publish");
  if (strcmp(argv[0], "list") == 0)
    return list(argc, argv, g);
  fprintf(stderr, "samhost profile: unknown subcommand [%s]; see --help\n",
          argv[0]);
  return SH_EXIT_USAGE;
}
