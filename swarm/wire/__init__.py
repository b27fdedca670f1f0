"""The wire: every message between nodes and clients, a written contract.

A message is ZeroMQ frames (after the ROUTER's identity frame): a small head, the control
frame (msgpack), and the blobs the kind carries (kinds.py) - a continuation, a value.

    head:  | 7 bytes  | protocol b"SWARM/5"                                        |
           | 1 + k    | kind: length, then ASCII message type, e.g. b"hop" (kinds.py) |
           | 1 + s    | sender: length, then UTF-8 node name or client id          |
           | 8 bytes  | boot: the sender's incarnation, random, big-endian          |
           | 8 bytes  | seq: its message number in that incarnation, from 1        |
           | 8 bytes  | sent: its clock when it sent this, ms since the epoch      |
           | 32 bytes | keyed BLAKE3, under a key derived from the cluster secret, |
           |          | of the head before it and every frame after it, each       |
           |          | preceded by its length (envelope.py)                       |

A value's bulk (numpy arrays, bytes) is a frame of its own, or pieces of one (values.py):
never copied to be signed or sent. A message whose blobs are larger than a chunk
(chunks.py: 16 MiB, or half of max_message_bytes) goes as a stream of "chunk" messages and
is put together by its receiver; none is ever larger than max_message_bytes.

`envelope.py` builds and checks messages (version, size limit, signature) and never unpickles;
`gate.py` is what a node lets through (signature, sender, replays: boot + seq + sent);
`decode.py` is the only module that turns network bytes into objects, and only the body of an
envelope that passed. `kinds.py` lists the message families and their payloads' fields;
`curve.py` configures CURVE encryption and answers ZAP; `values.py` lays a value out with its
buffers out of band; `chunks.py` cuts and joins large messages. docs/security.md: the trust model.
"""

PROTOCOL = b"SWARM/5"
