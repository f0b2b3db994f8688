"""Rules of the ML-workbench API (/api/v1/experiments, seed 003): naming fallbacks, visibility,
best run and primary metric, comparison, stats, tags, pins, run tracking. No SQL and no HTTP here."""
