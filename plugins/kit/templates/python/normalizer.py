"""{{name}}: a switchyard normalizer (Python). It turns a terminal's JSON push —
`{"events": [{"id", "time", "device", "person", "name", "score"}, ...]}` or one such object —
into normalized `router.event/v1` events. Replace the mapping with your vendor's.

    [plugins.{{name}}.settings]
    vendor = "acme"   # the `vendor` of every event
"""

import json

from wit_world import exports
from switchyard_kit import BadSettings, InvalidInput, blank_event, blank_match, blank_subject, guard, load_settings, types


def checked() -> dict:
    settings = load_settings({"vendor": "{{name}}"})
    if not isinstance(settings["vendor"], str) or not settings["vendor"].strip():
        raise BadSettings("`vendor` must be a non-empty string")
    return settings


def to_event(item: dict, vendor: str) -> types.Event:
    person = item.get("person")
    action = types.Action.FACE_MATCHED if person else types.Action.FACE_UNMATCHED
    event = blank_event(vendor, types.Category.RECOGNITION, action)
    event.vendor_event_id = item.get("id")
    event.vendor_event_type = "push"
    if item.get("time"):
        event.occurred_at = event.occurred_at_raw = item["time"]
        event.occurred_at_tz_source = types.TzSource.EXPLICIT
    event.source.device_id = item.get("device")
    if person:
        event.subject = blank_subject(person, item.get("name"), types.SubjectKind.PERSON)
    score = item.get("score")
    if isinstance(score, (int, float)):
        event.match = blank_match(matched=person is not None, score=float(score))
    return event


class SetupApi(exports.SetupApi):
    @guard
    def validate_settings(self) -> None:
        """Called once when the router loads the plugin: a settings mistake stops `check`."""
        checked()


class NormalizeApi(exports.NormalizeApi):
    @guard
    def normalize(self, request: types.HttpRequest) -> types.Normalized:
        vendor = checked()["vendor"]
        try:
            root = json.loads(bytes(request.body))
        except ValueError as e:
            raise InvalidInput(f"body is not JSON: {e}")
        items = root.get("events", [root]) if isinstance(root, dict) else None
        if not isinstance(items, list):
            raise InvalidInput('expected an object or {"events": [...]}')
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise InvalidInput(f"events[{i}] is not an object")
        # reply=None: the router answers 202 with the events' ids.
        return types.Normalized(events=[to_event(item, vendor) for item in items], reply=None)
