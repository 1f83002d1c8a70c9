"""Shared helpers of the UI-format tests."""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "ui"


@lru_cache(maxsize=1)
def dynamic_catalog():
    from comfydsl.catalog import NodeCatalog, builtin_catalog

    return builtin_catalog().merged(NodeCatalog.from_file(str(DATA / "catalog_dynamic.json")))


@lru_cache(maxsize=1)
def modern_catalog():
    from comfydsl.catalog import NodeCatalog, builtin_catalog

    raw = json.loads(gzip.decompress((DATA / "object_info.autoflow-0.9.json.gz").read_bytes()))
    return builtin_catalog().merged(NodeCatalog(raw, source="autoflow-0.9"))


def load(name: str):
    return json.loads((DATA / name).read_text())


def png_chunk(kind: bytes, body: bytes) -> bytes:
    import struct
    import zlib

    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_with(**texts: str) -> bytes:
    """A 1x1 PNG carrying `tEXt` chunks (`prompt=...`, `workflow=...`), as ComfyUI's SaveImage writes them."""
    import struct

    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    chunks = b"".join(png_chunk(b"tEXt", key.encode() + b"\0" + value.encode("latin-1")) for key, value in texts.items())
    return b"\x89PNG\r\n\x1a\n" + ihdr + chunks + png_chunk(b"IEND", b"")


#: A small text-to-image API workflow with no error but its model file (CD501 without --models: none).
TXT2IMG = {
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd15.safetensors"},
          "_meta": {"title": "Checkpoint"}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a red fox", "clip": ["4", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
    "3": {"class_type": "KSampler", "inputs": {"seed": 7, "steps": 20, "cfg": 7.0, "sampler_name": "euler",
                                               "scheduler": "normal", "denoise": 1.0, "model": ["4", 0],
                                               "positive": ["6", 0], "negative": ["7", 0],
                                               "latent_image": ["5", 0]}},
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "fox", "images": ["8", 0]}},
}


def subgraph_with_error() -> dict:
    """A UI file whose only problem sits inside a subgraph: KSampler "My sampler" (UI node 5 in
    subgraph `Inner`, instance 10) has no links, so `model` and friends are missing."""
    return {
        "last_node_id": 10, "last_link_id": 0, "version": 0.4,
        "nodes": [{"id": 10, "type": "0b9c5a1e-0000-4000-8000-000000000001", "pos": [0, 0], "size": [200, 100],
                   "flags": {}, "order": 0, "mode": 0, "inputs": [], "outputs": [], "properties": {},
                   "widgets_values": []}],
        "links": [],
        "definitions": {"subgraphs": [{
            "id": "0b9c5a1e-0000-4000-8000-000000000001", "name": "Inner", "version": 1, "revision": 0,
            "state": {"lastNodeId": 5, "lastLinkId": 0, "lastGroupId": 0, "lastRerouteId": 0},
            "inputNode": {"id": -10, "bounding": [0, 0, 10, 10]},
            "outputNode": {"id": -20, "bounding": [0, 0, 10, 10]},
            "inputs": [], "outputs": [], "widgets": [],
            "nodes": [{"id": 5, "type": "KSampler", "title": "My sampler", "pos": [0, 0], "size": [300, 200],
                       "flags": {}, "order": 0, "mode": 0, "inputs": [], "outputs": [], "properties": {},
                       "widgets_values": [42, "fixed", 20, 8, "euler", "normal", 1]}],
            "links": [],
        }]},
    }
