"""switchyard's Python plugin kit (written by `switchyard plugin new`; built in by componentize-py).

- `@guard` on every exported method: an exception becomes `plugin-error.internal` carrying its
  traceback (which the router logs and keeps with the quarantined request),
  `BadSettings`/`InvalidInput` become their plugin-error cases, and an `Err(...)` raised on purpose passes through unchanged.
- `load_settings(defaults)`: the plugin's `[plugins.<id>.settings]` as a dict, with unknown keys
  refused (a typo fails `switchyard check`) and missing ones taken from `defaults`.
- `blank_event(vendor, category, action)`: a `router.event/v1` record with every optional part
  empty, to fill in from a vendor payload.
- `print()` works: stdout and stderr go to the router's log, tagged with the plugin id.
"""

import functools
import json
import traceback
import types as _types
import typing

from componentize_py_types import Err
from wit_world.imports import host, types

__all__ = ["guard", "load_settings", "blank_event", "log", "BadSettings", "InvalidInput", "types", "host"]


class BadSettings(Exception):
    """The settings in router.toml are wrong: becomes `plugin-error.bad-settings`."""


class InvalidInput(Exception):
    """The request or event is malformed: becomes `plugin-error.invalid-input` (HTTP 400)."""


def guard(method):
    """Turns exceptions of an exported method into the router's plugin errors, and checks
    that it returns what its annotation says (a wrong type would otherwise surface as a
    cryptic trap deep in the component's glue code)."""
    expected = typing.get_type_hints(method).get("return", _UNCHECKED)

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        try:
            result = method(*args, **kwargs)
        except Err:
            raise
        except BadSettings as e:
            raise Err(types.PluginError_BadSettings(str(e)))
        except InvalidInput as e:
            raise Err(types.PluginError_InvalidInput(str(e)))
        except Exception:  # noqa: BLE001 - every other failure is the plugin's own bug
            # Not logged here: the router logs the failure (and quarantines the request)
            # with this traceback, so it would appear twice.
            raise Err(types.PluginError_Internal(traceback.format_exc()))
        if expected is not _UNCHECKED and not _conforms(result, expected):
            raise Err(
                types.PluginError_Internal(
                    f"{method.__qualname__} returned {_describe(result)}, "
                    f"but is declared to return {_name(expected)}"
                )
            )
        return result

    return wrapper


_UNCHECKED = object()


def _conforms(value, hint) -> bool:
    """Whether `value` fits a return annotation: a class, None, a Union (a WIT variant or an
    option) or a list of one of those. Other forms are taken on trust."""
    if hint is None or hint is type(None):
        return value is None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, getattr(_types, "UnionType", typing.Union)):
        return any(_conforms(value, arg) for arg in typing.get_args(hint))
    if origin is list:
        (item,) = typing.get_args(hint) or (typing.Any,)
        return isinstance(value, list) and all(_conforms(v, item) for v in value)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


def _name(hint) -> str:
    if hint is None or hint is type(None):
        return "None"
    args = typing.get_args(hint)
    if typing.get_origin(hint) is list:
        return f"list[{_name(args[0])}]" if args else "list"
    if args:
        return " | ".join(_name(a) for a in args)
    return getattr(hint, "__name__", str(hint))


def _describe(value) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}" if len(text) <= 60 else type(value).__name__


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


def blank_subject(person_id=None, display_name=None, kind=None) -> "types.Subject":
    """A subject with only an id and a name; its kind is `unknown` unless given (as the Rust
    SDK's `paths::subject`): say `types.SubjectKind.PERSON` when the vendor says it is one."""
    return types.Subject(
        kind=types.SubjectKind.UNKNOWN if kind is None else kind,
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
