"""What can be wrong with a picture from a stranger, as a code a chat words in its user's
language, and the error that carries it."""

import enum


class ImageProblem(enum.StrEnum):
    """What is wrong with a picture, for programs (the painter passes it on to the bot)."""

    UNREADABLE = "unreadable"  # not an image, broken, or a format not taken
    NO_FILE = "no_file"  # params: path
    FILE_TOO_LARGE = "file_too_large"  # params: max_mb
    TOO_MANY_PIXELS = "too_many_pixels"  # params: width, height, max_megapixels
    BOMB = "bomb"  # too many pixels to even say how many; params: max_megapixels
    TOO_SMALL = "too_small"  # params: width, height, min_side
    TOO_THIN = "too_thin"  # params: width, height, max_aspect


class ImageError(Exception):
    """A picture is unreadable, too small, too large or of a kind not taken.

    The message is the English sentence; ``code`` and ``params`` say the same for a program,
    e.g. ``ImageProblem.TOO_SMALL`` with ``{"width": 16, "height": 16, "min_side": 32}``, so
    that a chat can say it in its user's language and the painter can pass it on through the
    queue.
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
