"""The built-in stages, one module per stage, named as the stage (`stages.dedupe` holds `dedupe`).

They are registered like any plugin, as entry points of tamis's own distribution in the `tamis.stages` group
(see `pyproject.toml`); the default pipeline is in `pipeline/defaults.yaml`. Importing this package imports
no stage.
"""
