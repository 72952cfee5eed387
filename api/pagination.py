"""Cursor pagination: a stable page however many rows are added meanwhile, and no COUNT(*)
over a table of hundreds of thousands of leads."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination


class NewestFirstCursorPagination(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        self.model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        # A mangled cursor is the client's mistake (400), not a missing resource (DRF's 404),
        # and a position that is not a value of the ordering column must not reach the query.
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound as error:
            raise self._invalid() from error
        if cursor is not None and cursor.position is not None:
            field = self.model._meta.get_field(self.ordering[0].lstrip("-"))
            try:
                field.get_prep_value(field.to_python(cursor.position))
            except (TypeError, ValueError, OverflowError, DjangoValidationError) as error:
                raise self._invalid() from error
        return cursor

    def _invalid(self) -> exceptions.ValidationError:
        return exceptions.ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})

    def get_schema_operation_parameters(self, view):
        # The schema says what get_page_size enforces, so clients (and schemathesis) know.
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] |= {
                    "minimum": 1,
                    "maximum": self.max_page_size,
                    "default": self.page_size,
                }
        return parameters

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and not (raw.isdigit() and 1 <= int(raw) <= self.max_page_size):
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"Give a number from 1 to {self.max_page_size}."]}
            )
        return super().get_page_size(request)


class SoonestFirstCursorPagination(NewestFirstCursorPagination):
    """Follow-ups: the next one due first."""

    ordering = ("due_at", "id")
