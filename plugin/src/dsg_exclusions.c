/*
 * dsg_exclusions.c: identifier and user exclusion rules. The rule lists are
 * short (entered by hand), so matching is a linear scan over lower-cased
 * copies made once at compile time.
 */
#include "dsg_exclusions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sam/sam_plugin.h"

typedef struct xrule {
  char *rule_id;
  char *identifier; /* id rules: verbatim */
  char *upn_lower;  /* user rules: exact UPN, lower-cased */
  char *domain;     /* lower-cased, no leading '@'; NULL = any */
} xrule;

struct dsg_exclusions {
  xrule *id_rules;
  size_t n_id;
  xrule *user_rules;
  size_t n_user;
};

char *dsg_str_lower(const char *s) {
  size_t n, i;
  unsigned char *o;

  if (s == NULL)
    s = "";
  n = strlen(s);
  o = malloc(n + 1);
  if (o == NULL)
    return NULL;
  memcpy(o, s, n + 1);
  for (i = 0; i < n; i++) {
    unsigned char c = o[i];
    unsigned cp;

    if (c >= 'A' && c <= 'Z') {
      o[i] = (unsigned char)(c + 32);
      continue;
    }
    if (c < 0xC2 || c > 0xDF || i + 1 >= n || (o[i + 1] & 0xC0) != 0x80)
      continue;
    cp = ((unsigned)(c & 0x1F) << 6) | (o[i + 1] & 0x3F);
    if ((cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) ||
        (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2) ||
        (cp >= 0x410 && cp <= 0x42F))
      cp += 0x20;
    else if (cp >= 0x400 && cp <= 0x40F)
      cp += 0x50;
    else {
      i++;
      continue;
    }
    o[i] = (unsigned char)(0xC0 | (cp >> 6));
    o[i + 1] = (unsigned char)(0x80 | (cp & 0x3F));
    i++;
  }
  return (char *)o;
}

