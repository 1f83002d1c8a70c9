"""List a RunPod network volume's files over RunPod's S3-compatible API, without a pod.

Needs the optional `volume` extra (`pip install 'comfydsl[volume]'`, which brings boto3);
boto3 is imported only when a volume is listed. The bucket is the volume id; the endpoint is
the volume's datacenter's (`https://s3api-<datacenter>.runpod.io/`, path-style addressing,
signed for the datacenter as region). The key is the "S3 API key" from RunPod's settings,
read from the environment and never printed: `RUNPOD_S3_ACCESS_KEY_ID` (the `user_...` id)
and `RUNPOD_S3_SECRET_ACCESS_KEY` (`rps_...`), or else the standard `AWS_ACCESS_KEY_ID` and
`AWS_SECRET_ACCESS_KEY`. `RUNPOD_S3_ENDPOINT_URL` overrides the endpoint.

The API's quirks, and what `list_volume` does about them:

- a recursive listing over 1,000 keys can hand back the same continuation token twice: the
  volume is listed one folder at a time (`Delimiter="/"`), and a folder whose token repeats
  is listed again from its start after a pause;
- the first listing of files written from a pod or a worker waits while RunPod computes
  their MD5 (minutes for big folders): the read timeout is long, and a timed-out request is
  tried again;
- 500, 502, 503, 504 and 524 (origin timeout) answers are tried again with a growing pause;
- folder markers (keys ending in `/`) and in-progress uploads (`.s3compat_uploads/`) are
  not files;
- sources disagree on the case of the signing region: lower case first, upper case after a
  `SignatureDoesNotMatch`.
"""

from __future__ import annotations

import os
import time
from collections import deque
from typing import Any, Callable

from ..errors import CatalogError
from .inventory import FileEntry
from .volume import UPLOADS_PREFIX

#: HTTP statuses worth another try (524: the origin timed out behind RunPod's proxy).
RETRY_STATUSES = frozenset({500, 502, 503, 504, 524})
ACCESS_KEY_VARS = ("RUNPOD_S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID")
SECRET_KEY_VARS = ("RUNPOD_S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY")
ENDPOINT_VAR = "RUNPOD_S3_ENDPOINT_URL"


def endpoint_for(datacenter: str) -> str:
    """The S3 endpoint of a RunPod datacenter (`EU-RO-1` -> `https://s3api-eu-ro-1.runpod.io/`)."""
    return f"https://s3api-{datacenter.strip().lower()}.runpod.io/"


def make_client(datacenter: str, *, endpoint_url: str | None = None, region: str | None = None,
                read_timeout: float = 600.0, connect_timeout: float = 20.0) -> Any:
    """A boto3 S3 client for the datacenter, with the key from the environment."""
    try:
        import boto3  # type: ignore[import-untyped]
        from botocore.config import Config  # type: ignore[import-untyped]
    except ImportError:
        raise CatalogError("reading a network volume over the S3 API needs boto3: "
                           "pip install 'comfydsl[volume]'") from None
    access = _env(ACCESS_KEY_VARS)
    secret = _env(SECRET_KEY_VARS)
    if not access or not secret:
        raise CatalogError("no S3 API key in the environment: set RUNPOD_S3_ACCESS_KEY_ID (your `user_...` id) "
                           "and RUNPOD_S3_SECRET_ACCESS_KEY (the `rps_...` key from RunPod's settings), "
                           "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    config = Config(signature_version="s3v4", s3={"addressing_style": "path"},
                    retries={"total_max_attempts": 1}, read_timeout=read_timeout,
                    connect_timeout=connect_timeout)
    return boto3.client("s3", endpoint_url=endpoint_url or os.environ.get(ENDPOINT_VAR) or endpoint_for(datacenter),
                        region_name=region or datacenter.lower(), aws_access_key_id=access,
                        aws_secret_access_key=secret, config=config)


def _env(names: tuple[str, ...]) -> str | None:
    return next((os.environ[n] for n in names if os.environ.get(n)), None)


def list_volume(volume_id: str, datacenter: str, *, client: Any = None, endpoint_url: str | None = None,
                page_size: int = 1000, attempts: int = 6, backoff: float = 2.0,
                read_timeout: float = 600.0, sleep: Callable[[float], None] = time.sleep,
                progress: Callable[[str, int], None] | None = None) -> list[FileEntry]:
    """Every file on the volume, folder by folder, with its size and (as `md5`) its ETag when
    that is a plain MD5. `progress(folder, files_so_far)` is called after each folder.

    Raises CatalogError for a wrong volume id or datacenter, a rejected key, or a listing
    that still fails after `attempts` tries.
    """
    lister = _Lister(volume_id, datacenter, client, endpoint_url, page_size, attempts, backoff,
                     read_timeout, sleep)
    found: list[FileEntry] = []
    folders = deque([""])
    while folders:
        prefix = folders.popleft()
        files, subfolders = lister.folder(prefix)
        found.extend(files)
        folders.extend(p for p in subfolders if p != UPLOADS_PREFIX)
        if progress:
            progress(prefix, len(found))
    return sorted(found, key=lambda f: f.path)


