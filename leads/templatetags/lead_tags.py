from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}


@register.filter
def money(value: Decimal | int | None, currency: str = "EUR") -> str:
    """12000 → '€12,000'; no decimals: these are deal estimates, not invoices."""
    if value is None or value == "":
        return ""
    amount = f"{Decimal(value):,.0f}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{amount}" if symbol else f"{amount} {currency}"


@register.filter
def stars(strength: int) -> str:
    """Relationship strength 3 → '●●●○○'."""
    strength = max(0, min(5, int(strength or 0)))
    return "●" * strength + "○" * (5 - strength)
