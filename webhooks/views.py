"""Console screens of webhooks: settings: view to read, settings: change (after a step-up) to change.

Secrets appear once, on the page that answers the creation or the rotation, and never again.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.lookups import get_in_tenant_or_404
from console.views.common import may_change_settings, paginate, refuse_settings_change, show_refusal
from permissions.services.errors import AccessRefused
from permissions.views import requires
from permissions.vocabulary import Action, SystemModule
from webhooks import services
from webhooks.forms import ConfirmForm, SubscriptionForm
from webhooks.models import Delivery, Subscription

SETTINGS = SystemModule.SETTINGS


def _can_change(request) -> bool:
    return may_change_settings(request)


def _refused_change(request):
    """None when the user may change now; else the answer (a refusal message, or the step-up)."""
    return refuse_settings_change(request, "webhooks:list")


def _subscription(request, subscription_id: int) -> Subscription:
    return get_in_tenant_or_404(Subscription.objects.all(), request, pk=subscription_id)


def _show_secret(request, subscription, secret: str):
    return render(request, "webhooks/secret.html", {"subscription": subscription, "secret": secret})


@requires(SETTINGS, Action.VIEW)
def subscription_list(request):
    context = {"subscriptions": Subscription.objects.all(), "can_change": _can_change(request)}
    return render(request, "webhooks/list.html", context)


@require_http_methods(["GET", "POST"])
@requires(SETTINGS, Action.VIEW)
def create(request):
    form = SubscriptionForm(request.POST or None)
    del form.fields["is_active"]  # a new subscription starts active
    if request.method == "POST":
        if (refused := _refused_change(request)) is not None:
            return refused
        if form.is_valid():
            data = form.cleaned_data
            try:
                made = services.create_subscription(
                    actor=request.user,
                    tenant=request.tenant,
                    name=data["name"],
                    url=data["url"],
                    event_types=data["event_types"],
                )
            except AccessRefused as error:
                form.add_error(None, str(error))
            else:
                return _show_secret(request, made.subscription, made.secret)
    return render(request, "webhooks/form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@requires(SETTINGS, Action.VIEW)
def detail(request, subscription_id: int):
    subscription = _subscription(request, subscription_id)
    initial = {f: getattr(subscription, f) for f in ("name", "url", "event_types", "is_active")}
    form = SubscriptionForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if (refused := _refused_change(request)) is not None:
            return refused
        if form.is_valid():
            try:
                services.update_subscription(subscription, actor=request.user, **form.cleaned_data)
            except AccessRefused as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("The webhook was saved."))
                return redirect("webhooks:detail", subscription_id=subscription.pk)
    can_change = _can_change(request)
    if not can_change:
        for field in form.fields.values():
            field.disabled = True
    page, query = paginate(request, subscription.deliveries.select_related("event").prefetch_related("log"))
    context = {"subscription": subscription, "form": form, "can_change": can_change, "page": page, "query": query}
    return render(request, "webhooks/detail.html", context)


def _confirmed(request, template: str, context: dict, act):
    """GET: the confirmation page; POST: ``act()`` after the change checks."""
    if request.method == "POST":
        if (refused := _refused_change(request)) is not None:
            return refused
        try:
            return act()
        except AccessRefused as error:
            show_refusal(request, error)
    return render(request, template, {**context, "form": ConfirmForm(), "can_change": _can_change(request)})


@require_http_methods(["GET", "POST"])
@requires(SETTINGS, Action.VIEW)
def rotate(request, subscription_id: int):
    subscription = _subscription(request, subscription_id)

    def act():
        made = services.rotate_secret(subscription, actor=request.user)
        return _show_secret(request, made.subscription, made.secret)

    return _confirmed(request, "webhooks/rotate.html", {"subscription": subscription}, act)


@require_http_methods(["GET", "POST"])
@requires(SETTINGS, Action.VIEW)
def delete(request, subscription_id: int):
    subscription = _subscription(request, subscription_id)

    def act():
        services.delete_subscription(subscription, actor=request.user)
        messages.success(request, _("The webhook was deleted."))
        return redirect("webhooks:list")

    return _confirmed(request, "webhooks/delete.html", {"subscription": subscription}, act)


@require_http_methods(["GET", "POST"])
@requires(SETTINGS, Action.VIEW)
def redeliver(request, subscription_id: int, delivery_id: int):
    subscription = _subscription(request, subscription_id)
    delivery = get_in_tenant_or_404(
        Delivery.objects.filter(subscription=subscription).select_related("event"), request, pk=delivery_id
    )

    def act():
        services.redeliver(delivery, actor=request.user)
        messages.success(request, _("The event will be sent again."))
        return redirect("webhooks:detail", subscription_id=subscription.pk)

    context = {"subscription": subscription, "delivery": delivery}
    return _confirmed(request, "webhooks/redeliver.html", context, act)
