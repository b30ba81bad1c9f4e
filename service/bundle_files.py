"""Metamodel files read into bundles: one file, a directory of them, the standard catalogue."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import metamodel
from metamodel import yaml_io
from metamodel.bundle import Bundle, merge

CATALOGUE_DIR = Path(metamodel.__file__).resolve().parent / "catalogue"
"""The standard catalogue: one YAML file per section, one per business type."""


def yaml_files(path: Path) -> list[Path]:
    """`path` itself, or every YAML file below the directory `path`, in name order."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    return [path]


def load_file(path: Path) -> Bundle:
    """The bundle of one YAML file; MalformedBundle names the file and the field."""
    try:
        return yaml_io.load(path.read_text(encoding="utf-8"))
    except yaml_io.MalformedBundle as malformed:
        raise malformed.in_file(str(path)) from None


def load_files(paths: Iterable[Path]) -> Bundle:
    """The bundles of several YAML files merged into one."""
    return merge(load_file(p) for p in paths)


def load_catalogue(directory: Path = CATALOGUE_DIR) -> Bundle:
    """The standard catalogue as one bundle."""
    return load_files(yaml_files(directory))
