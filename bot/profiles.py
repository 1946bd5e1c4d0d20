"""DLF profiles: a profile is one DLF project (endpoint, project, workspace, credentials) the bot talks to.

`DEFAULT_PROFILE` is the one the environment describes and the one a command means without `--profile`. Imports
nothing, so settings, services and the pure renderers can all share the one name.
"""

from __future__ import annotations

DEFAULT_PROFILE = "default"

__all__ = ["DEFAULT_PROFILE"]
