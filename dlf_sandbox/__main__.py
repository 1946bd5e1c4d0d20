"""`python -m dlf_sandbox`."""

from dlf_sandbox.cli import main

raise SystemExit(main())
