"""No cookie sessions: the API authenticates bearer tokens only."""

from flask.sessions import SessionInterface


class NoSessions(SessionInterface):
    """No session cookie is ever parsed, signed or set."""

    def open_session(self, app, request):
        return None  # Flask then uses its NullSession, which refuses writes

    def save_session(self, app, session, response):
        return None


def init_app(app):
    app.session_interface = NoSessions()
