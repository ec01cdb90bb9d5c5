"""The OpenAPI schema documents error answers, and unknown API addresses answer in JSON like the rest."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(api_as) -> dict:
    response = api_as(Role.VIEWER).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_every_operation_documents_auth_role_and_throttle_errors(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "403", "429"} <= codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if method in ("post", "put", "patch"):
                assert "400" in codes, (method, path)


def test_an_empty_url_of_an_unposted_post_is_a_plain_string_in_the_schema(schema):
    assert "format" not in schema["components"]["schemas"]["Post"]["properties"]["x_post_url"]


@pytest.mark.parametrize("method, path", [("get", "/api/clips/abc/"), ("post", "/api/clips/0.5/approve/"),
                                          ("delete", "/api/nothing/here/")])
def test_an_unknown_api_address_answers_404_in_json(api_as, method, path):
    client = api_as(Role.OWNER)

    response = getattr(client, method)(path)

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_an_api_address_without_its_slash_still_redirects(mine):
    response = APIClient().get("/api/clips")

    assert response.status_code == 301
    assert response["Location"].endswith("/api/clips/")