class _Lister:
    def __init__(self, volume_id: str, datacenter: str, client: Any, endpoint_url: str | None, page_size: int,
                 attempts: int, backoff: float, read_timeout: float, sleep: Callable[[float], None]) -> None:
        self.volume_id, self.datacenter = volume_id, datacenter
        self.endpoint_url, self.read_timeout = endpoint_url, read_timeout
        self.client = client or make_client(datacenter, endpoint_url=endpoint_url, read_timeout=read_timeout)
        self.own_client = client is None
        self.region_flipped = False
        self.page_size, self.attempts, self.backoff, self.sleep = page_size, attempts, backoff, sleep

    def folder(self, prefix: str) -> tuple[list[FileEntry], list[str]]:
        """The files and subfolders directly in one folder, whole; relisted when a token repeats."""
        for attempt in range(1, self.attempts + 1):
            listed = self._try_folder(prefix)
            if listed is not None:
                return listed
            if attempt < self.attempts:
                self.sleep(self.backoff * attempt)
        raise CatalogError(f"volume `{self.volume_id}`: listing folder `{prefix or '/'}` kept returning the same "
                           f"continuation token ({self.attempts} tries); try again later")

    def _try_folder(self, prefix: str) -> tuple[list[FileEntry], list[str]] | None:
        files: list[FileEntry] = []
        subfolders: list[str] = []
        seen_tokens: set[str] = set()
        token: str | None = None
        while True:
            params: dict[str, Any] = {"Bucket": self.volume_id, "Prefix": prefix, "Delimiter": "/",
                                      "MaxKeys": self.page_size}
            if token:
                params["ContinuationToken"] = token
            page = self._call(params)
            for item in page.get("Contents") or ():
                key = item.get("Key", "")
                if not key or key.endswith("/") or key.startswith(UPLOADS_PREFIX):
                    continue
                files.append(FileEntry(key, item.get("Size"), None, _md5(item.get("ETag"))))
            subfolders += [p["Prefix"] for p in page.get("CommonPrefixes") or () if p.get("Prefix")]
            if not page.get("IsTruncated"):
                return files, subfolders
            token = page.get("NextContinuationToken")
            if not token or token in seen_tokens:
                return None  # the repeated-token quirk: start this folder again
            seen_tokens.add(token)

    def _call(self, params: dict[str, Any]) -> dict[str, Any]:
        from botocore.exceptions import (  # type: ignore[import-untyped]
            ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError)

        where = f"volume `{self.volume_id}` at {self.datacenter}"
        for attempt in range(1, self.attempts + 1):
            try:
                return self.client.list_objects_v2(**params)
            except ClientError as exc:
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                code = exc.response.get("Error", {}).get("Code", "")
                if code == "SignatureDoesNotMatch" and self.own_client and not self.region_flipped:
                    self.region_flipped = True  # sign for the upper-case region instead
                    self.client = make_client(self.datacenter, endpoint_url=self.endpoint_url,
                                              region=self.datacenter.upper(), read_timeout=self.read_timeout)
                    continue
                if code == "NoSuchBucket" or status == 404:
                    raise CatalogError(f"{where}: no such volume (check the volume id, and that the volume "
                                       "lives in that datacenter)") from None
                if status == 403 or code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                    raise CatalogError(f"{where}: the S3 API key was refused ({code or status}); check "
                                       "RUNPOD_S3_ACCESS_KEY_ID and RUNPOD_S3_SECRET_ACCESS_KEY") from None
                if status not in RETRY_STATUSES or attempt == self.attempts:
                    raise CatalogError(f"{where}: listing failed: HTTP {status} {code}".rstrip()) from None
            except (ReadTimeoutError, ConnectionClosedError) as exc:
                # a slow first listing (RunPod computing MD5s) or a dropped connection
                if attempt == self.attempts:
                    raise CatalogError(f"{where}: no answer to the listing after {self.attempts} tries "
                                       f"({type(exc).__name__})") from None
            except EndpointConnectionError:
                raise CatalogError(f"{where}: cannot reach the S3 endpoint (is `{self.datacenter}` a "
                                   "datacenter with the S3 API?)") from None
            self.sleep(self.backoff * 2 ** (attempt - 1))
        raise CatalogError(f"{where}: listing failed after {self.attempts} tries")


def _md5(etag: Any) -> str | None:
    """The ETag when it is a plain MD5 (32 hex digits); multipart ETags (`...-3`) are not."""
    if not isinstance(etag, str):
        return None
    value = etag.strip().strip('"').lower()
    return value if len(value) == 32 and all(c in "0123456789abcdef" for c in value) else None
