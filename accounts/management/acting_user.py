"""The Finance user a management command acts as (its work is recorded in that user's name)."""

from django.core.management.base import CommandError

from accounts.models import Role, User


def finance_user(name: str | None, *, may: str, acting: str) -> User:
    """The named active Finance user; without a name, the only active Finance user.

    `may` finishes "only Finance may ..." and `acting` finishes "no active Finance user to ...".
    """
    if name:
        user = User.objects.filter(name=name).first()
        if user is None:
            raise CommandError(f"No user is named {name!r}.")
        if user.role != Role.FINANCE:
            raise CommandError(f"{user.name} is a {user.role} user; only Finance may {may}.")
        if not user.is_active:
            raise CommandError(f"{user.name} is deactivated; name an active Finance user.")
        return user
    finance = list(User.objects.filter(role=Role.FINANCE, is_active=True).order_by("name")[:6])
    if len(finance) == 1:
        return finance[0]
    if not finance:
        raise CommandError(f"There is no active Finance user to {acting}.")
    names = ", ".join(u.name for u in finance[:5]) + (", ..." if len(finance) > 5 else "")
    raise CommandError(f"There are several Finance users ({names}); choose one with --as NAME.")
