"""What a role is: the default one, the longest, and the claim's format.

Apart from models.py so that `flask users --help` can show them without importing SQLAlchemy.
"""

import re

DEFAULT_ROLE = "user"
MAX_ROLE_LENGTH = 64
# One role or several, comma-separated: how Better Auth's admin plugin writes a role claim.
ROLE_LIST = re.compile(r"[A-Za-z0-9_-]+(?:,[A-Za-z0-9_-]+)*")
