"""A marshmallow schema's dump, compiled once into one plain function for hot list pages.

The schema stays the contract (it documents the response and is the OpenAPI source); this
only removes marshmallow's per-object, per-field machinery when dumping many rows. The
compiled function reads each field's attribute from a row by position, as a Core ``select``
of the schema's attributes returns them, and converts it exactly as the field's
``_serialize`` does (the same function, or none where marshmallow passes the value through)
for the field types supported here. Any other field type, or a schema with
dump hooks, is refused at compile time, so a schema change cannot silently dump differently;
tests/test_dumping.py compares the result with ``schema.dump`` on thousands of varied rows.
"""

from marshmallow import fields
from marshmallow.utils import ensure_text_type


class UnsupportedSchema(TypeError):
    """The schema has something the compiled dumper does not reproduce."""


def _converter(field):
    """The field's ``_serialize`` for a non-None value; None when it returns the value as is."""
    serialize = type(field)._serialize
    if serialize is fields.Field._serialize:  # e.g. Boolean in marshmallow 4: the value as is
        return None
    if serialize is fields.String._serialize:
        return _text
    if serialize is fields.DateTime._serialize:
        func = fields.DateTime.SERIALIZATION_FUNCS.get(field.format or field.DEFAULT_FORMAT)
        if func is None:
            raise UnsupportedSchema(f"DateTime format {field.format!r}")
        return func
    raise UnsupportedSchema(f"field type {type(field).__name__}")


def _text(value):
    return value if type(value) is str else ensure_text_type(value)


def compile_dumper(schema):
    """Return ``(attributes, dump_row)``: the row's attributes in order, and a function that
    turns one row (a tuple of those attributes) into the schema's dump of it."""
    if schema._hooks.get("pre_dump") or schema._hooks.get("post_dump"):
        raise UnsupportedSchema("dump hooks")
    attributes, namespace, items = [], {}, []
    for name, field in schema.dump_fields.items():
        if field.attribute is not None and "." in field.attribute:
            raise UnsupportedSchema(f"nested attribute {field.attribute!r}")
        index = len(attributes)
        attributes.append(field.attribute or name)
        convert = _converter(field)
        key = field.data_key or name
        if convert is None:
            items.append(f"{key!r}: row[{index}]")
        else:
            namespace[f"c{index}"] = convert
            value = f"(v{index} := row[{index}])"
            items.append(f"{key!r}: None if {value} is None else c{index}(v{index})")
    source = "def dump_row(row):\n    return {" + ", ".join(items) + "}\n"
    exec(compile(source, f"<dumper of {type(schema).__name__}>", "exec"), namespace)  # noqa: S102
    return tuple(attributes), namespace["dump_row"]
