from django import forms
from django.utils.translation import gettext_lazy as _

from portal.forms import CleanInputMixin, column
from webhooks.models import Subscription
from webhooks.vocabulary import WebhookEventType


class SubscriptionForm(CleanInputMixin, forms.Form):
    columns = {"name": column(Subscription, "name"), "url": column(Subscription, "url")}
    name = forms.CharField(label=_("Name"))
    url = forms.CharField(label=_("Target URL"), help_text=_("https only; private and local addresses are refused."))
    event_types = forms.MultipleChoiceField(
        label=_("Events"), choices=WebhookEventType.choices, widget=forms.CheckboxSelectMultiple
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class ConfirmForm(forms.Form):
    """A button and nothing else (rotate, delete, redeliver)."""
