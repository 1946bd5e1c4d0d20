"""Button values: what a card encodes is what the handler decodes; anything else is refused, not guessed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.render.actions import (
    MAX_VALUE_LENGTH,
    InstanceRef,
    decode_instance_ref,
    encode_instance_ref,
)
from bot.render.mrkdwn import slack_len


@settings(max_examples=200)
@given(
    job=st.text(min_size=1, max_size=700),
    instance_id=st.integers(min_value=-(2**63), max_value=2**63 - 1),
    profile=st.none() | st.text(max_size=64),
)
def test_round_trip_or_none_when_too_long(job: str, instance_id: int, profile: str | None) -> None:
    ref = InstanceRef(job=job, instance_id=instance_id, profile=profile)
    value = encode_instance_ref(ref)
    if value is None:
        # Only long names drop out: a character takes at most 6 in JSON, the rest of the value at most ~500.
        assert slack_len(job) * 6 + 500 > MAX_VALUE_LENGTH
    else:
        assert slack_len(value) <= MAX_VALUE_LENGTH
        assert decode_instance_ref(value) == ref


def test_value_is_compact_json() -> None:
    value = encode_instance_ref(InstanceRef(job="job_batch", instance_id=34765, profile="prod"))
    assert value == '{"job":"job_batch","instance":34765,"profile":"prod"}'
    assert (
        encode_instance_ref(InstanceRef(job="job_batch", instance_id=34765)) == '{"job":"job_batch","instance":34765}'
    )


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not json",
        "[1, 2]",
        '{"instance": 1}',
        '{"job": "", "instance": 1}',
        '{"job": 5, "instance": 1}',
        '{"job": "j"}',
        '{"job": "j", "instance": true}',
        '{"job": "j", "instance": "34765"}',
        '{"job": "j", "instance": 1.5}',
        '{"job": "j", "instance": 9223372036854775808}',
        '{"job": "j", "instance": 1, "profile": 7}',
    ],
)
def test_malformed_values_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        decode_instance_ref(value)
