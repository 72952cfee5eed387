from __future__ import annotations

from django import template

from reports.registry import Column, display

register = template.Library()


@register.filter
def cell(row: object, column: Column) -> str:
    """`{{ row|cell:column }}`: one table cell, formatted by the column's kind."""
    return display(getattr(row, column.attr), column.kind)
