"""Marshmallow fields shared by every blueprint's schemas."""

from marshmallow import ValidationError, fields


class Text(fields.String):
    """A string that PostgreSQL can store: no NUL characters; optionally trimmed."""

    def __init__(self, *args, trim=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.trim = trim

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in value:
            raise ValidationError("Must not contain NUL characters.")
        return value.strip() if self.trim else value


def Timestamp(attribute):
    return fields.DateTime(format="iso", attribute=attribute, dump_only=True)


class StrictBoolean(fields.Boolean):
    """A JSON true or false only: not 0, 1 or "true".

    A ``truthy={True}`` set is not enough, because 1 == True and 0 == False in Python.
    """

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value
