"""Bad frames are answered (a JSON-RPC error with id null) or skipped, and the reader resynchronises on the next
``Content-Length`` header: a missing, lowercase (accepted), negative, non-numeric, huge or over-long header,
junk between frames, bodies shorter or longer than announced; however the bytes are split into reads."""

from __future__ import annotations

import itertools
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from raw_lsp import frame, new_id

from qwen_lsp.server.protocol.framing import MAX_HEADER_BYTES, BadFrame, FrameDecoder

STATUS = {"command": "qwen.serverStatus"}


def status_request(msg_id: int) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": msg_id, "method": "workspace/executeCommand", "params": STATUS}).encode()


@st.composite
def good_frames(draw):
    body = status_request(new_id())
    name = draw(st.sampled_from([b"Content-Length", b"content-length", b"CONTENT-LENGTH", b"Content-length"]))
    header = name + b": %d\r\n" % len(body)
    content_type = b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n"
    header = draw(st.sampled_from([header, content_type + header, header + content_type]))
    return "good", header + b"\r\n" + body, body


@st.composite
def bad_frames(draw):
    """(kind, bytes, body) for frames whose header is wrong; the body never reaches the protocol."""
    body = status_request(new_id())
    kind = draw(st.sampled_from(["missing", "negative", "non-numeric", "huge", "over-long", "junk"]))
    header = {
        "missing": b"Content-Type: application/json\r\n",
        "negative": b"Content-Length: -%d\r\n" % len(body),
        "non-numeric": b"Content-Length: " + draw(st.sampled_from([b"abc", b"12x", b"1e3", b"", b"0x10"])) + b"\r\n",
        "huge": b"Content-Length: %d\r\n" % draw(st.sampled_from([10**12, 64 * 1024 * 1024 + 1, 10**19])),
        "over-long": b"X-Padding: " + b"p" * (MAX_HEADER_BYTES + draw(st.integers(1, 5000))) + b"\r\n",
        "junk": b"",
    }[kind]
    if kind == "junk":
        return (
            "junk",
            draw(
                st.binary(max_size=40).filter(lambda b: b"\r" not in b and b"\n" not in b and b"ength" not in b.lower())
            ),
            body,
        )
    return ("overlong" if kind == "over-long" else "bad"), header + b"\r\n" + body, body


streams = st.lists(good_frames() | bad_frames(), min_size=1, max_size=10).map(
    lambda items: [*items, ("good", *_last())]
)


def _last():
    body = status_request(new_id())
    return frame(body), body


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in itertools.pairwise([0, *points, len(data)])]


@settings(max_examples=300, deadline=None)
@given(items=streams, cuts=st.lists(st.integers(0, 10**6), max_size=8))
def test_decoder_keeps_every_good_frame_and_reports_each_bad_header(items, cuts):
    decoder = FrameDecoder()
    out = []
    for piece in split(b"".join(data for _, data, _ in items), cuts):
        out.extend(decoder.feed(piece))
    bodies = [item for item in out if isinstance(item, bytes)]
    assert bodies == [body for kind, _, body in items if kind == "good"]
    low, high = expected_reports(items)
    assert low <= sum(isinstance(item, BadFrame) for item in out) <= high


def expected_reports(items: list) -> tuple[int, int]:
    """Each bad header is reported once, except that the skip over an over-long header may also swallow the
    over-long headers right after it (they have no Content-Length to stop at): one report for the run."""
    kinds = [kind for kind, _, _ in items if kind != "junk"]  # junk has no header to stop the skip at
    high = sum(kind in ("bad", "overlong") for kind in kinds)
    swallowed = sum(1 for before, kind in itertools.pairwise(kinds) if before == kind == "overlong")
    return high - swallowed, high


# --- end to end -----------------------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=streams)
def test_server_answers_good_frames_and_survives_bad_ones(server, items):
    nulls_before = len(server.null_id_errors())
    server.send_bytes(b"".join(data for _, data, _ in items))
    good = [json.loads(body)["id"] for kind, _, body in items if kind == "good"]
    skipped = [json.loads(body)["id"] for kind, _, body in items if kind != "good"]
    server.wait_answers(good)
    assert server.stray is None and server.alive
    assert all(len(server.answers.get(i, [])) == 1 for i in good)
    assert not any(server.answers.get(i) for i in skipped)
    nulls = server.null_id_errors()[nulls_before:]
    low, high = expected_reports(items)
    assert low <= len(nulls) <= high
    assert all(n["error"]["code"] == -32700 for n in nulls)


def test_wrong_lengths_lose_at_most_the_next_frame(server):
    """A body longer or shorter than announced: that frame gets a parse error, the stream recovers."""
    for delta in (-7, +7):
        body = status_request(new_id())
        server.send_bytes(b"Content-Length: %d\r\n\r\n" % (len(body) + delta) + body)
        after = [new_id() for _ in range(3)]
        for msg_id in after:
            server.send_bytes(frame(status_request(msg_id)))
        server.wait_answers(after[1:])
        assert all(server.answers.get(i) for i in after[1:]) and server.alive and server.stray is None
