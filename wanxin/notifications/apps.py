from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "wanxin.notifications"
    label = "notifications"
