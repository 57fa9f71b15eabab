"""The welcome page's two forms. They only carry fields and labels; accounts.services decides."""

from django import forms

from accounts.models import Role


class LoginForm(forms.Form):
    name = forms.CharField(label="Name", max_length=150, strip=True)
    password = forms.CharField(label="Password", strip=False, widget=forms.PasswordInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="login", **kwargs)
        self.fields["name"].widget.attrs.update(autocomplete="username", autocapitalize="none")
        self.fields["password"].widget.attrs.update(autocomplete="current-password")


class SignupForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=150, help_text="You log in with this name.", strip=True
    )
    email = forms.EmailField(label="Email", max_length=254)
    role = forms.ChoiceField(label="Role", choices=[("", "Choose a role")] + Role.choices)
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput,
        help_text="At least 8 characters, not only digits, not a common password, not like "
        "your name or email.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="signup", **kwargs)
        self.fields["name"].widget.attrs.update(autocomplete="username", autocapitalize="none")
        self.fields["email"].widget.attrs.update(autocomplete="email")
        self.fields["password"].widget.attrs.update(autocomplete="new-password")


class ProfileForm(forms.Form):
    """The profile page's one setting: the approvers' digest email."""

    notify_digest = forms.BooleanField(
        label="Email me a digest when new bills wait for my approval",
        required=False,
        help_text="One email per month-end run: how many new bills wait for you, their total, "
        "and a link to your queue.",
    )
