"""/docs without the internet: Swagger UI's files come from the ``swagger-ui-bundle-v2`` package (Swagger
UI 5, which reads FastAPI's OpenAPI 3.1) and are served by the app itself. FastAPI's own /docs and /redoc
load their scripts from a CDN, so create the app with ``docs_url=None, redoc_url=None`` and call
:func:`install_docs`. The page's one inline script (Swagger UI's start) is allowed by its hash in the page's
own Content-Security-Policy; everything else keeps the server's policy.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from voicebot.server.limits import content_security_policy

DOCS_URL = "/docs"
ASSETS_URL = "/docs/assets"


def install_docs(app: FastAPI) -> None:
    """Serve Swagger UI at /docs from local files (no validator badge, nothing fetched from elsewhere)."""
    app.mount(ASSETS_URL, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get(DOCS_URL, include_in_schema=False)
    def docs() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": False},
        )
        page.headers["content-security-policy"] = content_security_policy(inline_script_hashes(page.body))
        return page


INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def inline_script_hashes(html: bytes | memoryview) -> list[str]:
    """The CSP hash (base64 SHA-256) of each inline ``<script>`` of a page."""
    return [base64.b64encode(hashlib.sha256(m).digest()).decode() for m in INLINE_SCRIPT.findall(bytes(html))]
