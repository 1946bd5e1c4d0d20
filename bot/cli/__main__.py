"""`python -m bot.cli` is `dlf-bot`."""

from bot.cli.main import main

raise SystemExit(main())
