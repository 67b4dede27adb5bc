"""Notebook files for tests."""

from __future__ import annotations

from pathlib import Path

import nbformat


def write_notebook(path: Path, *sources: str, parameters: str | None = None) -> None:
    """A python3 notebook at ``path``: a markdown cell, then a code cell per source (after a
    cell tagged ``parameters`` holding ``parameters``, when given)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    if parameters is not None:
        cell = nbformat.v4.new_code_cell(parameters)
        cell.metadata["tags"] = ["parameters"]
        nb.cells.append(cell)
    nb.cells.append(nbformat.v4.new_markdown_cell("# A notebook"))
    nb.cells += [nbformat.v4.new_code_cell(source) for source in sources]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
