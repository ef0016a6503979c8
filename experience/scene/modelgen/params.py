"""The numbers the models are built from (see experience/mission/dimensions.py, shared with the
crossing's collision volumes)."""

from __future__ import annotations

from experience.mission.dimensions import Dimensions, load, validate_geometry

__all__ = ["Dimensions", "load", "validate_geometry"]
