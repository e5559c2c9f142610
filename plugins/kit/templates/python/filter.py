"""{{name}}: a switchyard filter (Python). It keeps recognition events whose match score
reaches `min_score` and drops the rest; events of other categories always pass.

    [plugins.{{name}}.settings]
    min_score = 0.8   # 0..1
"""

from wit_world import exports
from switchyard_kit import BadSettings, guard, load_settings, types


def rule() -> dict:
    settings = load_settings({"min_score": 0.8})
    score = settings["min_score"]
    if not isinstance(score, (int, float)) or not 0 <= score <= 1:
        raise BadSettings(f"`min_score` must be a number within 0..1, got {score!r}")
    return settings


class SetupApi(exports.SetupApi):
    @guard
    def validate_settings(self) -> None:
        """Called once when the router loads the plugin: a settings mistake stops `check`."""
        rule()


class FilterApi(exports.FilterApi):
    @guard
    def filter(self, event: types.Event) -> types.Verdict:
        min_score = rule()["min_score"]
        if event.category != types.Category.RECOGNITION:
            return types.Verdict_Keep()
        score = event.match.score if event.match else None
        if score is None:
            return types.Verdict_Drop("no match score")
        if score < min_score:
            return types.Verdict_Drop(f"match score {score} is below min_score {min_score}")
        return types.Verdict_Keep()
