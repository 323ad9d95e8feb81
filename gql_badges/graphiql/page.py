"""The GraphiQL page: our own template, loading only files the gateway serves itself."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import cache
from importlib import resources

from starlette.responses import HTMLResponse

from gql_badges.graphiql.assets import asset_url, manifest

# GraphiQL 3 reads the headers pane with a plain JSON.parse: a `//` or `#` comment line makes
# every run fail with "Headers are invalid JSON". So the example is commented out the way the
# page's fetcher understands: a name starting with "#" is never sent; deleting the "#" sends it.
DEFAULT_HEADERS = '{\n  "#Authorization": "Basic base64(username:md5-hex-of-password)"\n}\n'


def _read(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _script_json(value: object) -> str:
    """JSON safe inside a <script> element: no `</script>` or `<!--` can end it early."""
    return json.dumps(value).replace("<", "\\u003c")


@cache
def _page() -> tuple[bytes, str]:
    """The page, and the Content-Security-Policy that lets it load only the gateway's files."""
    boot = _read("boot.js")
    config = {
        "defaultQuery": _read("default_query.graphql"),
        "defaultHeaders": DEFAULT_HEADERS,
    }
    # Relative URLs, so the page also works when a proxy mounts the gateway under a prefix.
    values = {name: asset_url(name).lstrip("/") for name in manifest()["files"]}
    values.update(config=_script_json(config), boot=boot)
    # One pass, so no inserted text is itself taken for a placeholder.
    html = re.sub(r"\{\{([^{}]+)\}\}", lambda m: values[m.group(1)], _read("page.html"))
    boot_hash = base64.b64encode(hashlib.sha256(boot.encode()).digest()).decode()
    # Everything from the gateway itself; GraphiQL's fonts and icons are data: URIs, and React
    # and CodeMirror set inline styles. connect-src 'self' also admits the subscriptions'
    # WebSocket to the same host and port (ws: and wss: match 'self' in CSP Level 3).
    policy = (
        "default-src 'self'; "
        f"script-src 'self' 'sha256-{boot_hash}'; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; "
        "connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )
    return html.encode(), policy


def graphiql_page() -> HTMLResponse:
    body, policy = _page()
    return HTMLResponse(
        body,
        headers={
            "Content-Security-Policy": policy,
            # The page names the current assets' URLs: it must not outlive a refresh.
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
        },
    )


__all__ = ["DEFAULT_HEADERS", "graphiql_page"]
