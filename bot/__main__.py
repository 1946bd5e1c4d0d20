"""`python -m bot` is `dlf-bot`."""

from bot.entry import main

raise SystemExit(main())
