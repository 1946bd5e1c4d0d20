"""A fake Slack Web API and response_url sink on loopback, for tests, the demo and benchmarks.

    fake = FakeSlack(validator=bot.render.limits.problems)   # every message the bot sends is checked
    async with fake.serve() as base_url:                      # AsyncWebClient(base_url=base_url)
        ...
    fake.calls, fake.messages[channel], fake.responses_for(id), fake.response_url(id)
    fake.faults.ratelimit("chat.postMessage", n=2, retry_after=1); fake.faults.server_error(...); fake.faults.reset(...)
    fake.faults.api_error("usergroups.list", "missing_scope"); fake.faults.channel_error("C1", "not_in_channel"); fake.faults.invalid_auth("xoxb-bad")
    fake.faults.not_a_member("C1")    # history/replies refused with not_in_channel, posting works (chat:write.public)
    fake.faults.refuse_join("C1")     # conversations.join answers missing_scope (default) instead of joining
    fake.faults.outage("server_error" | "ratelimited" | "reset" | "slow", seconds=60, methods=None, status=500,
                       retry_after=1, delay_s=0.0, before=False)   # time-based: every call fails for a while
    fake.connections                  # TCP connections that carried Web API calls (connection reuse)
    fake.delete_message("C1", ts)     # a member deleted the message: replies to it get thread_not_found
    fake.add_user("U1", "alice", display_name="Alice W")      # users.list (paged with cursors)
    fake.add_user_group("S1", "oncall", name="On-call")       # usergroups.list
    fake.seed_usergroup("S1", ["U1"]) # usergroups.users.list answers these members (no_such_subteam otherwise)

It stands for Slack's side of the wire, so it imports nothing of the bot.
"""

from slack_fake._server import BOT_ID, BOT_USER_ID, TEAM_ID, FakeSlack, SlackError
from slack_fake._state import CHANNEL_ERRORS, Call, Faults, Outage, Validator

__all__ = [
    "BOT_ID",
    "BOT_USER_ID",
    "CHANNEL_ERRORS",
    "TEAM_ID",
    "Call",
    "FakeSlack",
    "Faults",
    "Outage",
    "SlackError",
    "Validator",
]
