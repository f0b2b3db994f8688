# Before any router declares a route: FastAPI's route builds then share adapters and signatures.
from intake_service.api import route_builds

route_builds.install()
