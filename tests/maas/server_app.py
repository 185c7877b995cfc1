"""A WSGI app for the keep-alive worker's tests (tests/maas/test_server.py): it says which
process and which client connection answered, and can leave a body unread or fail."""

import json
import os

served = 0


def app(environ: dict, start_response) -> list[bytes]:
    global served
    served += 1
    path = environ["PATH_INFO"]
    if path == "/boom":
        raise RuntimeError("the test app fails on purpose")
    length = int(environ.get("CONTENT_LENGTH") or 0)
    read = 0 if path == "/unread" else len(environ["wsgi.input"].read(length))
    body = json.dumps(
        {
            "pid": os.getpid(),
            "peer": environ.get("REMOTE_PORT"),
            "path": path,
            "read": read,
            "served": served,
        }
    ).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]
