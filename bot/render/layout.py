"""Layout helpers shared by renderers: long lists packed into a few sections within a text budget. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from bot.render.mrkdwn import and_more, slack_len

# Slack's limit on a section's text.
SECTION_LIMIT = 3000
MAX_LIST_SECTIONS = 3


def pack_lines(
    lines: Sequence[str], *, heading: str, budget: int, max_sections: int = MAX_LIST_SECTIONS, noun: str = "more"
) -> list[str]:
    """Pack lines into at most `max_sections` section texts within `budget` characters, ending with "…and N more".

    Lines are kept whole and in order; whatever does not fit is counted in the last line.
    """
    reserve = slack_len(and_more(len(lines), noun)) + 1
    sections: list[str] = []
    current = heading
    used = 0
    shown = 0
    for line in lines:
        size = slack_len(line) + 1
        if slack_len(current) + size + reserve > SECTION_LIMIT:
            if len(sections) + 1 >= max_sections:
                break
            sections.append(current)
            used += slack_len(current)
            current = ""
        if used + slack_len(current) + size + reserve > budget:
            break
        current = f"{current}\n{line}" if current else line
        shown += 1
    if shown < len(lines):
        more = and_more(len(lines) - shown, noun)
        current = f"{current}\n{more}" if current else more
    if current:
        sections.append(current)
    return sections


__all__ = ["MAX_LIST_SECTIONS", "SECTION_LIMIT", "pack_lines"]
