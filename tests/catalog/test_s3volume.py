"""Listing a network volume over the S3 API, against a real S3 server on 127.0.0.1 (moto in
server mode), reached through boto3 as in production.

RunPod's quirks that moto does not show are injected by a small loopback proxy between boto3
and moto: 502 and 524 answers, a continuation token handed back twice (the proxy answers a
page request with the page before it again), and a slow answer (a read timeout). Nothing here
mocks boto3.
"""

from __future__ import annotations

import http.client
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

# boto3 and moto are imported by the fixture, not at collection: they are slow to import, and
# every test worker collects every module

from comfydsl.catalog.inventory import Listing, load_inventory  # noqa: E402
from comfydsl.catalog.s3volume import list_volume  # noqa: E402
from comfydsl.cli import main  # noqa: E402
from comfydsl.errors import CatalogError  # noqa: E402

VOLUME = "vol123abc"
KEYS = {
    "models/checkpoints/sd_xl_base_1.0.safetensors": b"a" * 10,
    "models/checkpoints/sub/v1-5.ckpt": b"b" * 3,
    "models/unet/flux1-dev.safetensors": b"c",
    "models/diffusion_models/wan.safetensors": b"d",
    "models/loras/": b"",  # a folder marker
    "checkpoints/at_root.safetensors": b"e",
    ".s3compat_uploads/part-1": b"f",
    "models/loras/notes.txt": b"g",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_url():
    boto3 = pytest.importorskip("boto3")
    moto_server = pytest.importorskip("moto.server")
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=url, region_name="eu-ro-1", aws_access_key_id="user_test",
                          aws_secret_access_key="rps_test")
    client.create_bucket(Bucket=VOLUME, CreateBucketConfiguration={"LocationConstraint": "eu-ro-1"})
    for key, body in KEYS.items():
        client.put_object(Bucket=VOLUME, Key=key, Body=body)
    for i in range(7):  # a folder that needs several pages at page_size=3
        client.put_object(Bucket=VOLUME, Key=f"models/loras/l{i}.safetensors", Body=b"x" * i)
    yield url
    server.stop()


@pytest.fixture(autouse=True)
def s3_key(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "RUNPOD_S3_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RUNPOD_S3_ACCESS_KEY_ID", "user_test")
    monkeypatch.setenv("RUNPOD_S3_SECRET_ACCESS_KEY", "rps_secret_never_printed")


