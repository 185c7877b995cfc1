from django.db import migrations, models


def member_to_developer(apps, schema_editor):
    apps.get_model("tenants", "Membership").objects.filter(role="member").update(role="developer")


class Migration(migrations.Migration):
    dependencies = [("tenants", "0001_initial")]

    operations = [
        migrations.RunPython(member_to_developer, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="membership",
            name="role",
            field=models.CharField(
                choices=[
                    ("owner", "Owner"),
                    ("admin", "Admin"),
                    ("developer", "Developer"),
                    ("viewer", "Viewer"),
                ],
                default="developer",
                max_length=20,
            ),
        ),
    ]
