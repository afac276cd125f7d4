/*
 * cli_misc.c: `samhost action`, `samhost list` and `samhost plugins`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "samhost.h"

#define MAX_AUTO_COLS 7

/* ---- action ---- */

static void action_help(void) {
  printf("Usage: samhost action PROFILE_ID ACTION_ID [PARAMS]\n\n"
         "Runs a profile action (e.g. validate_connection, get_oauth_token)\n"
         "and waits for its result. PARAMS: --field NAME=VALUE, --field\n"
         "NAME:=JSON, --json-body FILE|- (see `samhost profile --help`).\n");
  sh_help_common();
}

/*
 * See samhost.h.
 */
int sh_cmd_action(int argc, char **argv, sh_global *g) {
  const char *pos[2] = {NULL, NULL};
  char *body = NULL, *pe = NULL, *ae = NULL, *path = NULL;
  size_t npos = 0;
  sh_body b;
  sh_reply r;
  int i, t, rc = SH_EXIT_USAGE;

  if (g->help) {
    action_help();
    return SH_EXIT_OK;
  }
  memset(&b, 0, sizeof(b));
  for (i = 1; i < argc; i++) {
    if ((t = sh_body_opt(&b, &i, argc, argv)) != 0) {
      if (t < 0)
        goto done;
      continue;
    }
    if (argv[i][0] == '-' || npos == 2) {
      fprintf(stderr, "samhost action: unexpected argument [%s]\n", argv[i]);
      goto done;
    }
    pos[npos++] = argv[i];
  }
  if (npos != 2) {
    fprintf(stderr, "samhost action: give PROFILE_ID and ACTION_ID\n");
    goto done;
  }
  if (sh_body_text(&b, NULL, &body) != 0)
    goto done;
  pe = sh_escape(pos[0]);
  ae = sh_escape(pos[1]);
  path = pe && ae ? malloc(strlen(pe) + strlen(ae) + 40) : NULL;
  if (path == NULL) {
    rc = SH_EXIT_REMOTE;
    goto done;
  }
  sprintf(path, "/api/v1/profiles/%s/actions/%s", pe, ae);
  rc = sh_request(g, "POST", path, body != NULL ? body : "{}", &r);
  if (rc == SH_EXIT_OK) {
    if (g->json) {
      sh_print_json(&r);
    } else {
      const char *url = sh_jstr(r.json, "result.redirect_url");
      printf("%s: %s%s%s\n", pos[1], sh_jstr(r.json, "status"),
             sh_jstr(r.json, "message") && sh_jstr(r.json, "message")[0] ? " - "
                                                                         : "",
             sh_jstr(r.json, "message") ? sh_jstr(r.json, "message") : "");
      if (url != NULL)
        printf("open this URL in a browser to continue: %s\n", url);
    }
  }
  sh_reply_free(&r);

done:
  if (body != NULL) {
    memset(body, 0, strlen(body));
    free(body);
  }
  free(pe);
  free(ae);
  free(path);
  sh_body_free(&b);
  return rc;
}

/* ---- list ---- */

static void list_help(void) {
  printf("Usage: samhost list LIST --profile P [--filter FIELD=VALUE]...\n"
         "                   [--sort FIELD[,-]] [--limit N] [--cursor C]\n"
         "       samhost list LIST --profile P --add --field NAME=VALUE...\n"
         "       samhost list LIST --profile P --update KEY --field ...\n"
         "       samhost list LIST --profile P --delete KEY\n\n"
         "LIST is one of: models, unrecognized, jobs, job-results,\n"
         "subscriptions, identifier-exclusions, user-exclusions, rules,\n"
         "candidates.\n\n"
         "Editable lists: identifier-exclusions and user-exclusions (add,\n"
         "update, delete), rules (update: e.g. --field active:=false or\n"
         "--field last_activity_threshold_days:=90), unrecognized (update:\n"
         "--field software_model=<identifier>), candidates (update: --field\n"
         "state=<state> --field reason=<why>). --field NAME:=JSON sends a\n"
         "JSON value; --json-body FILE|- sends a whole object.\n");
  sh_help_common();
}

