"""Forms of the identity-provider screens: the provider's settings, and its group mapping (one row a group)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.organisations import Organisation
from permissions.models import Role
from permissions.services.escalation import escalating_role_ids
from portal.forms import CleanInputMixin
from sso.models import IdentityProvider

SETTINGS_FIELDS = ["name", "enabled", "issuer", "client_id", "scopes", "email_domains", "groups_claim"]
SETTINGS_FIELDS += ["provider_mfa", "mfa_values", "saml_metadata", "saml_metadata_url", "email_attribute"]
SETTINGS_FIELDS += ["name_attribute"]
OIDC_ONLY = ("issuer", "client_id", "client_secret", "scopes")
SAML_ONLY = ("saml_metadata", "saml_metadata_url", "email_attribute", "name_attribute")


class ProviderForm(CleanInputMixin, forms.ModelForm):
    client_secret = forms.CharField(
        label=_("Client secret"),
        widget=forms.PasswordInput(render_value=False),
        max_length=500,
        required=False,
        help_text=_("Stored encrypted. Leave empty to keep the stored one."),
    )
    issuer = forms.URLField(
        label=_("Issuer"),
        max_length=300,
        assume_scheme="https",
        required=False,
        help_text=_("OpenID Connect only."),
    )
    saml_metadata_url = forms.URLField(
        label=_("SAML metadata URL"),
        max_length=500,
        assume_scheme="https",
        required=False,
        help_text=_("SAML only: read when saved. Or paste the metadata below."),
    )
    default_role = forms.ModelChoiceField(label=_("Default role"), queryset=Role.objects.none())
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)

    class Meta:
        model = IdentityProvider
        fields = ["slug", "protocol", *SETTINGS_FIELDS]
        widgets = {
            "email_domains": forms.Textarea(attrs={"rows": 3}),
            "mfa_values": forms.Textarea(attrs={"rows": 3}),
            "saml_metadata": forms.Textarea(attrs={"rows": 6}),
            "protocol": forms.RadioSelect,
        }
        help_texts = {
            "client_id": _("OpenID Connect only."),
            "scopes": _("OpenID Connect only."),
            "saml_metadata": _("SAML only: the identity provider's metadata XML (leave empty when a URL is given)."),
            "email_attribute": _("SAML only: the attribute holding the e-mail address (else an e-mail NameID)."),
            "name_attribute": _("SAML only: the attribute holding the person's name."),
            "groups_claim": _("The claim (OpenID Connect) or attribute (SAML) listing the person's groups."),
        }

    def __init__(self, *args, creating: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("default_role", self.instance.default_role_id)
        # The default role never holds console rights (sso.services): those go through a mapping, approved.
        self.fields["default_role"].queryset = Role.objects.exclude(pk__in=escalating_role_ids()).order_by("name")
        if "scopes" in self.fields:
            self.fields["scopes"].required = False  # OpenID Connect only: the service asks for it there
        if creating:
            self.fields["protocol"].required = False  # OpenID Connect unless SAML is chosen
            self.fields["client_secret"].help_text = _("OpenID Connect only: stored encrypted.")
        else:
            del self.fields["slug"]
            del self.fields["protocol"]
            # An existing provider keeps its protocol: only its own settings are shown.
            for name in SAML_ONLY if self.instance.protocol == IdentityProvider.Protocol.OIDC else OIDC_ONLY:
                del self.fields[name]

    def _post_clean(self):
        pass  # the service validates the row (full_clean) and audits; the form only parses


class MappingForm(CleanInputMixin, forms.Form):
    group = forms.CharField(label=_("Group (value of the groups claim)"), max_length=200, required=False)
    role = forms.ChoiceField(label=_("Role"), required=False)
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=Organisation.objects.none(), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", "—"), *((r.key, r.display_name) for r in Role.objects.order_by("name"))]
        self.fields["organisation"].queryset = Organisation.objects.order_by("name")

    def mapping(self) -> dict | None:
        data = self.cleaned_data
        if not data.get("group"):
            return None
        organisation = data.get("organisation")
        return {
            "group": data["group"],
            "role": data.get("role") or "",
            "organisation": organisation.pk if organisation else None,
        }


MappingFormSet = forms.formset_factory(MappingForm, extra=3, max_num=50, absolute_max=60)


class ReasonForm(CleanInputMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class PolicyForm(CleanInputMixin, forms.Form):
    require_sso = forms.BooleanField(
        label=_("Require single sign-on for everyone except the break-glass administrators"), required=False
    )
    break_glass = forms.ModelMultipleChoiceField(
        label=_("Break-glass administrators"),
        queryset=Role.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("They keep their password and authenticator, for the day the identity provider is down."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)

    def __init__(self, *args, **kwargs):
        from accounts.models import User

        super().__init__(*args, **kwargs)
        self.fields["break_glass"].queryset = User.objects.filter(
            is_active=True, role__in=escalating_role_ids()
        ).order_by("email")
