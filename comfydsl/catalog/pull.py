"""Pull a ComfyUI server's node catalogue into a file, with the server's version.

The whole catalogue is one `GET /object_info`; a large install answers with 50-100 MB after
15 s or more, so `classes=` asks `GET /object_info/{class}` for just the classes some
workflows use. The version comes from `GET /system_stats` (`system.comfyui_version`) and is
kept in the file under the reserved top-level key `__comfydsl__`, which readers skip:

```json
{"__comfydsl__": {"comfyui_version": "0.4.2", "frontend_version": "1.30.1",
                  "source": "http://127.0.0.1:8188", "pulled": "2026-11-02T10:00:00Z"},
 "KSampler": {...}}
```
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping
from urllib.parse import quote

from ..errors import CatalogError
from .schema import META_KEY

#: The top-level key of a catalogue file that holds facts about the catalogue, not a class
#: (defined with the catalogue's schema).
CATALOG_META_KEY = META_KEY


def catalog_meta(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The `__comfydsl__` entry of a catalogue (empty when it has none)."""
    meta = raw.get(CATALOG_META_KEY) if isinstance(raw, Mapping) else None
    return dict(meta) if isinstance(meta, Mapping) else {}


def node_classes(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The node classes of a catalogue, without the `__comfydsl__` entry."""
    return {name: entry for name, entry in raw.items() if name != CATALOG_META_KEY}


def pull_catalog(url: str, *, classes: Iterable[str] | None = None, client: Any = None,
                 timeout: float = 300.0, now: datetime | None = None) -> dict[str, Any]:
    """The server's catalogue (all of it, or just `classes`) with its `__comfydsl__` entry.

    Classes the server does not know are listed in `__comfydsl__.missing`. Raises
    CatalogError when the server cannot be reached or answers with something else.
    """
    import httpx

    base = url.rstrip("/")
    if base.endswith("/object_info"):
        base = base[: -len("/object_info")]
    own = client is None
    client = client or httpx.Client(timeout=httpx.Timeout(30.0, read=timeout))
    try:
        stats = _get_json(client, f"{base}/system_stats", optional=True)
        system = stats.get("system") if isinstance(stats, dict) else None
        system = system if isinstance(system, dict) else {}
        meta: dict[str, Any] = {
            "comfyui_version": _text(system.get("comfyui_version")),
            "frontend_version": _text(system.get("required_frontend_version")),
            "source": base,
            "pulled": (now or datetime.now(timezone.utc)).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        }
        out: dict[str, Any] = {CATALOG_META_KEY: meta}
        if classes is None:
            answer = _get_json(client, f"{base}/object_info")
            if not isinstance(answer, dict):
                raise CatalogError(f"{base}/object_info: the answer is not a JSON object of node classes")
            out.update(node_classes(answer))
            return out
        wanted = sorted(set(classes))
        missing = []
        for name in wanted:
            answer = _get_json(client, f"{base}/object_info/{quote(name, safe='')}")
            entry = answer.get(name) if isinstance(answer, dict) else None
            if entry is None:
                missing.append(name)
            else:
                out[name] = entry
        meta["classes"] = len(wanted)
        if missing:
            meta["missing"] = missing
        return out
    finally:
        if own:
            client.close()


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _get_json(client: Any, url: str, *, optional: bool = False) -> Any:
    import httpx

    try:
        response = client.get(url)
    except httpx.HTTPError as exc:
        raise CatalogError(f"{url}: cannot reach the server: {exc or type(exc).__name__}") from None
    if response.status_code != 200:
        if optional:
            return {}
        raise CatalogError(f"{url}: the server answered HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError:
        if optional:
            return {}
        raise CatalogError(f"{url}: the answer is not JSON") from None


def catalog_text(raw: Mapping[str, Any]) -> str:
    """A pulled catalogue as the file `comfydsl catalog pull` writes (JSON, 1-space indent)."""
    return json.dumps(raw, indent=1, ensure_ascii=False) + "\n"
