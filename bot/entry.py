"""The `dlf-bot` console script (and `python -m bot`): the entry point's imports, with the garbage collector off.

Importing the bot creates ~120k objects that live as long as the process; the collector would walk them again and
again while they are made (about 0.2 s of every start-up) and find nothing to free. `dlf-bot run` freezes them once
it is wired (`bot.cli.run.settle_heap`); the collector is back on before any command runs.
"""

from __future__ import annotations

import gc


def main() -> int:
    """Import the entry point with the collector off, then run it."""
    gc.disable()
    try:
        from bot.cli import main as cli_main
    finally:
        gc.enable()
    return cli_main()


__all__ = ["main"]
