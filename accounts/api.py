"""Users and sessions: sign up, log in (session cookie and bearer token), who am I, log out."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login, logout
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role, User
from accounts.services import (
    SIGNUP_OFF,
    signup_open,
    user_authenticate,
    user_logout_everywhere,
    user_signup,
)
from accounts.throttles import LoginThrottle, SignupThrottle, login_succeeded
from billing_site.core.api import (
    BEARER_CHALLENGE,
    ModelSerializer,
    StrictSerializer,
    TextField,
    error_responses,
)
from billing_site.core.errors import DomainError

TAGS = ["users and sessions"]


# --- serializers ---------------------------------------------------------------------------


class UserSerializer(ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "name", "email", "role"]
        read_only_fields = fields


@extend_schema_field({"type": "string", "enum": Role.values})
class RoleTextField(TextField):
    pass


@extend_schema_field({"type": "string", "format": "email"})
class EmailTextField(TextField):
    pass


@extend_schema_field({"type": "string", "format": "password"})
class PasswordTextField(TextField):
    pass


class SignupSerializer(StrictSerializer):
    # Strings only; accounts.services.user_signup judges each field, as for the sign-up page.
    name = TextField(
        help_text="The login name, at most 150 characters: it may not read the same as another "
        "user's (case, look-alike letters) nor hold invisible or direction-control characters."
    )
    email = EmailTextField()
    role = RoleTextField()
    password = PasswordTextField(
        help_text="8 to 4096 characters, not all digits, not a common password, not like "
        "the name or email."
    )


class LoginSerializer(StrictSerializer):
    name = TextField()
    password = PasswordTextField()


class SessionSerializer(serializers.Serializer):
    user = UserSerializer()
    token = serializers.CharField(
        help_text="Send as `Authorization: Bearer <token>`. It stops working when the user "
        "logs out (DELETE /api/session), together with every session of the user."
    )


# --- throttles -----------------------------------------------------------------------------


class TooManyAttempts(Throttled):
    default_detail = "Too many attempts."
    extra_detail_singular = "Try again in {wait} second."
    extra_detail_plural = "Try again in {wait} seconds."


# --- views ---------------------------------------------------------------------------------


def _log_in(request, user: User) -> None:
    """Also a Django session (cookie), so a browser client is logged in like the pages."""
    login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])


class UserCreateView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [SignupThrottle]

    def throttled(self, request, wait):
        raise TooManyAttempts(wait)

    @extend_schema(
        tags=TAGS,
        operation_id="users_create",
        summary="Sign up",
        description="Creates the user and logs them in (session cookie). Turned off (403) when "
        "the server runs with ALLOW_SIGNUP=0. For a bearer token, then POST /api/session.",
        request=SignupSerializer,
        responses={201: UserSerializer, **error_responses(400, 403, 413, 415, 429)},
    )
    def post(self, request):
        if not signup_open():  # a 403 whatever the body says, not a 400 about its fields
            raise DomainError.forbidden(SIGNUP_OFF)
        serializer = SignupSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_signup(**serializer.validated_data)
        _log_in(request, user)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class UserDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="users_retrieve",
        summary="A user",
        responses={200: UserSerializer, **error_responses(401, 404)},
    )
    def get(self, request, pk: int):
        user = User.objects.filter(pk=pk).first()
        if user is None:
            raise DomainError(f"User #{pk} does not exist.", kind="not_found")
        return Response(UserSerializer(user).data)


class SessionView(APIView):
    def get_permissions(self):
        if self.request.method == "POST":
            return [AllowAny()]
        return [IsAuthenticated()]

    def get_throttles(self):
        if self.request.method == "POST":
            return [LoginThrottle()]
        return []

    def throttled(self, request, wait):
        raise TooManyAttempts(wait)

    @extend_schema(
        tags=TAGS,
        operation_id="session_retrieve",
        summary="The current user",
        responses={200: UserSerializer, **error_responses(401)},
    )
    def get(self, request):
        return Response(UserSerializer(request.user).data)

    @extend_schema(
        tags=TAGS,
        operation_id="session_create",
        summary="Log in",
        description="Logs into a Django session (cookie) and returns the bearer token. Any wrong "
        "name or password is the same 401. Attempts are limited per address, per name and "
        "address, and per name (429 with Retry-After).",
        request=LoginSerializer,
        responses={
            200: SessionSerializer,
            **error_responses(400, 413, 415, 429),
            401: OpenApiResponse(
                error_responses(401)[401].response, description="Wrong name or password."
            ),
        },
    )
    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            user = user_authenticate(request=request._request, **serializer.validated_data)
        except DomainError as error:
            if error.kind != "invalid":
                raise
            # One message and status for a wrong name, a wrong password or a malformed one.
            return Response(
                {"detail": error.message},
                status=status.HTTP_401_UNAUTHORIZED,
                headers={"WWW-Authenticate": BEARER_CHALLENGE},
            )
        login_succeeded(request, user.name)
        _log_in(request, user)
        return Response({"user": UserSerializer(user).data, "token": user.session_token})

    @extend_schema(
        tags=TAGS,
        operation_id="session_destroy",
        summary="Log out everywhere",
        description="Rotates the user's session token: this and every other session and bearer "
        "token of the user stop working.",
        request=None,
        responses={204: OpenApiResponse(description="Logged out."), **error_responses(401, 403)},
    )
    def delete(self, request):
        user_logout_everywhere(user=request.user)
        logout(request)
        return Response(status=status.HTTP_204_NO_CONTENT)
