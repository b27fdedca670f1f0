"""The wire: every message between nodes and clients, a written contract.

A message is one ZeroMQ multipart message (after the ROUTER's identity frame):

    | frame | content                                                        |
    |-------|----------------------------------------------------------------|
    | 0     | protocol: b"SWARM/1"                                           |
    | 1     | kind: ASCII message type, e.g. b"hop" (see kinds.py)           |
    | 2     | sender: UTF-8 node name or client id                           |
    | 3     | message id: 8 bytes big-endian (acks and retries refer to it)  |
    | 4     | body: pickled payload, or an encoded continuation for b"hop"   |
    | 5     | HMAC-SHA256 over frames 0-4 with the cluster secret (32 bytes) |

`envelope.py` builds and checks frames (version, size limit, signature) and never unpickles;
`decode.py` is the only module that turns network bytes into objects, and only the body of an
envelope whose signature was verified. `kinds.py` lists the message families.
"""

PROTOCOL = b"SWARM/1"
