"""The API's role check before any input is read; the services check again, per bill."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from accounts.roles import can, refusal


class RoleAllows(BasePermission):
    """Asks accounts.roles whether the user's role may do the view's `role_perms[method]` at all,
    so a wrong role gets its 403 before any input is read."""

    def has_permission(self, request, view) -> bool:
        perm = getattr(view, "role_perms", {}).get(request.method)
        if perm is None or can(request.user, perm):
            return True
        self.message = refusal(request.user, perm)
        return False
