"""Renderings of the report document: plain-language findings and a self-contained HTML."""
