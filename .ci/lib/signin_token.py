"""Sign a fresh user up and in against a running API; print its access token.

With a role (`signin_token.py URL admin`), the account gets it through `flask users set-role`
between signup and signin, on the DATABASE_URL of the environment (the API's own).
"""

import json
import secrets
import subprocess
import sys
from urllib.request import Request, urlopen


def post(url, body):
    headers = {"Content-Type": "application/json"}
    request = Request(url, json.dumps(body).encode(), headers)  # noqa: S310 (our local URL)
    with urlopen(request, timeout=10) as response:  # noqa: S310
        return json.load(response)


base = sys.argv[1]
credentials = {"email": f"fuzz-{secrets.token_hex(4)}@example.com", "password": "fuzz-password-1"}
post(f"{base}/api/auth/signup", credentials)
if len(sys.argv) > 2:
    command = ["flask", "--app", "wsgi", "users", "set-role", credentials["email"], sys.argv[2]]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)  # noqa: S603 (fixed command)
print(post(f"{base}/api/auth/signin", credentials)["token"])
