"""The numbers the models and the cabins are built from: vehicles.toml (sourced facts) and
geometry.toml (model dimensions, each sourced or marked as an estimate with its basis).

Shared by the model generator (experience/scene/modelgen) and the crossing's collision volumes
(experience/mission/cabins.py, experience/simulation/crossing.py): one source for what is drawn
and what is walked in."""

from __future__ import annotations

import dataclasses
from typing import Any

from experience.errors import DataFileError
from experience.mission import data


@dataclasses.dataclass(frozen=True)
class Dimensions:
    vehicles: dict[str, Any]
    geometry: dict[str, Any]

    def fact(self, section: str, key: str) -> float:
        """A value from vehicles.toml."""
        try:
            return float(self.vehicles[section][key])
        except KeyError:
            raise DataFileError(f"data/mission/vehicles.toml lacks [{section}] {key}; add it") from None

    def dim(self, section: str, key: str) -> float:
        """A value from geometry.toml."""
        try:
            return float(self.geometry[section][key]["value"])
        except KeyError:
            raise DataFileError(f"data/mission/geometry.toml lacks [{section}.{key}] value; add it") from None


def validate_geometry(geometry: dict[str, Any], sources: dict[str, Any]) -> None:
    """Every entry has a value, a basis, and either known sources or ``estimate = true``."""
    for section, entries in geometry.items():
        for key, entry in entries.items():
            where = f"data/mission/geometry.toml [{section}.{key}]"
            if not isinstance(entry, dict) or "value" not in entry:
                raise DataFileError(f"{where} has no value; add `value = ...`")
            if not str(entry.get("basis", "")).strip():
                raise DataFileError(f"{where} has no basis; say where the number comes from")
            srcs = entry.get("source", [])
            if entry.get("estimate", False) is True:
                continue
            if not srcs:
                raise DataFileError(f"{where} has neither a source nor `estimate = true`")
            for s in srcs:
                if s not in sources:
                    raise DataFileError(f"{where}: source {s!r} is not defined in data/mission/sources.toml")


def load() -> Dimensions:
    geometry = data.load_toml("mission/geometry.toml")
    validate_geometry(geometry, data.load_toml("mission/sources.toml"))
    return Dimensions(vehicles=data.vehicles(), geometry=geometry)
