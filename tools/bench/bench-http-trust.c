/*
 * bench-http-trust: what the plugin's HTTP client costs the host's loop
 * for its first request, with the trusted CAs loaded off the loop
 * (plugin/src/dsg_http_trust.h) against the baseline where curl decodes
 * them itself during the connection's set-up, on the loop (the client
 * before; dsg_http_config.curl_loads_cas).
 *
 * The CA file is the system bundle plus the simulator's throwaway CA, so
 * that the handshake succeeds and the file is the size a real host loads.
 * Each round starts a fresh client on a fresh loop for each mode and
 * measures, on the loop thread's CPU clock, the whole first request (from
 * the client's start to the response) and its longest loop turn; then a
 * second request on the same client, for which both modes should cost the
 * same. Medians over the rounds; the two modes alternate within a round.
 *
 * usage: bench-http-trust [--rounds N] [--bundle PATH]
 * Prints figures only: no thresholds (tools/bench/README.md).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <uv.h>

#include "dsg_http.h"
#include "sim_child.h"
#include "test_tls.h"

#define MAX_ROUNDS 100

typedef struct got {
  int calls;
  int status;
  long http_status;
} got;

typedef struct figures {
  double first_ms;      /* loop CPU: start to the first response */
  double first_turn_ms; /* its longest loop turn */
  double second_ms;     /* loop CPU of a second request */
  int ok;
} figures;

