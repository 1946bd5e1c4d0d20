"""The one shape every renderer returns: Block Kit blocks plus the fallback text that always travels with them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Message:
    """A Slack message: `text` is the notification/fallback text, `blocks` the Block Kit blocks (plain dicts)."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The `text` + `blocks` arguments of chat.postMessage / response_url."""
        return {"text": self.text, "blocks": self.blocks}
