"""Forms of the back-office pages."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from wanxin import inputs

from . import roles

ROLE_CHOICES = [(name, name.capitalize()) for name in roles.ROLES]


class OperatorLoginForm(AuthenticationForm):
    """Django's login form (``authenticate(request=...)``, so django-axes counts failures)
    that admits operators only."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "not_operator": "This login is for Wanxin staff only. Customers log in on the customer site.",
    }

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if not getattr(user, "is_operator", False):
            raise forms.ValidationError(self.error_messages["not_operator"], code="not_operator")


class OperatorCreateForm(forms.Form):
    username = forms.CharField(max_length=150)
    full_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False)
    password = forms.CharField(widget=forms.PasswordInput, required=False, strip=False,
                               help_text="Leave empty to generate one; it is shown once.")
    roles = forms.MultipleChoiceField(choices=ROLE_CHOICES, widget=forms.CheckboxSelectMultiple)


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(choices=ROLE_CHOICES, widget=forms.CheckboxSelectMultiple)


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(widget=forms.PasswordInput, strip=False, label="Current password")
    new_password = forms.CharField(widget=forms.PasswordInput, strip=False, label="New password")
    new_password_again = forms.CharField(widget=forms.PasswordInput, strip=False, label="New password again")

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("new_password_again"):
            raise forms.ValidationError("The new passwords differ.")
        return data


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=150, label="Operator")
    action = forms.CharField(required=False, max_length=64)
    target_type = forms.CharField(required=False, max_length=100, label="Object type")
    target_id = forms.CharField(required=False, max_length=64, label="Object id")
    date_from = inputs.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = inputs.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
