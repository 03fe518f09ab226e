"""The web application behind `labgen serve`: pages, their live feeds (server-sent events), the
teacher's actions.

Anyone who reaches the page reads it: the class dashboard, each lab live, its topology. Changing
a lab (a fault, its undo, a reset, an exercise) takes the teacher's token, sent as
`Authorization: Bearer TOKEN`: by a program, or by the page, which keeps it in the tab's
sessionStorage after /login?token=... (then leaves the address bar before the page is on a
projector). Never a cookie: a browser sends cookies to every port of the host, so a page a
student serves on another port would receive it. Event streams cannot send a header: the
teacher's page asks /api/me for a viewer pass, worth only the teacher's share of live watches.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import secrets
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio
from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from labgen.errors import LabgenError
from labgen.graph import draw
from labgen.labs import find_lab
from labgen.web.board import Board
from labgen.web.jobs import Jobs
from labgen.web.live import LiveLabs

STATIC = Path(__file__).parent / "static"
TICK = 0.25  # a lab's page is sent what changed four times a second, as `labgen watch` redraws
MAX_STREAMS = 64  # pages open at once: each holds a connection and asks a thread every tick
PER_CLIENT = 8  # from one address (a student's script may not take them all)
RESERVED = 16  # more for the teacher's pages
SEND_TIMEOUT = 10.0
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class Server:
    """The state shared by every request: the board, the labs watched, the jobs, the token."""

    def __init__(self, token: str, watches: int = 4):
        self.token = token
        self.viewer_pass = secrets.token_urlsafe(18)
        self.board = Board()
        self.live = LiveLabs(watches)
        self.jobs = Jobs()
        self.streams: dict[str, int] = {}  # open event streams by client address
        self._svg: dict[tuple[str, tuple[str, ...]], bytes] = {}
        self._svg_lock = threading.Lock()

    def is_teacher(self, request: Request) -> bool:
        bearer = request.headers.get("authorization", "")
        given = bearer[7:].strip() if bearer.lower().startswith("bearer ") else ""
        return bool(given) and hmac.compare_digest(given.encode(), self.token.encode())

    def has_pass(self, request: Request) -> bool:
        """The viewer pass /api/me gives the teacher's page, for its event streams."""
        given = request.query_params.get("pass", "")
        return bool(given) and hmac.compare_digest(given.encode(), self.viewer_pass.encode())

    def topology(self, lab: str) -> bytes:
        """The lab's drawing with the VIP on whoever holds it now, as the page last saw it."""
        spec = find_lab(lab).spec
        holders = self.live.holders(lab)
        if holders is None:
            holders = next((r["vip_holders"] for r in self.board.rows if r["lab"] == lab), None)
        key = (lab, tuple(holders) if holders is not None else ("?",))
        with self._svg_lock:
            if key in self._svg:
                return self._svg[key]
        drawn = draw(spec, "svg", holders or None)
        with self._svg_lock:
            self._svg = {k: v for k, v in self._svg.items() if k[0] != lab} | {key: drawn}
        return drawn

    def close(self) -> None:
        self.board.close()
        self.live.close()
        self.jobs.close()


def create_app(server: Server, hosts: list[str] | None = None) -> Starlette:
    """The application; hosts: the Host headers answered (a guard against DNS rebinding)."""
    routes = [
        Route("/", _page("board.html")),
        Route("/labs/{lab}", _page("lab.html", check_lab=True)),
        Route("/login", _page("login.html")),
        Route("/api/me", _me(server)),
        Route("/api/board", _board(server)),
        Route("/api/board/events", _board_events(server)),
        Route("/api/labs/{lab}/events", _lab_events(server)),
        Route("/api/labs/{lab}/topology.svg", _topology(server)),
        Route("/api/labs/{lab}/exercises", _exercises(server)),
        Route("/api/labs/{lab}/fault/{fault}", _teacher(server, _fault), methods=["POST"]),
        Route("/api/labs/{lab}/undo", _teacher(server, _undo), methods=["POST"]),
        Route("/api/labs/{lab}/reset", _teacher(server, _reset), methods=["POST"]),
        Route("/api/labs/{lab}/exercise/{exercise}", _teacher(server, _exercise), methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=hosts or ["*"]), Middleware(_Headers)]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(_reap, server)
                yield
                tasks.cancel_scope.cancel()
        finally:  # shielded: a fault still injected is undone whatever cancels the server
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(server.close)

    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                     exception_handlers={LabgenError: _one_line})


