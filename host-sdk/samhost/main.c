/*
 * main.c: `samhost`, the reference SAM host: `serve` runs the host; the
 * other commands are its admin CLI, which talks to the running server's
 * REST API on loopback (or works offline on the data directory for
 * `key rotate` and `token reset`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "samhost.h"

/*
 * See samhost.h.
 */
void sh_help_common(void) {
  printf("\nGlobal options (anywhere on the line):\n"
         "  --data-dir DIR     data directory (default $SAM_DATA_DIR, else\n"
         "                     ~/.local/share/samhost)\n"
         "  --server URL       the server (default: the URL the running\n"
         "                     server wrote into DIR/samhost.lock, else\n"
         "                     http://" SH_DEFAULT_LISTEN ")\n"
         "  --token TOKEN      admin token (or $SAM_ADMIN_TOKEN)\n"
         "  --token-file FILE  read the admin token from FILE\n"
         "  --json             print the server's raw JSON reply\n"
         "  -h, --help         this help\n"
         "\nExit codes:\n"
         "  0  success\n"
         "  1  usage error (bad command or option)\n"
         "  2  the server or the data refused the request (message on "
         "stderr)\n"
         "  3  cannot reach the server\n"
         "  4  authentication failed (admin token missing or wrong)\n");
}

static void usage(void) {
  printf("Usage: samhost <command> [options]\n\n"
         "Commands:\n"
         "  serve                          run the host (HTTP API, scheduler, "
         "plugins)\n"
         "  profile create|show|list|update|delete|publish\n"
         "                                 integration profiles\n"
         "  action <profile> <action>      run a profile action\n"
         "  job run|list|results           scheduled jobs and their runs\n"
         "  list <related-list> --profile P\n"
         "                                 a profile's related list\n"
         "  plugins                        loaded plugins and profile types\n"
         "  key rotate                     new master key; re-seal secrets "
         "(offline)\n"
         "  token reset                    new admin token (offline)\n"
         "\nRun `samhost <command> --help` for a command's options.\n");
  sh_help_common();
}

static int take_value(int *i, int argc, char **argv, const char **out) {
  const char *a = argv[*i];
  const char *eq = strchr(a, '=');

  if (eq != NULL) {
    *out = eq + 1;
    return 0;
  }
  if (*i + 1 >= argc) {
    fprintf(stderr, "samhost: option needs a value [%s]\n", a);
    return -1;
  }
  *out = argv[++*i];
  return 0;
}

static int opt_is(const char *a, const char *name) {
  size_t n = strlen(name);

  return strncmp(a, name, n) == 0 && (a[n] == '\0' || a[n] == '=');
}

/*
 * See samhost.h.
 */
int sh_global_parse(int *argc, char **argv, sh_global *g) {
  int i, o = 1;

  for (i = 1; i < *argc; i++) {
    const char *a = argv[i];
    const char **slot = NULL;

    if (strcmp(a, "--") == 0) {
      while (i < *argc)
        argv[o++] = argv[i++];
      break;
    }
    if (opt_is(a, "--data-dir"))
      slot = &g->data_dir;
    else if (opt_is(a, "--server"))
      slot = &g->server;
    else if (opt_is(a, "--token"))
      slot = &g->token;
    else if (opt_is(a, "--token-file"))
      slot = &g->token_file;
    if (slot != NULL) {
      if (take_value(&i, *argc, argv, slot) != 0)
        return SH_EXIT_USAGE;
      continue;
    }
    if (strcmp(a, "--json") == 0) {
      g->json = 1;
      continue;
    }
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      g->help = 1;
      continue;
    }
    argv[o++] = argv[i];
  }
  argv[o] = NULL;
  *argc = o;
  if (g->token == NULL)
    g->token = getenv("SAM_ADMIN_TOKEN");
  if (g->data_dir == NULL)
    g->data_dir = sh_default_data_dir();
  return 0;
}

int main(int argc, char **argv) {
  static const struct {
    const char *name;
    int (*fn)(int, char **, sh_global *);
  } cmds[] = {
      {"serve", sh_cmd_serve},   {"profile", sh_cmd_profile},
      {"action", sh_cmd_action}, {"job", sh_cmd_job},
      {"list", sh_cmd_list},     {"plugins", sh_cmd_plugins},
      {"key", sh_cmd_key},       {"token", sh_cmd_token},
  };
  sh_global g;
  size_t i;
  int rc;

  memset(&g, 0, sizeof(g));
  rc = sh_global_parse(&argc, argv, &g);
  if (rc != 0)
    return rc;
  if (argc < 2) {
    usage();
    return g.help ? SH_EXIT_OK : SH_EXIT_USAGE;
  }
  if (strcmp(argv[1], "help") == 0) {
    usage();
    return SH_EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("samhost %s\n", SAM_HOST_VERSION);
    return SH_EXIT_OK;
  }
  for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
    if (strcmp(argv[1], cmds[i].name) == 0)
      return cmds[i].fn(argc - 1, argv + 1, &g);
  fprintf(stderr, "samhost: unknown command [%s]; run `samhost --help`\n",
          argv[1]);
  return SH_EXIT_USAGE;
}
