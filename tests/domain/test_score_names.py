"""A score name is checked once per name (domain/ingest.py), and only short names are remembered."""

from intake_service.domain import ingest


def test_short_score_names_are_remembered_and_long_ones_are_not() -> None:
    ingest._short_name_problem.cache_clear()
    short, long = "accuracy", "x" * (ingest.CACHED_NAME_LENGTH + 1)
    assert ingest._name_problem(short) is None
    assert ingest._name_problem(long) is None
    assert ingest._name_problem("bad\x00name") is not None
    # The short names (the good one and the bad one) are cached; the long one is not.
    assert ingest._short_name_problem.cache_info().currsize == 2
