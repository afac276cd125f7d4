/*
 * sim_gen.c: deterministic accounts from --users N --seed S. The mix of
 * statuses, profiles, licenses, dates and envelopes is documented in
 * tools/docusign-sim/README.md; change both together.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

/* display name, ASCII form for the e-mail address */
static const char *const firsts[][2] = {
    {"James", "James"},   {"Mary", "Mary"},         {"José", "Jose"},
    {"Zoë", "Zoe"},       {"Łukasz", "Lukasz"},     {"Søren", "Soren"},
    {"Aiko", "Aiko"},     {"Priya", "Priya"},       {"Olga", "Olga"},
    {"Chloé", "Chloe"},   {"Mohammed", "Mohammed"}, {"Wei", "Wei"},
    {"Fatima", "Fatima"}, {"Björn", "Bjorn"},       {"Ana", "Ana"},
    {"Dmitri", "Dmitri"}, {"Nguyễn", "Nguyen"},     {"Sean", "Sean"},
    {"Grace", "Grace"},   {"Ингрид", "Ingrid"},
};
static const char *const lasts[][2] = {
    {"Smith", "Smith"},    {"García", "Garcia"},       {"Müller", "Muller"},
    {"O'Brien", "OBrien"}, {"Kowalski", "Kowalski"},   {"Ødegaard", "Odegaard"},
    {"山田", "Yamada"},    {"Patel", "Patel"},         {"Иванова", "Ivanova"},
    {"Dubois", "Dubois"},  {"Haddad", "Haddad"},       {"Chen", "Chen"},
    {"Nguyen", "Nguyen"},  {"Lindqvist", "Lindqvist"}, {"Silva", "Silva"},
    {"Novák", "Novak"},    {"Brown", "Brown"},         {"Johnson", "Johnson"},
};
static const char *const domains[] = {"Example.com", "example.com",
                                      "EXAMPLE.COM", "corp.Example.com"};

#define NFIRST (sizeof(firsts) / sizeof(firsts[0]))
#define NLAST (sizeof(lasts) / sizeof(lasts[0]))

/* profiles in table order; index 0 must stay Account Administrator */
static const char *const gen_profiles[] = {"Account Administrator",
                                           "DocuSign Sender", "DocuSign Viewer",
                                           "Legal Sender", "Finance Viewer"};

static const char *const gen_licenses[][2] = {
    {"Professional", "active"},  {"Business Pro", "active"},
    {"Sender", "active"},        {"Viewer", "active"},
    {"Professional", "pending"},
};

static double frand(uint64_t *rng) {
  return (double)(sim_rand_next(rng) >> 11) / 9007199254740992.0;
}

static int64_t rand_ticks(uint64_t *rng, int64_t max_ticks) {
  return (int64_t)(frand(rng) * (double)max_ticks);
}

static void rand_id(uint64_t *rng, uint8_t id[16]) {
  uint64_t x = sim_rand_next(rng), y = sim_rand_next(rng);

  memcpy(id, &x, 8);
  memcpy(id + 8, &y, 8);
  id[6] = (uint8_t)((id[6] & 0x0f) | 0x40); /* looks like a v4 GUID */
  id[8] = (uint8_t)((id[8] & 0x3f) | 0x80);
}

static int pick_status(uint64_t *rng) {
  double r = frand(rng);

  if (r < 0.80)
    return SIM_ST_ACTIVE;
  if (r < 0.86)
    return SIM_ST_ACTIVATION_SENT;
  if (r < 0.89)
    return SIM_ST_ACTIVATION_REQUIRED;
  if (r < 0.93)
    return SIM_ST_DISABLED;
  return SIM_ST_CLOSED;
}

static int pick_profile(uint64_t *rng) {
  double r = frand(rng);

  if (r < 0.03)
    return 0; /* Account Administrator */
  if (r < 0.63)
    return 1;
  if (r < 0.88)
    return 2;
  if (r < 0.93)
    return 3;
  return 4;
}

/*
 * Appends one generated user (names, mixed-case e-mail, dates with the
 * placeholder and missing values, license for ~60 %). `status` < 0 picks
 * a status from the mix. Loop thread. Returns 0 or -1 (OOM).
 */