static const char *get_str(json_object *o, const char *key) {
  json_object *v = NULL;

  if (!json_object_object_get_ex(o, key, &v) ||
      !json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_string(v);
}

static int get_active(json_object *o) {
  json_object *v = NULL;

  return json_object_object_get_ex(o, "active", &v) &&
         json_object_is_type(v, json_type_boolean) &&
         json_object_get_boolean(v);
}

static void xrule_free(xrule *r) {
  free(r->rule_id);
  free(r->identifier);
  free(r->upn_lower);
  free(r->domain);
}

void dsg_exclusions_free(dsg_exclusions *m) {
  size_t i;

  if (m == NULL)
    return;
  for (i = 0; i < m->n_id; i++)
    xrule_free(&m->id_rules[i]);
  for (i = 0; i < m->n_user; i++)
    xrule_free(&m->user_rules[i]);
  free(m->id_rules);
  free(m->user_rules);
  free(m);
}

size_t dsg_exclusions_count(const dsg_exclusions *m) {
  return m == NULL ? 0 : m->n_id + m->n_user;
}

/* Lower-cased domain without a leading '@'; NULL for none/empty. */
static int dup_domain(const char *d, char **out) {
  *out = NULL;
  if (d == NULL)
    return 0;
  while (*d == '@')
    d++;
  if (*d == '\0')
    return 0;
  *out = dsg_str_lower(d);
  return *out == NULL ? SAM_ENOMEM : 0;
}

static int
compile_id_rule(json_object *o, const char *profile_type, xrule *r, int *used) {
  const char *id = get_str(o, "rule_id");
  const char *ident = get_str(o, "subscription_identifier");
  const char *pt = get_str(o, "profile_type");

  *used = 0;
  memset(r, 0, sizeof(*r));
  if (id == NULL || ident == NULL || *ident == '\0' || !get_active(o) ||
      pt == NULL || strcmp(pt, profile_type) != 0)
    return 0;
  r->rule_id = strdup(id);
  r->identifier = strdup(ident);
  if (r->rule_id == NULL || r->identifier == NULL ||
      dup_domain(get_str(o, "domain"), &r->domain) != 0) {
    xrule_free(r);
    return SAM_ENOMEM;
  }
  *used = 1;
  return 0;
}

static int compile_user_rule(json_object *o,
                             const char *profile_type,
                             xrule *r,
                             int *used) {
  const char *id = get_str(o, "rule_id");
  const char *upn = get_str(o, "user_principal_name");
  const char *pt = get_str(o, "profile_type");
  const char *dom = get_str(o, "domain");

  *used = 0;
  memset(r, 0, sizeof(*r));
  if (id == NULL || !get_active(o))
    return 0;
  if (pt != NULL && *pt != '\0' && strcmp(pt, profile_type) != 0)
    return 0;
  if (upn != NULL && *upn == '\0')
    upn = NULL;
  while (dom != NULL && *dom == '@')
    dom++;
  if (dom != NULL && *dom == '\0')
    dom = NULL;
  if (upn == NULL && dom == NULL)
    return 0;
  r->rule_id = strdup(id);
  if (r->rule_id == NULL)
    goto nomem;
  if (upn != NULL) {
    r->upn_lower = dsg_str_lower(upn);
    if (r->upn_lower == NULL)
      goto nomem;
  } else if (dup_domain(dom, &r->domain) != 0) {
    goto nomem;
  }
  *used = 1;
  return 0;

nomem:
  xrule_free(r);
  return SAM_ENOMEM;
}

static int compile_list(json_object *arr,
                        const char *profile_type,
                        int user,
                        xrule **out,
                        size_t *n_out,
                        size_t *skipped) {
  size_t n, i;
  xrule *rules;

  *out = NULL;
  *n_out = 0;
  if (arr == NULL)
    return 0;
  n = json_object_array_length(arr);
  if (n == 0)
    return 0;
  rules = calloc(n, sizeof(*rules));
  if (rules == NULL)
    return SAM_ENOMEM;
  *out = rules;
  for (i = 0; i < n; i++) {
    json_object *o = json_object_array_get_idx(arr, i);
    int used = 0;
    int rc;

    if (!json_object_is_type(o, json_type_object)) {
      (*skipped)++;
      continue;
    }
    rc = user ? compile_user_rule(o, profile_type, &rules[*n_out], &used)
              : compile_id_rule(o, profile_type, &rules[*n_out], &used);
    if (rc != 0)
      return rc;
    if (used)
      (*n_out)++;
    else
      (*skipped)++;
  }
  return 0;
}

int dsg_exclusions_new(const char *profile_type,
                       json_object *id_rules,
                       json_object *user_rules,
                       dsg_exclusions **out,
                       size_t *skipped,
                       char *err,
                       size_t errlen) {
  dsg_exclusions *m = NULL;
  size_t skip = 0;
  int rc = SAM_EINVAL;

  *out = NULL;
  if (skipped != NULL)
    *skipped = 0;
  if (profile_type == NULL) {
    snprintf(err, errlen, "exclusions: profile_type is required");
    goto fail;
  }
  if (id_rules != NULL && !json_object_is_type(id_rules, json_type_array)) {
    snprintf(err, errlen, "exclusions: identifier rules are not an array");
    goto fail;
  }
  if (user_rules != NULL && !json_object_is_type(user_rules, json_type_array)) {
    snprintf(err, errlen, "exclusions: user rules are not an array");
    goto fail;
  }
  rc = SAM_ENOMEM;
  m = calloc(1, sizeof(*m));
  if (m == NULL)
    goto fail;
  /* Assign each list to m right away so a failure frees what was built. */
  rc = compile_list(id_rules, profile_type, 0, &m->id_rules, &m->n_id, &skip);
  if (rc != 0)
    goto fail;
  rc = compile_list(user_rules, profile_type, 1, &m->user_rules, &m->n_user,
                    &skip);
  if (rc != 0)
    goto fail;
  if (skipped != NULL)
    *skipped = skip;
  *out = m;
  return 0;

fail:
  if (rc == SAM_ENOMEM && err != NULL)
    snprintf(err, errlen, "exclusions: out of memory");
  dsg_exclusions_free(m);
  return rc;
}

/* The part after the last '@' of upn, or NULL. */
static const char *upn_domain(const char *upn_lower) {
  const char *at = strrchr(upn_lower, '@');

  return at == NULL || at[1] == '\0' ? NULL : at + 1;
}

int dsg_exclusions_match(const dsg_exclusions *m,
                         const char *identifier,
                         const char *upn,
                         char *reason,
                         size_t reasonlen) {
  char *lower = NULL;
  const char *dom = NULL;
  size_t i;
  int hit = 0;

  if (reason != NULL && reasonlen > 0)
    reason[0] = '\0';
  if (m == NULL || (m->n_id == 0 && m->n_user == 0))
    return 0;
  if (upn != NULL) {
    lower = dsg_str_lower(upn);
    if (lower != NULL)
      dom = upn_domain(lower);
  }
  if (reasonlen > 300) /* sam_subscription.exclusion_reason maxLength */
    reasonlen = 301;
  for (i = 0; identifier != NULL && i < m->n_id && !hit; i++) {
    const xrule *r = &m->id_rules[i];

    if (strcmp(r->identifier, identifier) != 0)
      continue;
    if (r->domain != NULL && (dom == NULL || strcmp(r->domain, dom) != 0))
      continue;
    hit = 1;
    if (reason != NULL)
      snprintf(reason, reasonlen,
               "excluded by identifier exclusion rule [%s]: identifier [%s]%s"
               "%s%s",
               r->rule_id, r->identifier, r->domain ? " in domain [" : "",
               r->domain ? r->domain : "", r->domain ? "]" : "");
  }
  for (i = 0; lower != NULL && i < m->n_user && !hit; i++) {
    const xrule *r = &m->user_rules[i];

    if (r->upn_lower != NULL) {
      if (strcmp(r->upn_lower, lower) != 0)
        continue;
      hit = 1;
      if (reason != NULL)
        snprintf(reason, reasonlen,
                 "excluded by user exclusion rule [%s]: user [%s]", r->rule_id,
                 r->upn_lower);
    } else if (dom != NULL && strcmp(r->domain, dom) == 0) {
      hit = 1;
      if (reason != NULL)
        snprintf(reason, reasonlen,
                 "excluded by user exclusion rule [%s]: domain [%s]",
                 r->rule_id, r->domain);
    }
  }
  free(lower);
  return hit;
}
