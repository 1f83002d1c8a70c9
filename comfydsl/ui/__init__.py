"""UI-format workflows (what ComfyUI's editor saves): conversion to API format and back, image metadata.

- `convert_ui(data, catalog)`: the API prompt the editor would send for a UI file (`Conversion`);
- `write_ui(workflow, catalog)`: a UI file with an automatic layout for an API workflow;
- `read_image_metadata(data)`: the `prompt`/`workflow` texts ComfyUI embeds in PNG and WebP files.
"""

from __future__ import annotations

from .convert import Conversion as Conversion
from .convert import UiSource as UiSource
from .convert import convert_ui as convert_ui
from .convert import is_ui_workflow as is_ui_workflow

__all__ = ["Conversion", "UiSource", "convert_ui", "is_ui_workflow"]