/* Appends "&name=value" (escaped) to the query in q (cap bytes). */
static int add_q(char *q, size_t cap, const char *name, const char *value) {
  char *ev = sh_escape(value);
  size_t n = strlen(q);
  int w;

  if (ev == NULL)
    return -1;
  w = snprintf(q + n, cap - n, "%s%s=%s", n ? "&" : "", name, ev);
  free(ev);
  return w < 0 || (size_t)w >= cap - n ? -1 : 0;
}

/* Columns for a table of arbitrary records: the scalar keys of the first
 * item, up to MAX_AUTO_COLS. */
static void auto_cols(json_object *items, const char **cols) {
  json_object *first = json_object_array_length(items) > 0
                           ? json_object_array_get_idx(items, 0)
                           : NULL;
  size_t n = 0;

  if (first != NULL && json_object_is_type(first, json_type_object)) {
    json_object_object_foreach(first, k, v) {
      if (n == MAX_AUTO_COLS)
        break;
      if (v == NULL || json_object_is_type(v, json_type_object) ||
          json_object_is_type(v, json_type_array) ||
          strcmp(k, "profile_id") == 0) /* given with --profile */
        continue;
      cols[n++] = k;
    }
  }
  cols[n] = NULL;
}

static const char *const job_cols[] = {
    "job_key",     "name",           "active", "next_run_at",
    "last_run_at", "running_job_id", NULL};
static const char *const result_cols[] = {"job_id",     "process_id", "trigger",
                                          "started_at", "outcome",    "message",
                                          NULL};

/*
 * See samhost.h.
 */
/* --add, --update KEY, --delete KEY: one item of an editable list. */
static int list_edit(sh_global *g,
                     const char *profile,
                     const char *name,
                     const char *method,
                     const char *key,
                     sh_body *b) {
  char path[3072];
  char *pe = sh_escape(profile), *le = sh_escape(name);
  char *ke = key != NULL ? sh_escape(key) : NULL;
  char *body = NULL;
  sh_reply r;
  int rc = SH_EXIT_REMOTE;

  memset(&r, 0, sizeof(r));
  if (pe == NULL || le == NULL || (key != NULL && ke == NULL))
    goto done;
  if (strcmp(method, "DELETE") != 0) {
    rc = sh_body_text(b, NULL, &body);
    if (rc != SH_EXIT_OK)
      goto done;
    if (body == NULL) {
      fprintf(stderr, "samhost list: %s needs --field or --json-body\n",
              strcmp(method, "POST") == 0 ? "--add" : "--update");
      rc = SH_EXIT_USAGE;
      goto done;
    }
  }
  snprintf(path, sizeof(path), "/api/v1/profiles/%s/lists/%s%s%s", pe, le,
           ke != NULL ? "/" : "", ke != NULL ? ke : "");
  rc = sh_request(g, method, path, body, &r);
  if (rc == SH_EXIT_OK) {
    if (g->json)
      sh_print_json(&r);
    else if (r.json != NULL)
      sh_print_object(r.json);
    else
      printf("ok\n");
  }
  sh_reply_free(&r);

done:
  free(body);
  free(pe);
  free(le);
  free(ke);
  return rc;
}

