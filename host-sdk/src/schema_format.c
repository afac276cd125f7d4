/*
 * schema_format.c: the "format" checks we implement (uri, uri-reference,
 * email, hostname, ipv4, ipv6, date-time, date, time, uuid, regex,
 * json-pointer, relative-json-pointer) and ECMA-262 patterns on PCRE2.
 * Every other format is refused at compile time.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sam/sam_plugin.h"
#include "schema_internal.h"

/*
 * Maps a "format" value to the checker we implement. Thread: any.
 * Returns the id, or SAM__SF_NONE when we do not implement it.
 */
sam__sfmt sam__sformat_lookup(const char *name) {
  static const struct {
    const char *name;
    sam__sfmt f;
  } formats[] = {{"uri", SAM__SF_URI},
                 {"uri-reference", SAM__SF_URI_REFERENCE},
                 {"email", SAM__SF_EMAIL},
                 {"date-time", SAM__SF_DATE_TIME},
                 {"date", SAM__SF_DATE},
                 {"time", SAM__SF_TIME},
                 {"uuid", SAM__SF_UUID},
                 {"regex", SAM__SF_REGEX},
                 {"hostname", SAM__SF_HOSTNAME},
                 {"ipv4", SAM__SF_IPV4},
                 {"ipv6", SAM__SF_IPV6},
                 {"json-pointer", SAM__SF_JSON_POINTER},
                 {"relative-json-pointer", SAM__SF_REL_JSON_POINTER}};
  for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
    if (strcmp(formats[i].name, name) == 0)
      return formats[i].f;
  return SAM__SF_NONE;
}

/* ---- RFC 3339 dates and times ---- */

static int digits(const char *s, size_t n, int *out) {
  int v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return 0;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 1;
}

/* full-date: YYYY-MM-DD with the month's real length. */
static int check_date(const char *s, size_t len) {
  static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int y, m, d;
  if (len != 10 || s[4] != '-' || s[7] != '-')
    return 0;
  if (!digits(s, 4, &y) || !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d))
    return 0;
  if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
    return 0;
  if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
    return 0;
  return 1;
}

/* full-time: HH:MM:SS[.frac](Z|+HH:MM|-HH:MM). Second 60 is a leap second. */
static int check_time(const char *s, size_t len) {
  int h, m, sec, oh, om;
  size_t i = 8;
  if (len < 9 || s[2] != ':' || s[5] != ':')
    return 0;
  if (!digits(s, 2, &h) || !digits(s + 3, 2, &m) || !digits(s + 6, 2, &sec))
    return 0;
  if (h > 23 || m > 59 || sec > 60)
    return 0;
  if (s[i] == '.') {
    size_t start = ++i;
    while (i < len && s[i] >= '0' && s[i] <= '9')
      i++;
    if (i == start)
      return 0;
  }
  if (i < len && (s[i] == 'Z' || s[i] == 'z'))
    return i + 1 == len;
  if (i + 6 != len || (s[i] != '+' && s[i] != '-') || s[i + 3] != ':')
    return 0;
  if (!digits(s + i + 1, 2, &oh) || !digits(s + i + 4, 2, &om))
    return 0;
  return oh <= 23 && om <= 59;
}

static int check_date_time(const char *s, size_t len) {
  if (len < 20 || (s[10] != 'T' && s[10] != 't'))
    return 0;
  return check_date(s, 10) && check_time(s + 11, len - 11);
}

static int check_uuid(const char *s, size_t len) {
  if (len != 36)
    return 0;
  for (size_t i = 0; i < len; i++) {
    int dash = i == 8 || i == 13 || i == 18 || i == 23;
    char c = s[i];
    if (dash ? c != '-'
             : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                 (c >= 'A' && c <= 'F')))
      return 0;
  }
  return 1;
}

/* ---- RFC 3986 URIs ---- */

static int is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(char c) {
  return c >= '0' && c <= '9';
}

static int is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int is_unreserved(char c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' ||
         c == '~';
}

static int is_sub_delim(char c) {
  return c != '\0' && strchr("!$&'()*+,;=", c) != NULL;
}

/* Checks s[0..n) is made of unreserved, sub-delims, pct-encoded and the
 * characters in extra. */
static int uri_chars(const char *s, size_t n, const char *extra) {
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= n || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))
        return 0;
      i += 2;
    } else if (!is_unreserved(c) && !is_sub_delim(c) &&
               (c == '\0' || strchr(extra, c) == NULL)) {
      return 0;
    }
  }
  return 1;
}

