"""Backends that run checked workflows remotely.

`comfydsl.backends.runpod` holds the RunPod Serverless clients (sync and async, on httpx).
This package's `__init__` imports nothing heavy, so that importing it stays cheap; import
the submodule you need.
"""