class QuirkProxy:
    """Forwards to moto; `script` is a list of actions for the next list requests:
    `None` (forward), an int status (answer with it), `"repeat"` (answer with the previous
    list page again) or `("slow", seconds)` (forward after a pause)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.removeprefix("http://")
        self.script: list = []
        self.last_page: bytes | None = None
        self.requests = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                proxy.requests += 1
                action = proxy.script.pop(0) if proxy.script and "list-type" in self.path else None
                if isinstance(action, int):
                    body = b"<html>origin timed out</html>"
                    self.send_response(action)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if action == "repeat" and proxy.last_page is not None:
                    self._answer(200, proxy.last_page, "application/xml")
                    return
                if isinstance(action, tuple):
                    import time

                    time.sleep(action[1])
                try:
                    conn = http.client.HTTPConnection(proxy.upstream, timeout=10)
                    conn.request("GET", self.path, headers={k: v for k, v in self.headers.items()})
                    response = conn.getresponse()
                    data = response.read()
                    if "list-type" in self.path and response.status == 200:
                        proxy.last_page = data
                    self._answer(response.status, data, response.getheader("Content-Type", "application/xml"))
                except OSError:  # the client gave up (the slow case)
                    pass

            def _answer(self, status: int, data: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> QuirkProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def _paths(files) -> list[str]:
    return [f.path for f in files]


def test_lists_every_file_folder_by_folder(s3_url):
    folders = []
    files = list_volume(VOLUME, "EU-RO-1", endpoint_url=s3_url, page_size=3,
                        progress=lambda folder, n: folders.append(folder))
    paths = _paths(files)
    assert "models/loras/" not in paths and not any(p.startswith(".s3compat_uploads/") for p in paths)
    assert "models/checkpoints/sub/v1-5.ckpt" in paths and "checkpoints/at_root.safetensors" in paths
    assert len([p for p in paths if p.startswith("models/loras/l")]) == 7
    assert "" in folders and "models/checkpoints/sub/" in folders and ".s3compat_uploads/" not in folders
    entry = next(f for f in files if f.path == "models/checkpoints/sd_xl_base_1.0.safetensors")
    assert entry.size == 10 and entry.md5 == "e09c80c42fda55f9d992e59ca6b3307d"  # md5(b"a" * 10)


def test_volume_as_inventory_with_misplaced_files(s3_url, monkeypatch):
    monkeypatch.setenv("RUNPOD_S3_ENDPOINT_URL", s3_url)
    listing = load_inventory(f"runpod-volume://{VOLUME}@EU-RO-1")
    assert isinstance(listing, Listing) and listing.layout == "runpod-volume"
    catalog = listing.catalog("5.8.5")
    assert catalog.files("checkpoints") == ["sd_xl_base_1.0.safetensors", "sub/v1-5.ckpt"]
    assert catalog.files("diffusion_models") == ["flux1-dev.safetensors"]
    assert catalog.find_misplaced("diffusion_models", "wan.safetensors").move_to == "models/unet/wan.safetensors"
    assert catalog.find_misplaced("checkpoints", "at_root.safetensors").move_to == \
        "models/checkpoints/at_root.safetensors"
    assert "wan.safetensors" in listing.catalog("dev").files("diffusion_models")


@pytest.mark.parametrize("status", [502, 524, 503])
def test_retries_gateway_errors(s3_url, status):
    waits = []
    with QuirkProxy(s3_url) as proxy:
        proxy.script = [status, status]
        files = list_volume(VOLUME, "EU-RO-1", endpoint_url=proxy.url, sleep=waits.append, backoff=0.5)
    assert "models/unet/flux1-dev.safetensors" in _paths(files)
    assert waits[:2] == [0.5, 1.0]


def test_gives_up_after_the_last_try(s3_url):
    with QuirkProxy(s3_url) as proxy:
        proxy.script = [502] * 3
        with pytest.raises(CatalogError, match="HTTP 502"):
            list_volume(VOLUME, "EU-RO-1", endpoint_url=proxy.url, sleep=lambda s: None, attempts=3)


def test_a_repeated_continuation_token_relists_the_folder(s3_url):
    from comfydsl.catalog.s3volume import _Lister

    waits = []
    plain = list_volume(VOLUME, "EU-RO-1", endpoint_url=s3_url, page_size=3)
    with QuirkProxy(s3_url) as proxy:
        # page 1 of models/loras/ passes; the request for page 2 gets page 1 again, whose
        # continuation token the client has already used
        proxy.script = [None, "repeat"]
        lister = _Lister(VOLUME, "EU-RO-1", None, proxy.url, 3, 4, 1.0, 5.0, waits.append)
        files, subfolders = lister.folder("models/loras/")
    assert waits == [1.0]  # relisted once, after a pause
    assert sorted(f.path for f in files) == sorted(p for p in _paths(plain) if p.startswith("models/loras/"))


def test_a_slow_listing_is_tried_again(s3_url):
    waits = []
    with QuirkProxy(s3_url) as proxy:
        proxy.script = [("slow", 2.5)]
        files = list_volume(VOLUME, "EU-RO-1", endpoint_url=proxy.url, read_timeout=1.0, sleep=waits.append)
    assert waits and "models/unet/flux1-dev.safetensors" in _paths(files)


def test_wrong_volume_and_missing_key_are_clear_errors(s3_url, monkeypatch):
    with pytest.raises(CatalogError, match="no such volume"):
        list_volume("nope", "EU-RO-1", endpoint_url=s3_url, sleep=lambda s: None)
    monkeypatch.delenv("RUNPOD_S3_SECRET_ACCESS_KEY")
    with pytest.raises(CatalogError, match="no S3 API key") as info:
        list_volume(VOLUME, "EU-RO-1", endpoint_url=s3_url)
    assert "rps_secret" not in str(info.value)


def test_models_command_reads_the_volume(s3_url, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("RUNPOD_S3_ENDPOINT_URL", s3_url)
    out = tmp_path / "models.toml"
    assert main(["models", f"runpod-volume://{VOLUME}@EU-RO-1", "-o", str(out), "--sha256"]) == 0
    err = capsys.readouterr().err
    assert "rps_secret_never_printed" not in err and "no SHA-256" in err
    assert "move it to `models/unet/wan.safetensors`" in err
    text = out.read_text()
    assert 'layout = "runpod-volume"' in text and 'md5 = "e09c80c42fda55f9d992e59ca6b3307d"' in text
    # the manifest stands in for the volume in CI
    catalog = load_inventory(str(out)).catalog()
    assert catalog.find_misplaced("checkpoints", "at_root.safetensors") is not None


def test_bad_volume_url_is_a_usage_error(capsys):
    assert main(["models", "runpod-volume://novolume"]) == 2
    assert "VOLUME_ID@DATACENTER" in capsys.readouterr().err
