"""Spreadsheet safety for exports and imports; the helpers live in leadhunter.spreadsheet so
every CSV the app writes uses the same rule."""

from __future__ import annotations

from leadhunter.spreadsheet import FORMULA_TRIGGERS, neutralise, undo_neutralise

__all__ = ["FORMULA_TRIGGERS", "neutralise", "undo_neutralise"]
