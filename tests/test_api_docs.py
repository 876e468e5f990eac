"""The OpenAPI schema and its docs page, which must work without internet access."""

import re

import pytest

pytestmark = pytest.mark.django_db


def test_schema_lists_locate(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/locate/" in schema["paths"]
    names = [p["name"] for p in schema["paths"]["/api/v1/locate/"]["get"]["parameters"]]
    assert {"lon", "lat", "srs"} <= set(names)


def test_docs_page_loads_its_assets_from_the_app(client):
    page = client.get("/api/docs/").content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any("swagger-ui" in a for a in assets)
    assert [a for a in assets if a.startswith("http")] == []


def test_home_page_leads_to_the_maps(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/map/"
