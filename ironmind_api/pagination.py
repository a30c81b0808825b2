"""Newest-first keyset pages: the signed cursor after a row, and the condition it stands for."""

from datetime import datetime

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import bindparam, literal, tuple_

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
        created_at, row_id = self.position(cursor)
        return tuple_(created_at_column, id_column) < tuple_(
            literal(created_at, UTCDateTime), row_id
        )

    def position(self, cursor):
        """The (created_at, id) a cursor was written after; a bad cursor is 400 bad_request."""
        try:
            created_at, row_id = self._serializer().loads(cursor)
            return datetime.fromisoformat(created_at), str(row_id)
        except (BadData, ValueError, TypeError):
            raise BadRequest(message="The cursor is not valid.") from None

    @staticmethod
    def older_than_position(created_at_column, id_column):
        """``older_than`` for a statement built once: the position is bound at execution as
        ``after_created_at`` and ``after_id`` (the two values of ``position``)."""
        return tuple_(created_at_column, id_column) < tuple_(
            bindparam("after_created_at", type_=UTCDateTime), bindparam("after_id")
        )

    def _serializer(self):
        return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=self.salt)
