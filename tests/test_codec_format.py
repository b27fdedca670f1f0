"""The continuation format's version (swarm/continuation/codec.py): bytes of another version
are refused by name, never unpickled against moved classes."""

import pytest
from helpers import captured, write

from swarm.continuation import codec, contentaddr
from swarm.continuation.resume import resume


def _captured(tmp_path):
    return captured(write(tmp_path, "prog.py", "from swarm import checkpoint\nclass P:\n"
                          "    pass\nx = P()\nx.n = 41\ncheckpoint()\nRESULT = x.n + 1\n"))


def test_this_versions_bytes_decode_and_resume(tmp_path):
    data = codec.encode(_captured(tmp_path), [])
    assert data[:4] == codec.MAGIC["pickle"] == b"SWC4"
    back = codec.decode(data)
    resume(back)
    assert back.frames[0].module.RESULT == 42


@pytest.mark.parametrize("old", [b"SWC3", b"SWD3", b"SWH3"])
def test_another_versions_bytes_are_refused_by_name(tmp_path, old):
    data = codec.encode(_captured(tmp_path), [])
    with pytest.raises(ValueError, match=f"another version of swarm \\(format {old.decode()}; "
                                         "this one reads SWC4\\)"):
        codec.decode(old + data[4:])
    assert contentaddr.MAGIC == b"SWH4"


def test_bytes_that_are_no_continuation_are_refused():
    with pytest.raises(ValueError, match="not an encoded continuation"):
        codec.decode(b"GIF89a...")
