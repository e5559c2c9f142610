"""{{name}}: a switchyard transform (Python). It stamps every event with the site it comes
from (`source.site`, when the vendor left it empty) and a tag in `extras`.

    [plugins.{{name}}.settings]
    site = "north-gate"
    tag = "building-a"   # optional
"""

import json

from wit_world import exports
from switchyard_kit import BadSettings, InvalidInput, guard, load_settings, types


def stamp() -> dict:
    settings = load_settings({"site": "", "tag": None})
    if not isinstance(settings["site"], str) or not settings["site"].strip():
        raise BadSettings("`site` must be a non-empty string")
    return settings


class SetupApi(exports.SetupApi):
    @guard
    def validate_settings(self) -> None:
        """Called once when the router loads the plugin: a settings mistake stops `check`."""
        stamp()


class TransformApi(exports.TransformApi):
    @guard
    def transform(self, event: types.Event) -> list[types.Event]:
        settings = stamp()
        if event.source.site is None:
            event.source.site = settings["site"]
        if settings["tag"] is not None:
            try:
                extras = json.loads(event.extras)
            except ValueError as e:
                raise InvalidInput(f"`extras` is not JSON: {e}")
            extras["tag"] = settings["tag"]
            event.extras = json.dumps(extras)
        return [event]
