"""JSON answers, and the one shape every HTTP-level error has."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class JsonResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error_response(status: int, message: str, code: str) -> JsonResponse:
    return JsonResponse({"errors": [{"message": message, "code": code}]}, status_code=status)
