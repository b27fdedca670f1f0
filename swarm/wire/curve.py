"""CURVE: encrypted, authenticated links between machines (ZeroMQ's CurveZMQ), and the rule
that a node without keys listens on loopback only.

With keys in the cluster file (`swarm keys` writes them), every node's ROUTER is a CURVE
server with the node's own keypair. Its peers' DEALERs and the clients are CURVE clients:
each knows the public key of the node it connects to - so it talks to nobody but the holder
of that node's secret key - and shows a keypair of its own (a node its own, a client the
cluster's client keypair). A node's ZAP handler lets in only those public keys.

Keys are Z85 text (40 characters), as ZeroMQ prints them. Nothing here unpickles.
"""

from __future__ import annotations

import ipaddress

import zmq
from zmq.utils import z85

ZAP_ENDPOINT = "inproc://zeromq.zap.01"  # where libzmq asks about every CURVE handshake


def keypair() -> tuple[str, str]:
    """A new (public, secret) CURVE keypair, Z85 text."""
    public, secret = zmq.curve_keypair()
    return public.decode("ascii"), secret.decode("ascii")


def public_of(secret: str) -> str:
    return zmq.curve_public(secret.encode("ascii")).decode("ascii")


def is_loopback(endpoint: str) -> bool:
    """Whether only this machine can reach `endpoint`: tcp on a loopback address, ipc, inproc.
    `tcp://*:5701`, `tcp://0.0.0.0:5701`, an interface or host name: no."""
    scheme, _, rest = endpoint.partition("://")
    if scheme in ("ipc", "inproc"):
        return True
    if scheme != "tcp":
        return False
    host = rest.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_server(sock: zmq.Socket, public: str, secret: str) -> None:
    """Before bind: `sock` accepts CURVE handshakes only, as the holder of this keypair."""
    sock.curve_server = True
    sock.curve_publickey = public.encode("ascii")
    sock.curve_secretkey = secret.encode("ascii")


def make_client(sock: zmq.Socket, public: str, secret: str, server_public: str) -> None:
    """Before connect: `sock` talks CURVE, as this keypair, to the holder of server_public."""
    sock.curve_publickey = public.encode("ascii")
    sock.curve_secretkey = secret.encode("ascii")
    sock.curve_serverkey = server_public.encode("ascii")


class ZapHandler:
    """The ZAP handler (ZeroMQ RFC 27) of a node's context: libzmq asks it about every CURVE
    handshake, and it lets in the public keys of `allowed` (key -> whose it is: a node's
    name, or "client"). Served from the node's poll loop: no thread."""

    def __init__(self, ctx: zmq.Context, allowed: dict[str, str]) -> None:
        self.allowed = allowed
        self.sock = ctx.socket(zmq.REP)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.bind(ZAP_ENDPOINT)  # before the node binds: no handshake goes unchecked

    def answer_all(self) -> list[str]:
        """Answer the pending requests (without blocking); why each refused one was."""
        refusals = []
        while True:
            try:
                request = self.sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return refusals
            refusal = self._answer(request)
            if refusal:
                refusals.append(refusal)

    def _answer(self, request: list[bytes]) -> str | None:
        if len(request) < 6:  # nobody but libzmq can talk on this inproc endpoint
            self.sock.send_multipart([b"1.0", b"", b"500", b"bad request", b"", b""])
            return "a malformed ZAP request"
        version, request_id, _domain, address, _identity, mechanism, *credentials = request
        who = None
        if version == b"1.0" and mechanism == b"CURVE" and credentials:
            key = z85.encode(credentials[0]).decode("ascii")
            who = self.allowed.get(key)
        else:
            key = mechanism.decode("ascii", "replace")
        ok = who is not None
        self.sock.send_multipart([b"1.0", request_id, b"200" if ok else b"400",
                                  b"OK" if ok else b"unknown key",
                                  (who or "").encode(), b""])
        if ok:
            return None
        return (f"a CURVE handshake from {address.decode('ascii', 'replace')}: the key {key} is "
                f"neither a node's nor the clients' in the cluster file")

    def close(self) -> None:
        self.sock.close(0)