static int check_authority(const char *s, size_t n) {
  const char *at = memchr(s, '@', n);
  const char *host = s;
  size_t hn = n;
  if (at != NULL) {
    if (!uri_chars(s, (size_t)(at - s), ":"))
      return 0;
    host = at + 1;
    hn = n - (size_t)(host - s);
  }
  if (hn > 0 && host[0] == '[') {
    const char *close = memchr(host, ']', hn);
    if (close == NULL)
      return 0;
    for (const char *p = host + 1; p < close; p++)
      if (!is_hex(*p) && *p != ':' && *p != '.' && *p != 'v' && *p != 'V')
        return 0;
    hn -= (size_t)(close + 1 - host);
    host = close + 1;
    if (hn == 0)
      return 1;
    if (host[0] != ':')
      return 0;
  } else {
    const char *colon = memchr(host, ':', hn);
    size_t name_n = colon != NULL ? (size_t)(colon - host) : hn;
    if (!uri_chars(host, name_n, ""))
      return 0;
    hn -= name_n;
    host += name_n;
  }
  if (hn > 0) { /* ":port" */
    for (size_t i = 1; i < hn; i++)
      if (!is_digit(host[i]))
        return 0;
  }
  return 1;
}

/* URI (absolute == 1) or URI-reference (absolute == 0), RFC 3986 4.1. */
static int check_uri(const char *s, size_t len, int absolute) {
  size_t i = 0, start;
  if (memchr(s, '\0', len) != NULL)
    return 0;
  if (len > 0 && is_alpha(s[0])) {
    i = 1;
    while (i < len && (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '+' ||
                       s[i] == '-' || s[i] == '.'))
      i++;
    if (i < len && s[i] == ':')
      i++;
    else
      i = 0;
  }
  if (i == 0 && absolute)
    return 0;
  if (i == 0) {
    /* relative-ref: a first segment may not hold a colon */
    size_t j = 0;
    while (j < len && s[j] != '/' && s[j] != '?' && s[j] != '#') {
      if (s[j] == ':')
        return 0;
      j++;
    }
  }
  if (i + 1 < len && s[i] == '/' && s[i + 1] == '/') {
    i += 2;
    start = i;
    while (i < len && s[i] != '/' && s[i] != '?' && s[i] != '#')
      i++;
    if (!check_authority(s + start, i - start))
      return 0;
  }
  start = i;
  while (i < len && s[i] != '?' && s[i] != '#')
    i++;
  if (!uri_chars(s + start, i - start, ":@/"))
    return 0;
  if (i < len && s[i] == '?') {
    start = ++i;
    while (i < len && s[i] != '#')
      i++;
    if (!uri_chars(s + start, i - start, ":@/?"))
      return 0;
  }
  if (i < len && s[i] == '#') {
    start = ++i;
    if (!uri_chars(s + start, len - start, ":@/?"))
      return 0;
  }
  return 1;
}

/* ---- email (RFC 5321 mailbox, ASCII) ---- */

static int check_email(const char *s, size_t len) {
  const char *at = NULL;
  size_t local_n, dom_n;
  const char *dom;
  for (size_t i = 0; i < len; i++)
    if (s[i] == '@')
      at = s + i; /* the last '@' splits local and domain */
  if (at == NULL)
    return 0;
  local_n = (size_t)(at - s);
  dom = at + 1;
  dom_n = len - local_n - 1;
  if (local_n == 0 || local_n > 64 || dom_n == 0 || dom_n > 253)
    return 0;
  /* dot-atom local part: atext runs separated by single dots */
  if (s[0] == '.' || s[local_n - 1] == '.')
    return 0;
  for (size_t i = 0; i < local_n; i++) {
    char c = s[i];
    if (c == '.') {
      if (s[i + 1] == '.')
        return 0;
    } else if (!is_alpha(c) && !is_digit(c) &&
               strchr("!#$%&'*+-/=?^_`{|}~", c) == NULL) {
      return 0;
    }
  }
  if (dom[0] == '[')
    return dom[dom_n - 1] == ']' && dom_n > 2;
  /* hostname: labels of letters, digits and inner hyphens */
  for (size_t i = 0, label = 0; i <= dom_n; i++) {
    if (i == dom_n || dom[i] == '.') {
      if (label == 0 || label > 63 || dom[i - 1] == '-')
        return 0;
      label = 0;
      continue;
    }
    if (!is_alpha(dom[i]) && !is_digit(dom[i]) && !(dom[i] == '-' && label > 0))
      return 0;
    label++;
  }
  return 1;
}

/* ---- hosts and addresses ---- */

/* RFC 1123 host name: dot-separated labels of letters, digits and inner
 * hyphens, each 1..63 bytes, 253 in all (a final dot is allowed). */
static int check_hostname(const char *s, size_t len) {
  size_t label = 0;
  if (len > 0 && s[len - 1] == '.')
    len--;
  if (len == 0 || len > 253)
    return 0;
  for (size_t i = 0; i <= len; i++) {
    if (i == len || s[i] == '.') {
      if (label == 0 || label > 63 || s[i - 1] == '-')
        return 0;
      label = 0;
      continue;
    }
    if (!is_alpha(s[i]) && !is_digit(s[i]) && !(s[i] == '-' && label > 0))
      return 0;
    label++;
  }
  return 1;
}

/* Dotted-quad only: inet_pton refuses "127.1", hex and leading zeros. */
static int check_ip(const char *s, size_t len, int family) {
  char buf[64];
  unsigned char addr[16];
  if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len) != NULL)
    return 0;
  memcpy(buf, s, len);
  buf[len] = '\0';
  return inet_pton(family, buf, addr) == 1;
}

