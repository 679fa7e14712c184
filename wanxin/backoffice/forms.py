"""Forms of the back-office pages."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from wanxin import inputs
from wanxin.audit.actions import AuditAction

from .labels import role_choices


class OperatorLoginForm(AuthenticationForm):
    """Django's login form (``authenticate(request=...)``, so django-axes counts failures)
    that admits operators only."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "not_operator": _("This login is for Wanxin staff only. Customers log in on the customer site."),
    }

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if not getattr(user, "is_operator", False):
            raise forms.ValidationError(self.error_messages["not_operator"], code="not_operator")


class OperatorCreateForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    full_name = forms.CharField(label=_("Full name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, required=False, strip=False,
                               help_text=_("Leave empty to generate one; it is shown once."))
    roles = forms.MultipleChoiceField(label=_("Roles"), choices=role_choices, widget=forms.CheckboxSelectMultiple,
                                      error_messages={"required": _("Choose at least one role.")})


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(label=_("Roles"), choices=role_choices, widget=forms.CheckboxSelectMultiple)


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(widget=forms.PasswordInput, strip=False, label=_("Current password"))
    new_password = forms.CharField(widget=forms.PasswordInput, strip=False, label=_("New password"))
    new_password_again = forms.CharField(widget=forms.PasswordInput, strip=False, label=_("New password again"))

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("new_password_again"):
            raise forms.ValidationError(_("The new passwords differ."))
        return data


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=150, label=_("Operator"))
    action = forms.ChoiceField(required=False, label=_("Action"),
                               choices=[("", _("All actions")), *AuditAction.choices],
                               error_messages={"invalid_choice": _("Choose an action from the list.")})
    target_type = forms.CharField(required=False, max_length=100, label=_("Object type"))
    target_id = forms.CharField(required=False, max_length=64, label=_("Object id"))
    date_from = inputs.DateField(required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"}),
                                 error_messages={"invalid": _("Enter a date like 2025-01-31.")})
    date_to = inputs.DateField(required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"}),
                               error_messages={"invalid": _("Enter a date like 2025-01-31.")})
