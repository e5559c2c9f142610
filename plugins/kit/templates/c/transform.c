/* {{name}}: a switchyard transform (C). It stamps every event with the site it comes from
 * (`source.site`, when the vendor left it empty) and a tag in `extras`.
 *
 *   [plugins.{{name}}.settings]
 *   site = "north-gate"
 *   tag = "building-a"   # optional
 */
#define WORLD transform
#include "transform.h"
#include "switchyard_kit.h"

/* Reads and checks the settings; false (with `err` filled) when they are wrong. */
static bool stamp(char *site, char *tag, size_t size, router_plugin_types_plugin_error_t *err) {
  static const char *const allowed[] = {"site", "tag", NULL};
  char *json = sy_settings();
  char *unknown = sy_settings_only(json, allowed);
  bool ok = true;
  if (unknown) {
    ok = sy_error(err, ROUTER_PLUGIN_TYPES_PLUGIN_ERROR_BAD_SETTINGS, "unknown setting `%s`, expected `site` or `tag`", unknown);
    free(unknown);
  } else if (!sy_setting_string(json, "site", "", site, size) || site[0] == '\0') {
    ok = sy_error(err, ROUTER_PLUGIN_TYPES_PLUGIN_ERROR_BAD_SETTINGS, "`site` must be a non-empty string");
  } else if (!sy_setting_string(json, "tag", "", tag, size) || strpbrk(tag, "\"\\")) {
    ok = sy_error(err, ROUTER_PLUGIN_TYPES_PLUGIN_ERROR_BAD_SETTINGS, "`tag` must be a string without quotes");
  }
  free(json);
  return ok;
}

/* Called once when the router loads the plugin: a settings mistake stops `check`. */
bool exports_router_plugin_setup_api_validate_settings(router_plugin_types_plugin_error_t *err) {
  char site[256], tag[256];
  return stamp(site, tag, sizeof site, err);
}

bool exports_router_plugin_transform_api_transform(router_plugin_types_event_t *event,
                                                   exports_router_plugin_transform_api_list_event_t *ret,
                                                   router_plugin_types_plugin_error_t *err) {
  char site[256], tag[256];
  if (!stamp(site, tag, sizeof site, err)) {
    router_plugin_types_event_free(event);
    return false;
  }
  if (!event->source.site.is_some) {
    event->source.site.is_some = true;
    sy_string_dup(&event->source.site.val, site);
  }
  if (tag[0]) {
    /* `extras` is a JSON object in text form: add one member before its closing brace. */
    char *extras = sy_cstr(&event->extras);
    char *close = strrchr(extras, '}');
    if (!close) {
      free(extras);
      router_plugin_types_event_free(event);
      return sy_error(err, ROUTER_PLUGIN_TYPES_PLUGIN_ERROR_INVALID_INPUT, "`extras` is not a JSON object");
    }
    *close = '\0';
    bool empty = strspn(extras, " \t\r\n{") == strlen(extras);
    size_t size = strlen(extras) + strlen(tag) + 16;
    char *out = malloc(size);
    snprintf(out, size, "%s%s\"tag\":\"%s\"}", extras, empty ? "" : ",", tag);
    sy_string_free(&event->extras);
    sy_string_dup(&event->extras, out);
    free(out);
    free(extras);
  }
  /* The event is handed back: ownership moves into the returned list. */
  ret->len = 1;
  ret->ptr = malloc(sizeof *event);
  *ret->ptr = *event;
  return true;
}
