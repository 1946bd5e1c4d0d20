"""The incident card's buttons, by the state the incident is in (pure).

Each element names the incident by its card key (`bot.render.actions.encode_incident_ref`). What is offered is what
makes sense now: Acknowledge until someone has; the Rerun menu unless a rerun is in flight; Stop only while the
instance shown runs; Mute, or Unmute while muted; Resolve; Refresh. A resolved incident keeps only Refresh. The
service checks every click against the incident as it stands anyway (an old card's button acts on the current state).
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Option, PlainTextObject, StaticSelectElement

from bot.render import actions as ids
from bot.render.blocks import Block, button

STATE_RESOLVED = "resolved"
RERUN_LABELS = {"error_node": "from the failed node", "first_node": "from the first node"}
MUTE_LABELS = {"1h": "for 1 hour", "4h": "for 4 hours", "24h": "for 24 hours", "forever": "until unmuted"}


def _value(card_key: str, choice: str | None = None, *, option: bool = False) -> str:
    limit = ids.MAX_OPTION_VALUE_LENGTH if option else ids.MAX_VALUE_LENGTH
    return ids.encode_incident_ref(ids.IncidentRef(card=card_key, choice=choice), limit=limit)


def _menu(placeholder: str, action_id: str, card_key: str, labels: dict[str, str]) -> StaticSelectElement:
    options = [
        Option(value=_value(card_key, choice, option=True), text=PlainTextObject(text=label))
        for choice, label in labels.items()
    ]
    return StaticSelectElement(placeholder=PlainTextObject(text=placeholder), action_id=action_id, options=options)


def incident_buttons(
    *, card_key: str, state: str, rerunning: bool, running: bool, muted: bool, home: bool = False
) -> list[Block]:
    """The card's actions block. `rerunning`: a rerun is in flight; `running`: the instance shown runs (Stop);
    `home`: the App Home's short set (Acknowledge, Resolve, Refresh)."""
    refresh = button("Refresh", action_id=ids.INCIDENT_REFRESH, value=_value(card_key))
    if state == STATE_RESOLVED:
        return [ActionsBlock(elements=[refresh]).to_dict()]
    elements: list[Any] = []
    if state == "open":
        elements.append(button("Acknowledge", action_id=ids.INCIDENT_ACK, value=_value(card_key), style="primary"))
    if not home:
        if not rerunning:
            elements.append(
                _menu(
                    "Rerun…",
                    ids.INCIDENT_RERUN,
                    card_key,
                    {"error_node": "Rerun from the failed node (default)", "first_node": "Rerun from the first node"},
                )
            )
        if running:
            elements.append(button("Stop", action_id=ids.INCIDENT_STOP, value=_value(card_key), style="danger"))
        if muted:
            elements.append(button("Unmute", action_id=ids.INCIDENT_UNMUTE, value=_value(card_key)))
        else:
            elements.append(
                _menu("Mute…", ids.INCIDENT_MUTE, card_key, {k: f"Mute {v}" for k, v in MUTE_LABELS.items()})
            )
    elements.append(button("Resolve", action_id=ids.INCIDENT_RESOLVE, value=_value(card_key)))
    elements.append(refresh)
    return [ActionsBlock(elements=elements).to_dict()]


def element_ids(blocks: list[Block]) -> list[str]:
    """The action ids of the elements in `blocks`' actions blocks, in order (what a reader can press)."""
    return [
        str(element.get("action_id"))
        for block in blocks
        if block.get("type") == "actions"
        for element in block.get("elements", [])
    ]


__all__ = ["MUTE_LABELS", "RERUN_LABELS", "element_ids", "incident_buttons"]
