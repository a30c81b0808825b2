"""The WSGI entry point gunicorn serves: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Every `flask --app wsgi …` command imports it too, so a setting the app refuses ends here
as one line on stderr and a non-zero exit, not a traceback.
"""

import sys

from config import ConfigError
from ironmind_api import create_app

try:
    app = create_app()
except ConfigError as error:
    print(f"error: {error}", file=sys.stderr)
    # 4 is gunicorn's "App failed to load": its master stops instead of respawning workers.
    sys.exit(4)
