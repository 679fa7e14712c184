"""Page forms: shapes only; the rules live in ``services``."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import User

_mobile = {"max_length": 11, "label": _("Mobile number"),
           "widget": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"})}
_code = {"max_length": 6, "label": _("SMS code"),
         "widget": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"})}


class _Confirmed(forms.Form):
    """Checks that the password was typed the same twice."""

    password_field = "password"

    def clean(self):
        data = super().clean()
        first, second = data.get(self.password_field), data.get(f"{self.password_field}_confirm")
        if first and second and first != second:
            self.add_error(f"{self.password_field}_confirm", _("The two passwords differ."))
        return data


class RegisterForm(_Confirmed):
    username = forms.CharField(label=_("Username"), max_length=30,
                               widget=forms.TextInput(attrs={"autocomplete": "username"}))
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password_confirm = forms.CharField(label=_("Password again"),
                                       widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    role = forms.ChoiceField(label=_("Role"), choices=User.Role.choices, widget=forms.RadioSelect, initial=User.Role.INVESTOR)
    mobile = forms.CharField(**_mobile)
    code = forms.CharField(**_code)


class LoginForm(forms.Form):
    username = forms.CharField(label=_("Username or mobile number"), max_length=150,
                               widget=forms.TextInput(attrs={"autocomplete": "username"}))
    password = forms.CharField(label=_("Password"),
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class SmsLoginForm(forms.Form):
    mobile = forms.CharField(**_mobile)
    code = forms.CharField(**_code)


class PasswordResetForm(_Confirmed):
    password_field = "new_password"

    mobile = forms.CharField(**_mobile)
    code = forms.CharField(**_code)
    new_password = forms.CharField(label=_("New password"),
                                   widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    new_password_confirm = forms.CharField(label=_("New password again"),
                                           widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
