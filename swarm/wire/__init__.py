"""The wire: every message between nodes and clients, a written contract.

A message is two ZeroMQ frames (after the ROUTER's identity frame): a small head and the body.

    head:  | 7 bytes  | protocol b"SWARM/3"                                        |
           | 1 + k    | kind: length, then ASCII message type, e.g. b"hop" (kinds.py) |
           | 1 + s    | sender: length, then UTF-8 node name or client id          |
           | 8 bytes  | boot: the sender's incarnation, random, big-endian          |
           | 8 bytes  | seq: its message number in that incarnation, from 1        |
           | 8 bytes  | sent: its clock when it sent this, ms since the epoch      |
           | 32 bytes | HMAC-SHA256, under the cluster secret, of the head before   |
           |          | it followed by the body                                    |
    body:  pickled payload, or for b"hop" meta + extras + an encoded continuation

Two frames, not one per field: every frame is a separate send in pyzmq, and a hop's latency
is what the wire is tuned for. The body stays a frame of its own so that a large value is
neither copied to be signed nor to be sent.

`envelope.py` builds and checks messages (version, size limit, signature) and never unpickles;
`gate.py` is what a node lets through (signature, sender, replays: boot + seq + sent);
`decode.py` is the only module that turns network bytes into objects, and only the body of an
envelope that passed. `kinds.py` lists the message families and their payloads' fields;
`curve.py` configures CURVE encryption and answers ZAP. docs/security.md: the trust model.
"""

PROTOCOL = b"SWARM/4"
