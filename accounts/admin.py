from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from accounts.models import User


class UserCreateForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("name", "email", "role")


class UserEditForm(UserChangeForm):
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
    readonly_fields = ("last_login", "date_joined", "session_token")
    fieldsets = (
        (None, {"fields": ("name", "email", "role", "password")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Sessions", {"fields": ("session_token", "last_login", "date_joined")}),
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
