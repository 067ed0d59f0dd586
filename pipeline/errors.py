"""A catalogue of errors and warnings: what happened, the offending value, the fix.

Every message is one line and names the file, record or line it is about.
The library raises these; only the CLI prints them.
"""
from __future__ import annotations


class AlliancesError(Exception):
    """Base class of every error this package raises on purpose."""

    code = "E000"

    def __init__(self, message: str):
        super().__init__(f"[{self.code}] {message}")


class InputError(AlliancesError):
    """An input that cannot be read at all (the whole run stops before writing)."""

    code = "E001"


class RecordError(AlliancesError):
    """One record that cannot be processed (it is rejected; the run goes on)."""

    code = "E002"


class ModelError(AlliancesError):
    """A model directory that is missing, incomplete or of a version this code cannot read."""

    code = "E003"


class LabelError(AlliancesError):
    """Training data with a relation label outside the schema."""

    code = "E004"


class OutputError(AlliancesError):
    """An output path that cannot be written, or would overwrite something."""

    code = "E005"


def unknown_relation(label: str, where: str) -> LabelError:
    from pipeline.records import RELATIONS

    return LabelError(
        f"{where}: relation {label!r} is not in the schema; use one of {', '.join(RELATIONS)} "
        "(new relation types need a schema change, see README 'Retraining')"
    )
