from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from console.forms.fields import UserByEmailField
from permissions.models import Group
from portal.forms import CleanInputMixin, column


class GroupForm(CleanInputMixin, forms.Form):
    columns = {"name": column(Group, "name")}
    name = forms.CharField(label=_("Name"))
    kind = forms.ChoiceField(label=_("Kind"), choices=Group.Kind.choices)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class MemberForm(CleanInputMixin, forms.Form):
    user = UserByEmailField(label=_("Email of the user"))
    owner = forms.BooleanField(label=_("Owner of the group"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.all()
