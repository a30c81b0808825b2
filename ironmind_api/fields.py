"""Marshmallow fields shared by every blueprint's schemas."""

import unicodedata

from marshmallow import ValidationError, fields

# Exactly what str.isspace() calls whitespace, named one by one: a trimmed Text strips these
# and nothing else, and openapi.py publishes this very class (JSON Schema reads a pattern's
# \s with ECMA-262's meaning, another set), so the document and the code cannot disagree.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


def normalize_email(email):
    """The form an address is stored and compared in: NFKC, then case-folded.

    NFKC maps compatibility look-alikes (fullwidth ``ａｄａ＠ｅｘａｍｐｌｅ．ｃｏｍ``) onto their
    plain letters; ``casefold`` is ``lower`` for every script (``ß`` as ``ss``).
    """
    return unicodedata.normalize("NFKC", email).casefold()


class Text(fields.String):
    """A string that PostgreSQL can store: no NUL characters; optionally trimmed."""

    def __init__(self, *args, trim=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.trim = trim

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in value:
            raise ValidationError("Must not contain NUL characters.")
        return value.strip(WHITESPACE) if self.trim else value


class EmailAddress(Text):
    """A trimmed email address, normalised (``normalize_email``) before any validator runs.

    Printable ASCII only: NFKC folds fullwidth forms but not another script's look-alikes
    (Cyrillic "а" for Latin "a"), so no address with a non-ASCII character is taken; an
    internationalised domain is given in its ``xn--`` form (docs/API.md).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, trim=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = normalize_email(super()._deserialize(value, attr, data, **kwargs))
        if not all("\x21" <= character <= "\x7e" for character in value):
            raise ValidationError("Must be printable ASCII (a domain in its xn-- form).")
        return value


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
