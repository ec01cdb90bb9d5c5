"""Adding an X account with OAuth 1.0a user tokens (entered by an owner), or replacing its tokens."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError

from publishing.models import XAccount

HANDLE_RE = re.compile(r"^[A-Za-z0-9_]{1,15}$")


def _secret(label: str, help_text: str = "") -> forms.CharField:
    # Never rendered back into the page: a failed submit asks for the token again.
    return forms.CharField(
        label=label, max_length=500, strip=True, help_text=help_text,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class OAuth1TokensForm(forms.Form):
    access_token = _secret("Access token", "From the X developer portal: Keys and tokens → Access token and secret.")
    access_token_secret = _secret("Access token secret")


class OAuth1AccountForm(OAuth1TokensForm):
    handle = forms.CharField(label="Handle", max_length=16, help_text="The account's @handle, without the @.")
    x_user_id = forms.CharField(
        label="X user id", max_length=32, required=False, help_text="Optional; filled in on the first post if empty."
    )
    field_order = ["handle", "x_user_id", "access_token", "access_token_secret"]

    def __init__(self, *args, workspace, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.workspace = workspace

    def clean_handle(self) -> str:
        handle = self.cleaned_data["handle"].strip().lstrip("@")
        if not HANDLE_RE.match(handle):
            raise ValidationError("An X handle is 1 to 15 letters, digits or underscores.")
        if XAccount.objects.for_workspace(self.workspace).filter(handle__iexact=handle).exists():
            raise ValidationError(f"@{handle} is already connected to this workspace: replace its tokens instead.")
        return handle

    def clean_x_user_id(self) -> str:
        value = self.cleaned_data["x_user_id"].strip()
        if value and not value.isdigit():
            raise ValidationError("The X user id is a number (leave it empty if you do not know it).")
        return value

    def save(self) -> XAccount:
        data = self.cleaned_data
        account = XAccount(workspace=self.workspace, handle=data["handle"], x_user_id=data["x_user_id"])
        account.set_oauth1_tokens(data["access_token"], data["access_token_secret"])
        account.save()
        return account
