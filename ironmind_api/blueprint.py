"""The Blueprint every route module uses: flask-smorest's, with strict and required JSON bodies."""

from functools import wraps

import flask_smorest
from flask import request

from .errors import BadRequest
from .http.parsing import StrictJsonParser


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with the strict JSON parser, enforcing required bodies."""

    ARGUMENTS_PARSER = StrictJsonParser()

    def arguments(self, schema, *, location="json", required=True, **kwargs):
        parse = super().arguments(schema, location=location, required=required, **kwargs)
        if location != "json" or not required:
            return parse

        def decorator(fn):
            parsing_view = parse(fn)

            @wraps(parsing_view)
            def view(*args, **kwargs):
                # webargs reads an empty body as {}, which a PATCH would take as "no change".
                if not request.get_data(cache=True):
                    raise BadRequest(message="A JSON request body is required.")
                return parsing_view(*args, **kwargs)

            return view

        return decorator
