"""`python -m bot` is `dlf-bot`."""

from bot.cli import main

raise SystemExit(main())
