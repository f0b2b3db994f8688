"""intake-service: the NeMo intake v2 experiments API with exact rollups."""

__version__ = "0.1.0"
