"""The API's JSON parser: DRF's, with a nesting limit that answers 400 instead of crashing."""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class BoundedJSONParser(JSONParser):
    """Python's json module recurses once per nesting level: a body nested ~1,000 deep
    raises RecursionError, which DRF does not catch (an HTML 500 on every write). No LeadHunter
    payload nests more than three levels, so a deep one is simply malformed input."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError("JSON parse error - the JSON is nested too deeply.") from error
