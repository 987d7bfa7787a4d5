"""Fair use and room on disk (``bot.limits``) on their own, with a clock the test moves:
the picture rate, the daily allowance of jobs, and whether ``DATA_DIR`` is full."""

from __future__ import annotations

import contextlib
import datetime as dtm
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.limits import DATABASE, SIZE_CACHE_SECONDS, WINDOW_SECONDS, Limits

MIB = 1024 * 1024
#: 2026-03-01 22:00 UTC: two hours before a new day.
EVENING = dtm.datetime(2026, 3, 1, 22, 0, tzinfo=dtm.UTC).timestamp()


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(EVENING)


@contextlib.contextmanager
def opened(
    data_dir: Path,
    clock: Clock,
    *,
    jobs_per_day: int = 2,
    data_max_mb: int = 0,
    measured: Path | None = None,
) -> Iterator[Limits]:
    limits = Limits(
        data_dir,
        pictures_per_minute=3,
        jobs_per_day=jobs_per_day,
        data_max_mb=data_max_mb,
        measured=measured,
        clock=clock,
    )
    limits.open()
    try:
        yield limits
    finally:
        limits.close()


@pytest.fixture
def limits(tmp_path: Path, clock: Clock) -> Iterator[Limits]:
    with opened(tmp_path, clock) as limits:
        yield limits


def test_after_waiting_as_long_as_told_the_next_picture_is_taken(
    limits: Limits, clock: Clock
) -> None:
    for _ in range(3):
        assert limits.take_picture(1) is None
        clock.now += 5
    wait = limits.take_picture(1)  # three in the last 15 s: the first must leave the minute
    assert wait == WINDOW_SECONDS - 15
    assert wait is not None
    clock.now += wait - 1
    assert limits.take_picture(1) == 1  # a refused picture does not count
    clock.now += 1
    assert limits.take_picture(1) is None  # exactly as long as it said: fine
    assert limits.take_picture(1) == 5  # the second picture is the oldest now


def test_each_user_has_an_allowance_of_their_own_and_it_survives_a_restart(
    tmp_path: Path, clock: Clock
) -> None:
    with opened(tmp_path, clock) as limits:
        for _ in range(3):
            assert limits.take_picture(1) is None
        assert limits.take_picture(2) is None
    with opened(tmp_path, clock) as again:  # the bot restarted: no fresh allowance
        assert again.take_picture(1) == WINDOW_SECONDS
        assert again.take_picture(2) is None


def test_a_job_is_refused_once_the_day_is_used_up_until_midnight_utc(
    limits: Limits, clock: Clock
) -> None:
    assert limits.jobs_today(1) == 0 and limits.job_refusal(1) is None
    limits.count_job(1)
    assert limits.jobs_today(1) == 1 and limits.job_refusal(1) is None
    limits.count_job(1)
    assert limits.jobs_today(1) == 2
    assert limits.job_refusal(1) == 2 * 3600  # 22:00: two hours until the next day
    assert limits.job_refusal(2) is None  # another user's day is their own
    clock.now += 2 * 3600 - 0.5
    assert limits.job_refusal(1) == 0.5
    clock.now += 0.5  # midnight: a new day
    assert limits.jobs_today(1) == 0 and limits.job_refusal(1) is None
    limits.count_job(1)
    assert limits.jobs_today(1) == 1


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's local time five hours behind UTC (a POSIX TZ: no time zone data needed)."""
    monkeypatch.setenv("TZ", "EST+5")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("new_york")
def test_the_day_is_utcs_whatever_the_machines_time_zone(limits: Limits, clock: Clock) -> None:
    limits.count_job(1)
    limits.count_job(1)
    assert limits.job_refusal(1) == 2 * 3600  # 17:00 in New York, two hours to UTC's midnight
    clock.now += 2 * 3600  # 19:00 in New York, a new day in UTC: the allowance is back
    assert limits.jobs_today(1) == 0 and limits.job_refusal(1) is None


def test_no_daily_allowance_means_no_limit(tmp_path: Path, clock: Clock) -> None:
    with opened(tmp_path, clock, jobs_per_day=0) as limits:
        for _ in range(5):
            limits.count_job(1)
        assert limits.jobs_today(1) == 5 and limits.job_refusal(1) is None


def test_data_dir_is_full_at_its_cap_counting_every_file_in_it(
    tmp_path: Path, clock: Clock
) -> None:
    with opened(tmp_path, clock, data_max_mb=1) as limits:
        pictures = tmp_path / "sessions" / "42"
        pictures.mkdir(parents=True)
        ours = sum(path.stat().st_size for path in tmp_path.glob(f"{DATABASE}*"))
        assert limits.data_bytes() == ours  # the limits' own file counts; folders do not
        (pictures / "photo.jpg").write_bytes(bytes(MIB - ours - 1))
        clock.now += SIZE_CACHE_SECONDS + 1
        assert limits.data_bytes() == MIB - 1 and not limits.disk_full()
        (tmp_path / "style.jpg").write_bytes(b"x")
        clock.now += SIZE_CACHE_SECONDS + 1
        assert limits.data_bytes() == MIB and limits.disk_full()  # at the cap is full


def test_a_front_ends_own_folder_keeps_the_counters_and_all_of_data_dir_is_measured(
    tmp_path: Path, clock: Clock
) -> None:
    front_end = tmp_path / "discord"
    with opened(front_end, clock, data_max_mb=1, measured=tmp_path) as limits:
        assert (front_end / DATABASE).exists() and not (tmp_path / DATABASE).exists()
        (tmp_path / "queue.sqlite3").write_bytes(bytes(MIB))  # another part of DATA_DIR
        assert limits.data_bytes() > MIB and limits.disk_full()


def test_data_dir_is_measured_at_most_every_few_seconds(tmp_path: Path, clock: Clock) -> None:
    with opened(tmp_path, clock, data_max_mb=1) as limits:
        before = limits.data_bytes()
        (tmp_path / "photo.jpg").write_bytes(bytes(2 * MIB))
        clock.now += SIZE_CACHE_SECONDS / 2
        assert limits.data_bytes() == before and not limits.disk_full()  # the last measure
        clock.now += SIZE_CACHE_SECONDS / 2 + 0.1
        assert limits.data_bytes() == before + 2 * MIB and limits.disk_full()


def test_without_a_cap_data_dir_is_never_full(tmp_path: Path, clock: Clock) -> None:
    with opened(tmp_path, clock, data_max_mb=0) as limits:
        (tmp_path / "photo.jpg").write_bytes(bytes(2 * MIB))
        assert not limits.disk_full()
