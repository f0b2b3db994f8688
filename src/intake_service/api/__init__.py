# Before any router declares a route: FastAPI's fields then share their pydantic adapters.
from intake_service.api import shared_adapters

shared_adapters.install()
