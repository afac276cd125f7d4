/*
 * cli_output.c: how the admin CLI prints replies: raw JSON (--json), or
 * human-readable tables and "key: value" lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "samhost.h"

#define COL_MAX 48

/*
 * See samhost.h.
 */
const char *sh_jstr(json_object *o, const char *key) {
  json_object *v = NULL;
  const char *dot;
  char first[128];

  if (o == NULL || !json_object_is_type(o, json_type_object))
    return NULL;
  dot = strchr(key, '.');
  if (dot != NULL) {
    snprintf(first, sizeof(first), "%.*s", (int)(dot - key), key);
    if (!json_object_object_get_ex(o, first, &v))
      return NULL;
    return sh_jstr(v, dot + 1);
  }
  if (!json_object_object_get_ex(o, key, &v) || v == NULL)
    return NULL;
  if (json_object_is_type(v, json_type_string))
    return json_object_get_string(v);
  return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

/*
 * See samhost.h.
 */
void sh_print_json(const sh_reply *r) {
  if (r->json != NULL)
    printf("%s\n", json_object_to_json_string_ext(
                       r->json, JSON_C_TO_STRING_PRETTY |
                                    JSON_C_TO_STRING_NOSLASHESCAPE));
  else if (r->body != NULL)
    printf("%s\n", r->body);
}

/* The cell text of one column, cut to COL_MAX characters into out. */
static void cell(json_object *row, const char *col, char *out, size_t n) {
  const char *v = sh_jstr(row, col);
  size_t len;

  snprintf(out, n, "%s", v != NULL ? v : "-");
  len = strlen(out);
  if (len > COL_MAX) {
    out[COL_MAX - 3] = '.';
    out[COL_MAX - 2] = '.';
    out[COL_MAX - 1] = '.';
    out[COL_MAX] = '\0';
  }
}

/*
 * See samhost.h.
 */
void sh_print_table(json_object *items, const char *const *cols) {
  size_t widths[16] = {0};
  size_t i, c, rows, ncols = 0;
  char text[COL_MAX * 4 + 1];

  while (cols[ncols] != NULL && ncols < 16)
    ncols++;
  rows = items != NULL && json_object_is_type(items, json_type_array)
             ? json_object_array_length(items)
             : 0;
  if (rows == 0 || ncols == 0) {
    printf("(none)\n");
    return;
  }
  for (c = 0; c < ncols; c++)
    widths[c] = strlen(cols[c]);
  for (i = 0; i < rows; i++)
    for (c = 0; c < ncols; c++) {
      cell(json_object_array_get_idx(items, i), cols[c], text, sizeof(text));
      if (strlen(text) > widths[c])
        widths[c] = strlen(text);
    }
  for (c = 0; c < ncols; c++) {
    size_t k;
    for (k = 0; cols[c][k] != '\0'; k++)
      putchar(cols[c][k] >= 'a' && cols[c][k] <= 'z' ? cols[c][k] - 32
                                                     : cols[c][k]);
    printf("%*s", (int)(widths[c] - strlen(cols[c]) + 2), "");
  }
  putchar('\n');
  for (i = 0; i < rows; i++) {
    for (c = 0; c < ncols; c++) {
      cell(json_object_array_get_idx(items, i), cols[c], text, sizeof(text));
      printf("%-*s", (int)(widths[c] + 2), text);
    }
    putchar('\n');
  }
}

/*
 * See samhost.h.
 */
void sh_print_object(json_object *o) {
  if (o == NULL || !json_object_is_type(o, json_type_object))
    return;
  json_object_object_foreach(o, k, v) {
    if (v != NULL && json_object_is_type(v, json_type_string))
      printf("%s: %s\n", k, json_object_get_string(v));
    else
      printf("%s: %s\n", k,
             v == NULL ? "null"
                       : json_object_to_json_string_ext(
                             v, JSON_C_TO_STRING_PLAIN |
                                    JSON_C_TO_STRING_NOSLASHESCAPE));
  }
}
