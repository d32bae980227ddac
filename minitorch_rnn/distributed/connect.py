"""Importing Ray and connecting to it: the only place that decides local or cluster."""

from __future__ import annotations

import socket
from types import ModuleType

__all__ = ["connect", "import_ray"]

INSTALL_HINT = "pip install 'minitorch_rnn[distributed]'"


def import_ray(owner: str) -> ModuleType:
    """The ``ray`` module, or an ImportError saying which extra to install."""
    try:
        import ray
    except ImportError:
        raise ImportError(f"{owner} needs Ray: {INSTALL_HINT}") from None
    return ray


def connect(address: str | None, owner: str) -> ModuleType:
    """Make sure this process is connected to Ray, and return the ``ray`` module.

    An existing connection (``ray.init`` called before) is used as it is. Otherwise
    ``address=None`` does what ``ray.init()`` does: join the cluster named by the environment
    variable ``RAY_ADDRESS`` or started by ``ray start`` on this machine if there is one, else
    start a local Ray with every CPU of this machine (no dashboard); ``"local"`` always starts a
    local one. An address (``"auto"``, ``"HOST:6379"``, ``"ray://HOST:10001"``) joins that running
    cluster; a cluster with token authentication (the default of ``ray start --head`` from Ray
    2.59 on) needs its token in this process's environment (``RAY_AUTH_MODE=token``,
    ``RAY_AUTH_TOKEN``), and a refusal for a missing or wrong token is reported as such. A local Ray started here stays up until this process ends or calls
    ``ray.shutdown()``, so later fits and sweeps do not pay its start-up again.
    """
    ray = import_ray(owner)
    if ray.is_initialized():
        return ray
    if address is None or address == "local":
        ray.init(address=address, include_dashboard=False)
    else:
        _check_reachable(address, owner)
        try:
            ray.init(address=address)
        except ConnectionError as error:
            if _refused_for_authentication(error):
                raise ConnectionError(
                    f"{owner}: cannot join the Ray cluster at {address!r}: authentication "
                    f"failed: the cluster uses token authentication and {_TOKEN_HINT}"
                ) from None
            raise ConnectionError(
                f"{owner}: cannot join the Ray cluster at {address!r}: {error}"
            ) from error
    return ray


_TOKEN_HINT = (
    "this process has no token or a wrong one; run `ray get-auth-token` on the head node and "
    "give its output to every node and driver as RAY_AUTH_TOKEN, with RAY_AUTH_MODE=token"
)


def _refused_for_authentication(error: BaseException) -> bool:
    """Whether Ray's connection error was caused by a missing or wrong authentication token.

    Ray (2.5x, ``ray start --head`` with a token) raises a plain ``ConnectionError`` whose chained
    causes carry ``AuthenticationError`` or the GCS's ``InvalidAuthToken`` status.
    """
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        text = f"{type(cause).__name__} {cause}"
        if "AuthenticationError" in text or "InvalidAuthToken" in text:
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _check_reachable(address: str, owner: str, seconds: float = 5.0) -> None:
    """Fail fast on a ``HOST:PORT`` nobody listens at (``ray.init`` would retry for a minute)."""
    host, separator, port = address.rpartition(":")
    if not separator or "://" in address or not port.isdigit():
        return  # "auto", "ray://...": left to Ray
    try:
        socket.create_connection((host, int(port)), timeout=seconds).close()
    except OSError as error:
        raise ConnectionError(
            f"{owner}: cannot join the Ray cluster at {address!r}: nothing answers there "
            f"({error}); start one with `ray start --head`"
        ) from None
