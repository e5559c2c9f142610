"""switchyard's Python plugin kit (written by `switchyard plugin new`; built in by componentize-py).

- `@guard` on every exported method: an exception becomes `plugin-error.internal` carrying its
  traceback (also written to the router's log), `BadSettings`/`InvalidInput` become their
  plugin-error cases, and an `Err(...)` raised on purpose passes through unchanged.
- `load_settings(defaults)`: the plugin's `[plugins.<id>.settings]` as a dict, with unknown keys
  refused (a typo fails `switchyard check`) and missing ones taken from `defaults`.
- `blank_event(vendor, category, action)`: a `router.event/v1` record with every optional part
  empty, to fill in from a vendor payload.
- `print()` works: stdout and stderr go to the router's log, tagged with the plugin id.
"""

import functools
import json
import traceback

from componentize_py_types import Err
from wit_world.imports import host, types

__all__ = ["guard", "load_settings", "blank_event", "log", "BadSettings", "InvalidInput", "types", "host"]


class BadSettings(Exception):
    """The settings in router.toml are wrong: becomes `plugin-error.bad-settings`."""


class InvalidInput(Exception):
    """The request or event is malformed: becomes `plugin-error.invalid-input` (HTTP 400)."""


def guard(method):
    """Turns exceptions of an exported method into the router's plugin errors."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except Err:
            raise
        except BadSettings as e:
            raise Err(types.PluginError_BadSettings(str(e)))
        except InvalidInput as e:
            raise Err(types.PluginError_InvalidInput(str(e)))
        except Exception:  # noqa: BLE001 - every other failure is the plugin's own bug
            tb = traceback.format_exc()
            host.log(host.Level.ERROR, tb)
            raise Err(types.PluginError_Internal(tb))

    return wrapper


def log(message: str, level: "host.Level" = host.Level.INFO) -> None:
    """Writes a line to the router's log, tagged with the plugin id."""
    host.log(level, message)


def load_settings(defaults: dict) -> dict:
    """The plugin's settings: `defaults` overridden by router.toml; unknown keys are refused."""
    try:
        given = json.loads(host.settings())
    except ValueError as e:
        raise BadSettings(f"settings are not JSON: {e}")
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        expected = ", ".join(f"`{k}`" for k in sorted(defaults)) or "none"
        raise BadSettings(f"unknown setting `{unknown[0]}`, expected one of {expected}")
    merged = dict(defaults)
    merged.update(given)
    return merged


def blank_event(vendor: str, category: "types.Category", action: "types.Action") -> "types.Event":
    """An event with every optional part empty; the router fills `event_uid`, `received_at`
    and `delivery` after normalization."""
    return types.Event(
        schema="router.event/v1",
        event_uid="",
        dedup_key=None,
        vendor=vendor,
        vendor_product=None,
        vendor_event_id=None,
        vendor_event_type=None,
        category=category,
        action=action,
        occurred_at=None,
        occurred_at_raw=None,
        occurred_at_tz_source=types.TzSource.MISSING,
        local_time=None,
        utc_offset_minutes=None,
        received_at="",
        source=types.SourceInfo(None, None, None, None, None, None, None, None, None, None, None),
        subject=None,
        match=None,
        attributes=None,
        media=[],
        location=None,
        access=None,
        alarm=None,
        repository=None,
        delivery=types.Delivery(types.Transport.HTTP_POST, "", None, None, types.AuthKind.NONE, None, None, False),
        extras="{}",
        fields_raw="{}",
        warnings=[],
    )


def blank_subject(person_id=None, display_name=None) -> "types.Subject":
    """A person subject with only an id and a name."""
    return types.Subject(
        kind=types.SubjectKind.PERSON,
        person_id=person_id,
        external_id=None,
        display_name=display_name,
        first_name=None,
        last_name=None,
        employee_number=None,
        card_number=None,
        id_document_number=None,
        person_type=types.PersonType.UNKNOWN,
        person_type_raw=None,
        groups=[],
    )


def blank_match(matched=None, score=None) -> "types.MatchInfo":
    """A match result with only `matched` and `score`."""
    return types.MatchInfo(
        matched=matched,
        score=score,
        score_raw=None,
        candidates=[],
        liveness=types.Liveness.UNKNOWN,
        liveness_score=None,
        quality=None,
        track_id=None,
        track_start=None,
        track_end=None,
    )
