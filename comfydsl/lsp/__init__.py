"""Editor support: `comfydsl lsp`, a Language Server Protocol server for `.comfy` recipes.

Needs the optional `lsp` extra (`pip install "comfydsl[lsp]"`, which brings pygls). The
modules `text`, `index` and `project` work without it; `features` and `server` need it.
"""

from __future__ import annotations

__all__ = ["serve_stdio"]


def serve_stdio(**options) -> None:
    """Run the language server on standard input and output (see `server.serve_stdio`)."""
    from .project import ServerOptions
    from .server import serve_stdio as serve

    serve(ServerOptions(**options))
