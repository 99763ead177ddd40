"""What the OpenAPI schema says about errors: every operation documents its 4xx answers.

All of them share the one body of ``consult.api.errors`` (the ``Error`` component). Which codes an
operation may answer follows from what it takes: any request may be unauthenticated (401), refused (403),
about something missing (404), malformed (400) or throttled (429); a write may also come in a wrong state
(409), with a body over the size limit (413) or in a media type it cannot read (415).
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The one shape of every error answer.",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "string", "description": "machine-readable, e.g. invalid_input, invalid_transition"},
        "message": {"type": "string", "description": "for people, in the request's language"},
        "fields": {
            "type": "object",
            "description": "the input fields at fault, each with its messages; nested input named with dots (items.0)",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
}
ERRORS = {
    "400": "Invalid input: `fields` names what is wrong.",
    "401": "Not signed in: send a session cookie or `Authorization: Token <secret>`.",
    "403": "Signed in, but not allowed to do this.",
    "404": "No such object, or not visible to you.",
    "409": "Not allowed in the object's current state (`invalid_transition`).",
    "413": "The request body is over the size limit.",
    "415": "The request body's media type is not accepted, or the body cannot be read as that type.",
    "429": "Too many requests: wait and try again.",
}
WRITE_ONLY_ERRORS = {"409", "413", "415"}
WRITES = {"post", "put", "patch", "delete"}
MAX_ID = 2**63 - 1


def document_errors(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: add the ``Error`` component and the 4xx answers of each operation."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if isinstance(operation, dict) and "responses" in operation:
                add_error_responses(operation, is_write=method in WRITES)
                bound_path_ids(operation)
    return result


def bound_path_ids(operation: dict[str, Any]) -> None:
    """Ids in paths are positive 64-bit integers: the URL patterns match digits only, the columns are bigint."""
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema", {})
        if parameter.get("in") == "path" and schema.get("type") == "integer":
            schema.update(minimum=1, maximum=MAX_ID, format="int64")


def add_error_responses(operation: dict[str, Any], *, is_write: bool) -> None:
    responses = operation["responses"]
    for status, description in ERRORS.items():
        if status in responses or (status in WRITE_ONLY_ERRORS and not is_write):
            continue
        responses[status] = {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
