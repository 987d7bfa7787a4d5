"""One user's turns in order, different users' side by side, and no lane kept for nobody."""

from __future__ import annotations

import asyncio

import pytest

from bot.lanes import UserLanes


async def test_one_users_turns_run_one_at_a_time_in_the_order_they_came():
    lanes, log = UserLanes(), []

    async def turn(name: str, pause: float) -> None:
        async with lanes.lane("alice"):
            log.append(f"{name} starts")
            await asyncio.sleep(pause)
            log.append(f"{name} ends")

    await asyncio.gather(turn("photo", 0.05), turn("style", 0.0))
    assert log == ["photo starts", "photo ends", "style starts", "style ends"]


async def test_different_users_turns_run_side_by_side():
    lanes, both_inside = UserLanes(), asyncio.Barrier(2)

    async def turn(user: str) -> None:
        async with lanes.lane(user):
            await asyncio.wait_for(both_inside.wait(), timeout=1)  # deadlocks if serialised

    await asyncio.gather(turn("alice"), turn("bob"))


async def test_a_lane_is_forgotten_when_nobody_waits_for_it_even_after_a_failure():
    lanes = UserLanes()
    async with lanes.lane("alice"):
        assert len(lanes) == 1
    assert len(lanes) == 0
    with pytest.raises(ValueError):
        async with lanes.lane("bob"):
            raise ValueError("a handler's bug")
    assert len(lanes) == 0
    async with lanes.lane("bob"):  # and the lane is free again
        pass
