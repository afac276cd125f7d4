/*
 * hostsvc_types.c: the host-owned record types of the SAM model
 * (SAM-MODEL.md 1), read from schemas/sam-*.schema.json at run time and
 * registered with the runtime with their key pointers and indexes.
 *
 * The schema directory is SAM_SCHEMA_DIR (a compile definition of
 * libsamhost), overridden by the environment variable SAM_SCHEMA_DIR.
 *
 * Indexes are what the related lists may filter on (filter.<field>=...):
 * keep them to fields a list view or a plugin look-up really needs, since
 * every index costs a row per record on each write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostsvc_int.h"

#ifndef SAM_SCHEMA_DIR
#define SAM_SCHEMA_DIR "schemas"
#endif

static const sam__hs_type type_table[] = {
    {"sam_profile", "sam-profile.schema.json", "/profile_id",
     "[\"/type_id\",\"/account_key\",\"/state\",\"/plugin\"]", NULL},
    {"sam_subscription", "sam-subscription.schema.json", "/external_user_id",
     "[\"/subscription_identifier\",\"/software_model\",\"/state\","
     "\"/active\",\"/upn_lower\",\"/excluded\"]",
     NULL},
    {"sam_software_model", "sam-software-model.schema.json", "/identifier",
     "[\"/source\",\"/edited\"]", NULL},
    {"sam_unrecognized_identifier", "sam-unrecognized-identifier.schema.json",
     "/identifier", "[\"/software_model\"]", NULL},
    {"sam_exclusion_identifier", "sam-exclusion-identifier.schema.json",
     "/rule_id", "[\"/profile_type\",\"/subscription_identifier\",\"/active\"]",
     NULL},
    {"sam_exclusion_user", "sam-exclusion-user.schema.json", "/rule_id",
     "[\"/user_principal_name\",\"/domain\",\"/profile_type\",\"/active\"]",
     NULL},
    {"sam_reclamation_rule", "sam-reclamation-rule.schema.json", "/rule_id",
     "[\"/template_id\",\"/software_model\",\"/active\",\"/edited\"]", NULL},
    {"sam_candidate", "sam-candidate.schema.json", "/candidate_id",
     "[\"/state\",\"/open\",\"/external_user_id\",\"/rule_id\"]", NULL},
    {"sam_scheduled_job", "sam-scheduled-job.schema.json", "/job_key",
     "[\"/profile_id\",\"/process_id\",\"/active\"]", NULL},
    {"sam_job_result", "sam-job-result.schema.json", "/job_id",
     "[\"/profile_id\",\"/process_id\",\"/job_key\",\"/outcome\"]", NULL},
    {"sam_entitlement", "sam-entitlement.schema.json", "/entitlement_id",
     "[\"/software_model\"]", NULL},
};

#define N_TYPES (sizeof(type_table) / sizeof(type_table[0]))

static char *read_file(const char *path, size_t *len_out) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  long n;

  if (f == NULL)
    return NULL;
  if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
      fseek(f, 0, SEEK_SET) != 0)
    goto done;
  buf = malloc((size_t)n + 1);
  if (buf == NULL)
    goto done;
  if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
    goto done;
  }
  buf[n] = '\0';
  *len_out = (size_t)n;
done:
  fclose(f);
  return buf;
}

int sam__hs_types_register(sam_hostsvc *svc, char *err, size_t err_len) {
  const char *dir = getenv("SAM_SCHEMA_DIR");
  char path[4096];
  char *text = NULL;
  size_t i, len = 0;
  int rc = 0;

  if (dir == NULL || dir[0] == '\0')
    dir = SAM_SCHEMA_DIR;
  svc->types = calloc(N_TYPES, sizeof(*svc->types));
  if (svc->types == NULL)
    return SAM_ENOMEM;
  svc->n_types = N_TYPES;
  for (i = 0; i < N_TYPES; i++) {
    sam_record_type_desc d;
    char why[512] = "";

    svc->types[i] = type_table[i];
    snprintf(path, sizeof(path), "%s/%s", dir, type_table[i].file);
    text = read_file(path, &len);
    if (text == NULL) {
      snprintf(err, err_len,
               "cannot read a host record schema [path=%s]; set "
               "SAM_SCHEMA_DIR to the schemas/ directory",
               path);
      rc = SAM_EINVAL;
      goto done;
    }
    svc->types[i].schema = json_tokener_parse(text);
    if (svc->types[i].schema == NULL) {
      snprintf(err, err_len, "host record schema is not JSON [path=%s]", path);
      rc = SAM_EINVAL;
      goto done;
    }
    memset(&d, 0, sizeof(d));
    d.struct_size = sizeof(d);
    d.schema_version = 1;
    d.record_type = type_table[i].name;
    d.schema_json = text;
    d.schema_len = len;
    d.key_pointer = type_table[i].key;
    d.indexes_json = type_table[i].indexes;
    d.flags = SAM_RECORD_VALIDATE_WRITES;
    rc = sam_runtime_register_record_type(svc->rt, &d, why, sizeof(why));
    if (rc == SAM_EEXIST) {
      rc = 0; /* registered by an earlier service on the same runtime */
    } else if (rc != 0) {
      snprintf(err, err_len,
               "registering a host record type failed [type=%s] [%s] [%s]",
               type_table[i].name, sam_err_name(rc), why);
      goto done;
    }
    free(text);
    text = NULL;
  }
done:
  free(text);
  return rc;
}

void sam__hs_types_free(sam_hostsvc *svc) {
  size_t i;

  for (i = 0; i < svc->n_types; i++)
    json_object_put(svc->types[i].schema);
  free(svc->types);
  svc->types = NULL;
  svc->n_types = 0;
}

const sam__hs_type *sam__hs_type_find(sam_hostsvc *svc, const char *name) {
  size_t i;

  for (i = 0; i < svc->n_types; i++) {
    if (strcmp(svc->types[i].name, name) == 0)
      return &svc->types[i];
  }
  return NULL;
}

int sam__hs_type_indexed(const sam__hs_type *t, const char *pointer) {
  char q[300];

  snprintf(q, sizeof(q), "\"%s\"", pointer);
  return strstr(t->indexes, q) != NULL;
}

const char *sam__hs_type_prop_type(const sam__hs_type *t, const char *prop) {
  json_object *props, *p, *ty;
  size_t i, n;

  if (!json_object_object_get_ex(t->schema, "properties", &props) ||
      !json_object_object_get_ex(props, prop, &p))
    return NULL;
  if (!json_object_object_get_ex(p, "type", &ty)) {
    json_object *en;

    /* An enum of strings (state) or a const. */
    if (json_object_object_get_ex(p, "enum", &en) ||
        json_object_object_get_ex(p, "const", &en))
      return "string";
    return NULL;
  }
  if (json_object_is_type(ty, json_type_string))
    return json_object_get_string(ty);
  n = json_object_array_length(ty);
  for (i = 0; i < n; i++) {
    const char *s = json_object_get_string(json_object_array_get_idx(ty, i));

    if (strcmp(s, "null") != 0)
      return s;
  }
  return NULL;
}
