/*
 * test_tls.c: see test_tls.h. OpenSSL 3 API; every call is checked.
 */
#include "test_tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static EVP_PKEY *new_key(void) {
  return EVP_EC_gen("P-256");
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value) {
  X509V3_CTX ctx;
  X509_EXTENSION *ex;
  int ok;

  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
  ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
  if (ex == NULL)
    return -1;
  ok = X509_add_ext(cert, ex, -1);
  X509_EXTENSION_free(ex);
  return ok == 1 ? 0 : -1;
}

static X509 *new_cert(EVP_PKEY *key, const char *cn, long serial) {
  X509 *c = X509_new();
  X509_NAME *name;

  if (c == NULL)
    return NULL;
  if (X509_set_version(c, 2) != 1 ||
      ASN1_INTEGER_set(X509_get_serialNumber(c), serial) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(c), -3600) == NULL ||
      X509_gmtime_adj(X509_getm_notAfter(c), 30L * 86400) == NULL ||
      X509_set_pubkey(c, key) != 1)
    goto fail;
  name = X509_get_subject_name(c);
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 (const unsigned char *)cn, -1, -1, 0) != 1)
    goto fail;
  return c;

fail:
  X509_free(c);
  return NULL;
}

static int write_pem(const char *path, X509 *cert, EVP_PKEY *key) {
  FILE *f = fopen(path, "w");
  int ok;

  if (f == NULL)
    return -1;
  if (key != NULL)
    (void)chmod(path, 0600);
  ok = cert ? PEM_write_X509(f, cert)
            : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
  return (fclose(f) == 0 && ok == 1) ? 0 : -1;
}

int sam_test_tls_make(sam_test_tls *out) {
  EVP_PKEY *ca_key = NULL, *srv_key = NULL;
  X509 *ca = NULL, *srv = NULL;
  const char *tmp = getenv("TMPDIR");
  const char *step = "mkdtemp";
  int rc = -1;

  memset(out, 0, sizeof(*out));
  snprintf(out->dir, sizeof(out->dir), "%s/sam-tls-XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp(out->dir) == NULL) {
    out->dir[0] = '\0';
    goto done;
  }
  snprintf(out->ca, sizeof(out->ca), "%s/ca.pem", out->dir);
  snprintf(out->cert, sizeof(out->cert), "%s/server.pem", out->dir);
  snprintf(out->key, sizeof(out->key), "%s/server.key", out->dir);
  step = "keys";
  ca_key = new_key();
  srv_key = new_key();
  if (ca_key == NULL || srv_key == NULL)
    goto done;
  step = "CA certificate";
  ca = new_cert(ca_key, "sam test CA", 1);
  if (ca == NULL || X509_set_issuer_name(ca, X509_get_subject_name(ca)) != 1 ||
      add_ext(ca, ca, NID_basic_constraints, "critical,CA:TRUE") != 0 ||
      add_ext(ca, ca, NID_key_usage, "critical,keyCertSign,cRLSign") != 0 ||
      add_ext(ca, ca, NID_subject_key_identifier, "hash") != 0 ||
      X509_sign(ca, ca_key, EVP_sha256()) == 0)
    goto done;
  step = "server certificate";
  srv = new_cert(srv_key, "127.0.0.1", 2);
  if (srv == NULL ||
      X509_set_issuer_name(srv, X509_get_subject_name(ca)) != 1 ||
      add_ext(srv, ca, NID_basic_constraints, "CA:FALSE") != 0 ||
      add_ext(srv, ca, NID_ext_key_usage, "serverAuth") != 0 ||
      add_ext(srv, ca, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost") !=
          0 ||
      X509_sign(srv, ca_key, EVP_sha256()) == 0)
    goto done;
  step = "writing PEM files";
  if (write_pem(out->ca, ca, NULL) != 0 ||
      write_pem(out->cert, srv, NULL) != 0 ||
      write_pem(out->key, NULL, srv_key) != 0)
    goto done;
  rc = 0;

done:
  if (rc != 0)
    fprintf(stderr, "test_tls: cannot make certificates [step=%s] [dir=%s]\n",
            step, out->dir);
  X509_free(ca);
  X509_free(srv);
  EVP_PKEY_free(ca_key);
  EVP_PKEY_free(srv_key);
  return rc;
}

void sam_test_tls_cleanup(sam_test_tls *t) {
  if (t == NULL || t->dir[0] == '\0')
    return;
  (void)unlink(t->ca);
  (void)unlink(t->cert);
  (void)unlink(t->key);
  (void)rmdir(t->dir);
  t->dir[0] = '\0';
}
