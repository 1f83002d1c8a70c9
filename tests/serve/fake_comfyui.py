"""A loopback fake of ComfyUI's HTTP API, answering as ComfyUI documents it.

Routes: `GET /` (200), `POST /upload/image` (multipart `image`, `overwrite`),
`POST /prompt` (200 `{"prompt_id", "number", "node_errors"}` or a scripted 400 body),
`GET /history/{id}` (`{}` until the prompt has run `polls_to_finish` polls, then its
entry), `GET /view?filename&subfolder&type`, `GET /object_info` (the real catalogue),
`GET /object_info/{class}` (`{class: entry}`, or `{}` for an unknown class), `GET /system_stats`
(`system.comfyui_version` is `version`; 404 when that is None),
`POST /interrupt`.
"""

from __future__ import annotations

import json
import threading
import uuid
from email.parser import BytesParser
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from comfydsl.serve.png import placeholder_png
from serve_helpers import OBJECT_INFO


class FakeComfyUI:
    """State and script of the fake: what it received and how it answers."""

    def __init__(self, *, polls_to_finish: int = 2) -> None:
        self.polls_to_finish = polls_to_finish
        self.uploads: dict[str, tuple[bytes, str, str]] = {}
        self.prompts: list[dict] = []
        self.history_polls: dict[str, int] = {}
        self.interrupts = 0
        self.reject_with: tuple[int, str] | None = None
        self.execution_error: dict | None = None
        self.missing_views: set[str] = set()
        self.up = True
        self.version: str | None = "0.3.64"  # what /system_stats reports (None: no such route)
        self.object_info_requests = 0
        self.class_requests: list[str] = []
        self.files: dict[tuple[str, str, str], bytes] = {}
        self.entries: dict[str, dict] = {}
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-comfyui", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeComfyUI:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def run_prompt(self, prompt_id: str, workflow: dict) -> dict:
        """The history entry of a finished prompt: images of SaveImage/PreviewImage nodes."""
        outputs = {}
        for node_id, node in workflow.items():
            kind = {"SaveImage": "output", "PreviewImage": "temp"}.get(node.get("class_type"))
            if kind:
                prefix = node["inputs"].get("filename_prefix", "ComfyUI_temp")
                name = f"{prefix}_{len(self.files) + 1:05}_.png"
                self.files[(name, "", kind)] = placeholder_png(3, 3, (9, 9, 9))
                outputs[node_id] = {"images": [{"filename": name, "subfolder": "", "type": kind}]}
            elif node.get("class_type") == "SaveLatent":
                outputs[node_id] = {"latents": [{"filename": "x.latent", "subfolder": "", "type": "output"}]}
        messages = [["execution_start", {"prompt_id": prompt_id}]]
        status = {"status_str": "success", "completed": True, "messages": messages}
        if self.execution_error is not None:
            messages.append(["execution_error", dict(self.execution_error, prompt_id=prompt_id)])
            status = {"status_str": "error", "completed": False, "messages": messages}
        return {"prompt": [0, prompt_id, workflow, {}, list(outputs)], "outputs": outputs, "status": status}


_OBJECT_INFO: dict = {}


def _object_info() -> dict:
    if not _OBJECT_INFO:
        _OBJECT_INFO.update(json.loads(OBJECT_INFO.read_text()))
    return _OBJECT_INFO


def _handler(fake: FakeComfyUI):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _send(self, status: int, body, content_type: str = "application/json") -> None:
            data = json.dumps(body).encode() if not isinstance(body, (bytes, str)) else \
                body.encode() if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if not fake.up:
                self._send(503, "starting", "text/plain")
            elif url.path == "/":
                self._send(200, "<html>ComfyUI</html>", "text/html")
            elif url.path == "/object_info":
                fake.object_info_requests += 1
                self._send(200, OBJECT_INFO.read_bytes())
            elif url.path.startswith("/object_info/"):
                from urllib.parse import unquote

                name = unquote(url.path[len("/object_info/"):])
                fake.class_requests.append(name)
                entry = _object_info().get(name)
                self._send(200, json.dumps({name: entry} if entry is not None else {}).encode())
            elif url.path == "/system_stats":
                if fake.version is None:
                    self._send(404, b"404: Not Found", "text/plain")
                else:
                    self._send(200, json.dumps({"system": {"os": "posix", "comfyui_version": fake.version,
                                                           "required_frontend_version": "1.28.6"},
                                                "devices": []}).encode())
            elif url.path.startswith("/history/"):
                prompt_id = url.path.rsplit("/", 1)[1]
                with fake.lock:
                    fake.history_polls[prompt_id] = fake.history_polls.get(prompt_id, 0) + 1
                    entry = fake.entries.get(prompt_id)
                    done = entry is not None and fake.history_polls[prompt_id] > fake.polls_to_finish
                self._send(200, {prompt_id: entry} if done else {})
            elif url.path == "/view":
                query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
                key = (query.get("filename"), query.get("subfolder", ""), query.get("type"))
                data = fake.files.get(key)
                if data is None or key[0] in fake.missing_views:
                    self._send(404, "404: Not Found", "text/plain")
                else:
                    self._send(200, data, "image/png")
            else:
                self._send(404, "404: Not Found", "text/plain")

        def do_POST(self) -> None:
            body = self._body()
            if self.path == "/upload/image":
                message = BytesParser(policy=default).parsebytes(
                    b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + body)
                fields = {part.get_param("name", header="content-disposition"): part
                          for part in message.iter_parts()}
                image = fields["image"]
                name = image.get_filename()
                fake.uploads[name] = (image.get_payload(decode=True), image.get_content_type(),
                                      fields["overwrite"].get_content())
                self._send(200, {"name": name, "subfolder": "", "type": "input"})
            elif self.path == "/prompt":
                payload = json.loads(body)
                fake.prompts.append(payload)
                if fake.reject_with is not None:
                    status, text = fake.reject_with
                    self._send(status, text)
                    return
                prompt_id = str(uuid.uuid4())
                with fake.lock:
                    fake.entries[prompt_id] = fake.run_prompt(prompt_id, payload["prompt"])
                self._send(200, {"prompt_id": prompt_id, "number": len(fake.prompts), "node_errors": {}})
            elif self.path == "/interrupt":
                fake.interrupts += 1
                self._send(200, "")
            else:
                self._send(404, "404: Not Found", "text/plain")

    return Handler
