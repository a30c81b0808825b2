"""Newest-first keyset pages: the signed cursor after a row, and the condition it stands for."""

from datetime import datetime

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import literal, tuple_

from .db import UTCDateTime
from .errors import BadRequest


class KeysetCursor:
    """Cursors over rows ordered by ``(created_at, id)`` descending, signed with SECRET_KEY.

    ``salt`` keeps one list's cursors from being accepted by another.
    """

    def __init__(self, salt):
        self.salt = salt

    def after(self, created_at, row_id):
        """The cursor of the page that starts after this row."""
        return self._serializer().dumps([created_at.isoformat(), row_id])

    def older_than(self, cursor, created_at_column, id_column):
        """The WHERE condition for rows after the cursor's; a bad cursor is 400 bad_request."""
        try:
            created_at, row_id = self._serializer().loads(cursor)
            created_at, row_id = datetime.fromisoformat(created_at), str(row_id)
        except (BadData, ValueError, TypeError):
            raise BadRequest(message="The cursor is not valid.") from None
        return tuple_(created_at_column, id_column) < tuple_(
            literal(created_at, UTCDateTime), row_id
        )

    def _serializer(self):
        return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=self.salt)
