"""The OpenAPI schema class for /api/: every operation documents the errors it can answer with, not only success.

DRF answers 400 (validation), 401 (no or bad credentials), 403 (role too low), 404 (not visible to you, or a page
past the end) and 429 (throttled); clients and schemathesis both need those in the schema to trust it.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, and what to do about it.")


VALIDATION_ERROR_SCHEMA = {
    "description": "Field name (or `non_field_errors`) to its messages, or a list of messages.",
    "oneOf": [
        {"type": "object", "additionalProperties": {}},
        {"type": "array", "items": {"type": "string"}},
    ],
}


class ClipcastAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction: str = "response") -> dict:
        responses = super()._get_response_bodies(direction=direction)
        errors: dict[str, tuple[object, str]] = {
            "401": (ErrorSerializer, "No credentials, or credentials that are not valid."),
            "403": (ErrorSerializer, "Your role in the workspace does not allow this."),
            "429": (ErrorSerializer, "Too many requests: wait for the time in Retry-After."),
        }
        has_query = any(p.get("in") == "query" for p in self._get_parameters())
        if self.method in WRITE_METHODS or has_query:
            errors["400"] = (self._validation_error_ref(), "The request is not valid; the body says why.")
        if "{" in self.path or self._is_list_view():
            errors["404"] = (ErrorSerializer, "Not found in your workspaces (or a page past the end).")
        for code, (schema, description) in errors.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(schema, code, direction=direction)
                responses[code]["description"] = description
        return dict(sorted(responses.items()))

    def _validation_error_ref(self) -> dict:
        component = ResolvedComponent(
            name="ValidationError", type=ResolvedComponent.SCHEMA, schema=VALIDATION_ERROR_SCHEMA,
            object="ValidationError",
        )
        self.registry.register_on_missing(component)
        return component.ref