int sim_user_generate(sim_account *a, uint64_t *rng, int64_t now, int status) {
  sim_user u;
  char buf[256];
  uint64_t n = a->nusers + 1;
  size_t fi = sim_rand_next(rng) % NFIRST, li = sim_rand_next(rng) % NLAST;
  const char *dom = domains[sim_rand_next(rng) % 4];
  double r;
  int len, p;

  memset(&u, 0, sizeof(u));
  rand_id(rng, u.id);
  if (sim_arena_add(a, firsts[fi][0], strlen(firsts[fi][0]), &u.first) ||
      sim_arena_add(a, lasts[li][0], strlen(lasts[li][0]), &u.last))
    return -1;
  len = snprintf(buf, sizeof(buf), "%s %s", firsts[fi][0], lasts[li][0]);
  if (sim_arena_add(a, buf, (size_t)len, &u.user_name))
    return -1;
  switch (sim_rand_next(rng) % 3) {
  case 0:
    len = snprintf(buf, sizeof(buf), "%s.%s%llu@%s", firsts[fi][1],
                   lasts[li][1], (unsigned long long)n, dom);
    break;
  case 1: {
    int i;
    len = snprintf(buf, sizeof(buf), "%s.%s%llu@%s", firsts[fi][1],
                   lasts[li][1], (unsigned long long)n, dom);
    for (i = 0; i < len && buf[i] != '@'; i++)
      if (buf[i] >= 'A' && buf[i] <= 'Z')
        buf[i] = (char)(buf[i] + 32);
    break;
  }
  default:
    len = snprintf(buf, sizeof(buf), "%c%s%llu@%s", firsts[fi][1][0],
                   lasts[li][1], (unsigned long long)n, dom);
    break;
  }
  if (sim_arena_add(a, buf, (size_t)len, &u.email))
    return -1;
  u.status = (uint8_t)(status >= 0 ? status : pick_status(rng));
  p = pick_profile(rng);
  u.profile = (uint8_t)p;
  if (p == 0)
    u.flags |= SIM_UF_ADMIN;
  r = frand(rng);
  if (r < 0.02)
    u.created = SIM_T_NONE;
  else
    u.created =
        now - rand_ticks(rng, 1500LL * 86400 * SIM_TICKS) - 86400LL * SIM_TICKS;
  r = frand(rng);
  if (r < 0.05)
    u.added = SIM_T_PLACEHOLDER;
  else if (r < 0.08 || u.created == SIM_T_NONE)
    u.added = SIM_T_NONE;
  else
    u.added = u.created + rand_ticks(rng, 30LL * 86400 * SIM_TICKS);
  if (u.added != SIM_T_NONE && u.added != SIM_T_PLACEHOLDER && u.added > now)
    u.added = now;
  if (frand(rng) < 0.6) {
    int li2 = p == 2 || p == 4 ? 3 : (int)(sim_rand_next(rng) % 3);
    if (frand(rng) < 0.05)
      li2 = 4;
    u.license = (uint8_t)sim_license_find(a, gen_licenses[li2][0],
                                          gen_licenses[li2][1]);
  }
  u.groups = 1; /* Everyone */
  if (u.flags & SIM_UF_ADMIN)
    u.groups |= 2;
  if (frand(rng) < 0.3)
    u.groups |= (uint16_t)(4u << (sim_rand_next(rng) % 3));
  return sim_user_append(a, &u);
}

static int is_sender(const sim_user *u) {
  return u->profile == 0 || u->profile == 1 || u->profile == 3;
}

/* Envelopes of one sender over the past year; some senders went quiet
 * months ago so that inactivity rules have something to find. */
