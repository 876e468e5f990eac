"""A password change signs the user's API clients out: their tokens are deleted with the change.

Sessions need nothing: Django keeps a hash of the password in each session and refuses the session
once the password differs (update_session_auth_hash keeps the one that made the change signed in).
Hooked on the user's save, so every way to change a password counts (the admin, the password-change
form and API, `manage.py changepassword`).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from rest_framework.authtoken.models import Token


@receiver(pre_save, sender=get_user_model())
def note_password_change(sender, instance, **kwargs):
    if instance.pk is None:
        return
    stored = sender.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    instance._gridgis_password_changed = stored is not None and stored != instance.password


@receiver(post_save, sender=get_user_model())
def revoke_tokens_after_password_change(sender, instance, **kwargs):
    if getattr(instance, "_gridgis_password_changed", False):
        Token.objects.filter(user=instance).delete()
        instance._gridgis_password_changed = False
