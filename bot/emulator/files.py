"""Files: sendDocument and sendPhoto uploads, file_id re-sends, reading bytes back."""

from __future__ import annotations

from .component import Component


class Files(Component):
    """Files the bot uploaded, by file_id."""