static double cpu_ms(void) {
  struct timespec ts;

  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void on_done(const dsg_http_resp *resp, void *ud) {
  got *g = ud;

  g->calls++;
  g->status = resp->status;
  g->http_status = resp->http_status;
}

static void on_closed(void *ud) {
  *(int *)ud = 1;
}

/* Runs the loop one turn at a time until g has its answer; the longest
 * turn's CPU goes to *max_turn. */
static void run_until(uv_loop_t *loop, const got *g, double *max_turn) {
  while (g->calls == 0) {
    double t0 = cpu_ms(), d;

    uv_run(loop, UV_RUN_ONCE);
    d = cpu_ms() - t0;
    if (d > *max_turn)
      *max_turn = d;
  }
}

static figures measure(const char *url, const char *bundle, int curl_loads) {
  figures f;
  uv_loop_t loop;
  dsg_http *http = NULL;
  dsg_http_config cfg;
  dsg_http_req_opts o;
  got g;
  double t0, turn = 0, unused = 0;
  int closed = 0;

  memset(&f, 0, sizeof(f));
  if (uv_loop_init(&loop) != 0)
    return f;
  memset(&cfg, 0, sizeof(cfg));
  cfg.ca_file = bundle;
  cfg.curl_loads_cas = curl_loads;
  memset(&o, 0, sizeof(o));
  o.url = url;
  o.bearer_token = "not-a-token"; /* a 401: a whole HTTPS exchange */
  t0 = cpu_ms();
  if (dsg_http_start(&loop, &cfg, &http) != 0) {
    uv_loop_close(&loop);
    return f;
  }
  memset(&g, 0, sizeof(g));
  if (dsg_http_request(http, &o, on_done, &g, NULL) == 0) {
    run_until(&loop, &g, &turn);
    f.first_ms = cpu_ms() - t0;
    f.first_turn_ms = turn;
    f.ok = g.status == 0 && g.http_status == 401;
    memset(&g, 0, sizeof(g));
    t0 = cpu_ms();
    if (dsg_http_request(http, &o, on_done, &g, NULL) == 0) {
      run_until(&loop, &g, &unused);
      f.second_ms = cpu_ms() - t0;
      f.ok = f.ok && g.status == 0 && g.http_status == 401;
    } else {
      f.ok = 0;
    }
  }
  dsg_http_close(http, on_closed, &closed);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return f;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;

  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof(*v), by_value);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The system bundle followed by the test CA, in the TLS files' directory. */
static int make_bundle(
    const char *system, const char *ca, char *out, size_t len, long *certs) {
  const char *in[2] = {system, ca};
  char line[4096];
  FILE *o;
  int i;

  snprintf(out, len, "%s.bundle", ca);
  o = fopen(out, "w");
  if (o == NULL)
    return -1;
  *certs = 0;
  for (i = 0; i < 2; i++) {
    FILE *f = fopen(in[i], "r");

    if (f == NULL) {
      fclose(o);
      return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
      *certs += strncmp(line, "-----BEGIN CERTIFICATE-----", 27) == 0;
      fputs(line, o);
    }
    fclose(f);
  }
  return fclose(o) == 0 ? 0 : -1;
}

int main(int argc, char **argv) {
  const char *system = "/etc/ssl/certs/ca-certificates.crt";
  const char *args[] = {"--cert", NULL, "--key", NULL, "--users", "3", NULL};
  double p1[MAX_ROUNDS], pt[MAX_ROUNDS], p2[MAX_ROUNDS];
  double b1[MAX_ROUNDS], bt[MAX_ROUNDS], b2[MAX_ROUNDS];
  char bundle[400], url[512];
  sam_test_tls tls;
  sim_child sim;
  long certs = 0;
  int rounds = 5, i, rc = 0;

  for (i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--rounds") == 0)
      rounds = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--bundle") == 0)
      system = argv[i + 1];
    else
      break;
  }
  if (i < argc || rounds < 1 || rounds > MAX_ROUNDS) {
    fprintf(stderr,
            "usage: bench-http-trust [--rounds 1..%d] [--bundle "
            "PATH (default /etc/ssl/certs/ca-certificates.crt)]\n",
            MAX_ROUNDS);
    return 2;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
      sam_test_tls_make(&tls) != 0) {
    fprintf(stderr, "bench-http-trust: cannot set up curl or the TLS files\n");
    return 1;
  }
  if (make_bundle(system, tls.ca, bundle, sizeof(bundle), &certs) != 0) {
    fprintf(stderr, "bench-http-trust: cannot read the bundle [%s]\n", system);
    sam_test_tls_cleanup(&tls);
    return 1;
  }
  args[1] = tls.cert;
  args[3] = tls.key;
  if (sim_child_start(&sim, SIM_EXE, args) != 0) {
    fprintf(stderr, "bench-http-trust: the simulator did not start\n");
    sam_test_tls_cleanup(&tls);
    return 1;
  }
  snprintf(url, sizeof(url), "%s/restapi/v2.1/accounts/%s/users?count=1",
           sim.https, sim.account_id);
  for (i = 0; i < rounds; i++) {
    /* alternate which mode goes first: neither always pays a cold cache */
    figures a = measure(url, bundle, i % 2);
    figures b = measure(url, bundle, !(i % 2));
    figures *plugin = i % 2 ? &b : &a, *base = i % 2 ? &a : &b;

    if (!plugin->ok || !base->ok) {
      fprintf(stderr, "bench-http-trust: a request failed (round %d)\n", i);
      rc = 1;
      break;
    }
    p1[i] = plugin->first_ms;
    pt[i] = plugin->first_turn_ms;
    p2[i] = plugin->second_ms;
    b1[i] = base->first_ms;
    bt[i] = base->first_turn_ms;
    b2[i] = base->second_ms;
  }
  if (rc == 0) {
    double mp1 = median(p1, rounds), mpt = median(pt, rounds);
    double mp2 = median(p2, rounds), mb1 = median(b1, rounds);
    double mbt = median(bt, rounds), mb2 = median(b2, rounds);

    printf("bench-http-trust: %ld CA certificates (%s + the test CA), %d "
           "rounds, medians of the loop thread's CPU\n",
           certs, system, rounds);
    printf("  %-34s %12s %12s %8s\n", "", "plugin ms", "baseline ms", "ratio");
    printf("  %-34s %12.2f %12.2f %7.2fx\n", "first request, start to reply",
           mp1, mb1, mp1 > 0 ? mb1 / mp1 : 0);
    printf("  %-34s %12.2f %12.2f %7.2fx\n", "  its longest loop turn", mpt,
           mbt, mpt > 0 ? mbt / mpt : 0);
    printf("  %-34s %12.2f %12.2f %7.2fx\n", "second request (warm)", mp2, mb2,
           mp2 > 0 ? mb2 / mp2 : 0);
    printf("  baseline: curl decodes the CA file on the loop at the first "
           "connection; plugin: a thread-pool work does (ratio = baseline / "
           "plugin)\n");
  }
  sim_child_stop(&sim);
  unlink(bundle);
  sam_test_tls_cleanup(&tls);
  curl_global_cleanup();
  return rc;
}
