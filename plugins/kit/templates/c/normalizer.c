/* {{name}}: a switchyard normalizer (C). It turns a terminal's form-encoded push —
 * `id=…&time=…&device=…&person=…&name=…&score=…` — into one normalized router.event/v1 event.
 * Replace the mapping with your vendor's.
 *
 *   [plugins.{{name}}.settings]
 *   vendor = "acme"   # the `vendor` of every event
 */
#define WORLD normalizer
#include "normalizer.h"
#include "switchyard_kit.h"

/* Reads and checks the settings; false (with `err` filled) when they are wrong. */
static bool checked(char *vendor, size_t size, router_plugin_types_plugin_error_t *err) {
  static const char *const allowed[] = {"vendor", NULL};
  char *json = sy_settings();
  char *unknown = sy_settings_only(json, allowed);
  bool ok = true;
  if (unknown) {
    ok = sy_error(err, ROUTER_PLUGIN_TYPES_PLUGIN_ERROR_BAD_SETTINGS, "unknown setting `%s`, expected `vendor`", unknown);
    free(unknown);
  } else if (!sy_setting_string(json, "vendor", "{{name}}", vendor, size) || vendor[0] == '\0') {
    ok = sy_error(err, ROUTER_PLUGIN_TYPES_PLUGIN_ERROR_BAD_SETTINGS, "`vendor` must be a non-empty string");
  }
  free(json);
  return ok;
}

/* Called once when the router loads the plugin: a settings mistake stops `check`. */
bool exports_router_plugin_setup_api_validate_settings(router_plugin_types_plugin_error_t *err) {
  char vendor[128];
  return checked(vendor, sizeof vendor, err);
}

/* Percent-decodes `in` (`+` is a space) into a new string. */
static char *decode(const char *in, size_t len) {
  char *out = malloc(len + 1), *o = out;
  for (size_t i = 0; i < len; i++) {
    if (in[i] == '+') {
      *o++ = ' ';
    } else if (in[i] == '%' && i + 2 < len) {
      char hex[3] = {in[i + 1], in[i + 2], 0};
      *o++ = (char)strtol(hex, NULL, 16);
      i += 2;
    } else {
      *o++ = in[i];
    }
  }
  *o = '\0';
  return out;
}

/* The decoded value of form field `key` in `body` (free it), or NULL. */
static char *field(const char *body, size_t len, const char *key) {
  size_t n = strlen(key);
  const char *p = body, *end = body + len;
  while (p < end) {
    const char *amp = memchr(p, '&', (size_t)(end - p));
    const char *stop = amp ? amp : end;
    if ((size_t)(stop - p) > n && memcmp(p, key, n) == 0 && p[n] == '=') return decode(p + n + 1, (size_t)(stop - p - n - 1));
    p = stop + 1;
  }
  return NULL;
}

/* Moves a decoded field into an optional string. */
static void set_option(normalizer_option_string_t *slot, char *value) {
  if (!value) return;
  slot->is_some = true;
  sy_string_dup(&slot->val, value);
  free(value);
}

bool exports_router_plugin_normalize_api_normalize(router_plugin_types_http_request_t *request,
                                                   router_plugin_types_normalized_t *ret,
                                                   router_plugin_types_plugin_error_t *err) {
  char vendor[128];
  bool ok = checked(vendor, sizeof vendor, err);
  const char *body = (const char *)request->body.ptr;
  size_t len = request->body.len;
  char *id = ok ? field(body, len, "id") : NULL;
  if (ok && !id) ok = sy_error(err, ROUTER_PLUGIN_TYPES_PLUGIN_ERROR_INVALID_INPUT, "the push has no `id` field");
  if (ok) {
    /* Zeroed: every option absent, every list empty; then the required parts. */
    router_plugin_types_event_t *e = calloc(1, sizeof *e);
    sy_string_dup(&e->schema, "router.event/v1");
    sy_string_dup(&e->event_uid, "");
    sy_string_dup(&e->vendor, vendor);
    sy_string_dup(&e->received_at, "");
    sy_string_dup(&e->extras, "{}");
    sy_string_dup(&e->fields_raw, "{}");
    sy_string_dup(&e->delivery.delivery_id, "");
    e->delivery.transport = ROUTER_PLUGIN_TYPES_TRANSPORT_HTTP_POST;
    e->delivery.auth = ROUTER_PLUGIN_TYPES_AUTH_KIND_NONE;
    e->category = ROUTER_PLUGIN_TYPES_CATEGORY_RECOGNITION;
    e->occurred_at_tz_source = ROUTER_PLUGIN_TYPES_TZ_SOURCE_MISSING;
    set_option(&e->vendor_event_id, id);
    set_option(&e->vendor_event_type, strdup("push"));
    char *time = field(body, len, "time");
    if (time) {
      set_option(&e->occurred_at_raw, strdup(time));
      set_option(&e->occurred_at, time);
      e->occurred_at_tz_source = ROUTER_PLUGIN_TYPES_TZ_SOURCE_EXPLICIT;
    }
    set_option(&e->source.device_id, field(body, len, "device"));
    char *person = field(body, len, "person");
    e->action = person ? ROUTER_PLUGIN_TYPES_ACTION_FACE_MATCHED : ROUTER_PLUGIN_TYPES_ACTION_FACE_UNMATCHED;
    if (person) {
      e->subject.is_some = true;
      e->subject.val.kind = ROUTER_PLUGIN_TYPES_SUBJECT_KIND_PERSON;
      e->subject.val.person_type = ROUTER_PLUGIN_TYPES_PERSON_TYPE_UNKNOWN;
      set_option(&e->subject.val.person_id, person);
      set_option(&e->subject.val.display_name, field(body, len, "name"));
    }
    char *score = field(body, len, "score");
    if (score) {
      e->match.is_some = true;
      e->match.val.liveness = ROUTER_PLUGIN_TYPES_LIVENESS_UNKNOWN;
      e->match.val.matched.is_some = true;
      e->match.val.matched.val = e->subject.is_some;
      e->match.val.score.is_some = true;
      e->match.val.score.val = strtod(score, NULL);
      free(score);
    }
    ret->events.ptr = e;
    ret->events.len = 1;
    ret->reply.is_some = false; /* the router answers 202 with the event's id */
  }
  router_plugin_types_http_request_free(request);
  return ok;
}
