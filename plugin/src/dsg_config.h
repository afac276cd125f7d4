/*
 * dsg_config.h: the plugin-wide settings from sam_init_args.config_json,
 * and checks of profile values that need more than the form schema.
 */
#ifndef DSG_CONFIG_H
#define DSG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/*
 * Plugin-wide settings. Every field is optional in the JSON:
 *   {"ca_file": "/path/ca.pem",      trust this PEM bundle (tests, private CA)
 *    "http_debug": false,            redacted curl trace at debug level
 *    "test_mode": false,             allow loopback http(s) instance URLs and
 *                                    validate every record write
 *    "connect_timeout_ms": 10000,    1..600000
 *    "request_timeout_ms": 60000,    1..3600000
 *    "max_response_bytes": 16777216, 1024..268435456
 *    "max_host_connections": 6,      1..64
 *    "token_reload_ms": 60000}       0..86400000: an idle token cache is
 *                                    read from the host again after this
 *                                    long (the host may drop the tokens)
 * Unknown fields are refused, so a typo never goes unnoticed.
 */
typedef struct dsg_config {
  char *ca_file; /* NULL when unset */
  int http_debug;
  int test_mode;
  uint64_t connect_timeout_ms;
  uint64_t request_timeout_ms;
  uint64_t max_response_bytes;
  uint32_t max_host_connections;
  uint32_t reserved;
  uint64_t token_reload_ms;
} dsg_config;

/*
 * Parses config_json (json/len; NULL or empty means all defaults) into cfg.
 *
 * Thread:    any; pure apart from allocation.
 * Ownership: json is borrowed; cfg's strings are freed by dsg_config_free,
 *            also after a failure.
 * Returns:   0, SAM_EINVAL with a message naming the field and the bracketed
 *            value in err, or SAM_ENOMEM.
 */
int dsg_config_parse(
    const char *json, size_t len, dsg_config *cfg, char *err, size_t err_len);

/* Frees cfg's strings; cfg itself is the caller's. NULL-safe. */
void dsg_config_free(dsg_config *cfg);

/*
 * Checks an Instance URL (the OAuth host) beyond the form schema: https is
 * required, except for a loopback host (127.0.0.1, localhost, [::1]) when
 * test_mode is set; no path, query, fragment or user info.
 *
 * Thread:  any; pure.
 * Returns: 0, or SAM_EINVAL with a message naming instance_url in err.
 */
int dsg_check_instance_url(const char *url,
                           int test_mode,
                           char *err,
                           size_t err_len);

#endif /* DSG_CONFIG_H */
