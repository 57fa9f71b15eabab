"""`{count, next, previous, results}` pages, `page` and `page_size` (1 to 500, default 50).

A page_size outside 1..500 (or a page that is not a positive whole number) is a 400 naming the
parameter rather than a silent clamp: a client asking for 1,000 rows and getting 500 would
believe it has them all. Both are read as ASCII digits (core.numbers.parse_text): "2.0", "+2",
" 2" and an empty `?page=` are a 400 too, never read as 2 or as the default. A page past the
last is a 404.
"""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

from billing_site.core import numbers

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def _positive_int(request, name: str, default: int, maximum: int | None = None) -> int:
    if name not in request.query_params:
        return default
    try:
        return numbers.parse_text(request.query_params[name], min_value=1, max_value=maximum)
    except numbers.WholeNumberError as error:
        raise ValidationError({name: [error.message]}, code=error.code) from None


class PagePagination(PageNumberPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    invalid_page_message = "Page {page_number} does not exist."

    def get_page_size(self, request) -> int:
        return _positive_int(
            request, self.page_size_query_param, self.page_size, self.max_page_size
        )

    def get_page_number(self, request, paginator) -> int:
        return _positive_int(request, self.page_query_param, 1)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
                parameter["description"] = "The page, from 1; a page past the last is a 404."
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(
                    minimum=1, maximum=self.max_page_size, default=self.page_size
                )
                parameter["description"] = (
                    f"Rows per page, 1 to {self.max_page_size} (default {self.page_size}); "
                    "outside that range is a 400."
                )
        return parameters
