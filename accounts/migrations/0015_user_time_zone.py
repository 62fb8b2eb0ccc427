import accounts.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0014_tenant_dormancy_and_appeal_settings"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="time_zone",
            field=models.CharField(
                blank=True,
                default="",
                max_length=64,
                validators=[accounts.models.validate_timezone],
                verbose_name="time zone",
            ),
        ),
    ]
