from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError

from accounts.models import User
from accounts.names import name_errors
from accounts.throttles import login_succeeded, login_wait


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    """The admin's login counts in the same attempt budget as /welcome and POST /api/session:
    staff accounts are the most valuable to guess, so their door must not be the unlimited one."""

    def clean(self):
        wait = login_wait(self.request, self.data.get("username"))
        if wait:
            raise ValidationError(
                f"Too many attempts. Try again in {wait} seconds.", code="throttled"
            )
        data = super().clean()
        login_succeeded(self.request, self.get_user().name)
        return data


admin.site.login_form = ThrottledAdminLoginForm


class _NameRule:
    """The sign-up rule for names (accounts.names) on the admin's forms: no invisible
    characters, no name that reads the same as another user's."""

    def clean_name(self):
        name = self.cleaned_data["name"]
        refusals = name_errors(name, exclude_pk=self.instance.pk)
        if refusals:
            raise ValidationError(refusals, code="name_clash")
        return name


class UserCreateForm(_NameRule, AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("name", "email", "role")


class UserEditForm(_NameRule, UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreateForm
    list_display = ("name", "email", "role", "is_staff", "is_active", "last_login")
    list_filter = ("role", "is_staff", "is_active")
    search_fields = ("name", "email")
    ordering = ("name",)
    # session_token is never shown: it is the user's live API bearer token, and anyone who can
    # read it can act as the user without a trace of a login. The action below rotates it.
    readonly_fields = ("last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("name", "email", "role", "password")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Email", {"fields": ("notify_digest",)}),
        ("Sessions", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("name", "email", "role", "password1", "password2"),
            },
        ),
    )
    filter_horizontal = ("groups",)
    actions = ["end_all_sessions"]

    @admin.action(description="Log out everywhere (rotate session token)")
    def end_all_sessions(self, request, queryset):
        from accounts.services import user_logout_everywhere

        for user in queryset:
            user_logout_everywhere(user=user)
        self.message_user(request, f"Ended every session of {queryset.count()} user(s).")
