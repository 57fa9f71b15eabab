"""User.name_key: the digest of each name's skeleton (accounts.names), unique, so no two users
have names that render the same. Existing users get theirs; a clash stops the migration and
names both users, to be renamed by hand first."""

from django.db import migrations, models

from accounts.names import name_key


def fill_name_keys(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    seen: dict[str, str] = {}
    for user in User.objects.order_by("pk").only("pk", "name"):
        key = name_key(user.name)
        if key in seen:
            raise RuntimeError(
                f"Users {seen[key]!r} and {user.name!r} have names that read the same; "
                "rename one before migrating."
            )
        seen[key] = user.name
        User.objects.filter(pk=user.pk).update(name_key=key)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_user_notify_digest"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="name_key",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.RunPython(fill_name_keys, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="user",
            name="name_key",
            field=models.CharField(editable=False, max_length=64, unique=True),
        ),
    ]
