"""Rendering analyses as terminal tables, JSON, CSV, Markdown and LaTeX; no metric is computed here."""
