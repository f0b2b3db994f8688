"""What every list shares: the query parameters it accepts and the pagination block of its
envelope (seed 002)."""

import math
from collections.abc import Collection, Iterable

from intake_service.errors import query_error
from intake_service.models.generated import PaginationData

LIST_VALUED = ("[$in]", "[$nin]")


def pagination(page: int, page_size: int, on_page: int, total: int) -> PaginationData:
    """`total_pages` is 0 when nothing matches; a page past the end has `on_page` 0."""
    return PaginationData(
        page=page,
        page_size=page_size,
        current_page_size=on_page,
        total_pages=math.ceil(total / page_size),
        total_results=total,
    )


def reject_unknown_params(
    params: Iterable[tuple[str, str]], allowed: Collection[str], *, bracket_filters: bool = False
) -> None:
    """A 422 naming the first query parameter the list does not take (the contract: anything else)."""
    for key, value in params:
        if key not in allowed and not (bracket_filters and key.startswith("filter[")):
            raise query_error(key, value, f"Unsupported query parameter: {key!r}.")


def reject_repeated_params(params: Iterable[tuple[str, str]]) -> None:
    """A 422 naming the first query parameter given more than once, on every route: each takes one
    value, except the $in and $nin filters, whose values are lists (repeats are joined)."""
    seen: set[str] = set()
    for key, value in params:
        if key in seen and not key.endswith(LIST_VALUED):
            raise query_error(key, value, f"{key} was given more than once.")
        seen.add(key)


def parse_signed_sort(raw: str, allowed: Collection[str]) -> tuple[str, bool]:
    """`field` or `-field` (descending) for one of `allowed`; else a 422 listing them."""
    descending = raw.startswith("-")
    field = raw[1:] if descending else raw
    if field not in allowed:
        raise query_error("sort", raw, f"Unsupported sort field: {field!r}. Use one of {', '.join(allowed)}.")
    return field, descending
