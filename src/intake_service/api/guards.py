"""A NUL (U+0000) in a path or query value is refused with 422 before any handler runs.

No store can hold or compare a NUL (PostgreSQL text refuses it with an error, a 500), so one
dependency on every route keeps each lookup, filter and delete from having to remember it.
"""

from collections.abc import Iterable

from fastapi import Request

from intake_service.errors import INTAKE_V2_PREFIXES, DomainError, validation_error

NUL_SENTENCE = "must not contain NUL (\\u0000) characters"


class NulInParameter(DomainError):
    status_code = 422


def nul_problem(
    path_params: Iterable[tuple[str, str]], query_params: Iterable[tuple[str, str]]
) -> tuple[list[str | int], str, str] | None:
    """(loc, offending value, sentence) for the first NUL in a path or query parameter, or None."""
    for name, value in path_params:
        if "\x00" in value:
            return ["path", name], value, f"The {name} {NUL_SENTENCE}."
    for name, value in query_params:
        if "\x00" in name:
            return ["query", name], name, f"A query parameter name {NUL_SENTENCE}."
        if "\x00" in value:
            return ["query", name], value, f"{name} {NUL_SENTENCE}."
    return None


async def refuse_nul(request: Request) -> None:
    problem = nul_problem(
        ((name, str(value)) for name, value in request.path_params.items()), request.query_params.multi_items()
    )
    if problem is None:
        return
    loc, value, sentence = problem
    # Each API answers a bad parameter in its own 422 shape.
    if request.url.path.startswith(INTAKE_V2_PREFIXES):
        raise validation_error(loc, value, sentence)
    raise NulInParameter(sentence)
