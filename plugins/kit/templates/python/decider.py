"""{{name}}: a switchyard decider (Python). It grants access to the people listed in `allow`
or in the operator's roster (`roster = { path = "roster.csv" }` in router.toml) and denies
everyone else, with the tip text the terminal shows.

    [plugins.{{name}}.settings]
    allow = ["p-17"]
    grant_tip = "Welcome"
    deny_tip = "Not registered"
"""

import json

from wit_world import exports
from wit_world.imports import site
from switchyard_kit import BadSettings, guard, load_settings, types


def policy() -> dict:
    settings = load_settings({"allow": [], "grant_tip": "Welcome", "deny_tip": "Not registered"})
    if not all(isinstance(p, str) and p.strip() for p in settings["allow"]):
        raise BadSettings("`allow` must be a list of non-empty person ids")
    return settings


class SetupApi(exports.SetupApi):
    @guard
    def validate_settings(self) -> None:
        """Called once when the router loads the plugin: a settings mistake stops `check`."""
        policy()


class DecideApi(exports.DecideApi):
    @guard
    def decide(self, event: types.Event) -> types.Ruling:
        settings = policy()
        person = event.subject.person_id if event.subject else None
        if person is None:
            granted, reason = False, "no person id"
        elif person in settings["allow"]:
            granted, reason = True, "in allow"
        elif site.roster_lookup(person) is not None:
            granted, reason = True, "in roster"
        else:
            granted, reason = False, "not listed"
        return types.Ruling(
            decision=types.Decision.GRANTED if granted else types.Decision.DENIED,
            custom_tip=settings["grant_tip"] if granted else settings["deny_tip"],
            details=json.dumps({"reason": reason}),
        )
