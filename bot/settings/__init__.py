"""Configuration: environment variables (and a `.env` file), plus an optional YAML file adding named DLF profiles.

Only the entry point (`bot.cli`) builds settings (`load_settings`); nothing reads them at import time. Start-up fails with ONE
`ConfigError` naming every missing or malformed setting; messages name settings, never their values, and every
secret is a `SecretStr`.

The YAML file (`DLF_BOT_CONFIG=path`) adds profiles beside the one the environment describes ("default"):

    profiles:
      prod-eu:
        region: eu-west-101            # or endpoint: https://dayu-dlf.example.com
        endpoint: https://dayu-dlf.eu-west-101.myhuaweicloud.eu
        project_id: 0123456789abcdef
        workspace: a1b2c3               # optional
        ak: ...                         # and sk (+ security_token); or iam_username/iam_password/iam_domain;
        sk: ...                         # or auth_token
"""

from bot.settings.dlf_profile import ENV_PROFILE_NAMES, DlfProfile
from bot.settings.load import load_settings
from bot.settings.model import DLF_ONLY, NOTHING, RUN, Needs, Settings

__all__ = ["DLF_ONLY", "ENV_PROFILE_NAMES", "NOTHING", "RUN", "DlfProfile", "Needs", "Settings", "load_settings"]
