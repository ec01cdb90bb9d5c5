"""Marketer-facing pages, one module per concept."""
