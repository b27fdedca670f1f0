"""The Flask app of the small round trip (`web_peer`): `GET /ping` answers 64 bytes."""

from flask import Flask

app = Flask(__name__)
PAYLOAD = b"x" * 64


@app.get("/ping")
def ping():
    return PAYLOAD, 200, {"Content-Type": "application/octet-stream"}
