/*
 * sim_store.c: the compact account store. Users are fixed-size structs
 * whose strings live in one arena, indexed by user id with an open
 * addressing table, so a million users take ~150 MB and pages are written
 * straight from the structs.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const sim_status_names[SIM_ST_COUNT] = {
    "Active", "ActivationSent", "ActivationRequired", "Disabled", "Closed"};

/*
 * Maps a userStatus name (case-insensitive, `n` bytes) to SIM_ST_*, or -1.
 */
int sim_status_from_name(const char *s, size_t n) {
  int i;

  for (i = 0; i < SIM_ST_COUNT; i++) {
    if (strlen(sim_status_names[i]) == n &&
        strncasecmp(sim_status_names[i], s, n) == 0)
      return i;
  }
  return -1;
}

/*
 * splitmix64: the simulator's only PRNG, so a seed gives the same account
 * on every machine.
 */
uint64_t sim_rand_next(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/*
 * The arena string at `off` ("" for 0). Borrowed.
 */
const char *sim_str(const sim_account *a, uint32_t off) {
  return off ? a->arena + off : "";
}

/*
 * Copies `n` bytes plus a NUL into the arena; *off receives the offset.
 * Returns 0 or -1 (out of memory or arena over 4 GB).
 */
int sim_arena_add(sim_account *a, const char *s, size_t n, uint32_t *off) {
  if (a->arena_len == 0) {
    a->arena_cap = 1 << 20;
    a->arena = malloc(a->arena_cap);
    if (a->arena == NULL)
      return -1;
    a->arena[0] = '\0';
    a->arena_len = 1;
  }
  if (a->arena_len + n + 1 > a->arena_cap) {
    size_t cap = a->arena_cap * 2;
    char *p;
    while (cap < a->arena_len + n + 1)
      cap *= 2;
    if (cap > UINT32_MAX)
      return -1;
    p = realloc(a->arena, cap);
    if (p == NULL)
      return -1;
    a->arena = p;
    a->arena_cap = cap;
  }
  memcpy(a->arena + a->arena_len, s, n);
  a->arena[a->arena_len + n] = '\0';
  *off = (uint32_t)a->arena_len;
  a->arena_len += n + 1;
  return 0;
}

static size_t hash_id(const uint8_t id[16]) {
  uint64_t h;

  memcpy(&h, id, 8);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return (size_t)h;
}

static void index_put(sim_account *a, size_t idx) {
  size_t mask = a->index_cap - 1;
  size_t h = hash_id(a->users[idx].id) & mask;

  while (a->index[h] != 0)
    h = (h + 1) & mask;
  a->index[h] = (uint32_t)idx + 1;
}

/*
 * Rebuilds the id index for the current users. Returns 0 or -1 (OOM).
 */
int sim_index_rebuild(sim_account *a) {
  size_t cap = 1024, i;

  while (cap < a->nusers * 2 + 2)
    cap *= 2;
  if (cap != a->index_cap) {
    uint32_t *p = realloc(a->index, cap * sizeof(*p));
    if (p == NULL)
      return -1;
    a->index = p;
    a->index_cap = cap;
  }
  memset(a->index, 0, cap * sizeof(*a->index));
  for (i = 0; i < a->nusers; i++)
    index_put(a, i);
  return 0;
}

/*
 * Appends a copy of `u` and indexes it. Returns 0 or -1 (OOM).
 */
int sim_user_append(sim_account *a, const sim_user *u) {
  if (a->nusers == a->capusers) {
    size_t cap = a->capusers ? a->capusers * 2 : 1024;
    sim_user *p = realloc(a->users, cap * sizeof(*p));
    if (p == NULL)
      return -1;
    a->users = p;
    a->capusers = cap;
  }
  a->users[a->nusers++] = *u;
  if (a->index_cap < a->nusers * 2 + 2)
    return sim_index_rebuild(a);
  index_put(a, a->nusers - 1);
  return 0;
}

/*
 * The index of the user with `id`, or -1.
 */
long sim_user_find(const sim_account *a, const uint8_t id[16]) {
  size_t mask, h;

  if (a->index_cap == 0)
    return -1;
  mask = a->index_cap - 1;
  h = hash_id(id) & mask;
  while (a->index[h] != 0) {
    size_t i = a->index[h] - 1;
    if (memcmp(a->users[i].id, id, 16) == 0)
      return (long)i;
    h = (h + 1) & mask;
  }
  return -1;
}

/*
 * Removes the user at `idx` from the account (kept insertion order) and
 * rebuilds the index. Loop thread; O(n), used by the control API only.
 */
void sim_user_remove(sim_account *a, size_t idx) {
  if (idx >= a->nusers)
    return;
  memmove(&a->users[idx], &a->users[idx + 1],
          (a->nusers - idx - 1) * sizeof(*a->users));
  a->nusers--;
  (void)sim_index_rebuild(a);
}

/*
 * Formats a 16-byte id as a lowercase GUID (8-4-4-4-12) into `out`.
 */
void sim_guid_fmt(const uint8_t id[16], char out[37]) {
  static const char hx[] = "0123456789abcdef";
  int i, o = 0;

  for (i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      out[o++] = '-';
    out[o++] = hx[id[i] >> 4];
    out[o++] = hx[id[i] & 15];
  }
  out[o] = '\0';
}

static int hexval(char ch) {
  if (ch >= '0' && ch <= '9')
    return ch - '0';
  if (ch >= 'a' && ch <= 'f')
    return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F')
    return ch - 'A' + 10;
  return -1;
}

/*
 * Parses a GUID (case-insensitive, dashes optional in the usual places).
 * Returns 0 or -1.
 */
int sim_guid_parse(const char *s, uint8_t id[16]) {
  int n = 0;

  if (s == NULL)
    return -1;
  while (*s && n < 32) {
    int v;
    if (*s == '-') {
      s++;
      continue;
    }
    v = hexval(*s++);
    if (v < 0)
      return -1;
    if (n % 2 == 0)
      id[n / 2] = (uint8_t)(v << 4);
    else
      id[n / 2] |= (uint8_t)v;
    n++;
  }
  return (n == 32 && *s == '\0') ? 0 : -1;
}

/*
 * The index of the profile called `name`; with `add`, creates it with the
 * next numeric id. Returns the index or -1.
 */
int sim_profile_find(sim_account *a, const char *name, int add) {
  int i;
  long max = 0;

  for (i = 0; i < a->nprofiles; i++) {
    if (strcmp(a->profiles[i].name, name) == 0)
      return i;
    if (atol(a->profiles[i].id) > max)
      max = atol(a->profiles[i].id);
  }
  if (!add || a->nprofiles == SIM_MAX_PROFILES)
    return -1;
  snprintf(a->profiles[i].id, sizeof(a->profiles[i].id), "%ld",
           max ? max + 1 : 10000001);
  snprintf(a->profiles[i].name, sizeof(a->profiles[i].name), "%s", name);
  a->nprofiles++;
  return i;
}

/*
 * The license slot (index + 1) for this type/status pair, added when new;
 * 0 when `type` is NULL or empty or the table is full.
 */
int sim_license_find(sim_account *a, const char *type, const char *status) {
  int i;

  if (type == NULL || *type == '\0')
    return 0;
  if (status == NULL)
    status = "";
  for (i = 0; i < a->nlicenses; i++) {
    if (strcmp(a->licenses[i].type, type) == 0 &&
        strcmp(a->licenses[i].status, status) == 0)
      return i + 1;
  }
  if (a->nlicenses == SIM_MAX_LICENSES)
    return 0;
  snprintf(a->licenses[i].type, sizeof(a->licenses[i].type), "%s", type);
  snprintf(a->licenses[i].status, sizeof(a->licenses[i].status), "%s", status);
  a->nlicenses++;
  return i + 1;
}

/*
 * A27: users Active, ActivationSent or ActivationRequired hold a seat,
 * whatever their permission profile.
 */
size_t sim_seats_in_use(const sim_account *a) {
  size_t i, n = 0;

  for (i = 0; i < a->nusers; i++) {
    uint8_t s = a->users[i].status;
    if (s == SIM_ST_ACTIVE || s == SIM_ST_ACTIVATION_SENT ||
        s == SIM_ST_ACTIVATION_REQUIRED)
      n++;
  }
  return n;
}

/*
 * Frees everything the account owns. NULL-safe; the struct is zeroed.
 */
void sim_account_free(sim_account *a) {
  if (a == NULL)
    return;
  json_object_put(a->info);
  json_object_put(a->plan);
  json_object_put(a->charges);
  free(a->users);
  free(a->arena);
  free(a->index);
  free(a->envs);
  memset(a, 0, sizeof(*a));
}
