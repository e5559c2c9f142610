# The drop-unmatched filter in Python, for `make bench`'s per-language call cost (built with
# componentize-py when it is installed: `pip install componentize-py==0.25.1`).

from wit_world import exports
from wit_world.imports import types


class FilterApi(exports.FilterApi):
    def filter(self, event: types.Event) -> types.Verdict:
        m = event.match
        if m is not None and m.matched is False:
            return types.Verdict_Drop("unmatched")
        return types.Verdict_Keep()
