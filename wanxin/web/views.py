from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html", {"bank_url": settings.BANK_URL})


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok", "role": settings.ROLE})
