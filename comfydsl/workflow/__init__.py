"""The wire format, a leaf every other package imports downward from.

* `links`: what a link is, and the order node ids sort in;
* `document`: reading workflow documents (API JSON, RunPod bodies, `/prompt` bodies);
* `jsonpos`: positions of JSON paths in the text of a document;
* `envelopes`: building RunPod `/run`/`/runsync` and `POST /prompt` bodies, and their size limits;
* `status`: RunPod job states and which of them are final.

This package imports only the standard library, `comfydsl.diagnostics` and `comfydsl.errors`.
"""

from __future__ import annotations

from .envelopes import RUN_BODY_LIMIT as RUN_BODY_LIMIT
from .envelopes import RUNSYNC_BODY_LIMIT as RUNSYNC_BODY_LIMIT
from .links import is_link as is_link
from .links import node_id_key as node_id_key
from .status import FINAL_STATES as FINAL_STATES
from .status import JobStatus as JobStatus

__all__ = ["FINAL_STATES", "JobStatus", "RUNSYNC_BODY_LIMIT", "RUN_BODY_LIMIT", "is_link", "node_id_key"]
