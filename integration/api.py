"""/api/v1/imports (POST, a dry run unless ``"dry_run": false``) and /api/v1/exports (POST):
thin over the same services as the console. Import needs users: create, export users: export (engine and the
key's scopes)."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from api.base import TenantAPIView
from api.permissions import ModulePermission
from integration import export as exporting
from integration import services
from integration.export import EXPORTS
from integration.formats import READERS
from integration.rows import TooLarge, Upload, check_sizes
from permissions.vocabulary import Action


class FileSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    content = serializers.CharField(allow_blank=True, trim_whitespace=False)


class ImportSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=list(READERS))
    files = FileSerializer(many=True, allow_empty=False)
    mapping = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False, max_length=20000
    )
    dry_run = serializers.BooleanField(default=True)


REPORT = inline_serializer(
    "ImportReport",
    {
        "format": serializers.CharField(),
        "dry_run": serializers.BooleanField(),
        "applied": serializers.BooleanField(),
        "sha256": serializers.CharField(),
        "problems": serializers.ListField(child=serializers.DictField()),
        "operations": serializers.ListField(child=serializers.DictField()),
        "effects": serializers.ListField(child=serializers.DictField()),
        "counts": serializers.DictField(child=serializers.IntegerField()),
    },
)


class ImportView(TenantAPIView):
    """Import users, organisations, roles and grants: 200 with the report (a dry run changes nothing); applying
    answers 200 when everything was applied, 422 with the problems (each with its file and line) when nothing was."""

    permission_classes = [ModulePermission]
    permission_module = "users"
    permission_action = Action.CREATE

    @extend_schema(request=ImportSerializer, responses={200: REPORT, 422: REPORT}, summary="Import (dry run or apply)")
    def post(self, request):
        serializer = ImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        uploads = [Upload(f["name"], f["content"]) for f in data["files"]]
        try:
            check_sizes([len(u.text.encode()) for u in uploads])
        except TooLarge as error:
            raise exceptions.ValidationError({"files": [str(error)]}) from error
        report = services.run_import(
            tenant=request.tenant,
            actor=request.user,
            uploads=uploads,
            format_key=data["format"],
            mapping_text=data["mapping"],
            dry_run=data["dry_run"],
        )
        failed = not data["dry_run"] and not report.applied
        return Response(report.as_dict(), status=422 if failed else 200)


class ExportSerializer(serializers.Serializer):
    file_format = serializers.ChoiceField(choices=list(EXPORTS), default="portcullis-json")


class ExportView(TenantAPIView):
    """The tenant's organisations, roles, users and grants in one of the export formats (users: export). A POST,
    as the audit trail's export: each export is an audited event, and a GET never changes anything (SES-2)."""

    permission_classes = [ModulePermission]
    permission_module = "users"
    permission_action = Action.EXPORT

    @extend_schema(
        request=ExportSerializer,
        # The file itself: JSON for portcullis-json, CSV (UTF-8) for the other formats.
        responses={(200, "application/json"): OpenApiTypes.OBJECT, (200, "text/csv"): OpenApiTypes.STR},
        summary="Export",
    )
    def post(self, request):
        serializer = ExportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = serializer.validated_data["file_format"]
        name, content_type, body = exporting.export(tenant=request.tenant, actor=request.user, format_key=key)
        response = HttpResponse(body, content_type=content_type)
        ascii_name = name.encode("ascii", "ignore").decode() or "export.csv"
        response["Content-Disposition"] = f'attachment; filename="{ascii_name}"'
        return response
