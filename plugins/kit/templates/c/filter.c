/* {{name}}: a switchyard filter (C). It keeps recognition events whose match score reaches
 * `min_score` and drops the rest; events of other categories always pass.
 *
 *   [plugins.{{name}}.settings]
 *   min_score = 0.8   # 0..1
 */
#define WORLD filter
#include "filter.h"
#include "switchyard_kit.h"

/* Reads and checks the settings; false (with `err` filled) when they are wrong. */
static bool rule(double *min_score, router_plugin_types_plugin_error_t *err) {
  static const char *const allowed[] = {"min_score", NULL};
  char *json = sy_settings();
  char *unknown = sy_settings_only(json, allowed);
  bool ok = true;
  if (unknown) {
    ok = sy_error(err, ROUTER_PLUGIN_TYPES_PLUGIN_ERROR_BAD_SETTINGS, "unknown setting `%s`, expected `min_score`", unknown);
    free(unknown);
  } else if (!sy_setting_number(json, "min_score", 0.8, min_score) || *min_score < 0 || *min_score > 1) {
    ok = sy_error(err, ROUTER_PLUGIN_TYPES_PLUGIN_ERROR_BAD_SETTINGS, "`min_score` must be a number within 0..1");
  }
  free(json);
  return ok;
}

/* Called once when the router loads the plugin: a settings mistake stops `check`. */
bool exports_router_plugin_setup_api_validate_settings(router_plugin_types_plugin_error_t *err) {
  double min_score;
  return rule(&min_score, err);
}

bool exports_router_plugin_filter_api_filter(router_plugin_types_event_t *event, router_plugin_types_verdict_t *ret,
                                             router_plugin_types_plugin_error_t *err) {
  double min_score;
  bool ok = rule(&min_score, err);
  if (ok) {
    ret->tag = ROUTER_PLUGIN_TYPES_VERDICT_KEEP;
    if (event->category == ROUTER_PLUGIN_TYPES_CATEGORY_RECOGNITION) {
      char reason[128] = "";
      if (!event->match.is_some || !event->match.val.score.is_some) {
        snprintf(reason, sizeof reason, "no match score");
      } else if (event->match.val.score.val < min_score) {
        snprintf(reason, sizeof reason, "match score %g is below min_score %g", event->match.val.score.val, min_score);
      }
      if (reason[0]) {
        ret->tag = ROUTER_PLUGIN_TYPES_VERDICT_DROP;
        sy_string_dup(&ret->val.drop, reason);
      }
    }
  }
  router_plugin_types_event_free(event);
  return ok;
}
