"""`load_settings`: the environment over the `.env` file, plus the YAML profiles file, checked all at once."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]
from dotenv import dotenv_values
from pydantic import ValidationError

from bot.errors import ConfigError
from bot.settings.dlf_profile import DlfProfile
from bot.settings.model import NOTHING, Needs, Settings
from bot.settings.operators import channel_operators, operator_ids

_PROFILE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")

# Settings only the config file gives (never read from the environment).
_FILE_FIELDS = frozenset({"profiles", "file_operators", "channel_operators"})
_FILE_KEYS = frozenset({"profiles", "operators", "channels"})
_ENV_NAMES = {name.upper() for name in Settings.model_fields if name not in _FILE_FIELDS}


def load_settings(
    environ: Mapping[str, str],
    *,
    env_file: Path | None = Path(".env"),
    needs: Needs = NOTHING,
) -> Settings:
    """Settings from `environ` over the `.env` file (when it exists) and the YAML profiles file.

    Raises one `ConfigError` listing every missing or malformed setting for `needs`; values are never quoted.
    """
    raw: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        raw.update({key.upper(): value for key, value in dotenv_values(env_file).items() if value is not None})
    raw.update({key.upper(): value for key, value in environ.items()})
    values: dict[str, Any] = {key.lower(): value for key, value in raw.items() if key in _ENV_NAMES and value.strip()}

    problems: list[str] = []
    if values.get("dlf_bot_config"):
        file_values, file_problems = _read_config_file(Path(values["dlf_bot_config"]))
        values.update(file_values)
        problems.extend(file_problems)
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        problems = [_describe(error) for error in exc.errors()] + problems
        # Leave the malformed ones out and look again, so the one message also names what is missing.
        malformed = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
        try:
            settings = Settings(**{key: value for key, value in values.items() if key not in malformed})
        except ValidationError:
            raise ConfigError(_summary(problems)) from None
    malformed_names = {problem.split(":", 1)[0] for problem in problems}
    # A malformed setting was left out above: "X is not set" would contradict "X: malformed".
    problems.extend(
        problem
        for problem in settings.problems(needs)
        if problem not in problems and problem.split(" ", 1)[0] not in malformed_names
    )
    if problems:
        raise ConfigError(_summary(problems))
    return settings


def _read_config_file(path: Path) -> tuple[dict[str, Any], list[str]]:
    """The file's settings by field name (`profiles`, `file_operators`, `channel_operators`) and its problems."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return {}, [f"DLF_BOT_CONFIG: cannot read {path}: {exc.strerror}"]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        return {}, [f"DLF_BOT_CONFIG: {path} is not valid YAML{where}"]
    if document is None:
        return {}, []
    if not isinstance(document, dict) or set(document) - _FILE_KEYS:
        return {}, [
            f"DLF_BOT_CONFIG: {path} must hold one mapping of `profiles:` (profile name -> settings),"
            " `operators:` (user or user-group ids) and `channels:` (channel id -> `operators:`), each optional"
        ]
    profiles, problems = _read_profiles(path, document.get("profiles"))
    everywhere, wrong = operator_ids(document.get("operators"), where=f"`operators` in {path}")
    problems.extend(wrong)
    per_channel, wrong = channel_operators(document.get("channels"), source=f"in {path}")
    problems.extend(wrong)
    return {"profiles": profiles, "file_operators": everywhere, "channel_operators": per_channel}, problems


def _read_profiles(path: Path, entries: Any) -> tuple[dict[str, DlfProfile], list[str]]:
    entries = entries or {}
    if not isinstance(entries, dict):
        return {}, [f"DLF_BOT_CONFIG: `profiles` in {path} must map profile names to settings"]
    profiles: dict[str, DlfProfile] = {}
    problems: list[str] = []
    for name, body in entries.items():
        if not isinstance(name, str) or not _PROFILE_NAME.fullmatch(name):
            problems.append(
                f"DLF_BOT_CONFIG: profile name {str(name)[:40]!r} in {path}: use 1–64 letters, digits, - or _"
            )
            continue
        if not isinstance(body, dict):
            problems.append(f"profile {name!r} in {path}: must be a mapping of settings")
            continue
        try:
            profiles[name] = DlfProfile(name=name, **{str(key): _scalar(value) for key, value in body.items()})
        except ValidationError as exc:
            problems.extend(f"profile {name!r} in {path}: {_describe(error)}" for error in exc.errors())
    return profiles, problems


def _scalar(value: Any) -> Any:
    # YAML reads an all-digit project id or AK as an int: they are text.
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _describe(error: Any) -> str:
    """One pydantic error as "NAME: what is wrong" — from its location and message only, never its input."""
    location = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"{location}: not a known setting"
    name = location.upper() if location in Settings.model_fields else location
    return f"{name}: {str(error['msg']).removeprefix('Value error, ')}"


def _summary(problems: list[str]) -> str:
    lines = "\n".join(f"  - {problem}" for problem in problems)
    return f"dlf-bot cannot start; fix these settings:\n{lines}"


__all__ = ["load_settings"]
