"""The errors are defined once per layer (errors.py for the intake, domain/workbench/errors.py for the
workbench, the HTTP layer's own in api/), each under a name no other error class has."""

import importlib
import inspect
import pkgutil
from collections import defaultdict

import intake_service
from intake_service.errors import DomainError

ERROR_MODULES = {"intake_service.errors", "intake_service.domain.workbench.errors"}


def _error_classes() -> list[type[DomainError]]:
    found = []
    for module_info in pkgutil.walk_packages(intake_service.__path__, "intake_service."):
        if module_info.name.endswith(".__main__"):  # runs the CLI when imported
            continue
        module = importlib.import_module(module_info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, DomainError) and value.__module__ == module.__name__:
                found.append(value)
    return found


def test_no_two_error_classes_share_a_name() -> None:
    modules_by_name: dict[str, set[str]] = defaultdict(set)
    for cls in _error_classes():
        modules_by_name[cls.__name__].add(cls.__module__)
    assert len(modules_by_name) > 30  # the walk found the package's errors
    assert {name: mods for name, mods in modules_by_name.items() if len(mods) > 1} == {}


def test_domain_and_store_errors_live_in_the_errors_modules() -> None:
    outside = {
        f"{cls.__module__}.{cls.__name__}"
        for cls in _error_classes()
        if cls.__module__ not in ERROR_MODULES and not cls.__module__.startswith("intake_service.api.")
    }
    assert outside == set()
