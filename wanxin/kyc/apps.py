from django.apps import AppConfig


class KycConfig(AppConfig):
    name = "wanxin.kyc"
    label = "kyc"
