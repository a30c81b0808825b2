"""What /api/auth reads and answers: accounts, credentials and token pairs."""

from marshmallow import Schema, fields, validate

from ..fields import EmailAddress, Text, Timestamp

Email = validate.And(validate.Length(max=320), validate.Email(error="Not a valid email address."))


class UserSchema(Schema):
    id = fields.String(attribute="public_id", dump_only=True)
    email = fields.String(dump_only=True, allow_none=True)
    name = fields.String(dump_only=True, allow_none=True)
    createdAt = Timestamp("created_at")


class SignupSchema(Schema):
    email = EmailAddress(required=True, validate=Email, metadata={"format": "email"})
    password = Text(required=True, load_only=True, validate=validate.Length(8, 128))
    name = Text(trim=True, allow_none=True, load_default=None, validate=validate.Length(max=200))


class SigninSchema(Schema):
    email = EmailAddress(required=True, validate=validate.Length(1, 320))
    password = Text(required=True, load_only=True, validate=validate.Length(1, 1024))


class RefreshSchema(Schema):
    refresh_token = Text(required=True, load_only=True)


class SignoutSchema(Schema):
    refresh_token = Text(load_only=True, load_default=None)


class SignupResponseSchema(Schema):
    success = fields.Boolean(required=True)
    message = fields.String(required=True)
    user = fields.Nested(UserSchema, required=True)


class TokenPairSchema(Schema):
    token = fields.String(required=True)
    token_type = fields.String(required=True)
    expires_in = fields.Integer(required=True)
    refresh_token = fields.String(required=True)
    user = fields.Nested(UserSchema, required=True)


class SuccessSchema(Schema):
    success = fields.Boolean(required=True)


class MeSchema(Schema):
    user = fields.Nested(UserSchema, required=True)


# Instances: given a class, webargs would build a new schema for every request.
signup_schema = SignupSchema()
signin_schema = SigninSchema()
refresh_schema = RefreshSchema()
signout_schema = SignoutSchema()