int sh_cmd_list(int argc, char **argv, sh_global *g) {
  const char *name = NULL, *profile = NULL, *v;
  const char *update_key = NULL, *delete_key = NULL;
  char q[2048] = "", path[3072], fname[160];
  char *pe = NULL, *le = NULL;
  sh_body b;
  sh_reply r;
  int i, t, rc, add = 0;

  if (g->help) {
    list_help();
    return SH_EXIT_OK;
  }
  memset(&b, 0, sizeof(b));
  for (i = 1; i < argc; i++) {
    t = 0;
    if ((t = sh_opt_value("--profile", &i, argc, argv, &v)) > 0)
      profile = v;
    else if (t == 0 && (t = sh_opt_value("--update", &i, argc, argv, &v)) > 0)
      update_key = v;
    else if (t == 0 && (t = sh_opt_value("--delete", &i, argc, argv, &v)) > 0)
      delete_key = v;
    else if (t == 0 && strcmp(argv[i], "--add") == 0) {
      add = 1;
      t = 1;
    } else if (t == 0 && (t = sh_body_opt(&b, &i, argc, argv)) != 0) {
      /* --field, --json-body, --secret-stdin: taken, or -1 */
    } else if (t == 0 && (t = sh_opt_value("--limit", &i, argc, argv, &v)) > 0)
      t = add_q(q, sizeof(q), "limit", v) == 0 ? 1 : -1;
    else if (t == 0 && (t = sh_opt_value("--cursor", &i, argc, argv, &v)) > 0)
      t = add_q(q, sizeof(q), "cursor", v) == 0 ? 1 : -1;
    else if (t == 0 && (t = sh_opt_value("--sort", &i, argc, argv, &v)) > 0)
      t = add_q(q, sizeof(q), "sort", v) == 0 ? 1 : -1;
    else if (t == 0 && (t = sh_opt_value("--filter", &i, argc, argv, &v)) > 0) {
      const char *eq = strchr(v, '=');
      if (eq == NULL || eq == v) {
        fprintf(stderr, "samhost list: --filter wants FIELD=VALUE [%s]\n", v);
        return SH_EXIT_USAGE;
      }
      snprintf(fname, sizeof(fname), "filter.%.*s", (int)(eq - v), v);
      t = add_q(q, sizeof(q), fname, eq + 1) == 0 ? 1 : -1;
    } else if (t == 0 && argv[i][0] != '-' && name == NULL) {
      name = argv[i];
      t = 1;
    } else if (t == 0) {
      fprintf(stderr, "samhost list: unexpected argument [%s]\n", argv[i]);
      t = -1;
    }
    if (t < 0) {
      sh_body_free(&b);
      return SH_EXIT_USAGE;
    }
  }
  if (name == NULL || profile == NULL) {
    fprintf(stderr, "samhost list: give LIST and --profile P (see --help)\n");
    sh_body_free(&b);
    return SH_EXIT_USAGE;
  }
  if (add + (update_key != NULL) + (delete_key != NULL) > 1) {
    fprintf(stderr, "samhost list: give one of --add, --update, --delete\n");
    sh_body_free(&b);
    return SH_EXIT_USAGE;
  }
  if (add || update_key != NULL || delete_key != NULL) {
    rc = list_edit(g, profile, name,
                   add                  ? "POST"
                   : update_key != NULL ? "PATCH"
                                        : "DELETE",
                   add                  ? NULL
                   : update_key != NULL ? update_key
                                        : delete_key,
                   &b);
    sh_body_free(&b);
    return rc;
  }
  sh_body_free(&b);
  pe = sh_escape(profile);
  le = sh_escape(name);
  if (pe == NULL || le == NULL) {
    free(pe);
    free(le);
    return SH_EXIT_REMOTE;
  }
  snprintf(path, sizeof(path), "/api/v1/profiles/%s/lists/%s%s%s", pe, le,
           q[0] ? "?" : "", q);
  free(pe);
  free(le);
  rc = sh_request(g, "GET", path, NULL, &r);
  if (rc == SH_EXIT_OK) {
    if (g->json) {
      sh_print_json(&r);
    } else {
      json_object *items = NULL;
      const char *cols[MAX_AUTO_COLS + 1];
      const char *next = sh_jstr(r.json, "next_cursor");
      json_object_object_get_ex(r.json, "items", &items);
      if (items != NULL && json_object_is_type(items, json_type_array)) {
        if (strcmp(name, "jobs") == 0)
          sh_print_table(items, job_cols);
        else if (strcmp(name, "job-results") == 0)
          sh_print_table(items, result_cols);
        else {
          auto_cols(items, cols);
          sh_print_table(items, cols);
        }
      }
      if (next != NULL && strcmp(next, "null") != 0)
        printf("more: --cursor %s\n", next);
    }
  }
  sh_reply_free(&r);
  return rc;
}

/* ---- plugins ---- */

