"""ML-workbench errors: each carries its status and one sentence."""

from intake_service.errors import DomainError


class InvalidInput(DomainError):
    """Bad input found after parsing; nothing has been stored."""

    status_code = 422


class NotFound(DomainError):
    status_code = 404

    def __init__(self, ref: str) -> None:
        super().__init__(f"Experiment or run '{ref}' not found.")


class WorkbenchExperimentNotFound(DomainError):
    status_code = 404

    def __init__(self, ref: str) -> None:
        super().__init__(f"Experiment '{ref}' not found.")


class RunNotFound(DomainError):
    status_code = 404

    def __init__(self, ref: str) -> None:
        super().__init__(f"Run '{ref}' not found.")


class AmbiguousId(DomainError):
    status_code = 400

    def __init__(self, ref: str) -> None:
        super().__init__(f"The id prefix '{ref}' matches more than one experiment or run; give more of the id.")


class WorkbenchNameTaken(DomainError):
    status_code = 409

    def __init__(self, name: str) -> None:
        super().__init__(f"An experiment named '{name}' already exists.")


class RunIdTaken(DomainError):
    status_code = 409

    def __init__(self, run_id: str) -> None:
        super().__init__(f"Run '{run_id}' already exists.")


class NotOwner(DomainError):
    status_code = 403

    def __init__(self, experiment_id: str) -> None:
        super().__init__(f"Only the owner of experiment '{experiment_id}' may change it.")


class ArtifactTooLarge(DomainError):
    status_code = 413


class ArtifactNotFound(DomainError):
    status_code = 404

    def __init__(self, path: str) -> None:
        super().__init__(f"Artifact '{path}' not found.")


class ArtifactNotStored(DomainError):
    status_code = 404

    def __init__(self, path: str) -> None:
        super().__init__(f"Artifact '{path}' was registered by s3_key; its content is not in the artifact store.")
