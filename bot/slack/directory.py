"""Slack's directory through the Web API: usergroups.list and users.list (paged), for `bot.services.mentions`.

Needs the `usergroups:read` and `users:read` scopes (manifest.yml). Every Slack failure becomes one
`SlackLookupFailed` naming the method and Slack's error code, never the request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import SlackLookupFailed
from bot.services.mentions import GroupEntry, UserEntry

USERS_PAGE = 200  # Slack's suggested page size for users.list
MAX_USER_PAGES = 100  # 20,000 people: a bound, so a cursor that never ends cannot hold a command forever


class SlackDirectory:
    """The workspace's active user groups and people, read with `client` (the bot token)."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def user_groups(self) -> Sequence[GroupEntry]:
        """Active user groups (usergroups.list leaves disabled ones out)."""
        response = await self._call("usergroups.list", include_disabled=False)
        return [
            GroupEntry(id=str(group["id"]), handle=str(group.get("handle") or ""))
            for group in response.get("usergroups") or ()
            if isinstance(group, dict) and group.get("id") and not group.get("date_delete")
        ]

    async def users(self) -> Sequence[UserEntry]:
        """People who have not been deactivated, every page of users.list."""
        found: list[UserEntry] = []
        cursor = ""
        for _ in range(MAX_USER_PAGES):
            response = await self._call("users.list", limit=USERS_PAGE, cursor=cursor or None)
            for member in response.get("members") or ():
                if isinstance(member, dict) and member.get("id") and not member.get("deleted"):
                    raw_profile = member.get("profile")
                    profile: dict[str, Any] = raw_profile if isinstance(raw_profile, dict) else {}
                    found.append(
                        UserEntry(
                            id=str(member["id"]),
                            name=str(member.get("name") or ""),
                            display_name=str(profile.get("display_name") or ""),
                        )
                    )
            cursor = str((response.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                break
        return found

    async def _call(self, method: str, **params: Any) -> Any:
        arguments = {key: value for key, value in params.items() if value is not None}
        try:
            response = await self._client.api_call(method, http_verb="GET", params=arguments)
        except SlackApiError as exc:
            needed = exc.response.get("needed")
            raise SlackLookupFailed(
                method, str(exc.response.get("error") or "error"), needed=str(needed) if needed else None
            ) from None
        except (SlackRequestError, aiohttp.ClientError, TimeoutError) as exc:
            raise SlackLookupFailed(method, type(exc).__name__) from None
        return response.data if isinstance(response.data, dict) else {}


__all__ = ["MAX_USER_PAGES", "USERS_PAGE", "SlackDirectory"]
