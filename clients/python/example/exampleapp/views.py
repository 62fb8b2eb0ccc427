"""The example's views: each one asks Portcullis through portcullis_client's integrations."""

from django.http import HttpResponse
from django.shortcuts import render
from portcullis_client.django import permission_required
from portcullis_client.drf import PortcullisPermission
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView


@permission_required("view", "products")
def reports_page(request):
    """A page anyone who may view products sees; its Export button only for those who may export reports."""
    return render(request, "exampleapp/reports.html")


@permission_required("export", "reports")
def export_reports(request):
    return HttpResponse("id,title\n", content_type="text/csv")


class ReportApi(APIView):
    """GET needs export on reports, as the CSV does."""

    authentication_classes = [SessionAuthentication]  # the application's own login decides who the user is
    permission_classes = [PortcullisPermission]
    portcullis_target = "reports"
    portcullis_actions = {"GET": "export"}

    def get(self, request):
        return Response({"reports": []})