/* ---- JSON Pointers ---- */

/* RFC 6901: "" or "/"-separated tokens where ~ is followed by 0 or 1. */
static int check_json_pointer(const char *s, size_t len) {
  if (len > 0 && s[0] != '/')
    return 0;
  for (size_t i = 0; i < len; i++)
    if (s[i] == '~' && (i + 1 >= len || (s[i + 1] != '0' && s[i + 1] != '1')))
      return 0;
  return 1;
}

/* draft-handrews-relative-json-pointer-01: a non-negative integer without
 * leading zeros, then "#" or a JSON Pointer. */
static int check_rel_json_pointer(const char *s, size_t len) {
  size_t i = 0;
  while (i < len && is_digit(s[i]))
    i++;
  if (i == 0 || (i > 1 && s[0] == '0'))
    return 0;
  if (i < len && s[i] == '#')
    return i + 1 == len;
  return check_json_pointer(s + i, len - i);
}

/* ---- regex ---- */

/*
 * Compiles an ECMA-262 pattern with PCRE2 (see schema_internal.h).
 * Thread: any. Ownership: *out is the caller's (pcre2_code_free).
 * Returns 0, SAM_EINVAL with a reason in err, or SAM_ENOMEM.
 */
int sam__sregex_compile(
    const char *src, size_t len, pcre2_code **out, char *err, size_t err_len) {
  int code = 0;
  PCRE2_SIZE off = 0;
  pcre2_code *re;

  *out = NULL;
  /* PCRE understands escapes that ECMA-262 does not (\A \Z \z \G \Q...).
   * Refuse them rather than give them a meaning the schema's author on
   * another validator would not get. */
  for (size_t i = 0; i + 1 < len; i++) {
    if (src[i] != '\\')
      continue;
    if (strchr("AZzGQEKRXhHNVeaCoLlUgk", src[i + 1]) != NULL &&
        src[i + 1] != '\0' &&
        !(src[i + 1] == 'k' && i + 2 < len && src[i + 2] == '<')) {
      snprintf(err, err_len,
               "pattern [%.80s]: escape [\\%c] is not ECMA-262 regex syntax",
               src, src[i + 1]);
      return SAM_EINVAL;
    }
    i++; /* skip the escaped character */
  }
  /* UTF: match code points; DOLLAR_ENDONLY: ECMA's $ does not match before
   * a final newline; ALT_BSUX: \uHHHH as in ECMA; ALLOW_EMPTY_CLASS: ECMA's
   * [] never matches and [^] matches anything; MATCH_INVALID_UTF: a
   * caller-built instance may hold bad UTF-8 and must not crash PCRE. */
  re = pcre2_compile((PCRE2_SPTR)src, len,
                     PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX |
                         PCRE2_ALLOW_EMPTY_CLASS | PCRE2_MATCH_INVALID_UTF,
                     &code, &off, NULL);
  if (re == NULL) {
    PCRE2_UCHAR msg[120];
    if (code == PCRE2_ERROR_NOMEMORY) {
      snprintf(err, err_len, "out of memory");
      return SAM_ENOMEM;
    }
    pcre2_get_error_message(code, msg, sizeof(msg));
    snprintf(err, err_len, "pattern [%.80s] does not compile: %s at [%zu]", src,
             (const char *)msg, (size_t)off);
    return SAM_EINVAL;
  }
  *out = re;
  return 0;
}

static int check_regex(const char *s, size_t len) {
  pcre2_code *re = NULL;
  char why[8];
  if (sam__sregex_compile(s, len, &re, why, sizeof(why)) != 0)
    return 0;
  pcre2_code_free(re);
  return 1;
}

/*
 * Checks s (len bytes) against format f. Thread: any.
 * Returns 1 when it conforms (always for SAM__SF_NONE), else 0.
 */
int sam__sformat_check(sam__sfmt f, const char *s, size_t len) {
  switch (f) {
  case SAM__SF_URI:
    return check_uri(s, len, 1);
  case SAM__SF_URI_REFERENCE:
    return check_uri(s, len, 0);
  case SAM__SF_EMAIL:
    return check_email(s, len);
  case SAM__SF_DATE_TIME:
    return check_date_time(s, len);
  case SAM__SF_DATE:
    return check_date(s, len);
  case SAM__SF_TIME:
    return check_time(s, len);
  case SAM__SF_UUID:
    return check_uuid(s, len);
  case SAM__SF_REGEX:
    return check_regex(s, len);
  case SAM__SF_HOSTNAME:
    return check_hostname(s, len);
  case SAM__SF_IPV4:
    return check_ip(s, len, AF_INET);
  case SAM__SF_IPV6:
    return check_ip(s, len, AF_INET6);
  case SAM__SF_JSON_POINTER:
    return check_json_pointer(s, len);
  case SAM__SF_REL_JSON_POINTER:
    return check_rel_json_pointer(s, len);
  case SAM__SF_NONE:
    break;
  }
  return 1;
}
