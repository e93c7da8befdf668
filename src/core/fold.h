/* fold.h: the one folding of free text for search, so that a name and a query typed in
 * another case or form meet: Unicode normalisation NFKC and full case folding (utf8proc), as
 * Unicode's NFKC_Casefold does without removing default-ignorable characters. "İstanbul" and
 * "i̇stanbul", "STRASSE" and "straße", "ΣΟΦΟΣ" and "σοφος", "ＡＢＣ" and "abc" fold alike.
 *
 * The store keeps every request's names folded (the search column) and folds each query, so
 * SQLite and PostgreSQL compare the same bytes and return the same rows. Invalid UTF-8 bytes
 * fold to U+FFFD. fold_version() names the folding: the store folds its rows again when it
 * changes (a new Unicode version in a new utf8proc). */
#ifndef DM_FOLD_H
#define DM_FOLD_H

#include "core/common.h"

/* The folded form of the first len bytes of s, NUL-terminated, malloc'd and owned by the
 * caller; *out_len (may be NULL) gets its length. DM_ENOMEM when memory ran out. */
dm_err fold_text(const char *s, size_t len, char **out, size_t *out_len);
/* Whether the first len bytes of s (UTF-8) hold n letters or digits (Unicode categories L and
 * N) in a row: a word a trigram index can look up when n is 3. */
bool fold_has_word(const char *s, size_t len, int n);
/* "nfkc-casefold/unicode-<version>": stored with the folded rows. */
const char *fold_version(void);

#endif