static void print_ids(const char *label, const char *key, json_object *arr) {
  size_t i, n;

  if (arr == NULL || !json_object_is_type(arr, json_type_array))
    return;
  n = json_object_array_length(arr);
  printf("  %s:", label);
  for (i = 0; i < n; i++) {
    json_object *e = json_object_array_get_idx(arr, i);
    const char *id = json_object_is_type(e, json_type_string)
                         ? json_object_get_string(e)
                         : sh_jstr(e, key);
    printf(" %s", id != NULL ? id : "?");
  }
  printf("\n");
}

/* The form fields of a profile type: "name*" when required, "(secret)"
 * for x-sam-secret, "(read-only)" for readOnly. */
static void print_form(json_object *pt) {
  json_object *schema = NULL, *props = NULL, *req = NULL, *v;
  size_t i, n;

  if (!json_object_object_get_ex(pt, "form_schema", &schema))
    return;
  if (json_object_is_type(schema, json_type_string))
    return; /* only an object schema is described */
  if (!json_object_object_get_ex(schema, "properties", &props) ||
      !json_object_is_type(props, json_type_object))
    return;
  (void)json_object_object_get_ex(schema, "required", &req);
  printf("  form fields (* required):\n");
  json_object_object_foreach(props, k, p) {
    int required = 0;
    n = req != NULL && json_object_is_type(req, json_type_array)
            ? json_object_array_length(req)
            : 0;
    for (i = 0; i < n; i++)
      if (strcmp(json_object_get_string(json_object_array_get_idx(req, i)),
                 k) == 0)
        required = 1;
    printf("    %s%s", k, required ? "*" : "");
    if (json_object_object_get_ex(p, "x-sam-secret", &v) &&
        json_object_get_boolean(v))
      printf(" (secret)");
    if (json_object_object_get_ex(p, "readOnly", &v) &&
        json_object_get_boolean(v))
      printf(" (read-only)");
    printf("\n");
  }
}

/*
 * See samhost.h.
 */
int sh_cmd_plugins(int argc, char **argv, sh_global *g) {
  json_object *items = NULL;
  sh_reply r;
  size_t i, n;
  int rc;

  (void)argv;
  if (g->help) {
    printf("Usage: samhost plugins\n\n"
           "Lists the loaded plugins with their profile types, processes\n"
           "and actions (--json: everything the server reports).\n");
    sh_help_common();
    return SH_EXIT_OK;
  }
  if (argc > 1) {
    fprintf(stderr, "samhost plugins: unexpected argument [%s]\n", argv[1]);
    return SH_EXIT_USAGE;
  }
  rc = sh_request(g, "GET", "/api/v1/plugins", NULL, &r);
  if (rc == SH_EXIT_OK) {
    if (g->json) {
      sh_print_json(&r);
    } else {
      json_object_object_get_ex(r.json, "items", &items);
      n = items != NULL && json_object_is_type(items, json_type_array)
              ? json_object_array_length(items)
              : 0;
      for (i = 0; i < n; i++) {
        json_object *p = json_object_array_get_idx(items, i), *v = NULL;
        const char *deg = sh_jstr(p, "degraded");
        printf("%s %s%s\n", sh_jstr(p, "name") ? sh_jstr(p, "name") : "?",
               sh_jstr(p, "version") ? sh_jstr(p, "version") : "",
               deg != NULL && strcmp(deg, "true") == 0 ? " (degraded)" : "");
        printf("  profile type: %s (%s)\n",
               sh_jstr(p, "profile_type.type_id")
                   ? sh_jstr(p, "profile_type.type_id")
                   : "?",
               sh_jstr(p, "profile_type.display_name")
                   ? sh_jstr(p, "profile_type.display_name")
                   : "");
        if (json_object_object_get_ex(p, "profile_type", &v))
          print_form(v);
        if (json_object_object_get_ex(p, "processes", &v))
          print_ids("processes", "process_id", v);
        if (json_object_object_get_ex(p, "actions", &v))
          print_ids("actions", "action_id", v);
      }
      if (n == 0)
        printf("(no plugin loaded)\n");
    }
  }
  sh_reply_free(&r);
  return rc;
}
