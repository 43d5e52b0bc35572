"""Third-party backends and arms: modules named in the ``ragtune.plugins`` entry-point
group, imported once, before any registry is first read.

A plugin package declares, in its ``pyproject.toml``::

    [project.entry-points."ragtune.plugins"]
    my_store = "my_pkg.ragtune_plugin"

and ``my_pkg/ragtune_plugin.py`` calls ``ragtune.registry.<kind>.register(...)``.
"""

from __future__ import annotations

from importlib.metadata import entry_points

_plugins_loaded = False


def load_plugins() -> None:
    """Import every module declared in the ``ragtune.plugins`` entry-point group, once."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for entry in entry_points(group="ragtune.plugins"):
        entry.load()