static int
gen_envelopes(sim_account *a, uint64_t *rng, int64_t now, size_t *cap) {
  size_t i;

  for (i = 0; i < a->nusers; i++) {
    sim_user *u = &a->users[i];
    int k, n;
    int64_t newest;
    if (!is_sender(u) || u->status == SIM_ST_ACTIVATION_SENT ||
        u->status == SIM_ST_ACTIVATION_REQUIRED)
      continue;
    if (frand(rng) < 0.3)
      continue;
    n = 1 + (int)(sim_rand_next(rng) % 8);
    /* the newest envelope is 0..365 days old */
    newest = now - rand_ticks(rng, 365LL * 86400 * SIM_TICKS);
    u->env_first = (uint32_t)a->nenvs;
    u->env_count = (uint16_t)n;
    for (k = 0; k < n; k++) {
      sim_env *e;
      double r;
      if (a->nenvs == *cap) {
        size_t nc = *cap ? *cap * 2 : 4096;
        sim_env *p = realloc(a->envs, nc * sizeof(*p));
        if (p == NULL)
          return -1;
        a->envs = p;
        *cap = nc;
      }
      e = &a->envs[a->nenvs++];
      memset(e, 0, sizeof(*e));
      e->completed = SIM_T_NONE;
      rand_id(rng, e->id);
      e->sender = (uint32_t)i;
      e->sent =
          k == 0 ? newest : newest - rand_ticks(rng, 200LL * 86400 * SIM_TICKS);
      e->created = e->sent - rand_ticks(rng, 3600LL * SIM_TICKS);
      r = frand(rng);
      if (r < 0.6) {
        e->status = 0; /* completed */
        e->completed = e->sent + rand_ticks(rng, 3LL * 86400 * SIM_TICKS);
        if (e->completed > now)
          e->completed = now;
        e->changed = e->completed;
      } else if (r < 0.75) {
        e->status = 1; /* sent */
        e->changed = e->sent;
      } else if (r < 0.85) {
        e->status = 2; /* delivered */
        e->changed = e->sent + rand_ticks(rng, 86400LL * SIM_TICKS);
      } else if (r < 0.9) {
        e->status = 3; /* declined */
        e->changed = e->sent + rand_ticks(rng, 86400LL * SIM_TICKS);
      } else if (r < 0.95) {
        e->status = 4; /* voided */
        e->changed = e->sent + rand_ticks(rng, 86400LL * SIM_TICKS);
      } else {
        e->status = 5; /* created: a draft, never sent */
        e->created = e->sent;
        e->sent = SIM_T_NONE;
        e->changed = e->created;
      }
      if (e->changed > now)
        e->changed = now;
    }
  }
  return 0;
}

/*
 * Fills `a` with `nusers` users (the first is the Active administrator who
 * consents), groups, envelopes and account/billing data derived from
 * `seed`. Loop thread, before serving. Returns 0 or -1 (OOM).
 */
int sim_gen_account(sim_account *a, size_t nusers, uint64_t seed) {
  uint64_t rng = seed * 0x2545f4914f6cdd1dull + 1;
  int64_t now = sim_time_now();
  size_t i, envcap = 0;
  uint8_t gid[16];

  rand_id(&rng, gid);
  sim_guid_fmt(gid, a->guid);
  snprintf(a->external_id, sizeof(a->external_id), "%llu",
           (unsigned long long)(10000000 + sim_rand_next(&rng) % 89999999));
  snprintf(a->name, sizeof(a->name), "Simulated Account %llu",
           (unsigned long long)seed);
  for (i = 0; i < sizeof(gen_profiles) / sizeof(gen_profiles[0]); i++) {
    int p = sim_profile_find(a, gen_profiles[i], 1);
    snprintf(a->profiles[p].id, sizeof(a->profiles[p].id), "%llu",
             (unsigned long long)(16390141 + i * 7));
  }
  {
    static const char *const g[][2] = {{"Everyone", "EveryoneGroup"},
                                       {"Administrators", "AdminGroup"},
                                       {"Sales", "CustomGroup"},
                                       {"Legal", "CustomGroup"},
                                       {"Finance", "CustomGroup"}};
    for (i = 0; i < 5; i++) {
      snprintf(a->groups[i].id, sizeof(a->groups[i].id), "%llu",
               (unsigned long long)(8430000 + i * 13));
      snprintf(a->groups[i].name, sizeof(a->groups[i].name), "%s", g[i][0]);
      snprintf(a->groups[i].type, sizeof(a->groups[i].type), "%s", g[i][1]);
      a->groups[i].profile = (uint8_t)(i == 1 ? 0 : i == 3 ? 3 : 1);
    }
    a->ngroups = 5;
  }
  a->users = malloc((nusers ? nusers : 1) * sizeof(*a->users));
  if (a->users == NULL)
    return -1;
  a->capusers = nusers ? nusers : 1;
  a->index_cap = 0;
  if (sim_index_rebuild(a) != 0)
    return -1;
  for (i = 0; i < nusers; i++) {
    if (sim_user_generate(a, &rng, now, -1) != 0)
      return -1;
  }
  if (nusers > 0) {
    sim_user *u = &a->users[0];
    uint32_t off;
    u->status = SIM_ST_ACTIVE;
    u->profile = 0;
    u->flags |= SIM_UF_ADMIN;
    u->groups |= 2;
    if (sim_arena_add(a, "Integration Admin", 17, &off) != 0)
      return -1;
    u->user_name = off;
    if (sim_arena_add(a, "Integration", 11, &u->first) != 0 ||
        sim_arena_add(a, "Admin", 5, &u->last) != 0)
      return -1;
    memcpy(a->integ_id, u->id, 16);
  }
  if (gen_envelopes(a, &rng, now, &envcap) != 0)
    return -1;
  a->next_rand = rng;
  sim_account_finish(a, now);
  return 0;
}
