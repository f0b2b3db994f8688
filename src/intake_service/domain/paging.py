"""The pagination block every list response carries (seed 002's envelope)."""

import math

from intake_service.models.generated import PaginationData


def pagination(page: int, page_size: int, on_page: int, total: int) -> PaginationData:
    """`total_pages` is 0 when nothing matches; a page past the end has `on_page` 0."""
    return PaginationData(
        page=page,
        page_size=page_size,
        current_page_size=on_page,
        total_pages=math.ceil(total / page_size),
        total_results=total,
    )
