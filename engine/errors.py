"""Typed engine errors whose messages are safe and readable to show to an end user."""


class EngineError(Exception):
    """Base class: anything the engine refuses or cannot do, explained in plain words."""


class ImageError(EngineError):
    """An input image cannot be read or is too small to paint; the message names it.

    Pictures from strangers are refused earlier, with codes a chat words in its user's
    language (``pictures.ImageError``): this one speaks to whoever runs the engine.
    """


class WeightsError(EngineError):
    """The VGG19 weights could not be loaded (offline download, bad file, wrong layout)."""


class RunCancelled(EngineError):
    """The caller's cancel event was set; the run stopped and freed its memory."""

    def __init__(self, message: str = "The job was cancelled.") -> None:
        super().__init__(message)
