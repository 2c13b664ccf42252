#ifndef SECIRC_CJANSSON_SHIM_H
#define SECIRC_CJANSSON_SHIM_H
#include <jansson.h>

/* json_typeof and the json_is_* family are macros; Swift sees these instead. */
static inline json_type secirc_json_typeof(const json_t *j) { return json_typeof(j); }
#endif
