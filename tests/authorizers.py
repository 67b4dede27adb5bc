"""An Authorizer for the permission tests whose decisions a test switches at run time.

``SwitchableAuthorizer.allowed_actions`` is a class attribute: ``None`` allows everything; a set
allows exactly those actions on the ``jobext`` resource. Requests outside jobext's URL space
(``/api/me``, the core endpoints) are always allowed, so only jobext's own decisions are under
test; a jobext request that asks about any other resource is refused. Every question a jobext
request asks is recorded in ``SwitchableAuthorizer.calls`` as ``(method, path, action, resource)``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from jupyter_server.auth import Authorizer

JOBEXT_RESOURCE = "jobext"


class SwitchableAuthorizer(Authorizer):
    allowed_actions: ClassVar[set[str] | None] = None
    calls: ClassVar[list[tuple[str, str, str, str]]] = []

    @classmethod
    def reset(cls) -> None:
        cls.allowed_actions = None
        cls.calls = []

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        cls = type(self)
        path = handler.request.path
        if "/jobext/" not in path:
            return True  # not jobext's: /api/me and the core endpoints
        cls.calls.append((handler.request.method, path, action, resource))
        if resource != JOBEXT_RESOURCE:
            return False  # a jobext endpoint guarded by some other resource: refuse it
        allowed = cls.allowed_actions
        return allowed is None or action in allowed
