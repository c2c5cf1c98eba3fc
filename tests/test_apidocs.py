"""/docs works on an offline machine: Swagger UI's files are served by the app itself (from the
swagger-ui-bundle-v2 package), never from a CDN; the OpenAPI document declares the bearer token (the
Authorize button and the lock on each route) and describes the CSV import body."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

from fastapi.testclient import TestClient

from voicebot.server.app import create_app
from voicebot.server.config import load_config

URL_ATTR = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


def client(tmp_path: Path) -> TestClient:
    config = load_config(None, {"VOICEBOT_DB_URL": f"sqlite:///{tmp_path / 'docs.db'}"})
    app = create_app(config, models=SimpleNamespace(engine=None, transcriber=None, synthesizer=None))
    return TestClient(app)  # no lifespan: nothing starts, the routes answer


def test_docs_page_and_assets_are_local(tmp_path: Path) -> None:
    http = client(tmp_path)
    page = http.get("/docs")
    assert page.status_code == 200 and "SwaggerUIBundle" in page.text
    assert not re.search(r"https?://", page.text), "the docs page names another host"
    assets = URL_ATTR.findall(page.text)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert any(a.endswith("swagger-ui.css") for a in assets)
    for asset in assets:
        assert asset.startswith("/"), asset
        got = http.get(asset)
        assert got.status_code == 200 and len(got.content) > 500, asset
    assert "url: '/openapi.json'" in page.text and '"validatorUrl": null' in page.text
    assert http.get("/redoc").status_code == 404  # FastAPI's ReDoc page would load from a CDN


def test_openapi_declares_bearer_and_the_csv_import_body(tmp_path: Path) -> None:
    spec = client(tmp_path).get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["bearer"]["description"],
    }
    paths = spec["paths"]
    # The role each route needs is the bearer requirement's scope (OpenAPI 3.1 role names).
    for path, method, role in (
        ("/api/campaigns", "get", "viewer"),
        ("/api/alerts", "get", "viewer"),
        ("/api/calls/live", "get", "operator"),
        ("/api/tokens", "post", "admin"),
    ):
        assert paths[path][method]["security"] == [{"bearer": [role]}], path
    assert "security" not in paths["/healthz"]["get"]
    body = paths["/api/campaigns/{campaign_id}/contacts"]["post"]["requestBody"]
    assert body["required"] is True
    assert "이름" in body["description"] and "전화번호" in body["description"]
    form = body["content"]["multipart/form-data"]["schema"]
    assert form["properties"]["file"] == {
        "type": "string",
        "format": "binary",
        "description": form["properties"]["file"]["description"],
    }
    assert form["required"] == ["file"]
    assert body["content"]["text/csv"]["schema"] == {"type": "string"}


def test_openapi_lists_every_error_status_with_the_korean_error_body(tmp_path: Path) -> None:
    spec = client(tmp_path).get("/openapi.json").json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]  # FastAPI's 422 shape is not ours
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    paths = spec["paths"]

    def statuses(path: str, method: str) -> set[str]:
        responses = paths[path][method]["responses"]
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                assert response["content"] == error, (path, method, status)
        return set(responses)

    assert statuses("/api/campaigns", "get") == {"200", "401", "422", "429"}  # a viewer route: no 403
    assert statuses("/api/campaigns/{campaign_id}/start", "post") == {
        "200", "400", "401", "403", "404", "409", "413", "422", "429",
    }  # fmt: skip
    assert statuses("/api/tokens/{token_id}", "delete") >= {"204", "403", "404", "409"}
    assert statuses("/healthz", "get") == {"200"}
    export = paths["/api/campaigns/{campaign_id}/export.csv"]["get"]["responses"]["200"]["content"]
    assert set(export) == {"text/csv"}
