"""Inviting someone to the current workspace."""

from __future__ import annotations

from django import forms
from django.core.validators import validate_email

from accounts.models import Role


class InviteForm(forms.Form):
    invitee = forms.CharField(
        label="Username or email address", max_length=254,
        help_text="They get the invitation on their dashboard (and by email) and join once they accept it.",
    )
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.VIEWER)

    def clean_invitee(self) -> str:
        value = self.cleaned_data["invitee"].strip()
        if "@" in value:
            try:
                validate_email(value)
            except forms.ValidationError as exc:
                raise forms.ValidationError(
                    f"{value!r} is not a valid email address: check it, or give a username instead."
                ) from exc
        return value
