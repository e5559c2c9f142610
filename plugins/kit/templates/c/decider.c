/* {{name}}: a switchyard decider (C). It grants access to the people listed in `allow` or in
 * the operator's roster (`roster = { path = "roster.csv" }` in router.toml) and denies everyone
 * else, with the tip text the terminal shows.
 *
 *   [plugins.{{name}}.settings]
 *   allow = ["p-17"]
 *   grant_tip = "Welcome"
 *   deny_tip = "Not registered"
 */
#define WORLD decider
#include "decider.h"
#include "switchyard_kit.h"

/* Reads and checks the settings; NULL (with `err` filled) when they are wrong. */
static char *policy(char *grant, char *deny, size_t size, router_plugin_types_plugin_error_t *err) {
  static const char *const allowed[] = {"allow", "grant_tip", "deny_tip", NULL};
  char *json = sy_settings();
  char *unknown = sy_settings_only(json, allowed);
  if (unknown) {
    sy_error(err, ROUTER_PLUGIN_TYPES_PLUGIN_ERROR_BAD_SETTINGS,
             "unknown setting `%s`, expected `allow`, `deny_tip` or `grant_tip`", unknown);
    free(unknown);
  } else if (sy_setting_has(json, "allow") && *sy_member(json, "allow") != '[') {
    sy_error(err, ROUTER_PLUGIN_TYPES_PLUGIN_ERROR_BAD_SETTINGS, "`allow` must be a list of person ids");
  } else if (!sy_setting_string(json, "grant_tip", "Welcome", grant, size) ||
             !sy_setting_string(json, "deny_tip", "Not registered", deny, size)) {
    sy_error(err, ROUTER_PLUGIN_TYPES_PLUGIN_ERROR_BAD_SETTINGS, "`grant_tip` and `deny_tip` must be strings");
  } else {
    return json;
  }
  free(json);
  return NULL;
}

/* Called once when the router loads the plugin: a settings mistake stops `check`. */
bool exports_router_plugin_setup_api_validate_settings(router_plugin_types_plugin_error_t *err) {
  char grant[256], deny[256];
  char *json = policy(grant, deny, sizeof grant, err);
  free(json);
  return json != NULL;
}

bool exports_router_plugin_decide_api_decide(router_plugin_types_event_t *event, router_plugin_types_ruling_t *ret,
                                             router_plugin_types_plugin_error_t *err) {
  char grant[256], deny[256];
  char *json = policy(grant, deny, sizeof grant, err);
  if (!json) {
    router_plugin_types_event_free(event);
    return false;
  }
  const char *reason = "no person id";
  bool granted = false;
  if (event->subject.is_some && event->subject.val.person_id.is_some) {
    decider_string_t *id = &event->subject.val.person_id.val;
    decider_string_t entry;
    if (sy_setting_list_has(json, "allow", id)) {
      granted = true, reason = "in allow";
    } else if (router_plugin_site_roster_lookup(id, &entry)) {
      decider_string_free(&entry);
      granted = true, reason = "in roster";
    } else {
      reason = "not listed";
    }
  }
  ret->decision = granted ? ROUTER_PLUGIN_TYPES_DECISION_GRANTED : ROUTER_PLUGIN_TYPES_DECISION_DENIED;
  ret->custom_tip.is_some = true;
  sy_string_dup(&ret->custom_tip.val, granted ? grant : deny);
  char details[128];
  snprintf(details, sizeof details, "{\"reason\": \"%s\"}", reason);
  sy_string_dup(&ret->details, details);
  free(json);
  router_plugin_types_event_free(event);
  return true;
}
