"""Finding model nodes in Panda3D. Node names contain '/' (``apas_dm/petal_0``), which
``NodePath.find`` would read as a path separator, so look them up by exact name instead."""

from __future__ import annotations


def find_named(root, name: str):
    """The first NodePath under ``root`` (a NodePath) whose node is called ``name``, or an empty
    NodePath. Works for any name, including ones with '/'."""
    for np_ in root.find_all_matches("**"):
        if np_.get_name() == name:
            return np_
    return root.find("**/=__no_such_tag__")  # an empty NodePath


def named_nodes(root) -> dict:
    """Every named node under ``root`` by name (first occurrence wins)."""
    out = {}
    for np_ in root.find_all_matches("**"):
        out.setdefault(np_.get_name(), np_)
    return out
