#ifndef SECIRC_CJANSSON_SHIM_H
#define SECIRC_CJANSSON_SHIM_H
#include <jansson.h>

/* json_typeof and the json_is_* family are macros; Swift sees these instead. */
static inline json_type secirc_json_typeof(const json_t *j) { return json_typeof(j); }

/* json_decref is a static inline in jansson.h with a reference count test; this is the
 * same under a name that does not depend on JSON_INLINE. */
static inline void secirc_json_decref(json_t *j) { json_decref(j); }

/* Parses exactly one JSON object or array from `length` bytes (trailing bytes other than
 * whitespace are an error), rejecting duplicate object keys; NUL in strings is refused.
 * On failure returns NULL and fills `error` (line, column, position, text). */
static inline json_t *secirc_json_load_strict(const char *bytes, size_t length, json_error_t *error) {
    return json_loadb(bytes, length, JSON_REJECT_DUPLICATES, error);
}
#endif
