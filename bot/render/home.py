"""The App Home tab: what the bot can do (the overview of `/dlf help`), as a `views.publish` view."""

from __future__ import annotations

from typing import Any

from bot.render.help import render_help


def render_home() -> dict[str, Any]:
    """The Home tab's view: the help overview's blocks (a view has no fallback text)."""
    return {"type": "home", "blocks": render_help().blocks}


__all__ = ["render_home"]
