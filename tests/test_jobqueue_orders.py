"""The vocabulary both sides of the queue speak (``jobqueue.orders``), read and written
without a queue: the strength steps, sizes in pixels, and orders and notes as JSON, including
what each side must refuse and the orders of jobs queued before orders were typed; and what
the queue keeps of a result (``ResultInfo``), as JSON, including records from before."""

from __future__ import annotations

import json

import pytest

from jobqueue import JobOrder, Note, NoteCode, Painted, ResultInfo, Size, Strength
from jobqueue.orders import size_sides


def test_lighter_and_stronger_step_once_and_stop_at_the_ends() -> None:
    assert [strength.lighter() for strength in Strength] == [
        Strength.LIGHT,
        Strength.LIGHT,
        Strength.MEDIUM,
    ]
    assert [strength.stronger() for strength in Strength] == [
        Strength.MEDIUM,
        Strength.STRONG,
        Strength.STRONG,
    ]


@pytest.mark.parametrize(
    ("medium", "device", "small", "large"),
    [
        (384, "cpu", 256, 768),  # Large stops at the CPU's largest side
        (512, "cuda", 341, 2048),  # two thirds rounded to the nearest pixel, four times
        (512, "mps", 341, 1024),
        (512, "xpu", 341, 768),  # a device kind nobody listed: as slow as a CPU
        (100, "cpu", 67, 400),  # 66.7 rounds up, not down
        (30, "cpu", 32, 120),  # Small is never under 32 pixels
        (1000, "cpu", 667, 1000),  # an operator's Medium above the limit: Large is no smaller
    ],
)
def test_sizes_in_pixels_follow_medium_and_the_device(
    medium: int, device: str, small: int, large: int
) -> None:
    assert size_sides(medium, device) == {
        Size.SMALL: small,
        Size.MEDIUM: medium,
        Size.LARGE: large,
    }


def test_an_order_crosses_the_queue_as_json_and_comes_back_the_same() -> None:
    order = JobOrder(Strength.STRONG, Size.LARGE, keep_colours=True, keep_faces=False)
    written = order.to_json()
    assert written == {
        "strength": "strong",
        "size": "large",
        "keep_colours": True,
        "keep_faces": False,
    }
    assert JobOrder.from_json(json.loads(json.dumps(written))) == order
    assert JobOrder().to_json() == {
        "strength": "medium",
        "size": "medium",
        "keep_colours": False,
        "keep_faces": True,
    }


def test_an_order_missing_fields_takes_the_defaults() -> None:
    assert JobOrder.from_json({}) == JobOrder(
        Strength.MEDIUM, Size.MEDIUM, keep_colours=False, keep_faces=True
    )
    assert JobOrder.from_json({"size": "small"}) == JobOrder(size=Size.SMALL)
    assert JobOrder.from_json({"strength": "light"}) == JobOrder(Strength.LIGHT)
    assert JobOrder.from_json({"keep_colours": True}) == JobOrder(keep_colours=True)
    assert JobOrder.from_json({"keep_faces": False}) == JobOrder(keep_faces=False)


def test_an_order_queued_before_faces_could_be_chosen_keeps_them() -> None:
    old = {"strength": "light", "size": "small", "keep_colours": True}  # as the bot wrote it
    assert JobOrder.from_json(old).keep_faces is True
    assert JobOrder.from_json({"strength": "strong", "preserve_colors": False}).keep_faces


@pytest.mark.parametrize("kept", [True, False])
def test_an_order_from_before_orders_were_typed_keeps_its_colours(kept: bool) -> None:
    old = {"strength": "strong", "preserve_colors": kept}
    assert JobOrder.from_json(old) == JobOrder(Strength.STRONG, keep_colours=kept)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (["strength", "light"], "a job order is an object, not"),
        ({"strength": "light", "steps": 9}, r"a job order has no \['steps'\]"),
        ({"keep_colours": "yes"}, "keep_colours is true or false, not 'yes'"),
        ({"keep_colours": 1}, "keep_colours is true or false, not 1"),
        ({"keep_faces": "no"}, "keep_faces is true or false, not 'no'"),
        ({"keep_faces": 0}, "keep_faces is true or false, not 0"),
        ({"keep_faces": None}, "keep_faces is true or false, not None"),
        ({"strength": "brutal"}, "brutal"),
        ({"size": "huge"}, "huge"),
    ],
)
def test_an_order_the_painter_does_not_understand_is_refused(data: object, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        JobOrder.from_json(data)


def test_a_note_crosses_the_queue_as_json_and_comes_back_the_same() -> None:
    note = Note(NoteCode.MADE_SMALLER, {"made": 358, "asked": 512})
    written = note.to_json()
    assert written == {"code": "made_smaller", "params": {"made": 358, "asked": 512}}
    written["params"]["made"] = 1  # the JSON is a copy: the note stays as it was
    assert note.params == {"made": 358, "asked": 512}
    assert Note.from_json(note.to_json()) == note
    assert Note.from_json({"code": "made_smaller"}) == Note(NoteCode.MADE_SMALLER, {})


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ("made smaller", "not a note: 'made smaller'"),
        ({"code": "made_smaller", "params": [1, 2]}, "not a note"),
        ({"code": "made_smaller", "params": {"made": 1.5}}, "a note's numbers are whole numbers"),
        ({"code": "too_blue", "params": {}}, "too_blue"),
        ({"params": {}}, "None"),
    ],
)
def test_a_note_the_chat_side_does_not_understand_is_refused(data: object, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        Note.from_json(data)


def test_a_result_crosses_the_queue_as_json_with_the_faces_kept() -> None:
    note = Note(NoteCode.MADE_SMALLER, {"made": 358, "asked": 512})
    painted = Painted(b"png", 358, 269, 79.4, note, making_of=b"GIF89a", faces=2)
    result = ResultInfo.of(painted)
    assert result == ResultInfo(358, 269, 79.4, note, making_of=True, faces=2)
    written = result.to_json()
    assert written["faces"] == 2
    assert ResultInfo.from_json(json.loads(json.dumps(written))) == result
    assert ResultInfo.of(Painted(b"png", 8, 8, 0.1)).faces == 0  # a painter that says nothing


def test_a_result_recorded_before_faces_were_counted_kept_none() -> None:
    old = {"width": 384, "height": 288, "elapsed": 77.0, "note": None, "making_of": False}
    assert ResultInfo.from_json(old) == ResultInfo(384, 288, 77.0, faces=0)
