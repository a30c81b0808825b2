"""Container healthcheck: exit 0 when GET /health answers 200 within 2 s, else 1."""

import os
import sys
import urllib.request

url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/health"
try:
    with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (fixed local URL)
        sys.exit(0 if response.status == 200 else 1)
except OSError:
    sys.exit(1)
