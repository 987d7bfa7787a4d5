"""Typed engine errors whose messages are safe and readable to show to an end user."""

import enum


class EngineError(Exception):
    """Base class: anything the engine refuses or cannot do, explained in plain words."""


class ImageProblem(enum.StrEnum):
    """What is wrong with an image, for programs: a bot words it in its user's language."""

    UNREADABLE = "unreadable"  # not an image, broken, or a format not taken
    NO_FILE = "no_file"  # params: path
    FILE_TOO_LARGE = "file_too_large"  # params: max_mb
    TOO_MANY_PIXELS = "too_many_pixels"  # params: width, height, max_megapixels
    BOMB = "bomb"  # too many pixels to even say how many; params: max_megapixels
    TOO_SMALL = "too_small"  # params: width, height, min_side
    TOO_THIN = "too_thin"  # params: width, height, max_aspect


class ImageError(EngineError):
    """An input image is unreadable, too small, too large or of an unsupported kind.

    The message is the English sentence (the CLI prints it); ``code`` and ``params`` say the
    same for a program, e.g. ``ImageProblem.TOO_SMALL`` with ``{"width": 16, "height": 16,
    "min_side": 32}``.
    """

    def __init__(
        self,
        message: str,
        code: ImageProblem = ImageProblem.UNREADABLE,
        **params: int | str,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.params: dict[str, int | str] = params


class WeightsError(EngineError):
    """The VGG19 weights could not be loaded (offline download, bad file, wrong layout)."""


class Cancelled(EngineError):
    """The caller's cancel event was set; the run stopped and freed its memory."""

    def __init__(self, message: str = "The job was cancelled.") -> None:
        super().__init__(message)
