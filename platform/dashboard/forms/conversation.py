"""A comment on a clip."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from generation.conversation import MAX_COMMENT, clean_comment


class CommentForm(forms.Form):
    body = forms.CharField(
        # The length is checked by clean_comment, whose message gives the limit and the count.
        label="Comment", widget=forms.Textarea(attrs={"rows": 3, "maxlength": MAX_COMMENT}),
        error_messages={"required": "Write a comment first."})

    def clean_body(self) -> str:
        try:
            return clean_comment(self.cleaned_data["body"])
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc
