"""UI-format workflows (what ComfyUI's editor saves): conversion to API format and back, image metadata.

- `convert_ui(data, catalog)`: the API prompt the editor would send for a UI file (`Conversion`);
- `convert_file(path, catalog)`, `convert_text(text, catalog)`: the same from a file (UI JSON, or a
  PNG/WebP image with ComfyUI metadata) or text, with diagnostics located in the file;
- `write_ui(workflow, catalog)`: a UI file with an automatic layout for an API workflow;
- `read_image_metadata(data)`: the `prompt`/`workflow` texts ComfyUI embeds in PNG and WebP files;
- `relocate(diagnostics, conversion, text, path)`: findings on the converted prompt moved to the UI file;
- `read_workflow(path, catalog)`: any workflow file (API, UI, image) as a Document of its API workflow,
  the reader of `run`, `decompile` and `graph`; `to_api(data)`: the same for decoded JSON.
"""

from __future__ import annotations

from .api import convert_file as convert_file
from .api import convert_text as convert_text
from .api import image_workflow_text as image_workflow_text
from .api import is_image_path as is_image_path
from .api import read_workflow as read_workflow
from .api import relocate as relocate
from .api import to_api as to_api
from .convert import Conversion as Conversion
from .convert import UiSource as UiSource
from .convert import convert_ui as convert_ui
from .convert import is_ui_workflow as is_ui_workflow
from .png import read_image_metadata as read_image_metadata
from ..rules.ui import UI_RULES as UI_RULES
from .write import write_ui as write_ui

__all__ = [
    "UI_RULES",
    "Conversion",
    "UiSource",
    "convert_file",
    "convert_text",
    "convert_ui",
    "image_workflow_text",
    "is_image_path",
    "is_ui_workflow",
    "read_image_metadata",
    "read_workflow",
    "relocate",
    "to_api",
    "write_ui",
]
