/* switchyard's C plugin kit (written by `switchyard plugin new`).
 *
 * `WORLD` is the plugin's world (filter, transform, decider, normalizer): the generated
 * bindings name their string type after it, e.g. `filter_string_t`. Define it before including
 * this header; app.c does.
 *
 * - sy_settings(): the plugin's `[plugins.<id>.settings]` as text, with sy_setting_number(),
 *   sy_setting_string() and sy_setting_has() reading top-level members of that flat JSON object,
 *   and sy_settings_only() refusing unknown keys (a typo fails `switchyard check`).
 * - sy_error(): fills a plugin-error (bad-settings, invalid-input, internal…) with a message.
 * - sy_log(): a line in the router's log; printf() works too (stdout/stderr go to the log).
 */
#ifndef SWITCHYARD_KIT_H
#define SWITCHYARD_KIT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SY_CAT_(a, b) a##b
#define SY_CAT(a, b) SY_CAT_(a, b)
#define SY_STRING_T SY_CAT(WORLD, _string_t)
#define sy_string_dup SY_CAT(WORLD, _string_dup)
#define sy_string_free SY_CAT(WORLD, _string_free)

/* A component-model string as a new NUL-terminated C string (free it). */
static inline char *sy_cstr(const SY_STRING_T *s) {
  char *out = malloc(s->len + 1);
  memcpy(out, s->ptr, s->len);
  out[s->len] = '\0';
  return out;
}

/* Whether a component-model string equals a C string. */
static inline bool sy_eq(const SY_STRING_T *s, const char *c) {
  return s->len == strlen(c) && memcmp(s->ptr, c, s->len) == 0;
}

static inline void sy_log(router_plugin_host_level_t level, const char *fmt, ...) {
  char line[1024];
  va_list args;
  va_start(args, fmt);
  vsnprintf(line, sizeof line, fmt, args);
  va_end(args);
  SY_STRING_T message;
  sy_string_dup(&message, line);
  router_plugin_host_log(level, &message);
  sy_string_free(&message);
}

/* Fills `err` with plugin-error case `tag` (ROUTER_PLUGIN_TYPES_PLUGIN_ERROR_…) and a message;
 * returns false, so an export can `return sy_error(err, …);`. */
static inline bool sy_error(router_plugin_types_plugin_error_t *err, uint8_t tag, const char *fmt, ...) {
  char text[1024];
  va_list args;
  va_start(args, fmt);
  vsnprintf(text, sizeof text, fmt, args);
  va_end(args);
  err->tag = tag;
  sy_string_dup(&err->val.internal, text); /* every case holds one string, at the same place */
  return false;
}

/* The settings JSON (free it). */
static inline char *sy_settings(void) {
  SY_STRING_T s;
  router_plugin_host_settings(&s);
  char *text = sy_cstr(&s);
  sy_string_free(&s);
  return text;
}

/* Steps `*cursor` to the next top-level member of the settings object (`*depth` starts at
 * 0): its key (`*key`, `*len`, without the quotes) and the text of its value (`*value`).
 * False at the end. Good for the settings the router hands over (a TOML table turned into
 * JSON); not a general JSON parser. */
static inline bool sy_next_member(const char **cursor, int *depth, const char **key, size_t *len,
                                  const char **value) {
  for (const char *p = *cursor; *p; p++) {
    if (*p == '{' || *p == '[') (*depth)++;
    else if (*p == '}' || *p == ']') (*depth)--;
    else if (*p == '"') {
      const char *start = ++p;
      while (*p && *p != '"') p += (*p == '\\' && p[1]) ? 2 : 1;
      if (!*p) return false;
      const char *q = p + 1;
      while (*q == ' ') q++;
      if (*depth == 1 && *q == ':') {
        q++;
        while (*q == ' ') q++;
        *key = start;
        *len = (size_t)(p - start);
        *value = *cursor = q;
        return true;
      }
    }
  }
  return false;
}

/* The value text of top-level member `key`, or NULL. */
static inline const char *sy_member(const char *json, const char *key) {
  size_t n = strlen(key), len;
  int depth = 0;
  const char *cursor = json, *name, *value;
  while (sy_next_member(&cursor, &depth, &name, &len, &value)) {
    if (len == n && memcmp(name, key, n) == 0) return value;
  }
  return NULL;
}

static inline bool sy_setting_has(const char *json, const char *key) { return sy_member(json, key) != NULL; }

/* A number member; `fallback` when absent; false when present but not a number. */
static inline bool sy_setting_number(const char *json, const char *key, double fallback, double *out) {
  const char *v = sy_member(json, key);
  if (!v) {
    *out = fallback;
    return true;
  }
  char *end;
  *out = strtod(v, &end);
  return end != v;
}

/* A string member (without escapes) copied into `out`; `fallback` when absent; false when
 * present but not a string. */
static inline bool sy_setting_string(const char *json, const char *key, const char *fallback, char *out, size_t size) {
  const char *v = sy_member(json, key);
  if (!v) {
    snprintf(out, size, "%s", fallback);
    return true;
  }
  if (*v != '"') return false;
  const char *end = strchr(v + 1, '"');
  if (!end) return false;
  snprintf(out, size, "%.*s", (int)(end - v - 1), v + 1);
  return true;
}

/* Whether `id` is one of the strings of array member `key`. */
static inline bool sy_setting_list_has(const char *json, const char *key, const SY_STRING_T *id) {
  const char *v = sy_member(json, key);
  if (!v || *v != '[') return false;
  for (const char *p = v + 1; *p && *p != ']'; p++) {
    if (*p == '"') {
      const char *end = strchr(p + 1, '"');
      if (!end) return false;
      if ((size_t)(end - p - 1) == id->len && memcmp(p + 1, id->ptr, id->len) == 0) return true;
      p = end;
    }
  }
  return false;
}

/* NULL when every top-level key of the settings is in `allowed` (NULL-terminated); else the
 * first unknown key (free it). */
static inline char *sy_settings_only(const char *json, const char *const *allowed) {
  size_t n;
  int depth = 0;
  const char *cursor = json, *name, *value;
  while (sy_next_member(&cursor, &depth, &name, &n, &value)) {
    bool known = false;
    for (const char *const *a = allowed; *a; a++) known |= strlen(*a) == n && memcmp(*a, name, n) == 0;
    if (!known) {
      char *key = malloc(n + 1);
      memcpy(key, name, n);
      key[n] = '\0';
      return key;
    }
  }
  return NULL;
}

#endif
