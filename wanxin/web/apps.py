from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "wanxin.web"
    label = "web"
    verbose_name = "Web"
