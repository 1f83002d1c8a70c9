"""Emitters: what comfydsl writes for other tools (the workflow JSON Schema, ...)."""