class _Headers:
    """HEADERS on every response, streams included (an ASGI middleware: it buffers nothing)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(HEADERS)
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _reap(server: Server) -> None:
    while True:
        await anyio.sleep(5)
        await anyio.to_thread.run_sync(server.live.reap)


async def _one_line(request: Request, exc: Exception) -> Response:
    status = 404 if str(exc).startswith("no lab named") else 400
    return JSONResponse({"error": str(exc)}, status_code=status)


def _page(name: str, check_lab: bool = False):
    async def page(request: Request) -> Response:
        if check_lab:
            await anyio.to_thread.run_sync(find_lab, request.path_params["lab"])
        return FileResponse(STATIC / name)

    return page


def _me(server: Server):
    def me(request: Request) -> Response:
        teacher = server.is_teacher(request)
        return JSONResponse({"teacher": teacher, **({"pass": server.viewer_pass} if teacher else {})})

    return me


def _board(server: Server):
    def board(request: Request) -> Response:
        return JSONResponse(server.board.latest())

    return board


def _board_events(server: Server):
    async def events(request: Request) -> Response:
        async def feed(stopping: anyio.Event) -> AsyncIterator[dict]:
            last = None
            while not stopping.is_set():
                data = json.dumps(server.board.latest())
                if data != last:
                    yield {"data": data}
                    last = data
                await _pause(stopping, 1)

        return _stream(server, request, feed)

    return events


def _lab_events(server: Server):
    async def events(request: Request) -> Response:
        lab = request.path_params["lab"]
        await anyio.to_thread.run_sync(find_lab, lab)

        async def feed(stopping: anyio.Event) -> AsyncIterator[dict]:
            try:
                await anyio.to_thread.run_sync(server.live.join, lab, server.has_pass(request))
            except LabgenError as exc:
                yield {"event": "problem", "data": str(exc)}
                return
            try:
                last = None
                while not stopping.is_set():
                    try:
                        shown = await anyio.to_thread.run_sync(server.live.snapshot, lab)
                    except LabgenError as exc:  # the watch stopped under the page
                        yield {"event": "problem", "data": str(exc)}
                        return
                    data = json.dumps({**shown, "job": server.jobs.view(lab)})
                    if data != last:
                        yield {"data": data}
                        last = data
                    await _pause(stopping, TICK)
            finally:
                server.live.leave(lab)

        return _stream(server, request, feed)

    return events


async def _pause(stopping: anyio.Event, seconds: float) -> None:
    with anyio.move_on_after(seconds):
        await stopping.wait()


def _stream(server: Server, request: Request, feed: Callable[[anyio.Event], AsyncIterator[dict]]) -> Response:
    """An event stream, refused with 503 past PER_CLIENT from one address or MAX_STREAMS in all
    (the teacher's pages, with their pass, have RESERVED more); a reader that stops reading is
    dropped after SEND_TIMEOUT. When the server stops, feed sees `stopping` and ends the stream."""
    client = request.client.host if request.client else "?"
    teacher = server.has_pass(request)
    if server.streams.get(client, 0) >= PER_CLIENT and not teacher:
        return JSONResponse({"error": f"{PER_CLIENT} pages open from {client} already; close one"}, 503)
    if sum(server.streams.values()) >= MAX_STREAMS + (RESERVED if teacher else 0):
        return JSONResponse({"error": f"{MAX_STREAMS} pages are open already; close one"}, 503)
    server.streams[client] = server.streams.get(client, 0) + 1
    stopping = anyio.Event()

    async def counted() -> AsyncIterator[dict]:
        try:
            async for event in feed(stopping):
                yield event
        finally:
            server.streams[client] -= 1

    return EventSourceResponse(counted(), ping=15, shutdown_event=stopping, shutdown_grace_period=2,
                               send_timeout=SEND_TIMEOUT)


def _topology(server: Server):
    def topology(request: Request) -> Response:
        return Response(server.topology(request.path_params["lab"]), media_type="image/svg+xml")

    return topology


def _exercises(server: Server):
    def exercises(request: Request) -> Response:
        return JSONResponse(server.jobs.exercises(request.path_params["lab"]))

    return exercises


def _teacher(server: Server, action):
    """action(server, **path_params) for the teacher alone, from this page alone (Origin checked)."""

    def guarded(request: Request) -> Response:
        if not server.is_teacher(request):
            refused = "changing a lab takes the teacher's token (labgen serve prints it)"
            return JSONResponse({"error": refused}, 403)
        origin = request.headers.get("origin")
        if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
            return JSONResponse({"error": f"a request from {origin} may not change a lab"}, 403)
        find_lab(request.path_params["lab"])
        return JSONResponse({"done": action(server, **request.path_params)})

    return guarded


def _fault(server: Server, lab: str, fault: str) -> str:
    return server.live.fault(lab, fault)


def _undo(server: Server, lab: str) -> str:
    return server.live.undo(lab)


def _reset(server: Server, lab: str) -> str:
    return server.jobs.reset(lab).what + " started"


def _exercise(server: Server, lab: str, exercise: str) -> str:
    return server.jobs.exercise(lab, exercise).what + " started"
