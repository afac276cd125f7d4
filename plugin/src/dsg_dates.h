/*
 * dsg_dates.h: DocuSign timestamps (DOCUSIGN.md 3 and A7) to and from Unix
 * time, and whole UTC days between two instants. Pure: no clock is read.
 */
#ifndef DSG_DATES_H
#define DSG_DATES_H

#include <stddef.h>
#include <stdint.h>

/* An instant that is not known (placeholder, missing, unparseable). */
#define DSG_TIME_UNKNOWN INT64_MIN

/* Room for "YYYY-MM-DDThh:mm:ssZ" plus the terminator. */
#define DSG_DATE_BUF 21

/*
 * Parses a DocuSign timestamp "YYYY-MM-DDThh:mm:ss[.f{0,7}](Z|+hh:mm|-hh:mm)"
 * into seconds since the Unix epoch, UTC. The fraction is read and dropped
 * (seconds are truncated toward the past). A lower-case 't' or 'z' is
 * accepted. A timestamp without a zone is refused: DOCUSIGN.md A7 asks for
 * Z or an offset, and guessing the server's zone could move a date by a day.
 *
 * Thread:    any; pure.
 * Ownership: s is borrowed and may be NULL.
 * Returns:   0 with *out set; SAM_ENOENT for a date that means "no date"
 *            (NULL, empty, or year 0001 such as DocuSign's placeholder
 *            0001-01-01T08:00:00.0000000Z); SAM_EINVAL for text that is not
 *            such a timestamp (a field out of range, 8+ fraction digits,
 *            trailing characters). *out is DSG_TIME_UNKNOWN on every error.
 *            Callers treat both errors as "unknown" (A7).
 */
int dsg_date_parse(const char *s, int64_t *out);

/*
 * Writes t as RFC 3339 UTC "YYYY-MM-DDThh:mm:ssZ" into buf (len bytes, at
 * least DSG_DATE_BUF). Years outside 1..9999 are refused.
 *
 * Thread:    any; pure.
 * Returns:   0, or SAM_EINVAL (buf too small, t unknown or out of range);
 *            buf then holds "" when len > 0.
 */
int dsg_date_format(int64_t t, char *buf, size_t len);

/*
 * Writes the UTC calendar date of t, "YYYY-MM-DD", into buf (at least 11
 * bytes). Used in reasons a person reads.
 *
 * Thread:    any; pure.
 * Returns:   0, or SAM_EINVAL as dsg_date_format.
 */
int dsg_date_format_day(int64_t t, char *buf, size_t len);

/*
 * Whole UTC calendar days from `from` to `to`: the difference of their UTC
 * dates, so 23:59Z to 00:01Z the next day is 1 day and 00:01Z to 23:59Z the
 * same day is 0. An input written with an offset counts by its UTC date
 * (2026-07-02T23:30:00-05:00 is 2026-07-03 in UTC). Negative when `to` is
 * earlier.
 *
 * Thread:    any; pure.
 * Returns:   the day count; 0 if either argument is DSG_TIME_UNKNOWN.
 */
int64_t dsg_days_between(int64_t from, int64_t to);

/*
 * Seconds since the epoch for a UTC civil date and time; no range checks
 * beyond what the arithmetic needs (used by tests and by the parser).
 *
 * Thread:    any; pure.
 */
int64_t dsg_time_from_civil(int64_t y, int mon, int d, int h, int min, int s);

#endif /* DSG_DATES_H */
