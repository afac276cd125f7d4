/*
 * test_tls.h: a throwaway certificate authority and a server certificate
 * for 127.0.0.1 and localhost, written into a fresh temporary directory,
 * so tests can run HTTPS servers (the simulator, the host) and trust them
 * with CURLOPT_CAINFO = ca.
 */
#ifndef TEST_TLS_H
#define TEST_TLS_H

typedef struct sam_test_tls {
  char dir[256];  /* the temporary directory */
  char ca[300];   /* CA certificate, PEM */
  char cert[300]; /* server certificate (signed by the CA), PEM */
  char key[300];  /* server private key, PEM, mode 0600 */
} sam_test_tls;

/*
 * Creates the directory (mkdtemp under $TMPDIR or /tmp), an EC P-256 CA
 * and a server certificate with subjectAltName IP:127.0.0.1, DNS:localhost,
 * valid from one hour ago for 30 days. Blocking; call before any loop.
 * Returns 0, or -1 after printing the failing step to stderr.
 */
int sam_test_tls_make(sam_test_tls *out);

/*
 * Removes the files and the directory. NULL-safe; safe after a failed make.
 */
void sam_test_tls_cleanup(sam_test_tls *t);

#endif /* TEST_TLS_H */
