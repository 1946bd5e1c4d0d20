"""`FakeSlack`: the Slack Web API methods the bot uses, plus response_url endpoints, served on loopback by aiohttp.

It behaves like Slack where the bot depends on it: `ok`/`error` bodies with HTTP 200, 429 with `Retry-After`,
`invalid_blocks` for messages the validator refuses, thread replies attached to their parent, message metadata kept
and returned by `conversations.history(include_all_metadata=True)`, history newest first with cursors.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import struct
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from slack_fake._state import Call, Faults, Validator

BOT_USER_ID = "U0FAKEBOT"
BOT_ID = "B0FAKEBOT"
TEAM_ID = "T0FAKE"
_JSON_ARGS = ("blocks", "attachments", "metadata", "view")
_MAX_TEXT = 40_000
_POSTING_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral")
# What a `missing_scope` answer names as `needed`, by method.
_SCOPES_NEEDED = {"usergroups.list": "usergroups:read", "users.list": "users:read"}

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


class SlackError(Exception):
    """An `{"ok": false, "error": code}` answer."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


class FakeSlack:
    """A fake Slack Web API. Every call is recorded in `calls`; messages by channel in `messages`.

    `validator(message_args) -> problems` is run on every message (chat.postMessage, chat.update, chat.postEphemeral,
    response_url); a non-empty list answers `invalid_blocks` like Slack and is kept in `rejected`.
    `post_interval_per_channel` (seconds) answers 429 to a chat.postMessage that comes sooner after the previous one
    in the same channel, like Slack's ~1 message/second/channel limit. `answer_delay_s` (settable while serving)
    holds every Web API answer back that long after the call took effect. `connections` counts the distinct TCP
    connections that carried Web API calls (a client that reuses its connections shows few).
    """

    def __init__(
        self,
        *,
        validator: Validator | None = None,
        post_interval_per_channel: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        answer_delay_s: float = 0.0,
    ) -> None:
        self.validator = validator
        self.post_interval_per_channel = post_interval_per_channel
        # Seconds between doing a call's work and answering it: Slack has the message, the caller has no "ok" yet
        # (a caller killed in that gap must find its message in history rather than post it again).
        self.answer_delay_s = answer_delay_s
        self.faults = Faults(clock=clock)
        self.calls: list[Call] = []
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self.responses: dict[str, list[dict[str, Any]]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        # Modals opened with views.open, in order: {"trigger_id": ..., "view": {...}, "id": ...} (a test submits them).
        self.opened_views: list[dict[str, Any]] = []
        # The workspace's directory, as users.list and usergroups.list answer it: seed with add_user/add_user_group.
        self.users: list[dict[str, Any]] = []
        self.user_groups: list[dict[str, Any]] = []
        # User groups by id: their members (`seed_usergroup`), answered by usergroups.users.list.
        self.usergroups: dict[str, list[str]] = {}
        self.rejected: list[tuple[str, list[str]]] = []
        self.socket_acks: dict[str, dict[str, Any]] = {}
        self._sockets: list[web.WebSocketResponse] = []
        self.base_url: str | None = None
        self._clock = clock
        self._wall_clock = wall_clock
        self._last_post: dict[str, float] = {}
        self._peers: set[Any] = set()
        self._ts_counter = itertools.count(1)
        self._lock = threading.Lock()
        self._methods: dict[str, Handler] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "conversations.join": self._join,
            "views.publish": self._views_publish,
            "views.open": self._views_open,
            "users.list": self._users_list,
            "usergroups.list": self._usergroups_list,
            "usergroups.users.list": self._usergroup_users,
            "apps.connections.open": self._connections_open,
        }

    # ---------------------------------------------------------------- serving
    @contextlib.asynccontextmanager
    async def serve(self, *, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
        """Serve in the caller's event loop; yields the Web API base URL (ending in `/api/`)."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{response_id}", self._handle_response_url)
        app.router.add_get("/socket", self._handle_socket)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_port = runner.addresses[0][1]
        self.base_url = f"http://{host}:{bound_port}/api/"
        try:
            yield self.base_url
        finally:
            for socket_ in list(self._sockets):
                await socket_.close()
            await runner.cleanup()

    @contextlib.contextmanager
    def serve_in_thread(self, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Serve from a thread with its own event loop (sync tests, other processes); yields the base URL."""
        ready = threading.Event()
        stop: asyncio.Event | None = None
        loop: asyncio.AbstractEventLoop | None = None
        failure: list[BaseException] = []

        async def main() -> None:
            nonlocal stop, loop
            loop = asyncio.get_running_loop()
            stop = asyncio.Event()
            try:
                async with self.serve(host=host, port=port):
                    ready.set()
                    await stop.wait()
            except Exception as exc:  # noqa: BLE001 — re-raised in the caller's thread below
                failure.append(exc)
                ready.set()

        thread = threading.Thread(target=asyncio.run, args=(main(),), name="slack-fake", daemon=True)
        thread.start()
        ready.wait(timeout=30)
        if failure:
            raise RuntimeError("the fake Slack failed to start") from failure[0]
        assert self.base_url is not None and loop is not None and stop is not None
        try:
            yield self.base_url
        finally:
            loop.call_soon_threadsafe(stop.set)
            thread.join(timeout=30)

    def response_url(self, response_id: str) -> str:
        """A response_url on this fake; what is posted to it lands in `responses[response_id]`."""
        if self.base_url is None:
            raise RuntimeError("serve() the fake before asking for a response_url")
        return self.base_url.removesuffix("api/") + f"response/{response_id}"

    # ---------------------------------------------------------------- directory
    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        display_name: str = "",
        real_name: str = "",
        deleted: bool = False,
        is_bot: bool = False,
    ) -> dict[str, Any]:
        """A member of the workspace, listed by users.list (`name` is the unique username; the display name is what
        people see and need not be unique)."""
        user = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name,
            "deleted": deleted,
            "is_bot": is_bot,
            "real_name": real_name,
            "profile": {
                "display_name": display_name,
                "display_name_normalized": display_name,
                "real_name": real_name,
                "real_name_normalized": real_name,
            },
        }
        with self._lock:
            self.users.append(user)
        return user

    def add_user_group(
        self, group_id: str, handle: str, *, name: str = "", disabled: bool = False, users: list[str] | None = None
    ) -> dict[str, Any]:
        """A user group (`@handle`), listed by usergroups.list (a disabled one only with `include_disabled`)."""
        group = {
            "id": group_id,
            "team_id": TEAM_ID,
            "is_usergroup": True,
            "name": name or handle,
            "handle": handle,
            "date_delete": 1700000000 if disabled else 0,
            "users": list(users or []),
            "user_count": len(users or []),
        }
        with self._lock:
            self.user_groups.append(group)
        return group

    def seed_usergroup(self, group_id: str, members: list[str]) -> None:
        """A user group (`S…`) and its members (user ids), as `usergroups.users.list` will answer (replaces any)."""
        with self._lock:
            self.usergroups[group_id] = list(members)

    # ---------------------------------------------------------------- inspection
    @property
    def connections(self) -> int:
        """How many TCP connections (distinct client addresses) have carried Web API calls so far."""
        with self._lock:
            return len(self._peers)

    def calls_to(self, method: str) -> list[Call]:
        """The recorded calls of one method, in order."""
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def channel_messages(self, channel: str) -> list[dict[str, Any]]:
        """Messages posted in `channel` (top level and replies), oldest first."""
        with self._lock:
            return [dict(message) for message in self.messages.get(channel, [])]

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """The replies in one thread, oldest first (not the parent)."""
        return [m for m in self.channel_messages(channel) if m.get("thread_ts") == thread_ts and m["ts"] != thread_ts]

    def delete_message(self, channel: str, ts: str) -> bool:
        """Delete a message as a channel member would; its thread's replies stay. Afterwards a reply in its thread
        gets `thread_not_found` and chat.update of it `message_not_found`, as from Slack. False if there was none."""
        with self._lock:
            history = self.messages.get(channel, [])
            kept = [message for message in history if message["ts"] != ts]
            self.messages[channel] = kept
            return len(kept) < len(history)

    def responses_for(self, response_id: str) -> list[dict[str, Any]]:
        """What was posted to one response_url, in order."""
        with self._lock:
            return list(self.responses.get(response_id, []))

    async def wait_for_responses(
        self, response_id: str, *, count: int = 1, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """Wait (up to `timeout`) until `count` posts reached the response_url; return them."""
        await _wait_until(lambda: len(self.responses_for(response_id)) >= count, timeout)
        return self.responses_for(response_id)

    async def wait_for_calls(self, method: str, *, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Wait (up to `timeout`) until `method` was called `count` times; return those calls."""
        await _wait_until(lambda: len(self.calls_to(method)) >= count, timeout)
        return self.calls_to(method)

    # ---------------------------------------------------------------- Socket Mode
    async def socket_send(self, envelope_type: str, payload: dict[str, Any]) -> str:
        """Send an envelope (`slash_commands`, `interactive`, `events_api`) over the newest Socket Mode connection, as
        Slack does; returns its envelope id. Call from the event loop the fake serves in."""
        if not self._sockets:
            raise RuntimeError("no Socket Mode connection is open")
        envelope_id = uuid.uuid4().hex
        await self._sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": envelope_type,
                "payload": payload,
                "accepts_response_payload": True,
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        return envelope_id

    async def socket_send_raw(self, frame: str) -> None:
        """Send a text frame as it is over the newest Socket Mode connection (a malformed envelope, for tests)."""
        if not self._sockets:
            raise RuntimeError("no Socket Mode connection is open")
        await self._sockets[-1].send_str(frame)

    async def wait_for_socket(self, *, timeout: float = 10.0) -> None:
        """Wait (up to `timeout`) until a Socket Mode client has connected."""
        await _wait_until(lambda: bool(self._sockets), timeout)

    async def wait_for_socket_ack(self, envelope_id: str, *, timeout: float = 10.0) -> dict[str, Any]:
        """Wait for the app's acknowledgement of an envelope; returns it (its `payload` is what an HTTP ack's body
        would have been)."""
        await _wait_until(lambda: envelope_id in self.socket_acks, timeout)
        return self.socket_acks[envelope_id]

    async def _connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        assert self.base_url is not None
        return {"ok": True, "url": self.base_url.replace("http://", "ws://").removesuffix("api/") + "socket"}

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        socket_ = web.WebSocketResponse()
        await socket_.prepare(request)
        self._sockets.append(socket_)
        self._record("socket.connect", {}, None, "ok")
        await socket_.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets),
                "connection_info": {"app_id": "A0FAKEAPP"},
                "debug_info": {"host": "fake"},
            }
        )
        try:
            async for frame in socket_:
                if frame.type != WSMsgType.TEXT:
                    continue
                try:
                    ack = json.loads(frame.data)
                except ValueError:
                    continue
                if isinstance(ack, dict) and ack.get("envelope_id"):
                    with self._lock:
                        self.socket_acks[str(ack["envelope_id"])] = ack
        finally:
            self._sockets.remove(socket_)
        return socket_

    # ---------------------------------------------------------------- HTTP
    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if request.transport is not None:
            with self._lock:
                self._peers.add(request.transport.get_extra_info("peername"))
        params = await _read_params(request)
        token = _token(request, params)
        params.pop("token", None)
        fault = self.faults.take(method)
        if fault is not None:
            return self._faulted(request, method, params, token, fault)
        outage = self.faults.outage_for(method)
        answer_delay = self.answer_delay_s
        if outage is not None and outage.kind != "slow":
            return self._faulted(request, method, params, token, outage)
        if outage is not None and outage.before:
            await asyncio.sleep(outage.delay_s)
        elif outage is not None:
            answer_delay += outage.delay_s
        if self.faults.token_is_bad(token) or not token:
            return self._answer(
                method, params, token, {"ok": False, "error": "invalid_auth" if token else "not_authed"}
            )
        if (method == "apps.connections.open") != token.startswith("xapp-"):
            # Slack keeps the two kinds apart: app-level tokens open sockets, bot tokens call everything else.
            return self._answer(method, params, token, {"ok": False, "error": "not_allowed_token_type"})
        handler = self._methods.get(method)
        if handler is None:
            return self._answer(method, params, token, {"ok": False, "error": "unknown_method"})
        try:
            body = await handler(params)
        except SlackError as err:
            body = {"ok": False, "error": err.code, **err.extra}
        except _RateLimited as limited:
            self._record(method, params, token, "http:429")
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(limited.retry_after)}
            )
        if answer_delay > 0:
            await asyncio.sleep(answer_delay)
        return self._answer(method, params, token, body)

    async def _handle_response_url(self, request: web.Request) -> web.StreamResponse:
        response_id = request.match_info["response_id"]
        try:
            body = json.loads(await request.read() or b"{}")
        except ValueError:
            self._record("response_url", {"response_id": response_id}, None, "http:400")
            return web.Response(status=400, text="invalid_payload")
        if not isinstance(body, dict):
            self._record("response_url", {"response_id": response_id}, None, "http:400")
            return web.Response(status=400, text="invalid_payload")
        params = {"response_id": response_id, **body}
        fault = self.faults.take("response_url")
        if fault is not None:
            return self._faulted(request, "response_url", params, None, fault)
        if not body.get("delete_original"):
            problems = self._message_problems(body)
            if problems:
                with self._lock:
                    self.rejected.append(("response_url", problems))
                self._record("response_url", params, None, "http:400")
                return web.Response(status=400, text="invalid_blocks")
        with self._lock:
            self.responses.setdefault(response_id, []).append(body)
        self._record("response_url", params, None, "ok")
        return web.Response(text="ok")

    def _faulted(
        self, request: web.Request, method: str, params: dict[str, Any], token: str | None, fault: Any
    ) -> web.StreamResponse:
        if fault.kind == "reset":
            self._record(method, params, token, "reset")
            _reset(request)
            raise asyncio.CancelledError
        if fault.kind == "api_error":
            body: dict[str, Any] = {"ok": False, "error": fault.error}
            if fault.error == "missing_scope":
                body["needed"] = _SCOPES_NEEDED.get(method, "unknown")
            return self._answer(method, params, token, body)
        self._record(method, params, token, f"http:{fault.status}")
        if fault.kind == "ratelimited":
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(fault.retry_after)}
            )
        return web.Response(status=fault.status, text="<html><body>Slack is having trouble</body></html>")

    def _answer(self, method: str, params: dict[str, Any], token: str | None, body: dict[str, Any]) -> web.Response:
        self._record(method, params, token, "ok" if body.get("ok") else f"error:{body.get('error')}")
        return web.json_response(body)

    def _record(self, method: str, params: dict[str, Any], token: str | None, outcome: str) -> None:
        with self._lock:
            self.calls.append(Call(method=method, params=params, token=token, outcome=outcome, at=self._clock()))

    # ---------------------------------------------------------------- methods
    async def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake.slack.test/",
            "team": "Fake workspace",
            "user": "dlf-bot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    async def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._postable_channel(params)
        self._check_message(params, "chat.postMessage")
        self._pace(channel)
        with self._lock:
            history = self.messages.setdefault(channel, [])
            thread_ts = params.get("thread_ts")
            if thread_ts:
                parent = next((m for m in history if m["ts"] == str(thread_ts)), None)
                if parent is None:
                    raise SlackError("thread_not_found")
                # Slack files a reply to a reply under the thread's parent.
                thread_ts = parent.get("thread_ts") or parent["ts"]
            message = {
                "type": "message",
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
                "ts": self._next_ts(),
                "text": params.get("text", ""),
                "blocks": params.get("blocks", []),
            }
            if params.get("metadata"):
                message["metadata"] = params["metadata"]
            if thread_ts:
                message["thread_ts"] = str(thread_ts)
                if params.get("reply_broadcast") in (True, "true", "1", 1):
                    message["subtype"] = "thread_broadcast"
                parent = next(m for m in history if m["ts"] == message["thread_ts"])
                parent["thread_ts"] = parent["ts"]
                parent["reply_count"] = parent.get("reply_count", 0) + 1
            history.append(message)
            return {"ok": True, "channel": channel, "ts": message["ts"], "message": _public(message)}

    async def _update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._postable_channel(params)
        self._check_message(params, "chat.update")
        with self._lock:
            message = next((m for m in self.messages.get(channel, []) if m["ts"] == str(params.get("ts"))), None)
            if message is None:
                raise SlackError("message_not_found")
            if message.get("bot_id") != BOT_ID:
                raise SlackError("cant_update_message")
            for key in ("text", "blocks", "metadata"):
                if key in params:
                    message[key] = params[key]
            message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
            return {
                "ok": True,
                "channel": channel,
                "ts": message["ts"],
                "text": message["text"],
                "message": _public(message),
            }

    async def _post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        self._postable_channel(params)
        if not params.get("user"):
            raise SlackError("user_not_in_channel")
        self._check_message(params, "chat.postEphemeral")
        with self._lock:
            ts = self._next_ts()
            self.ephemerals.append({**params, "message_ts": ts})
        return {"ok": True, "message_ts": ts}

    async def _history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._readable_channel(params)
        include_metadata = _truthy(params.get("include_all_metadata"))
        inclusive = _truthy(params.get("inclusive"))
        oldest = _timestamp(params.get("oldest"), default=0.0, error="invalid_ts_oldest")
        latest = _timestamp(params.get("latest"), default=float("inf"), error="invalid_ts_latest")
        with self._lock:
            top_level = [
                m
                for m in self.messages.get(channel, [])
                if m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast"
            ]
        in_window = [
            m
            for m in top_level
            if (oldest <= float(m["ts"]) <= latest if inclusive else oldest < float(m["ts"]) < latest)
        ]
        in_window.sort(key=lambda m: float(m["ts"]), reverse=True)
        return self._page(in_window, params, include_metadata)

    async def _replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._readable_channel(params)
        ts = str(params.get("ts") or "")
        include_metadata = _truthy(params.get("include_all_metadata"))
        with self._lock:
            history = self.messages.get(channel, [])
            parent = next((m for m in history if m["ts"] == ts), None)
            if parent is None:
                raise SlackError("thread_not_found")
            root = parent.get("thread_ts") or parent["ts"]
            thread = [m for m in history if m["ts"] == root or m.get("thread_ts") == root]
        thread.sort(key=lambda m: float(m["ts"]))
        return self._page(thread, params, include_metadata)

    async def _join(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        error = self.faults.channel_error_for(str(channel)) if channel else "channel_not_found"
        if error in ("channel_not_found", "is_archived"):
            raise SlackError(error)
        refused = self.faults.join_refusal(str(channel))
        if refused:
            raise SlackError(refused)
        self.faults.joined(str(channel))
        return {"ok": True, "channel": {"id": str(channel), "is_channel": True, "is_member": True}}

    async def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = params.get("user_id")
        view = params.get("view")
        if not user_id or not isinstance(view, dict) or view.get("type") != "home":
            raise SlackError("invalid_arguments")
        with self._lock:
            self.views[str(user_id)] = view
        return {"ok": True, "view": {"id": f"V{abs(hash(user_id)) % 10**8}", **view}}

    async def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        trigger_id = params.get("trigger_id")
        view = params.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if not trigger_id:
            raise SlackError("invalid_trigger_id")
        if not isinstance(view, dict) or view.get("type") != "modal" or not view.get("title"):
            raise SlackError("invalid_arguments")
        with self._lock:
            opened = {"trigger_id": str(trigger_id), "view": view, "id": f"V{len(self.opened_views) + 1:08d}"}
            self.opened_views.append(opened)
        return {"ok": True, "view": {"id": opened["id"], **view}}

    async def _users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        # Paged like Slack: `limit` (at most 1000; Slack suggests 200) and an opaque `next_cursor`.
        limit = max(1, min(int(params.get("limit") or 100), 1000))
        start = int(params.get("cursor") or 0)
        with self._lock:
            members = [dict(user) for user in self.users]
        page = members[start : start + limit]
        more = start + limit < len(members)
        return {
            "ok": True,
            "members": page,
            "cache_ts": int(self._wall_clock()),
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    async def _usergroups_list(self, params: dict[str, Any]) -> dict[str, Any]:
        include_disabled = _truthy(params.get("include_disabled"))
        include_users = _truthy(params.get("include_users"))
        with self._lock:
            groups = [dict(group) for group in self.user_groups if include_disabled or not group["date_delete"]]
        if not include_users:
            for group in groups:
                group.pop("users", None)
        return {"ok": True, "usergroups": groups}

    async def _usergroup_users(self, params: dict[str, Any]) -> dict[str, Any]:
        group = params.get("usergroup")
        if not group:
            raise SlackError("invalid_arguments")
        with self._lock:
            members = self.usergroups.get(str(group))
        if members is None:
            raise SlackError("no_such_subteam")
        return {"ok": True, "users": list(members)}

    # ---------------------------------------------------------------- rules
    def _postable_channel(self, params: dict[str, Any]) -> str:
        channel = params.get("channel")
        if not channel:
            raise SlackError("channel_not_found")
        error = self.faults.channel_error_for(str(channel))
        if error:
            raise SlackError(error)
        return str(channel)

    def _readable_channel(self, params: dict[str, Any]) -> str:
        channel = params.get("channel")
        error = self.faults.channel_error_for(str(channel)) if channel else "channel_not_found"
        if error in ("channel_not_found", "not_in_channel"):
            raise SlackError(error)
        if self.faults.is_outside(str(channel)):
            raise SlackError("not_in_channel")
        return str(channel)

    def _check_message(self, params: dict[str, Any], method: str) -> None:
        if not params.get("text") and not params.get("blocks") and not params.get("attachments"):
            raise SlackError("no_text")
        if len(str(params.get("text", ""))) > _MAX_TEXT:
            raise SlackError("msg_too_long")
        metadata = params.get("metadata")
        if metadata is not None and (
            not isinstance(metadata, dict) or "event_type" not in metadata or "event_payload" not in metadata
        ):
            raise SlackError("invalid_metadata_format")
        problems = self._message_problems(params)
        if problems:
            with self._lock:
                self.rejected.append((method, problems))
            raise SlackError("invalid_blocks", errors=problems)

    def _message_problems(self, params: dict[str, Any]) -> list[str]:
        if "blocks" in params and not isinstance(params["blocks"], list):
            return ["blocks: expected a list"]
        if self.validator is None:
            return []
        message = {key: value for key, value in params.items() if key not in ("channel", "response_id", "ts")}
        return list(self.validator(message))

    def _pace(self, channel: str) -> None:
        if self.post_interval_per_channel is None:
            return
        now = self._clock()
        with self._lock:
            last = self._last_post.get(channel)
            if last is not None and now - last < self.post_interval_per_channel:
                raise _RateLimited(retry_after=max(1, round(self.post_interval_per_channel - (now - last) + 0.5)))
            self._last_post[channel] = now

    def _next_ts(self) -> str:
        # Unique and increasing like Slack's ts ("seconds.micro"), whatever the wall clock does.
        return f"{int(self._wall_clock()):d}.{next(self._ts_counter):06d}"

    def _page(self, items: list[dict[str, Any]], params: dict[str, Any], include_metadata: bool) -> dict[str, Any]:
        limit = max(1, min(int(params.get("limit") or 100), 1000))
        start = int(params.get("cursor") or 0)
        page = items[start : start + limit]
        more = start + limit < len(items)
        return {
            "ok": True,
            "messages": [_public(m, include_metadata=include_metadata) for m in page],
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }


class _RateLimited(Exception):
    def __init__(self, *, retry_after: int) -> None:
        super().__init__("ratelimited")
        self.retry_after = retry_after


def _public(message: dict[str, Any], *, include_metadata: bool = True) -> dict[str, Any]:
    shown = dict(message)
    if not include_metadata:
        shown.pop("metadata", None)
    return shown


def _timestamp(value: Any, *, default: float, error: str) -> float:
    if value in (None, ""):
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise SlackError(error) from None


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def _token(request: web.Request, params: dict[str, Any]) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ").strip() or None
    token = params.get("token")
    return str(token) if token else None


async def _read_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    raw = await request.read()
    if raw:
        if request.content_type == "application/json":
            try:
                body = json.loads(raw)
            except ValueError:
                body = {}
            if isinstance(body, dict):
                params.update(body)
        else:
            params.update(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    for key in _JSON_ARGS:
        # Form-encoded calls carry structured arguments as JSON strings.
        if isinstance(params.get(key), str):
            try:
                params[key] = json.loads(params[key])
            except ValueError:
                pass
    return params


def _reset(request: web.Request) -> None:
    """Close the connection with a TCP RST, as a failing load balancer would."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


async def _wait_until(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the fake Slack did not see what was awaited within {timeout} s")
        await asyncio.sleep(0.01)


__all__ = ["BOT_ID", "BOT_USER_ID", "TEAM_ID", "FakeSlack", "SlackError"]
