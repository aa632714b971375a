"""The sidecar's HTTP responses: status, headers, bytes (and the JSON shape of errors)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["Response", "json_response"]


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def json_response(
    status: int,
    payload: Any,
    *,
    content_type: str = "application/json",
    headers: tuple[tuple[str, str], ...] = (),
) -> Response:
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return Response(status, (("Content-Type", content_type), *headers), body)
