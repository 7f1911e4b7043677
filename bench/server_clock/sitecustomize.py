"""The server's own clock for bench.classroom: how long each rerun request waited for its script to finish.

On PYTHONPATH only for the bench's server (with DIGITLAB_BENCH_CLOCK naming the file to write), it
wraps three methods: Streamlit's `AppSession.handle_backmsg` notes when a visitor's own rerun
request (a click, a link, a widget; not a fragment's timer) reaches the server, its
`Runtime._send_message` when that session's "script finished" joins the socket's queue, and
Starlette's `WebSocket.send_bytes` when it has been sent, after every message of the run before it
(serializing and sending the page's content is the server's work too). All three run on the server's
event loop, one at a time: no lock. Each answered request is one line:
`time<TAB>session<TAB>page<TAB>seconds`. Measured inside the server, so the visitors' browsers
(which share a CPU here) cannot slow it, and the server's own queueing (the event loop, Python's
lock, the CPU it shares with trainings) is in it.
"""

import os
import sys
import time

CLOCK_FILE = os.environ.get("DIGITLAB_BENCH_CLOCK")


def page_of(session) -> str:
    """The page the session's script last ran: "" for Home (app.py's default page), "train", ..."""
    manager = session._pages_manager
    info = manager.get_pages().get(manager.current_page_script_hash) or {}
    return info.get("url_pathname", "") or ""


def install(path: str) -> None:
    from starlette.websockets import WebSocket
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from streamlit.runtime.app_session import AppSession
    from streamlit.runtime.runtime import Runtime

    finished = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)
    asked: dict[str, float] = {}  # session id -> when its first unanswered request came
    queued: dict[int, tuple[float, str, str]] = {}  # id(websocket) -> (asked, session id, page): answer queued
    out = open(path, "a", buffering=1)
    handle_backmsg, send_message, send_bytes = AppSession.handle_backmsg, Runtime._send_message, WebSocket.send_bytes

    def timed_handle_backmsg(self, msg):
        if msg.WhichOneof("type") == "rerun_script" and not msg.rerun_script.is_auto_rerun:
            asked.setdefault(self.id, time.monotonic())  # a second request before the answer: one wait
        return handle_backmsg(self, msg)

    def timed_send_message(self, session_info, msg):  # the event loop: the message joins the socket's queue
        send_message(self, session_info, msg)
        if msg.WhichOneof("type") == "script_finished" and msg.script_finished in finished:
            session = session_info.session
            start = asked.pop(session.id, None)
            websocket = getattr(session_info.client, "_websocket", None)
            if start is not None and websocket is not None:
                queued[id(websocket)] = (start, session.id, page_of(session))

    async def timed_send_bytes(self, data):  # ... and leaves it, after everything queued before it
        await send_bytes(self, data)
        if id(self) in queued and len(data) < 200 and is_finished(data):
            start, session_id, page = queued.pop(id(self))
            out.write(f"{start:.3f}\t{session_id}\t{page}\t{time.monotonic() - start:.3f}\n")

    def is_finished(data: bytes) -> bool:
        msg = ForwardMsg()
        try:
            msg.ParseFromString(data)
        except Exception:  # not a ForwardMsg we can read: not the answer
            return False
        return msg.WhichOneof("type") == "script_finished"

    AppSession.handle_backmsg, Runtime._send_message = timed_handle_backmsg, timed_send_message
    WebSocket.send_bytes = timed_send_bytes


if CLOCK_FILE and "streamlit" in sys.orig_argv[:4]:  # the server (`python -m streamlit run`), not its children
    install(CLOCK_FILE)
